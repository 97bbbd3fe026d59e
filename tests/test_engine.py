"""The engine that maps a stage's pure function over the paragraph table (``pipeline/engine.py``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline import engine
from pipeline.errors import DataError, InputError
from pipeline.io import ParquetBatchWriter
from pipeline.paragraphs import ParagraphSource


def _paragraphs(n: int) -> pd.DataFrame:
    return pd.DataFrame({"doc_id": [f"d{i // 3}" for i in range(n)], "para_id": [i % 3 for i in range(n)],
                         "text": [f"paragraph {i}" for i in range(n)]})


def lengths(frame: pd.DataFrame, factor: int) -> pd.DataFrame:
    """A row-wise function: ``factor`` output rows per paragraph, as the stance stage makes one per target."""
    return pd.DataFrame({"doc_id": frame["doc_id"].repeat(factor).to_numpy(),
                         "chars": frame["text"].str.len().repeat(factor).to_numpy()})


class RowCount:
    def __init__(self) -> None:
        self.frames: list[int] = []

    def add(self, frame: pd.DataFrame) -> None:
        self.frames.append(len(frame))


def test_map_frames_is_the_same_for_any_batch_size_and_workers(tmp_path: Path) -> None:
    frame = _paragraphs(23)
    frame.to_parquet(tmp_path / "p.parquet", row_group_size=5)
    expected = lengths(frame, 2)
    for source, batch_size, n_jobs in [(ParagraphSource(frame, 4), 4, 1), (ParagraphSource(frame, 7), 10, 2),
                                       (ParagraphSource(tmp_path / "p.parquet", 3), 8, 2)]:
        out = list(engine.map_frames(lengths, source, ["doc_id", "text"], batch_size=batch_size, args=(2,),
                                     n_jobs=n_jobs))
        assert [len(f) for f in out[:-1]] == [2 * batch_size] * (len(out) - 1)  # whole batches of paragraphs
        pd.testing.assert_frame_equal(pd.concat(out, ignore_index=True), expected)


def test_write_frames_folds_whole_frames_and_writes_fixed_row_groups(tmp_path: Path) -> None:
    frames = [lengths(_paragraphs(n), 3) for n in (4, 5, 2)]  # 12, 15 and 6 rows: whole paragraphs x 3
    fold = RowCount()
    with ParquetBatchWriter(tmp_path / "out.parquet") as sink:
        written = engine.write_frames(iter(frames), sink, row_group_rows=10, folds=[fold])
    assert written == 33 and fold.frames == [12, 15, 6]  # the fold sees frames as they come, not row groups
    meta = pq.ParquetFile(tmp_path / "out.parquet").metadata
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [10, 10, 10, 3]


def test_require_columns_names_what_is_missing(tmp_path: Path) -> None:
    source = ParagraphSource(_paragraphs(3)[["doc_id", "para_id"]])
    with pytest.raises(DataError, match=r"p\.parquet: missing column\(s\) text; expected the paragraph table"):
        engine.require_columns(source, ["doc_id", "text"], tmp_path / "p.parquet")


def test_scratch_directory_checks_its_own_file_system(monkeypatch: pytest.MonkeyPatch) -> None:
    with engine.scratch_directory(1, "topics") as directory:
        assert directory.is_dir()
    assert not directory.exists()

    class Usage:
        free = 10

    monkeypatch.setattr(shutil, "disk_usage", lambda _: Usage())
    scratch = engine.scratch_directory(10**9, "topics")
    with pytest.raises(InputError, match="not enough disk space for topics scratch files .*set TMPDIR"):
        scratch.__enter__()
