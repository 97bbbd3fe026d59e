"""The topic browser: pyLDAvis's intertopic distance map and relevance slider as one offline page.

Unit tests on a tiny fitted model, then the page in headless Chromium (the ``browser`` fixture of
tests/conftest.py skips that test when Chromium or selenium is missing).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import load_config
from pipeline.errors import DataError
from pipeline.report import main
from pipeline.report.browser import VISID, browser_data, build_browser, topic_sizes, write_browser
from tests.test_report import tiny_topic_model, write_inputs

#: any src= or href= attribute, quoted or not
ATTRIBUTE = re.compile(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]*)""", re.IGNORECASE)


def doc_topics(model) -> pd.DataFrame:
    """The topic output of a few paragraphs under ``model``; the last one has no vocabulary word."""
    texts = ["Trade tariffs and the market.", "Troops at the border.", "Carbon and climate energy.", "Hello!"]
    theta = model.transform(texts)
    frame = pd.DataFrame({"doc_id": [f"d{i}" for i in range(len(texts))], "para_id": 0,
                          "dominant_topic": theta.argmax(1), "dominant_prob": theta.max(1),
                          "n_words": [4, 2, 3, 0]})
    for k in range(model.num_topics):
        frame[f"topic_{k}"] = theta[:, k]
    return frame


@pytest.fixture(scope="module")
def model():
    return tiny_topic_model()


def test_page_is_offline_and_says_what_it_shows(model) -> None:
    page = build_browser(model, doc_topics(model), relevance_lambda=0.6, terms=30)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # every script, style and icon is inline: data: URLs, nothing fetched from anywhere
    references = ATTRIBUTE.findall(page)
    assert len(references) == 4 and all(ref.startswith("data:") for ref in references), references
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", page, re.IGNORECASE)
    assert "cdn.jsdelivr" not in page and "d3js.org" not in page
    assert "4 paragraphs, 9 words of the" in page and "&middot; 3 topics &middot;" in page
    assert "topic N in the map = topic N-1 in the report's table" in page
    assert 'location.replace("#topic=0&lambda=0.6&term=")' in page
    assert f'<div id="{VISID}"' in page


def test_topics_keep_the_model_order_and_sizes(model) -> None:
    frame = doc_topics(model)
    data = browser_data(model, frame, terms=10)
    assert data.topic_order == [1, 2, 3] and data.R == 10
    assert data.topic_coordinates["topics"].tolist() == [1, 2, 3]
    # the circles' areas: each topic's share of the words, paragraphs without a word adding nothing
    sizes = topic_sizes(frame, 3)
    expected = (frame[["topic_0", "topic_1", "topic_2"]].to_numpy() * frame[["n_words"]].to_numpy()).sum(axis=0)
    assert np.allclose(sizes, expected)
    assert np.allclose(data.topic_coordinates["Freq"].to_numpy(), 100 * expected / expected.sum())
    # a paragraph without words may have any (even missing) shares
    frame.loc[3, ["topic_0", "topic_1", "topic_2"]] = np.nan
    assert np.allclose(topic_sizes(frame, 3), expected)


def test_same_inputs_same_bytes(model, tmp_path: Path) -> None:
    frame = doc_topics(model)
    first = write_browser(tmp_path / "a" / "topics.html", model, frame, 0.6, 30).read_bytes()
    second = write_browser(tmp_path / "b" / "topics.html", model, frame.copy(), 0.6, 30).read_bytes()
    assert first == second
    other = build_browser(model, frame, 0.35, 30)
    assert other != first.decode("utf-8") and 'location.replace("#topic=0&lambda=0.35&term=")' in other


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.drop(columns=["n_words"]), r"^doc_topics\.parquet: missing column\(s\) n_words \(the topic model has 3"),
    (lambda f: f.drop(columns=["topic_2"]), r"^doc_topics\.parquet: missing column\(s\) topic_2 "),
    (lambda f: f.assign(topic_3=0.0), r"^doc_topics\.parquet: topic column\(s\) topic_3 beyond the model's 3 topics"),
    (lambda f: f.assign(n_words=0), r"^doc_topics\.parquet: no paragraph has a word of the model's vocabulary"),
])
def test_a_topic_output_that_does_not_fit_is_a_one_line_error(model, change, message: str) -> None:
    with pytest.raises(DataError, match=message) as error:
        build_browser(model, change(doc_topics(model)), source="doc_topics.parquet")
    assert "\n" not in str(error.value)


def test_the_report_stage_writes_the_browser_and_links_to_it(tmp_path: Path) -> None:
    config = load_config(write_inputs(tmp_path))
    main(config)
    assert config.report.browser == tmp_path / "reports" / "topics.html"
    page = config.report.browser.read_text(encoding="utf-8")
    assert "6 paragraphs, 103 words" in page and "&middot; 3 topics &middot;" in page
    report = config.report.output.read_text(encoding="utf-8")
    topics = report[report.index('<h2 id="topics">'):report.index('id="topics-metadata"')]
    assert '<a href="topics.html">topic browser</a>' in topics


def test_topic_browser_in_chromium(browser, tmp_path: Path) -> None:
    config = load_config(write_inputs(tmp_path), ["topics.relevance_lambda=0.35"])
    # words as in a real corpus: LDAvis's bar axis starts at one word, so a term expected less than once in a
    # topic (only in a corpus of a few hundred words) gets a negative bar width, which Chromium logs as an error
    frame = pd.read_parquet(config.topics.output)
    frame.assign(n_words=frame["n_words"] * 1000).to_parquet(config.topics.output)
    main(config)
    browser.get_log("browser")  # drop what earlier tests left
    # the browser is offline (DevTools network emulation): a script or style from the web would not load
    offline = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, **offline})
    try:
        browser.get(config.report.browser.resolve().as_uri())
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, **offline})
    logs = browser.get_log("browser")
    assert [e for e in logs if e.get("level") in ("SEVERE", "ERROR")] == [], logs
    assert browser.title == "Topic browser"
    circles = browser.find_elements("css selector", f"#{VISID} svg circle.dot")
    assert len(circles) == 3
    slider = browser.find_element("id", f"{VISID}-lambda")
    assert slider.get_attribute("type") == "range" and slider.get_attribute("value") == "0.35"
    assert browser.find_element("id", f"{VISID}-lambda-value").text == "0.35"
    assert browser.execute_script("return location.hash;") == "#topic=0&lambda=0.35&term="
    # selecting a topic shows its terms by relevance at the slider's lambda
    browser.find_element("id", f"{VISID}-topic-up").click()
    assert browser.execute_script("return location.hash;") == "#topic=1&lambda=0.35&term="
    assert browser.find_elements("css selector", f"#{VISID} svg text.terms")
    assert [e for e in browser.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")] == []
