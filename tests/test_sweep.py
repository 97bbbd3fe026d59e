"""The sweep stage: one row of quality metrics per K, and a plot."""

import json

import pytest

from pipeline.config import TopicsConfig, load_config
from pipeline.errors import ConfigError
from pipeline.io import write_parquet
from pipeline.topics.sweep import main, sweep_topics
from tests.conftest import ROOT, run_cli
from tests.test_topics import make_paragraphs


def test_sweep_rows_per_k():
    rows = sweep_topics(make_paragraphs(), TopicsConfig(passes=2), [2, 3])
    assert [r["num_topics"] for r in rows] == [2, 3]
    assert all(r["topic_diversity"] is not None and 0 < r["topic_diversity"] <= 1 for r in rows)


def test_sweep_stage_writes_json_and_png(workspace):
    write_parquet(workspace / "p.parquet", make_paragraphs())
    config = load_config(
        workspace / "configs" / "default.yaml",
        ["topics.input=p.parquet", "topics.passes=2", "sweep.num_topics=[3, 2]",
         "sweep.output=out/s.json", "sweep.plot=out/s.png"],
    )
    main(config)
    rows = json.loads((workspace / "out/s.json").read_text())
    assert [r["num_topics"] for r in rows] == [2, 3]
    assert (workspace / "out/s.png").read_bytes().startswith(b"\x89PNG")


def test_bad_k_is_a_config_error():
    with pytest.raises(ConfigError, match="sweep.num_topics: value error|sweep.num_topics: every K"):
        load_config(ROOT / "configs" / "default.yaml", ["sweep.num_topics=[1, 5]"])


def test_sweep_cli_error_is_one_line(workspace):
    proc = run_cli("sweep", "--set", "topics.input=missing.parquet", cwd=workspace)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("Error: missing.parquet")
