"""The report stage: a self-contained HTML page and headline metrics from small tables."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.artifacts import save_artifact
from pipeline.config import Config, load_config
from pipeline.errors import InputError
from pipeline.report import main, truncate, year_column
from pipeline.topics import TopicModel

REPO = Path(__file__).resolve().parents[1]
IMG = re.compile(r'<img alt="[^"]+" src="data:image/png;base64,[A-Za-z0-9+/=]+">')
LONG = "Sanctions were discussed at length. " * 30  # > 400 characters


def write_inputs(tmp: Path, *, manifest: dict | None = None, metadata: dict | None = None) -> Path:
    """Paragraphs, manifest, topic outputs and stance table in ``tmp``; returns a config file.

    ``metadata``: extra paragraph-table columns (one value per paragraph), by default a ``source``.
    """
    paragraphs = pd.DataFrame({
        "doc_id": ["a", "a", "a", "b", "b", "c"],
        "para_id": [0, 1, 2, 0, 1, 0],
        "text": ["Trade and tariffs <script>alert(1)</script> dominate.", LONG, "Troops moved to the border.",
                 "Carbon emissions keep rising.", "Trade and tariffs dominate.", "Navy drills near the coast."],
        "duplicate_of": [None, None, None, None, "a:0", None],
    })
    if metadata is None:
        metadata = {"source": ["x.txt", "x.txt", "x.txt", "y.txt", "y.txt", "z.txt"]}
    for name, values in metadata.items():
        paragraphs[name] = values
    paragraphs["start"] = 0
    paragraphs["end"] = paragraphs["text"].str.len()
    paragraphs.to_parquet(tmp / "paragraphs.parquet")
    theta = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1],
                      [0.1, 0.1, 0.8], [0.95, 0.03, 0.02], [0.2, 0.75, 0.05]])
    doc_topics = paragraphs[["doc_id", "para_id"]].assign(dominant_topic=theta.argmax(1), dominant_prob=theta.max(1),
                                                          n_words=[4, 90, 3, 3, 3, 0])  # c:0 without a vocabulary word
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
    write_models(tmp / "models")
    config = {
        "chunk": {"output": str(tmp / "paragraphs.parquet"), "manifest": str(tmp / "manifest.json")},
        "topics": {"output": str(tmp / "doc_topics.parquet"), "table": str(tmp / "topic_table.parquet"),
                   "metrics": str(tmp / "topics.json"), "model": str(tmp / "models" / "topics")},
        "stance": {"output": str(tmp / "stance.parquet"), "metrics": str(tmp / "stance.json"),
                   "model": str(tmp / "models" / "stance")},
        "report": {"output": str(tmp / "reports" / "report.html"), "metrics": str(tmp / "metrics" / "report.json"),
                   "plots": str(tmp / "plots"), "browser": str(tmp / "reports" / "topics.html"),
                   "examples_per_topic": 2},
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@functools.cache
def tiny_topic_model() -> TopicModel:
    """A real K=3 tomotopy model of a few sentences on the fixtures' themes (fitted once per session)."""
    texts = ["Trade and tariffs dominate the market.", "Tariffs on trade hurt the market.",
             "Troops moved to the border.", "Navy drills and troops near the border.",
             "Carbon emissions and climate energy policy.", "Climate change needs carbon free energy."] * 3
    return TopicModel(3, no_below=1, no_above=1.0, tomotopy_iterations=50).fit(texts)


def write_models(models: Path) -> None:
    """The topic model directory (a tiny real model: the topic browser reads it) and a stand-in for the
    stance model directory (a weights file and ``meta.json``)."""
    tiny_topic_model().save(models / "topics", config={"topics": {"num_topics": 3, "engine": "tomotopy"}})
    save_artifact(models / "stance", "stance", 2, lambda d: (d / "model.skops").write_bytes(b"stance"),
                  config={"stance": {}}, extra={"engine": "sklearn", "targets": ["China", "NATO", "Russia"]})


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_inputs(tmp_path))


def test_report_is_self_contained_html(config: Config) -> None:
    main(config)
    page = config.report.output.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # prevalence, prevalence by source, stance by target, topic x target
    assert len(IMG.findall(page)) == 4
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


def test_report_metrics_shares_and_plot_data(config: Config) -> None:
    main(config)
    metrics = json.loads(config.report.metrics.read_text())
    assert metrics["mentions"] == 4
    # NATO: 2 against of 2 mentions; China: 1 favor, 1 neutral
    assert metrics["stance_share_by_target"]["NATO"] == {"favor": 0.0, "against": 1.0, "neutral": 0.0,
                                                         "net_against": 1.0}
    assert metrics["stance_share_by_target"]["China"]["net_against"] == -0.5
    assert metrics["stance_share_by_target"]["Russia"] == {"favor": None, "against": None, "neutral": None,
                                                           "net_against": None}  # never mentioned
    plots = config.report.plots
    topics = pd.read_csv(plots / "topics.csv")
    assert topics["label"].tolist() == ["0: trade, tariff, market", "1: troops, border, navy", "2: carbon, climate, energy"]
    by_target = pd.read_csv(plots / "stance_by_target.csv").set_index("target")
    assert by_target.loc["NATO", "against"] == 2 and by_target.loc["NATO", "net_against"] == 1.0
    against = pd.read_csv(plots / "against_by_topic.csv")
    # a:2 and c:0 are against NATO; both are dominated by topic 1
    assert against[["topic", "target"]].values.tolist() == [["1: troops, border, navy", "NATO"]] * 2


def test_topic_target_cells_link_to_their_evidence(config: Config) -> None:
    main(config)
    page = config.report.output.read_text(encoding="utf-8")
    section = page[page.index('id="topic-target"'):page.index('id="evidence"')]
    links = re.findall(r'href="#(ev-[^"]+)"', section)
    assert links == ["ev-china-0", "ev-nato-1", "ev-china-2"]
    for anchor in links:
        assert f'id="{anchor}"' in page
    nato = page[page.index('id="ev-nato-1"'):]
    nato = nato[:nato.index("</tbody>")]
    # against evidence first, by probability
    assert nato.index("NATO drills are a provocation.") < nato.index("NATO troops threaten us.")
    assert '<details open id="evidence-nato">' in page and "2 mentions &middot; 2 against" in page


def test_report_without_metadata_says_so(tmp_path: Path) -> None:
    config = load_config(write_inputs(tmp_path, metadata={}))
    main(config)
    page = config.report.output.read_text(encoding="utf-8")
    assert page.count("has none of the metadata columns") == 2  # topics and stance sections
    assert len(IMG.findall(page)) == 3 and "by year" not in page
    assert (config.report.plots / "against_by_year.csv").read_text() == "year,target\n"  # header only


def test_report_with_year_and_country(tmp_path: Path) -> None:
    config = load_config(write_inputs(tmp_path, metadata={
        "year": [2014, 2014, 2014, 2015, 2015, 2016],
        "country": ["RUS", "RUS", "RUS", "USA", "USA", "CHN"],
    }))
    main(config)
    page = config.report.output.read_text(encoding="utf-8")
    assert "has none of the metadata columns" not in page
    alts = re.findall(r'<img alt="([^"]+)"', page)
    assert alts == ["Topic prevalence: mean share of paragraphs per topic", "Topic prevalence by year",
                    "Topic prevalence by country", "Stance by target: shares of favor, against and neutral mentions",
                    "Net against by year and target", "Heatmap: net against by topic and target"]
    assert "Paragraphs per year: 2014: 3, 2015: 2, 2016: 1" in page
    by_country = page[page.index("<h4>By country</h4>"):]
    by_country = by_country[:by_country.index("</table>")]
    # groups largest first: RUS (3 paragraphs), USA (2), CHN (1); NATO against twice in RUS and CHN
    assert [g for g in re.findall(r"<tr><th>([A-Z]{3})</th>", by_country)] == ["RUS", "USA", "CHN"]
    assert by_country.count("+1.00") == 2
    by_year = pd.read_csv(config.report.plots / "against_by_year.csv")  # the DVC plot: one row per against mention
    assert by_year["target"].tolist() == ["NATO", "NATO"] and set(by_year["year"]) <= {2014, 2015, 2016}


def test_year_column_reads_numbers_and_dates() -> None:
    frame = pd.DataFrame({"date": ["2014-03-01", "2015-12-31", None], "year": ["x", "y", "z"]})
    name, years = year_column(frame, ["year", "date"])
    assert name == "date" and years.tolist()[:2] == [2014, 2015] and pd.isna(years.iloc[2])
    name, years = year_column(pd.DataFrame({"session_year": [1999.0, 2001.0]}), ["session_year"])
    assert years.tolist() == [1999, 2001]
    assert year_column(pd.DataFrame({"country": ["RUS"]}), ["year", "date"]) is None


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
