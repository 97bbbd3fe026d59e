"""The report in a real browser: headless Chromium loads it with no console error and shows every section.

Needs Chromium and its driver (Debian: ``apt-get install chromium chromium-driver``; ``make test``
installs them when it can) and selenium (the ``dev`` extra); the ``browser`` fixture (tests/conftest.py)
skips the test and says why when they are missing.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import load_config
from pipeline.report import main
from tests.test_report import write_inputs

SECTIONS = ("corpus", "topics", "topics-metadata", "stance", "stance-documents", "stance-metadata", "topic-target",
            "evidence")


def test_report_loads_without_console_errors_and_shows_its_sections(browser, tmp_path: Path) -> None:
    config = load_config(write_inputs(tmp_path, metadata={
        "year": [2014, 2014, 2014, 2015, 2015, 2016],
        "country": ["RUS", "RUS", "RUS", "USA", "USA", "CHN"],
    }))
    main(config)
    browser.get(config.report.output.resolve().as_uri())
    errors = [e for e in browser.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]
    assert errors == []
    assert browser.title == "Topic and stance report"
    for section in SECTIONS:
        element = browser.find_element("id", section)
        assert element.is_displayed(), section
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0]);")
    assert len(images) == 6 and all(ok for _, ok in images), images
    # a heatmap cell is one click away from its evidence
    browser.find_element("css selector", '#topic-target ~ div a[href="#ev-nato-1"]').click()
    assert browser.execute_script("return location.hash;") == "#ev-nato-1"
    evidence = browser.find_element("id", "ev-nato-1")
    assert evidence.is_displayed() and "NATO drills are a provocation." in evidence.text
    # the log capture itself works: a console error would have been seen
    browser.execute_script("console.error('probe from the test');")
    assert any("probe from the test" in e.get("message", "") for e in browser.get_log("browser"))
