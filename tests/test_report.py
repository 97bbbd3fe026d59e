"""The report stage: a self-contained HTML page and headline metrics from small tables."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.config import Config, load_config
from pipeline.errors import InputError
from pipeline.report import main, truncate

REPO = Path(__file__).resolve().parents[1]
LONG = "Sanctions were discussed at length. " * 30  # > 400 characters


def write_inputs(tmp: Path, *, manifest: dict | None = None) -> Path:
    """Paragraphs, manifest, topic outputs and stance table in ``tmp``; returns a config file."""
    paragraphs = pd.DataFrame({
        "doc_id": ["a", "a", "a", "b", "b", "c"],
        "para_id": [0, 1, 2, 0, 1, 0],
        "text": ["Trade and tariffs <script>alert(1)</script> dominate.", LONG, "Troops moved to the border.",
                 "Carbon emissions keep rising.", "Trade and tariffs dominate.", "Navy drills near the coast."],
        "duplicate_of": [None, None, None, None, "a:0", None],
        "source": ["x.txt", "x.txt", "x.txt", "y.txt", "y.txt", "z.txt"],
    })
    paragraphs["start"] = 0
    paragraphs["end"] = paragraphs["text"].str.len()
    paragraphs.to_parquet(tmp / "paragraphs.parquet")
    theta = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1],
                      [0.1, 0.1, 0.8], [0.95, 0.03, 0.02], [0.2, 0.75, 0.05]])
    doc_topics = paragraphs[["doc_id", "para_id"]].assign(dominant_topic=theta.argmax(1), dominant_prob=theta.max(1))
    for k in range(3):
        doc_topics[f"topic_{k}"] = theta[:, k]
    doc_topics.to_parquet(tmp / "doc_topics.parquet")
    words = [["trade", "tariff", "market"], ["troops", "border", "navy"], ["carbon", "climate", "energy"]]
    pd.DataFrame({
        "topic": [0, 1, 2],
        "label": [", ".join(w) for w in words],
        "top_words": words,
        "weights": [[0.3, 0.2, 0.1]] * 3,
        "prevalence": theta.mean(axis=0),
    }).to_parquet(tmp / "topic_table.parquet")
    stance = pd.DataFrame({
        "doc_id": ["a", "a", "a", "b", "c", "c"],
        "para_id": [0, 0, 2, 0, 0, 0],
        "target": ["China", "NATO", "NATO", "China", "NATO", "Russia"],
        "label": ["favor", "none", "against", "neutral", "against", "none"],
        "p_favor": [0.8, 0.1, 0.1, 0.2, 0.05, 0.3],
        "p_against": [0.1, 0.1, 0.7, 0.2, 0.9, 0.3],
        "p_neutral": [0.1, 0.8, 0.2, 0.6, 0.05, 0.4],
        "evidence": ["China is a partner <b>we trust</b>.", None, "NATO troops threaten us.", "China was there.",
                     "NATO drills are a provocation.", None],
    })
    stance.to_parquet(tmp / "stance.parquet")
    if manifest is None:
        manifest = {"counts": {"documents_in": 4, "documents_ok": 3, "documents_skipped": 1, "paragraphs": 6,
                               "duplicates": 1},
                    "documents": [{"doc_id": "a", "status": "ok"}, {"doc_id": "d", "status": "skipped",
                                                                     "reason": "empty file"}]}
    (tmp / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (tmp / "topics.json").write_text(json.dumps({"c_npmi": 0.12, "c_v": 0.5, "topic_diversity": 0.9}))
    config = {
        "chunk": {"output": str(tmp / "paragraphs.parquet"), "manifest": str(tmp / "manifest.json")},
        "topics": {"output": str(tmp / "doc_topics.parquet"), "table": str(tmp / "topic_table.parquet"),
                   "metrics": str(tmp / "topics.json")},
        "stance": {"output": str(tmp / "stance.parquet"), "metrics": str(tmp / "stance.json")},
        "report": {"output": str(tmp / "reports" / "report.html"), "metrics": str(tmp / "metrics" / "report.json"),
                   "examples_per_topic": 2},
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_inputs(tmp_path))


def test_report_is_self_contained_html(config: Config) -> None:
    main(config)
    page = config.report.output.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert len(re.findall(r'<img alt="figure" src="data:image/png;base64,[A-Za-z0-9+/=]+">', page)) == 2
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "<script" not in page and "&lt;script&gt;" in page and "&lt;b&gt;we trust&lt;/b&gt;" in page
    for label in ("trade, tariff, market", "troops, border, navy", "carbon, climate, energy"):
        assert label in page
    assert "empty file" in page  # the skipped document and why
    assert LONG.strip() not in page and "Sanctions were discussed at length." in page


def test_examples_prefer_high_share_and_skip_duplicates(config: Config) -> None:
    main(config)
    page = config.report.output.read_text(encoding="utf-8")
    topic0 = page[page.index("<h4>Topic 0"):page.index("<h4>Topic 1")]
    # b:1 has the highest share of topic 0 but duplicates a:0: a:0 leads and b:1 is not shown
    assert topic0.count("<blockquote>") == 2
    assert topic0.index("a &para;0") < topic0.index("share 0.20")
    assert "b &para;1" not in topic0


def test_report_metrics(config: Config) -> None:
    main(config)
    metrics = json.loads(config.report.metrics.read_text())
    assert metrics["documents"] == 3
    assert metrics["paragraphs"] == 6
    assert metrics["duplicates"] == 1
    assert metrics["documents_skipped"] == 1
    assert metrics["num_topics"] == 3
    assert metrics["stance"] == {"favor": 1, "against": 2, "neutral": 1, "none": 2}
    assert metrics["stance_by_target"]["NATO"] == {"favor": 0, "against": 2, "neutral": 0, "none": 1}


def test_manifest_without_counts_falls_back_to_the_table(tmp_path: Path) -> None:
    config = load_config(write_inputs(tmp_path, manifest={"documents": "not a list"}))
    main(config)
    metrics = json.loads(config.report.metrics.read_text())
    assert (metrics["documents"], metrics["paragraphs"], metrics["duplicates"]) == (3, 6, 1)


def test_report_is_deterministic(config: Config) -> None:
    main(config)
    first = config.report.output.read_bytes()
    main(config)
    assert config.report.output.read_bytes() == first


def test_missing_stance_table_is_named(config: Config) -> None:
    config.stance.output.unlink()
    with pytest.raises(InputError, match=r"stance\.parquet: file not found \(run `pipeline stance` first\)"):
        main(config)
    assert not config.report.output.exists()


def test_truncate_cuts_at_a_word() -> None:
    assert truncate("short  text") == "short text"
    cut = truncate(LONG)
    assert len(cut) <= 402 and cut.endswith(" \u2026") and "  " not in cut


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", "report", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_cli(tmp_path: Path) -> None:
    path = write_inputs(tmp_path)
    ok = _cli("--config", str(path), "--set", "report.examples_per_topic=1")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "reports" / "report.html").is_file()
    (tmp_path / "stance.parquet").unlink()
    bad = _cli("--config", str(path))
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert [line for line in bad.stderr.splitlines() if line.startswith("Error:")] == [
        f"Error: {tmp_path / 'stance.parquet'}: file not found (run `pipeline stance` first)"
    ]
