"""How well the ``html`` reader keeps the article and drops the rest, on the test news pages.

The pages (``tests/data/html``) were written for the tests to look like real news sites: navigation,
cookie and consent banners, share buttons, related and sponsored links, newsletter boxes, comments,
author boxes, footers; one page gzipped, two in legacy charsets. Beside each page a JSON sidecar
holds the article's paragraphs (body paragraphs, sub-headings, list items), *neutral* text that may
go either way (the title, a standfirst, captions, a pull quote) and the expected metadata.

Every page goes through the reader (:func:`pipeline.chunk.html.html_document`); its text is cut into
lines (blocks, and lines within a block). Measures, over all pages:

- ``paragraphs_exact``: share of article paragraphs that are a line of the output, equal after
  :func:`~pipeline.chunk.text.normalize` (quotes and spaces);
- ``paragraphs_near``: share that match an output line with ``difflib`` ratio >= 0.9;
- ``boilerplate_dropped``: the page's visible text lines (block by block, as a browser lays them
  out) that are neither article nor neutral text, and do not occur in the article either (a menu
  item "Business" is not counted when the article says "business"): the share of them that do not
  occur in the output;
- ``precision_chars``: share of the output's characters in lines that are article paragraphs
  (near) or neutral text;
- ``metadata``: per field, the share of pages where the reader's value equals the sidecar's (a
  sidecar value of null is expected to stay null);
- ``chunked_paragraphs_exact``, ``chunked_boilerplate_dropped``: the same after the chunk stage's
  segmentation with the default settings, which also drops boilerplate paragraphs such as
  "Read more: ..." (a heading attached to its paragraph counts as the two lines it holds);
- ``seconds``, ``ms_per_page``, ``median_ms_per_page``: reading time of the pages (decompressing,
  decoding, extracting), after ``import_seconds`` spent importing trafilatura once; the first page
  also pays for trafilatura's first-use set-up (about 0.2 s), hence the median.

Prints one JSON line (``--verbose``: every missed paragraph and kept boilerplate line on stderr).

    .venv/bin/python benchmarks/html_extraction.py [--pages tests/data/html] [--verbose]
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.chunk.html import META_FIELDS, decode_html, html_document  # noqa: E402
from pipeline.chunk.segment import SegmentOptions, segment_document  # noqa: E402
from pipeline.chunk.text import normalize  # noqa: E402
from pipeline.config import ChunkConfig  # noqa: E402

PAGES = ROOT / "tests" / "data" / "html"
NEAR = 0.9

#: tags that do not start a new line in a browser's layout
_INLINE = frozenset({"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "img", "kbd",
                     "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "tt", "u", "var",
                     "wbr", "label", "input"})
_INVISIBLE = ("script", "style", "template", "head", "meta", "link")


@dataclass
class Page:
    """One test page and what its sidecar expects."""

    name: str
    path: Path
    paragraphs: list[str]
    neutral: list[str]
    meta: dict[str, Any]
    skip: bool = False
    layout: str = ""
    lines: list[str] = field(default_factory=list)


def load_pages(directory: Path = PAGES) -> list[Page]:
    """The pages that have a sidecar ``<stem>.json``, in name order."""
    pages = []
    for sidecar in sorted(directory.glob("*.json")):
        spec = json.loads(sidecar.read_text(encoding="utf-8"))
        path = directory / spec["file"]
        page = Page(sidecar.stem, path, spec.get("paragraphs", []), spec.get("neutral", []), spec.get("meta", {}),
                    bool(spec.get("skip", False)), spec.get("layout", ""))
        page.lines = visible_lines(path)
        pages.append(page)
    return pages


def visible_lines(path: Path) -> list[str]:
    """The page's visible text, one entry per line a browser would start (block elements, ``<br>``)."""
    import lxml.html

    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    decoded = decode_html(data)
    assert decoded is not None, path
    tree = lxml.html.fromstring(re.sub(r"\A\s*<\?xml[^>]*\?>", "", decoded[0]))
    for element in tree.xpath("|".join(f"//{tag}" for tag in _INVISIBLE)):
        element.drop_tree()
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "br":
            element.tail = "\n" + (element.tail or "")
        elif element.tag not in _INLINE:
            element.text = "\n" + (element.text or "")
            element.tail = "\n" + (element.tail or "")
    return [" ".join(line.split()) for line in tree.text_content().split("\n") if line.strip()]


def _key(text: str) -> str:
    return normalize(text).casefold()


def _occurs(needle: str, haystack: str) -> bool:
    """Whether ``needle`` occurs in ``haystack`` as whole words (both keyed)."""
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) is not None


def _best_ratio(target: str, candidates: list[str]) -> float:
    best = 0.0
    for candidate in candidates:
        matcher = difflib.SequenceMatcher(None, target, candidate, autojunk=False)
        if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
            best = max(best, matcher.ratio())
    return best


def score_page(page: Page, lines: list[str]) -> dict[str, Any]:
    """Counts for one page, given the output lines (paragraph texts split at newlines)."""
    out = [_key(line) for line in lines if line.strip()]
    out_set = set(out)
    out_text = "\n".join(out)
    expected = [_key(p) for p in page.paragraphs]
    neutral = [_key(n) for n in page.neutral]
    article_text = "\n".join(expected)
    exact = [p for p in expected if p in out_set]
    near = [p for p in expected if p in out_set or _best_ratio(p, out) >= NEAR]
    known = "\n".join(expected + neutral)
    boiler = []
    for line in dict.fromkeys(_key(x) for x in page.lines):
        if line in known or _occurs(line, article_text):
            continue
        boiler.append(line)
    kept_boiler = [b for b in boiler if _occurs(b, out_text)]
    good = sum(len(o) for o in out if o in expected or o in neutral or _best_ratio(o, expected) >= NEAR)
    return {
        "paragraphs": len(expected), "exact": len(exact), "near": len(near),
        "missed": [p for p in expected if p not in near],
        "boilerplate": len(boiler), "boilerplate_kept": kept_boiler,
        "chars": sum(len(o) for o in out), "good_chars": good,
    }


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


def run(pages: list[Page], verbose: bool = False) -> dict[str, Any]:
    cfg = ChunkConfig()
    opts = SegmentOptions.from_config(cfg)
    totals: dict[str, float] = dict.fromkeys(("paragraphs", "exact", "near", "boilerplate", "boilerplate_kept",
                                              "chars", "good_chars", "chunked_exact", "chunked_kept"), 0)
    meta_hits = dict.fromkeys(META_FIELDS, 0)
    per_page = []
    skips = {"expected": 0, "right": 0}
    started = time.perf_counter()
    import trafilatura  # noqa: F401 - imported once before the clock runs

    import_seconds = time.perf_counter() - started
    timings = []
    for page in pages:
        started = time.perf_counter()
        doc = html_document(page.path, page.name, page.path.name, cfg)
        timings.append(time.perf_counter() - started)
        if page.skip:
            skips["expected"] += 1
            skips["right"] += doc.status == "skipped"
            per_page.append({"page": page.name, "skipped": doc.status == "skipped", "reason": doc.reason})
            continue
        text = doc.text or ""
        counts = score_page(page, _lines(text))
        chunked = [line for para in segment_document(text, opts) for line in para.text.split("\n")] if text else []
        chunked_counts = score_page(page, chunked)
        for key in ("paragraphs", "exact", "near", "boilerplate", "chars", "good_chars"):
            totals[key] += counts[key]
        totals["boilerplate_kept"] += len(counts["boilerplate_kept"])
        totals["chunked_exact"] += chunked_counts["exact"]
        totals["chunked_kept"] += len(chunked_counts["boilerplate_kept"])
        meta_right = {k: doc.meta.get(k) == page.meta.get(k) for k in META_FIELDS}
        for key, right in meta_right.items():
            meta_hits[key] += right
        per_page.append({
            "page": page.name, "status": doc.status, "paragraphs": counts["paragraphs"], "exact": counts["exact"],
            "near": counts["near"], "boilerplate": counts["boilerplate"],
            "boilerplate_kept": len(counts["boilerplate_kept"]),
            "metadata_wrong": {k: doc.meta.get(k) for k, right in meta_right.items() if not right},
        })
        if verbose:
            for p in counts["missed"]:
                print(f"{page.name}: MISSED {p[:100]!r}", file=sys.stderr)
            for b in counts["boilerplate_kept"]:
                print(f"{page.name}: KEPT BOILERPLATE {b[:100]!r}", file=sys.stderr)
    articles = sum(1 for p in pages if not p.skip)
    seconds = sum(timings)

    def share(a: float, b: float) -> float | None:
        return round(a / b, 4) if b else None

    return {
        "pages": articles,
        "paragraphs": int(totals["paragraphs"]),
        "paragraphs_exact": share(totals["exact"], totals["paragraphs"]),
        "paragraphs_near": share(totals["near"], totals["paragraphs"]),
        "boilerplate_lines": int(totals["boilerplate"]),
        "boilerplate_dropped": share(totals["boilerplate"] - totals["boilerplate_kept"], totals["boilerplate"]),
        "precision_chars": share(totals["good_chars"], totals["chars"]),
        "chunked_paragraphs_exact": share(totals["chunked_exact"], totals["paragraphs"]),
        "chunked_boilerplate_dropped": share(totals["boilerplate"] - totals["chunked_kept"], totals["boilerplate"]),
        "metadata": {k: share(v, articles) for k, v in meta_hits.items()},
        "skip_pages": skips["expected"], "skip_pages_skipped": skips["right"],
        "import_seconds": round(import_seconds, 3), "seconds": round(seconds, 3),
        "ms_per_page": round(1000 * seconds / max(len(pages), 1), 1),
        "median_ms_per_page": round(1000 * statistics.median(timings), 1) if timings else None,
        "per_page": per_page,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=Path, default=PAGES, help="folder of pages with JSON sidecars")
    parser.add_argument("--verbose", action="store_true", help="missed paragraphs and kept boilerplate on stderr")
    args = parser.parse_args(argv)
    print(json.dumps(run(load_pages(args.pages), args.verbose), ensure_ascii=False))


if __name__ == "__main__":
    main()
