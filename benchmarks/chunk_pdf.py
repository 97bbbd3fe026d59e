"""How well the ``pdf`` reader rebuilds paragraphs from page geometry, on PDFs typeset here with ReportLab.

Two sets, both built in a scratch directory with the ground truth kept:

- ``fixtures``: the three PDFs of ``tests/test_chunk_pdf.py`` (one column, ragged right, first-line
  indents, a running header, page numbers, soft and real hyphens at line ends, paragraphs across page
  breaks; two justified columns under a title across both; footnotes with superscript markers).
- ``random``: ``--docs`` documents typeset by ReportLab's own paragraph engine with a layout drawn per
  document (seeded): 1, 2 or 3 columns; justified or ragged right; paragraphs marked by a first-line
  indent, a gap, or both; 9-12 pt Times or Helvetica; A5 or A4; a running header with the page number at
  its right end and a centred page number (70% of documents); a bold heading before some paragraphs
  (attached to the next paragraph, as the chunker does); on some documents a title across the columns
  and a footnote at the foot of the first page. Paragraphs are 1-5 sentences drawn from the fixtures'
  text, long words hyphenated by ReportLab at soft hyphens.

Every PDF goes through :func:`pipeline.chunk.pdf.extract_pdf` and
:func:`~pipeline.chunk.segment.segment_document` with the default settings. ``paragraphs_exact`` is the
share of true paragraphs returned exactly (text equal); ``documents_exact`` the share of documents whose
paragraphs all come back and nothing else; ``by_layout`` splits the random set by columns and
paragraph style. ``ms_per_page`` is the reading time (pdfplumber and the layout), after ``import_seconds``.

Prints one JSON line (``--verbose``: every paragraph not returned, with its nearest returned one, on stderr).

    .venv/bin/python benchmarks/chunk_pdf.py [--docs 200] [--seed 0] [--verbose]
"""

from __future__ import annotations

import argparse
import difflib
import json
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHY = "\u00ad"
#: headings, each used at most once per document (a line repeated three times is dropped as a page header)
HEADINGS = ["Background", "Recommendations", "Findings of the committee", "Next steps", "Outlook", "Enforcement",
            "Financing", "Reactions", "The negotiations", "Open questions"]
#: long words that get soft hyphens, so ReportLab can hyphenate them at a line end
SOFT = {"international": "inter-na-tional", "accountability": "ac-count-abil-ity", "recommendations": "recom-men-da-tions",
        "development": "devel-op-ment", "organisations": "organ-isa-tions", "constructive": "con-struc-tive",
        "independent": "inde-pen-dent", "humanitarian": "hu-mani-tar-ian", "cooperation": "co-op-er-a-tion"}


def _sentences() -> list[str]:
    from tests import pdf_fixtures as fx

    texts = [t.replace(SHY, "") for k, t in fx.REPORT if k == "p"] + fx.ARTICLE
    texts += [re.sub(r"<super>.*?</super>", "", t) for t in fx.FOOTNOTED]
    return [s for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if s]


def _soft(text: str) -> str:
    for word, parts in SOFT.items():
        text = re.sub(rf"\b{word}\b", parts.replace("-", SHY), text)
    return text


def random_pdf(path: Path, seed: int, sentences: list[str]) -> tuple[list[str], dict[str, Any]]:
    """Typeset one random document; return its true paragraphs and its layout."""
    from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph

    rng = random.Random(seed)
    layout = {
        "columns": rng.choice([1, 1, 2, 2, 3]), "justified": rng.random() < 0.5,
        "paragraphs": rng.choice(["indent", "gap", "both"]), "size": rng.choice([9, 10, 11, 12]),
        "font": rng.choice(["Times-Roman", "Helvetica"]), "header": rng.random() < 0.7,
        "title": rng.random() < 0.3, "footnote": rng.random() < 0.3,
        "page": rng.choice([(420, 595), (595, 842)]),
    }
    size, font = layout["size"], layout["font"]
    if layout["columns"] == 3 and layout["page"][0] < 500:
        size = min(size, 10)  # three columns of 12 pt on A5 leave words longer than a line
    body = ParagraphStyle("body", fontName=font, fontSize=size, leading=size * 1.2,
                          alignment=TA_JUSTIFY if layout["justified"] else TA_LEFT,
                          firstLineIndent=size * 1.5 if layout["paragraphs"] != "gap" else 0,
                          spaceAfter=size * 0.6 if layout["paragraphs"] != "indent" else 0,
                          embeddedHyphenation=1, hyphenationLang="", splitLongWords=0)
    bold = ParagraphStyle("heading", parent=body, fontName=font.split("-")[0] + "-Bold", firstLineIndent=0,
                          alignment=TA_LEFT, spaceBefore=size * 0.5)
    page_w, page_h = layout["page"]
    margin, gutter, columns = 50, 18, layout["columns"]
    col_w = (page_w - 2 * margin - (columns - 1) * gutter) / columns
    title = "Report of the working group on labour standards"
    note = "The working group met in closed session; the summary records are not public."

    def frames(top: float, bottom: float) -> list[Frame]:
        return [Frame(margin + i * (col_w + gutter), bottom, col_w, top - bottom, leftPadding=0, rightPadding=0,
                      topPadding=0, bottomPadding=0) for i in range(columns)]

    def furniture(canvas: Any, doc: Any) -> None:
        if layout["header"]:
            canvas.setFont("Times-Italic", 8)
            canvas.drawString(margin, page_h - 30, "Working paper on labour standards")
            canvas.drawRightString(page_w - margin, page_h - 30, f"p. {doc.page}")
            canvas.setFont("Times-Roman", 8)
            canvas.drawCentredString(page_w / 2, 25, str(doc.page))

    def first_page(canvas: Any, doc: Any) -> None:
        furniture(canvas, doc)
        if layout["title"]:
            canvas.setFont(font.split("-")[0] + "-Bold", size + 4)
            canvas.drawCentredString(page_w / 2, page_h - margin - size - 4, title)
        if layout["footnote"]:
            canvas.line(margin, margin + 16, margin + 80, margin + 16)
            canvas.setFont(font, size * 0.55)
            canvas.drawString(margin, margin + 7, "1")
            canvas.setFont(font, size * 0.8)
            canvas.drawString(margin + 5, margin + 4, note)

    top = page_h - margin - (2 * size + 16 if layout["title"] else 0)
    bottom = margin + (26 if layout["footnote"] else 0)
    flow, truth, heading = [], [], None
    count = rng.randint(8, 30)
    headings = rng.sample(HEADINGS, len(HEADINGS))
    for i in range(count):
        if rng.random() < 0.12 and 0 < i < count - 1 and headings and heading is None:
            h = headings.pop()
            heading = h
            flow.append(Paragraph(h, bold))
            continue
        text = " ".join(rng.sample(sentences, rng.randint(1, 5)))
        marker = "<super>1</super>" if layout["footnote"] and i == 0 else ""
        flow.append(Paragraph(_soft(text) + marker, body))
        truth.append(f"{heading}\n{text}" if heading else text)
        if i == 0 and layout["title"]:
            truth[-1] = f"{title}\n{truth[-1]}"
        heading = None
    if layout["footnote"]:
        truth.append(note)
    doc = BaseDocTemplate(str(path), pagesize=(page_w, page_h), invariant=1)
    doc.addPageTemplates([
        PageTemplate("first", frames(top, bottom), onPage=first_page, autoNextPageTemplate="rest"),
        PageTemplate("rest", frames(page_h - margin, margin), onPage=furniture),
    ])
    doc.build(flow)
    return truth, layout


def fixture_pdfs(folder: Path) -> list[tuple[Path, list[str]]]:
    from tests import pdf_fixtures as fx

    fx.one_column_pdf(folder / "one_column.pdf")
    fx.two_column_pdf(folder / "two_columns.pdf")
    fx.footnote_pdf(folder / "footnotes.pdf")
    body = [re.sub(r"<super>.*?</super>", "", t) for t in fx.FOOTNOTED]
    return [
        (folder / "one_column.pdf", fx.expected(fx.REPORT)),
        (folder / "two_columns.pdf", [f"{fx.ARTICLE_TITLE}\n{fx.ARTICLE[0]}", *fx.ARTICLE[1:]]),
        (folder / "footnotes.pdf", body + fx.FOOTNOTES),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    from pipeline.chunk.pdf import extract_pdf
    from pipeline.chunk.segment import SegmentOptions, segment_document
    from pipeline.config import ChunkConfig

    started = time.perf_counter()
    import pdfplumber  # noqa: F401 - loaded by the reader on the first PDF; timed apart

    import_seconds = time.perf_counter() - started
    opts = SegmentOptions.from_config(ChunkConfig())
    sentences = _sentences()
    results: dict[str, Any] = {}
    by_layout: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    reading = 0.0
    pages = 0
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        sets = {"fixtures": fixture_pdfs(folder), "random": []}
        layouts = {}
        for k in range(args.docs):
            path = folder / f"random_{k:04d}.pdf"
            truth, layout = random_pdf(path, args.seed * 100_000 + k, sentences)
            sets["random"].append((path, truth))
            layouts[path] = layout
        for name, docs in sets.items():
            right = total = docs_right = 0
            for path, truth in docs:
                t0 = time.perf_counter()
                extraction = extract_pdf(path)
                reading += time.perf_counter() - t0
                pages += extraction.stats["pages"]
                got = [p.text for p in segment_document(extraction.text, opts)]
                hits = sum(1 for text in truth if text in got)
                right, total = right + hits, total + len(truth)
                docs_right += hits == len(truth) == len(got)
                if path in layouts:
                    layout = layouts[path]
                    for key in (f"columns={layout['columns']}", f"paragraphs={layout['paragraphs']}",
                                f"justified={layout['justified']}"):
                        by_layout[key][0] += hits
                        by_layout[key][1] += len(truth)
                if args.verbose and (hits < len(truth) or len(got) != len(truth)):
                    print(f"{path.name} {layouts.get(path, '')}: {hits}/{len(truth)}, {len(got)} returned",
                          file=sys.stderr)
                    for text in truth:
                        if text not in got:
                            near = max(got, key=lambda g: difflib.SequenceMatcher(None, g, text).ratio(), default="")
                            print(f"  missed: {text[:120]!r}\n  nearest: {near[:120]!r}", file=sys.stderr)
            results[name] = {"paragraphs_exact": round(right / max(total, 1), 4), "paragraphs": total,
                             "paragraphs_right": right, "documents": len(docs),
                             "documents_exact": round(docs_right / max(len(docs), 1), 4)}
    results["random"]["by_layout"] = {k: round(v[0] / v[1], 4) for k, v in sorted(by_layout.items())}
    results.update(pages=pages, import_seconds=round(import_seconds, 2), seconds=round(reading, 2),
                   ms_per_page=round(1000 * reading / max(pages, 1), 1), seed=args.seed)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
