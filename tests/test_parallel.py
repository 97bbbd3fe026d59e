"""The streaming, parallel chunk stage: same table for any n_jobs, batching or row-group size."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline import parallel
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
    assert list(parallel.ordered_map(np.sum, items, n_jobs=2)) == [int(x.sum()) for x in items]
    assert list(parallel.ordered_map(np.sum, items[:1], n_jobs=2)) == [0]
    assert batch.ordered_map is parallel.ordered_map  # the chunk stage's import still works


def test_ordered_map_hands_out_a_bounded_number_of_items_ahead():
    """A slow consumer holds the workers back: finished results never pile up (memory stays flat)."""
    pulled = []

    def items():
        for i in range(30):
            pulled.append(i)
            yield -i

    for consumed, result in enumerate(parallel.ordered_map(abs, items(), n_jobs=2), start=1):
        assert result == consumed - 1
        assert len(pulled) <= consumed - 1 + parallel.IN_FLIGHT_PER_WORKER * 2
    assert len(pulled) == 30


def test_ordered_map_raises_a_worker_error_at_its_item():
    def items():
        yield from (1, 2, 0, 4)

    results = parallel.ordered_map(_inverse, items(), n_jobs=2)
    assert [next(results), next(results)] == [1.0, 0.5]
    with pytest.raises(ZeroDivisionError):
        next(results)


def _inverse(x: int) -> float:
    return 1 / x


# ----------------------------------------------------------------------------- stance


@pytest.fixture(scope="module")
def stance_model():
    from pipeline.config import DEFAULT_TARGETS, Config
    from pipeline.stance.data import read_labels
    from pipeline.stance.train import fit_model

    labelled = Path(__file__).resolve().parent.parent / "data" / "labels" / "train" / "written.jsonl"
    examples = read_labels(labelled, [t.name for t in DEFAULT_TARGETS])[::5]
    return fit_model(Config().stance, examples)


def stance_paragraphs() -> pd.DataFrame:
    texts = [*PARAS, *FILLER, "NATO ignored Russia's concerns. The meeting ended early.",
             "Beijing praised Moscow. The EU imposed new sanctions on Russia.", "", "The West thanked Kyiv."]
    texts = [f"{t} Item {i}." if i % 3 else t for i, t in enumerate(texts * 4)]
    return pd.DataFrame({"doc_id": pd.array([f"d{i // 5}" for i in range(len(texts))], dtype="string"),
                         "para_id": np.arange(len(texts), dtype=np.int32) % 5,
                         "text": pd.array(texts, dtype="string")})


def test_stance_predict_proba_same_for_any_n_jobs(stance_model, monkeypatch):
    from pipeline.stance import model as model_module

    frame = stance_paragraphs()
    names = stance_model.target_names_
    texts = [t for t in frame["text"].tolist() for _ in names]
    targets = names * len(frame)
    one = stance_model.predict_proba(texts, targets, n_jobs=1)
    # small batches, so that two workers share many of them
    monkeypatch.setattr(model_module, "_PREDICT_BATCH", 37)
    monkeypatch.setattr(model_module, "_PARALLEL_MIN_PAIRS", 50)
    two = stance_model.predict_proba(texts, targets, n_jobs=2)
    assert one.tobytes() == two.tobytes()
    assert stance_model.predict_proba(texts[:10], targets[:10], n_jobs=2).tobytes() == one[:10].tobytes()


def test_stance_stage_same_table_for_any_n_jobs(stance_model):
    from pipeline.stance.predict import classify_paragraphs

    frame = stance_paragraphs()
    names = stance_model.target_names_
    one = classify_paragraphs(stance_model, frame, names, batch_size=7, n_jobs=1)
    two = classify_paragraphs(stance_model, frame, names, batch_size=7, n_jobs=2)
    whole = classify_paragraphs(stance_model, frame, names, batch_size=10_000, n_jobs=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    pd.testing.assert_frame_equal(one, whole, check_exact=True)
    assert (one["label"] != "none").sum() > 10


def test_stance_stage_reads_compute_n_jobs(workspace, stance_model, monkeypatch):
    from pipeline.stance import predict as predict_stage
    from pipeline.stance.storage import save_stance

    seen = []
    real = predict_stage.write_stance

    def spy(*args):
        seen.append(args[6])  # n_jobs; then the compute settings
        assert args[7].n_jobs == args[6]
        return real(*args)

    monkeypatch.setattr(predict_stage, "write_stance", spy)
    tables = []
    for jobs in (1, 2):
        config = load_config(workspace / "configs" / "default.yaml",
                             ["stance.input=in/p.parquet", "stance.model=models/s", "stance.output=out/s.parquet",
                              "stance.summary=out/sum.parquet", "stance.batch_size=9", f"compute.n_jobs={jobs}"])
        if jobs == 1:
            save_stance(stance_model, config.stance.model, config={"stance": config.stance.model_dump(mode="json")})
            (workspace / "in").mkdir()
            stance_paragraphs().to_parquet(workspace / "in/p.parquet", index=False)
        predict_stage.main(config)
        tables.append(pd.read_parquet(workspace / "out/s.parquet"))
    assert seen == [1, 2]
    pd.testing.assert_frame_equal(tables[0], tables[1], check_exact=True)


@pytest.mark.parametrize("jobs", [1, 2])
def test_stance_streaming_equals_in_memory_table(stance_model, tmp_path, monkeypatch, jobs):
    """Paragraphs read in Parquet batches (across row groups), classified and written batch by batch."""
    from pipeline.io import write_parquet
    from pipeline.stance import predict as predict_stage
    from pipeline.topics.corpus import ParagraphSource

    frame = stance_paragraphs()
    names = stance_model.target_names_
    expected = predict_stage.classify_paragraphs(stance_model, frame, names, batch_size=10_000)
    expected_summary = predict_stage.summarize(expected)
    path = tmp_path / "p.parquet"
    frame.to_parquet(path, index=False, row_group_size=11)
    # reads of 5 rows, re-cut into batches of 7 paragraphs; the output in row groups of 50 rows
    monkeypatch.setattr(predict_stage, "ROW_GROUP_ROWS", 50)
    found, summary_rows = predict_stage.write_stance(stance_model, ParagraphSource(path, 5), names,
                                                     tmp_path / "s.parquet", tmp_path / "sum.parquet", 7, jobs)
    rows = pd.read_parquet(tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(rows, expected, check_exact=True)
    meta = pq.ParquetFile(tmp_path / "s.parquet").metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sizes == [50] * (len(expected) // 50) + ([len(expected) % 50] if len(expected) % 50 else [])
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "sum.parquet"), expected_summary, check_exact=True)
    assert summary_rows == len(expected_summary)
    assert found == {label: int((expected["label"] == label).sum()) for label in predict_stage.OUTPUT_LABELS}

    # with the stage's row groups, the files are those the in-memory table gives, byte for byte
    monkeypatch.undo()
    predict_stage.write_stance(stance_model, ParagraphSource(frame, 3), names, tmp_path / "s2.parquet",
                               tmp_path / "sum2.parquet", 4, jobs)
    write_parquet(tmp_path / "s_ref.parquet", expected)
    write_parquet(tmp_path / "sum_ref.parquet", expected_summary)
    assert (tmp_path / "s2.parquet").read_bytes() == (tmp_path / "s_ref.parquet").read_bytes()
    assert (tmp_path / "sum2.parquet").read_bytes() == (tmp_path / "sum_ref.parquet").read_bytes()


def test_rebatch_cuts_exact_sizes():
    from pipeline.engine import rebatch

    frames = [pd.DataFrame({"x": range(a, b)}) for a, b in [(0, 3), (3, 3), (3, 10), (10, 11)]]
    out = list(rebatch(frames, 4))
    assert [len(f) for f in out] == [4, 4, 3]
    assert pd.concat(out)["x"].tolist() == list(range(11))
    assert all(f.index.tolist() == list(range(len(f))) for f in out)
    assert list(rebatch([], 4)) == []


@pytest.mark.parametrize(("value", "message"), [("0", "compute.n_jobs: must not be 0"),
                                                ("two", "compute.n_jobs: input should be a valid integer"),
                                                ("1", None), ("-1", None)])
def test_compute_n_jobs_validated(workspace, value, message):
    if message is None:
        assert load_config(workspace / "configs" / "default.yaml", [f"compute.n_jobs={value}"]).compute.n_jobs == int(value)
        return
    with pytest.raises(ConfigError, match=message):
        load_config(workspace / "configs" / "default.yaml", [f"compute.n_jobs={value}"])


@pytest.mark.parametrize("phrases", [False, True], ids=["plain", "phrases"])
def test_topics_stage_same_outputs_for_any_n_jobs(workspace, phrases):
    """Tokenising and scoring in worker processes (several batches each) give the one-process files."""
    from pipeline.topics.stage import main as topics_main

    frame = stance_paragraphs()
    frame = pd.concat([frame] * 3, ignore_index=True).assign(
        doc_id=lambda f: pd.array([f"d{i // 5}" for i in range(len(f))], dtype="string"),
        para_id=lambda f: np.arange(len(f), dtype=np.int32) % 5)
    (workspace / "in").mkdir()
    frame.to_parquet(workspace / "in/p.parquet", index=False)
    outputs = {}
    real_map = parallel.ordered_map
    for jobs in (1, 2):
        out = f"out{jobs}"
        config = load_config(workspace / "configs" / "default.yaml", [
            "topics.input=in/p.parquet", f"topics.model={out}/model", f"topics.output={out}/t.parquet",
            f"topics.table={out}/table.parquet", f"topics.metrics={out}/m.json", "topics.num_topics=3",
            "topics.tomotopy_iterations=30", "topics.no_below=1", f"topics.phrases={str(phrases).lower()}",
            "topics.phrase_min_count=2", f"compute.n_jobs={jobs}"])
        handed_out = []

        def counting_map(func, items, n_jobs=1, shared=(), jobs=jobs, handed_out=handed_out):
            assert n_jobs == jobs
            items = list(items)
            handed_out.append(len(items))
            return real_map(func, items, n_jobs, shared=shared)

        with pytest.MonkeyPatch.context() as patch:
            from pipeline.topics import corpus, stage

            patch.setattr(corpus.ParagraphSource.__init__, "__defaults__", (16,))  # several batches to hand out
            patch.setattr(stage, "ordered_map", counting_map)
            patch.setattr("pipeline.parallel.ordered_map", counting_map)
            topics_main(config)
        assert handed_out == [-(-len(frame) // 16)] * 2  # tokenising, then scoring
        outputs[jobs] = [(workspace / out / name).read_bytes() for name in ("t.parquet", "table.parquet", "m.json")]
    assert outputs[1] == outputs[2]
