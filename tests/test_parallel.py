"""The streaming, parallel chunk stage: same table for any n_jobs, batching or row-group size."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.chunk import batch, dedup, table
from pipeline.chunk.readers import iter_documents
from pipeline.chunk.segment import SegmentOptions, segment_document
from pipeline.chunk.stage import chunk_documents, main
from pipeline.config import ChunkConfig, load_config
from pipeline.errors import ConfigError
from pipeline.io import scratch_directory
from tests.test_chunk_segment import PARAS

FILLER = [
    "Delegations discussed the financing of development, the reform of trade rules and the debt of the "
    "poorest countries, asking lenders for relief and for a fair share of the new special drawing rights.",
    "The minister thanked the host country and recalled the commitments made at earlier summits on "
    "climate adaptation, the protection of forests and the transfer of clean technologies to farmers.",
    "Several speakers raised the situation of refugees and migrants, the funding of humanitarian agencies "
    "and the need to keep schools and hospitals open during armed conflicts in every region.",
]


def corpus_records() -> list[dict]:
    """Documents whose duplicates lie far apart (in different batches), with varied metadata."""
    records = []
    for i in range(12):
        paras = [PARAS[i % 4], FILLER[i % 3].replace("the", "that" if i % 2 else "the") + f" Item {i}."]
        if i % 4 == 3:
            paras.append(PARAS[(i + 1) % 4].replace("minister", "official"))
        record = {"id": f"doc{i:02d}", "text": "\n\n".join(paras), "year": 2000 + i, "code": str(100 + i)}
        if i % 3 == 0:
            record["score"] = i / 4
        if i % 5 == 0:
            record["tags"] = ["a", str(i)]
            record["flag"] = bool(i % 2)
        if i == 7:
            record["year"] = None
            record["late"] = "only here"
        records.append(record)
    records.append({"id": "blank", "text": "   "})
    return records


@pytest.fixture
def jsonl(workspace: Path) -> Path:
    path = workspace / "docs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in corpus_records()) + "\n", encoding="utf-8")
    return path


def run_stage(workspace: Path, *overrides: str) -> tuple[bytes, dict]:
    config = load_config(workspace / "configs" / "default.yaml",
                         ["chunk.input=docs.jsonl", "chunk.output=out/p.parquet", "chunk.manifest=out/m.json",
                          *overrides])
    main(config)
    return (workspace / "out/p.parquet").read_bytes(), json.loads((workspace / "out/m.json").read_text())


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two documents per batch and 5 rows per row group, so every corpus here spans many of each."""
    monkeypatch.setattr(batch, "BATCH_DOCS", 2)
    monkeypatch.setattr(table, "ROW_GROUP_ROWS", 5)


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "lsh"])
def test_same_table_for_any_n_jobs(workspace, jsonl, small_batches, monkeypatch, exact):
    if not exact:
        monkeypatch.setattr(dedup, "EXACT_MAX", 0)
    one, manifest_one = run_stage(workspace, "compute.n_jobs=1")
    two, manifest_two = run_stage(workspace, "compute.n_jobs=2")
    assert one == two
    assert manifest_one == manifest_two
    assert manifest_one["counts"]["duplicates"] >= 3
    assert pq.ParquetFile(workspace / "out/p.parquet").metadata.num_row_groups > 3


def test_batching_and_row_groups_do_not_change_the_table(workspace, jsonl, monkeypatch):
    monkeypatch.setattr(batch, "BATCH_DOCS", 1000)
    whole, manifest = run_stage(workspace)
    frame = pd.read_parquet(workspace / "out/p.parquet")
    schema = pq.read_schema(workspace / "out/p.parquet")
    monkeypatch.setattr(batch, "BATCH_DOCS", 1)
    monkeypatch.setattr(table, "ROW_GROUP_ROWS", 3)
    pieces, manifest_pieces = run_stage(workspace)
    assert manifest == manifest_pieces
    streamed = pd.read_parquet(workspace / "out/p.parquet")
    pd.testing.assert_frame_equal(frame, streamed)
    assert pq.read_schema(workspace / "out/p.parquet").equals(schema, check_metadata=True)
    monkeypatch.setattr(batch, "BATCH_DOCS", 1000)
    monkeypatch.setattr(table, "ROW_GROUP_ROWS", 50_000)
    assert run_stage(workspace)[0] == whole  # byte for byte, given the same row groups


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "lsh"])
def test_streaming_table_matches_in_memory_reference(workspace, jsonl, small_batches, monkeypatch, exact):
    """The stage's table against one built the simple way: segment all, then flag duplicates on strings."""
    if not exact:
        monkeypatch.setattr(dedup, "EXACT_MAX", 0)
    run_stage(workspace, "compute.n_jobs=2")
    streamed = pd.read_parquet(workspace / "out/p.parquet")

    cfg = ChunkConfig(input=jsonl)
    opts = SegmentOptions.from_config(cfg)
    rows = []
    for doc in iter_documents(cfg):
        if doc.status != "ok":
            continue
        for i, para in enumerate(segment_document(doc.text, opts)):
            rows.append({"doc_id": doc.doc_id, "para_id": i, "text": para.text, "start": para.start, "end": para.end,
                         "year": doc.meta.get("year")})
    reference = pd.DataFrame(rows)
    first = dedup.find_near_duplicates(reference.text.tolist(), reference.doc_id.tolist(), cfg.dedup)
    reference["duplicate_of"] = [
        None if j < 0 else f"{reference.doc_id[j]}#{reference.para_id[j]}" for j in first
    ]
    assert len(streamed) == len(reference)
    for column in ("doc_id", "para_id", "text", "start", "end", "duplicate_of"):
        got = [None if pd.isna(v) else v for v in streamed[column].tolist()]
        want = [None if pd.isna(v) else v for v in reference[column].tolist()]
        assert got == want, column
    assert streamed.year.astype("Float64").tolist() == pd.array(reference.year.tolist(), dtype="Float64").tolist()

    # The in-memory form (chunk_documents) gives the same table.
    in_memory, _ = chunk_documents(iter_documents(cfg), cfg)
    pd.testing.assert_frame_equal(in_memory, streamed)


def test_metadata_types_decided_over_the_whole_corpus(workspace, jsonl, small_batches):
    run_stage(workspace)
    frame = pd.read_parquet(workspace / "out/p.parquet")
    schema = pq.read_schema(workspace / "out/p.parquet")
    assert str(schema.field("year").type) == "double"  # a null year somewhere: as a whole-table build gives
    assert str(schema.field("code").type) == "int64"  # digit strings in every document
    assert str(schema.field("score").type) == "double"
    assert str(schema.field("flag").type) == "bool"
    assert str(schema.field("late").type) == "large_string"  # one document has it: null elsewhere
    assert frame.loc[frame.doc_id == "doc00", "tags"].iloc[0] == '["a", "0"]'
    assert frame.late.notna().sum() == (frame.doc_id == "doc07").sum()


def test_scratch_directory_is_removed_also_after_an_error(workspace, jsonl):
    run_stage(workspace)
    assert not list((workspace / "out").glob(".p.parquet.*.scratch"))
    (workspace / "bad.jsonl").write_text(jsonl.read_text() + "{not json\n")
    config = load_config(workspace / "configs" / "default.yaml",
                         ["chunk.input=bad.jsonl", "chunk.output=out/p.parquet", "chunk.manifest=out/m.json"])
    with pytest.raises(Exception, match="not valid JSON"):
        main(config)
    assert not list((workspace / "out").glob(".p.parquet.*.scratch"))


def test_stale_scratch_directory_of_a_dead_process_is_removed(tmp_path):
    stale = tmp_path / ".p.parquet.999999999.abcd.scratch"
    stale.mkdir()
    (stale / "paragraphs.parquet").write_bytes(b"x")
    with scratch_directory(tmp_path / "p.parquet") as scratch:
        assert scratch.is_dir() and scratch.parent == tmp_path
        assert not stale.exists()
    assert not scratch.exists()


def test_ordered_map_keeps_order_with_workers():
    items = [np.arange(i) for i in range(40)]
    assert list(batch.ordered_map(np.sum, items, n_jobs=2)) == [int(x.sum()) for x in items]
    assert list(batch.ordered_map(np.sum, items[:1], n_jobs=2)) == [0]


@pytest.mark.parametrize(("value", "message"), [("0", "compute.n_jobs: must not be 0"),
                                                ("two", "compute.n_jobs: input should be a valid integer"),
                                                ("1", None), ("-1", None)])
def test_compute_n_jobs_validated(workspace, value, message):
    if message is None:
        assert load_config(workspace / "configs" / "default.yaml", [f"compute.n_jobs={value}"]).compute.n_jobs == int(value)
        return
    with pytest.raises(ConfigError, match=message):
        load_config(workspace / "configs" / "default.yaml", [f"compute.n_jobs={value}"])
