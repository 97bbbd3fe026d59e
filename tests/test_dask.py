"""The Dask engine gives the local engine's outputs, byte for byte, on a real two-worker cluster."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import ComputeConfig, load_config
from pipeline.errors import ConfigError
from tests.conftest import ROOT
from tests.test_parallel import stance_model, stance_paragraphs  # noqa: F401 - stance_model is a fixture

HAVE_DASK = all(importlib.util.find_spec(name) is not None for name in ("dask", "distributed"))
needs_dask = pytest.mark.skipif(not HAVE_DASK, reason="Dask is not installed: pip install -e '.[dask]' "
                                                      "(`make install` does it)")


@pytest.fixture(scope="module")
def scheduler():
    """The address of a LocalCluster of two worker processes, one thread each."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def stage_config(directory: Path, *overrides: str):
    directory.mkdir(parents=True, exist_ok=True)
    return load_config(ROOT / "configs" / "default.yaml", [
        f"chunk.input={ROOT / 'seeds'}",
        f"chunk.output={directory / 'paragraphs.parquet'}",
        f"chunk.manifest={directory / 'manifest.json'}",
        f"topics.input={directory / 'paragraphs.parquet'}",
        f"topics.model={directory / 'topics'}",
        f"topics.output={directory / 'doc_topics.parquet'}",
        f"topics.table={directory / 'topic_table.parquet'}",
        f"topics.metrics={directory / 'topics.json'}",
        "topics.num_topics=4",
        "topics.tomotopy_iterations=50",
        *overrides,
    ])


def run_stages(directory: Path, *overrides: str) -> Path:
    from pipeline.chunk.stage import main as chunk_main
    from pipeline.topics.stage import main as topics_main

    config = stage_config(directory, *overrides)
    chunk_main(config)
    topics_main(config)
    return directory


OUTPUTS = ("paragraphs.parquet", "manifest.json", "doc_topics.parquet", "topic_table.parquet", "topics.json")


def assert_same_files(left: Path, right: Path, names: tuple[str, ...]) -> None:
    for name in names:
        assert (left / name).read_bytes() == (right / name).read_bytes(), name


@needs_dask
def test_chunk_and_topics_on_a_cluster_equal_the_local_engine(tmp_path, scheduler, monkeypatch):
    import pipeline.chunk.batch

    monkeypatch.setattr(pipeline.chunk.batch, "BATCH_DOCS", 2)  # several batches of the five seed articles
    local = run_stages(tmp_path / "local")
    dask = run_stages(tmp_path / "dask", "compute.engine=dask", f"compute.scheduler={scheduler}")
    assert_same_files(local, dask, OUTPUTS)


@needs_dask
def test_fit_sample_on_a_cluster_equals_the_local_engine(tmp_path, scheduler):
    local = run_stages(tmp_path / "local", "topics.fit_sample=60")
    dask = run_stages(tmp_path / "dask", "topics.fit_sample=60", "compute.engine=dask",
                      f"compute.scheduler={scheduler}")
    assert_same_files(local, dask, OUTPUTS)
    metrics = pd.read_json(local / "topics.json", typ="series")
    assert metrics["documents_used"] <= 60 < metrics["paragraphs_scored"]


@needs_dask
@pytest.mark.parametrize("fit_sample", [None, 70])
def test_many_partitions_score_like_one_pass(tmp_path, scheduler, fit_sample):
    """Partitions smaller than the table, tokenised and scored on both workers, give the single-pass rows."""
    from pipeline.io import ParquetBatchWriter
    from pipeline.topics.corpus import ParagraphSource
    from pipeline.topics.stage import run_topics

    config = stage_config(tmp_path / "data")
    from pipeline.chunk.stage import main as chunk_main

    chunk_main(config)
    path = config.chunk.output
    compute = ComputeConfig(engine="dask", scheduler=scheduler, partition_rows=40)
    outputs = {}
    for name, engine in (("local", None), ("dask", compute)):
        out = tmp_path / f"{name}.parquet"
        with ParquetBatchWriter(out) as sink:
            settings = config.topics.model_copy(update={"fit_sample": fit_sample})
            result = run_topics(ParagraphSource(path, batch_size=16), settings, sink=sink, compute=engine)
        outputs[name] = (out.read_bytes(), result.table, result.metrics)
    assert pd.read_parquet(path).shape[0] > 3 * 40  # really several partitions
    assert outputs["local"][0] == outputs["dask"][0]
    pd.testing.assert_frame_equal(outputs["local"][1], outputs["dask"][1])
    assert outputs["local"][2] == outputs["dask"][2]


@needs_dask
def test_stance_on_a_cluster_equals_the_local_engine(tmp_path, scheduler, stance_model):  # noqa: F811
    """Workers read partitions of the paragraph table and classify them; the files are the local engine's."""
    from pipeline.stance import predict as predict_stage
    from pipeline.topics.corpus import ParagraphSource

    path = tmp_path / "p.parquet"
    stance_paragraphs().to_parquet(path, index=False, row_group_size=11)
    names = stance_model.target_names_
    compute = ComputeConfig(engine="dask", scheduler=scheduler, partition_rows=10)  # 2 batches of 7 each
    results = {}
    for name, engine in (("local", None), ("dask", compute)):
        results[name] = predict_stage.write_stance(stance_model, ParagraphSource(path, 5), names,
                                                   tmp_path / f"{name}.parquet", tmp_path / f"{name}-sum.parquet",
                                                   7, 1, engine)
    assert len(pd.read_parquet(path)) > 2 * 14  # really several partitions
    assert results["local"] == results["dask"]
    for suffix in (".parquet", "-sum.parquet"):
        assert (tmp_path / f"local{suffix}").read_bytes() == (tmp_path / f"dask{suffix}").read_bytes()


def test_dask_engine_without_dask_is_one_clear_error(monkeypatch):
    from pipeline.distributed import dask_map

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"compute.engine is 'dask' but Dask is not installed .*\[dask\]"):
        list(dask_map(abs, [1], ComputeConfig(engine="dask")))


def test_bad_scheduler_address_names_the_key():
    with pytest.raises(ConfigError, match="compute.scheduler: expected a Dask scheduler address"):
        load_config(ROOT / "configs" / "default.yaml", ["compute.scheduler=localhost"])


def test_local_engine_does_not_import_dask():
    code = ("import sys, pipeline, pipeline.cli, pipeline.chunk.stage, pipeline.topics.stage, pipeline.distributed; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


@needs_dask
def test_dask_map_on_its_own_local_cluster_keeps_input_order():
    from pipeline.distributed import dask_map

    compute = ComputeConfig(engine="dask", dask_workers=1)
    assert list(dask_map(abs, (-i for i in range(10)), compute)) == list(range(10))
