"""Read PDF documents (``.pdf``, optionally gzipped): the text layer, laid out from its geometry.

`pdfplumber <https://github.com/jsvine/pdfplumber>`_ (MIT, on pdfminer.six) gives every word of a
page with its position, font size and font name. The layout is decided from those numbers, not
guessed from the text:

- **Running headers, footers, page numbers.** A line among the first or last three of a page whose
  text (digits ignored) recurs at the same height (within 4 pt) on at least two pages and 40% of them
  is page furniture, if it stands at the page's edge apart from the text (a gap wider than the space
  between lines); so is a page number (``7``, ``- 7 -``, ``Page 7 of 9``, ``vii``), alone or at one end
  of a short running title, at the top or bottom of a page and more than a line's height from the text.
- **Columns.** Columns are separated by a gutter: a vertical strip at least 8 pt wide in the middle
  of the page's text that at most a quarter of the lines with text on both sides cross, ending where
  most lines to its right start (the next column's left edge). Lines that cross it (a title, an
  abstract, a caption across the page) are read where they stand; between two of them the columns are
  read left to right. A page with too few lines to tell, or with a short column (the last page), takes
  the gutters most pages have if no word sits in them.
- **Lines.** Within a column, words that overlap vertically form a line (baselines of two columns
  need not line up); a raised footnote marker (a small digit or ``*``/``†``... above the baseline) is
  dropped. Rotated text (margin stamps) is dropped; a word printed twice in place (fake bold) counts once.
- **Paragraphs.** Two consecutive lines belong to different paragraphs when the font size or weight
  changes (headings), when the gap between their baselines exceeds 1.25 times the document's usual
  line pitch for that size, when the second is indented by more than half its font size relative to
  the first and to its column's left edge (first-line indent; also two lines in a row at the document's
  usual indent, after a one-line paragraph), or when the first ends short: the second line's first word
  would have fitted in the room left (in ragged-right text only if the first line also ends a sentence
  or is less than 70% full). The last two rules also decide at a column or page break, where a
  paragraph goes on unless they say otherwise.
- **Hyphenation.** A hyphen at a line end followed by a word is rejoined as
  :mod:`~pipeline.chunk.segment` does (``inter-``/``national`` -> ``international``, ``decision-``/``making``
  kept): the document's vocabulary first, English word frequencies second.
- **Footnotes.** Lines in a smaller font (under 92% of the body size) that sit below every body line
  above them on the page are footnotes. They are moved after the body, one paragraph per footnote
  (a new one at each leading marker, which is dropped).

The document text is the body paragraphs, then the footnotes, each paragraph on one line, separated
by blank lines, so :func:`~pipeline.chunk.segment.segment_document` sees one paragraph per line. The
paragraph table's offsets point into this text; :func:`pdf_text` reproduces it from the file, and
the manifest entry records its SHA-256 and the pdfplumber / pdfminer.six versions under
``extraction``. Metadata columns: ``title``, ``author`` and ``date`` (``yyyy-mm-dd`` from the creation
date) from the PDF's info dictionary, each null when absent, plus ``source_path``.

A PDF is skipped, with its reason in the manifest, when it is empty, not a PDF, corrupt, encrypted
(needs a password), or has no text layer (a scanned PDF: run OCR first).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from ..config import ChunkConfig
    from .readers import Document

__all__ = ["META_FIELDS", "PdfExtraction", "PdfSkip", "extract_pdf", "pdf_document", "pdf_text"]

log = logging.getLogger(__name__)

#: metadata columns of a PDF document, in order (after ``source_path``)
META_FIELDS = ("title", "author", "date")

#: info-dictionary values that say nothing (ReportLab's and other producers' placeholders)
_PLACEHOLDERS = {"", "untitled", "anonymous", "(anonymous)", "(unspecified)", "unspecified", "unknown", "none"}
#: a footnote marker: digits or reference symbols
_MARKER = re.compile(r"(?:\d{1,3}|[*†‡§¶]{1,3})(?:,(?:\d{1,3}|[*†‡§¶]{1,3}))*")
#: a line that is only a page number
_PAGE_NUMBER = re.compile(
    r"(?i)[-–—(\[]?\s*(?:page\s+|p\.\s*)?(?:\d{1,4}|[ivxlc]{1,7})(?:\s*(?:of|/)\s*\d{1,4})?\s*[-–—)\]]?"
)
_BOLD = re.compile(r"(?i)bold|black|heavy|semibold|demi")
_CREATION_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?")
_HYPHENS = "-\u2010\u00ad"
_DASHES = "\u2013\u2014"

#: furniture: candidates per page end, tolerance of "the same height" (pt), share of pages
_EDGE_ROWS = 3
_SAME_HEIGHT = 4.0
_FURNITURE_SHARE = 0.4
#: columns: narrowest gutter (pt), share of lines that may cross it, margin of the text width searched
_MIN_GUTTER = 8.0
_CROSSING_SHARE = 0.25
_GUTTER_MARGIN = 0.15
#: footnotes: a line smaller than this share of the body size
_SMALL = 0.92
#: besides its own exceptions, what pdfminer raises on a malformed page (a broken font, stream or object);
#: such a page is counted as unreadable and the others are read
_PAGE_ERRORS = (ValueError, KeyError, IndexError, TypeError, AttributeError, AssertionError, ZeroDivisionError)


class PdfSkip(Exception):  # noqa: N818 - not an error: the document is skipped with this reason
    """The PDF yields no text; the message is the reason recorded in the manifest."""


@dataclass(slots=True)
class _Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool


@dataclass(slots=True)
class _Line:
    words: list[_Word]
    top: float
    bottom: float
    size: float
    bold: bool = False
    page: int = 0
    column: int = 0  # -1: across the columns
    left: float = 0.0  # the column's edges on this page
    right: float = 0.0
    justified: bool = True
    lead_marker: bool = False  # a raised marker opened the line (and was dropped)
    measured: bool = False  # the edges come from at least three lines of the column
    text: str = ""

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1


class _Gutter(NamedTuple):
    """A gutter between columns: its core (where only lines across the columns reach), and the strip
    few lines reach, which ends at the next column's left edge."""

    start: float
    end: float
    strip_start: float
    edge: float

    @property
    def width(self) -> float:
        return self.edge - self.strip_start


@dataclass
class _Page:
    height: float
    rows: list[_Line]
    images: int


@dataclass
class PdfExtraction:
    """What :func:`extract_pdf` makes of one PDF.

    Attributes
    ----------
    text : str
        The document text: paragraphs (body, then footnotes) one per line, separated by blank lines.
    meta : dict
        ``title``, ``author``, ``date`` (each None when the PDF does not say).
    stats : dict
        Pages, pages without text, pages in columns, dropped furniture lines, markers and rotated
        words, footnotes (recorded in the manifest entry's ``extraction``).
    """

    text: str
    meta: dict[str, Any]
    stats: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- words and lines


def _page_words(page: Any) -> tuple[list[_Word], int]:
    """The page's horizontal words, and how many rotated words were left out.

    A word printed twice at the same place (fake bold) is kept once.
    """
    words = page.extract_words(extra_attrs=["size", "fontname"], keep_blank_chars=False)
    out = []
    rotated = 0
    seen: set[tuple[str, int, int]] = set()
    for w in words:
        if not w.get("upright", True):
            rotated += 1
            continue
        text = w["text"].strip()
        key = (text, round(float(w["x0"])), round(float(w["top"])))
        if text and key not in seen:
            seen.add(key)
            out.append(_Word(text, float(w["x0"]), float(w["x1"]), float(w["top"]), float(w["bottom"]),
                             round(float(w["size"]), 1), bool(_BOLD.search(w.get("fontname") or ""))))
    return out, rotated


def _group_lines(words: list[_Word]) -> list[_Line]:
    """Words into lines: a word joins a recent line it overlaps by half the smaller height."""
    lines: list[_Line] = []
    for w in sorted(words, key=lambda w: (w.top, w.x0)):
        target = None
        best = 0.0
        for line in lines[-4:]:
            overlap = min(line.bottom, w.bottom) - max(line.top, w.top)
            if overlap >= 0.5 * max(min(line.bottom - line.top, w.bottom - w.top), 0.1) and overlap > best:
                target, best = line, overlap
        if target is None:
            lines.append(_Line([w], w.top, w.bottom, w.size))
            continue
        target.words.append(w)
        if w.size > target.size + 0.1:  # the line's extent is that of its largest type
            target.top, target.bottom, target.size = w.top, w.bottom, w.size
    for line in lines:
        line.words.sort(key=lambda w: w.x0)
    lines.sort(key=lambda line: line.top)
    return lines


def _finish_line(line: _Line) -> int:
    """Set the line's size, extent, weight and text; drop raised footnote markers (returns how many)."""
    weights: Counter[float] = Counter()
    for w in line.words:
        weights[w.size] += len(w.text)
    size = max(weights.items(), key=lambda kv: (kv[1], kv[0]))[0]
    main = [w for w in line.words if abs(w.size - size) <= 0.3]
    line.size, line.top, line.bottom = size, min(w.top for w in main), max(w.bottom for w in main)
    kept = []
    for i, w in enumerate(line.words):
        if w.size <= 0.9 * size and w.bottom < line.bottom - 0.15 * size and _MARKER.fullmatch(w.text):
            if i == 0:
                line.lead_marker = True
            continue
        kept.append(w)
    dropped = len(line.words) - len(kept)
    if kept:
        line.words = kept
    line.bold = all(w.bold for w in line.words)
    parts = [line.words[0].text]
    for prev, w in zip(line.words, line.words[1:], strict=False):
        if w.x0 - prev.x1 >= 0.12 * size:
            parts.append(" ")
        parts.append(w.text)
    line.text = "".join(parts)
    return dropped


def _row_text(row: _Line) -> str:
    return " ".join(w.text for w in row.words)


# --------------------------------------------------------------------------- furniture


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _furniture(pages: list[_Page]) -> list[set[int]]:
    """Per page, the rows that are running headers, footers or page numbers."""
    marks: list[set[int]] = [set() for _ in pages]
    groups: dict[tuple[str, str], list[tuple[float, int, int]]] = defaultdict(list)
    for p, page in enumerate(pages):
        rows = page.rows
        for i in sorted({*range(min(_EDGE_ROWS, len(rows))), *range(max(0, len(rows) - _EDGE_ROWS), len(rows))}):
            row = rows[i]
            top_side = (row.top + row.bottom) / 2 < page.height / 2
            position = row.top if top_side else page.height - row.bottom
            groups[("top" if top_side else "bottom", _furniture_key(_row_text(row)))].append((position, p, i))
    need = max(2, math.ceil(_FURNITURE_SHARE * len(pages)))
    for entries in groups.values():
        if len({p for _, p, _ in entries}) < need:
            continue
        entries.sort()
        best: list[tuple[float, int, int]] = []
        first = 0
        for last in range(len(entries)):
            while entries[last][0] - entries[first][0] > _SAME_HEIGHT:
                first += 1
            window = entries[first : last + 1]
            if len({p for _, p, _ in window}) > len({p for _, p, _ in best}):
                best = window
        if len({p for _, p, _ in best}) >= need:
            for _, p, i in best:
                marks[p].add(i)
    for p, page in enumerate(pages):
        marks[p] = _set_apart(page.rows, marks[p])
    for p, page in enumerate(pages):  # page numbers (alone or beside a running title), set apart from the text
        rest = [i for i in range(len(page.rows)) if i not in marks[p]]
        for end, neighbour in ((rest[:1], rest[1:2]), (rest[-1:], rest[-2:-1])):
            if not end or not _numbered(page.rows[end[0]]):
                continue
            row = page.rows[end[0]]
            if not neighbour:
                marks[p].add(end[0])
                continue
            other = page.rows[neighbour[0]]
            gap = other.top - row.bottom if other.top > row.top else row.top - other.bottom
            if gap > max(row.size, other.size):
                marks[p].add(end[0])
    return marks


def _set_apart(rows: list[_Line], marked: set[int]) -> set[int]:
    """The marked rows that run from the top or bottom edge of the page and stand apart from the text.

    Furniture is outermost, with a gap to the text below (above) it wider than the space between lines.
    """
    kept: set[int] = set()
    for order in (range(len(rows)), range(len(rows) - 1, -1, -1)):
        block = []
        for i in order:
            if i not in marked:
                break
            block.append(i)
        if not block:
            continue
        inner = block[-1] + (1 if order.step == 1 else -1)
        if 0 <= inner < len(rows):
            edge, text = rows[block[-1]], rows[inner]
            gap = text.top - edge.bottom if order.step == 1 else edge.top - text.bottom
            if gap < 0.6 * text.size:
                continue
        kept.update(block)
    return kept


def _numbered(row: _Line) -> bool:
    """A page number alone, or a short running title with a page number set apart at one end."""
    if _PAGE_NUMBER.fullmatch(_row_text(row)):
        return True
    if len(row.words) > 15:
        return False
    groups: list[list[_Word]] = [[row.words[0]]]
    for prev, w in zip(row.words, row.words[1:], strict=False):
        if w.x0 - prev.x1 > 2 * row.size:
            groups.append([])
        groups[-1].append(w)
    return 1 < len(groups) <= 3 and any(
        _PAGE_NUMBER.fullmatch(" ".join(w.text for w in g)) for g in (groups[0], groups[-1])
    )


# --------------------------------------------------------------------------- columns


def _gutters(rows: list[_Line]) -> list[_Gutter] | None:
    """The page's gutters, ``[]`` for one column, None when there are too few lines to tell.

    A gutter is a strip that few of the lines with text on both sides of it cross, ending where most lines
    right of it start (the next column's left edge).
    """
    words = [w for row in rows for w in row.words]
    if len(rows) < 6 or len(words) < 20:
        return None
    lo = min(w.x0 for w in words)
    width = max(w.x1 for w in words) - lo
    if width < 4 * _MIN_GUTTER:
        return []
    cells = int(math.ceil(width)) + 2
    cover = [0] * (cells + 1)  # per 1-pt cell: rows with a word there, then rows ending left / starting right of it
    ends_left = [0] * (cells + 1)
    starts_right = [0] * (cells + 1)
    for row in rows:
        runs: list[list[float]] = []
        for w in row.words:
            if runs and w.x0 <= runs[-1][1] + 0.5:
                runs[-1][1] = max(runs[-1][1], w.x1)
            else:
                runs.append([w.x0, w.x1])
        for a, b in runs:
            cover[int(a - lo)] += 1
            cover[min(cells, int(math.ceil(b - lo)) + 1)] -= 1
        ends_left[min(cells, int(math.ceil(row.words[0].x1 - lo)))] += 1
        starts_right[int(row.words[-1].x0 - lo)] += 1
    for c in range(1, cells + 1):
        cover[c] += cover[c - 1]
        ends_left[c] += ends_left[c - 1]
    for c in range(cells - 1, -1, -1):
        starts_right[c] += starts_right[c + 1]
    allowed = [max(1.0, _CROSSING_SHARE * min(ends_left[c], starts_right[c])) for c in range(cells)]
    gutters: list[_Gutter] = []
    x = 0
    while x < cells:
        if cover[x] > allowed[x]:
            x += 1
            continue
        end = x
        while end + 1 < cells and cover[end + 1] <= allowed[end + 1]:
            end += 1
        if end - x + 1 >= _MIN_GUTTER and x > 0 and end + 1 < cells:
            floor = min(cover[x : end + 1])
            core = [c for c in range(x, end + 1) if cover[c] == floor]
            # The core: the widest stretch at the lowest cover (where only crossing lines reach).
            start_c = best_start = best_len = 0
            for k, c in enumerate(core):
                if k == 0 or c != core[k - 1] + 1:
                    start_c = k
                if k - start_c + 1 > best_len:
                    best_start, best_len = start_c, k - start_c + 1
            g0, g1 = math.floor(lo + core[best_start]), math.ceil(lo + core[best_start + best_len - 1] + 1)
            edge = lo + end + 1
            left = sum(1 for row in rows if row.words[0].x1 <= g0)
            right = sum(1 for row in rows if row.words[-1].x0 >= g1)
            near = [row for row in rows if any(edge - 2 <= w.x0 <= edge + 0.25 * width for w in row.words)]
            aligned = sum(1 for row in near if any(abs(w.x0 - edge) <= 2 for w in row.words))
            middle = (g0 + g1) / 2 - lo
            if (left >= 3 and right >= 3 and aligned >= 3 and aligned >= 0.5 * len(near)
                    and _GUTTER_MARGIN * width <= middle <= (1 - _GUTTER_MARGIN) * width):
                gutters.append(_Gutter(g0, g1, lo + x, edge))
        x = end + 1
    return gutters


def _split_row(row: _Line, gutters: list[_Gutter]) -> list[tuple[int, list[_Word]]]:
    """A row as (column, words) pieces, or one piece at column -1 when the row crosses a gutter."""
    if not gutters:
        return [(0, row.words)]
    if any(w.x0 < g.end - 1 and w.x1 > g.start + 1 for w in row.words for g in gutters):
        return [(-1, row.words)]
    pieces: dict[int, list[_Word]] = defaultdict(list)
    for w in row.words:
        centre = (w.x0 + w.x1) / 2
        pieces[sum(1 for g in gutters if centre >= g.start)].append(w)
    columns = sorted(pieces)
    for a, b in zip(columns, columns[1:], strict=False):
        if pieces[b][0].x0 - pieces[a][-1].x1 < 0.5 * gutters[a].width:  # a title whose word space holds the gutter
            return [(-1, row.words)]
    return [(c, pieces[c]) for c in columns]


def _mode(values: list[float]) -> float:
    counts = Counter(round(v) for v in values)
    return float(max(counts.items(), key=lambda kv: (kv[1], -kv[0]))[0])


def _edges(lines: list[_Line]) -> tuple[float, float, bool]:
    """A column's left and right edges and whether it is justified (most lines flush right)."""
    left = _mode([ln.x0 for ln in lines]) if len(lines) >= 3 else min(ln.x0 for ln in lines)
    ends = sorted(ln.x1 for ln in lines)
    top = ends[-1]
    flush = sum(1 for e in ends if e >= top - 1.0)
    justified = len(lines) >= 3 and flush >= 0.5 * len(lines)
    right = top if justified or len(lines) < 5 else ends[int(0.9 * (len(ends) - 1))]
    return left, max(right, left + 1.0), justified


def _layout_page(rows: list[_Line], gutters: list[_Gutter], page_no: int,
                 stats: Counter[str]) -> list[_Line]:
    """The page's lines in reading order, with their column and its edges."""
    spanning: list[_Line] = []
    column_words: dict[int, list[_Word]] = defaultdict(list)
    for row in rows:
        for column, words in _split_row(row, gutters):
            if column < 0:
                spanning.append(_Line(list(words), row.top, row.bottom, row.size, page=page_no, column=-1))
            else:
                column_words[column].extend(words)
    # Lines are formed within each column: the baselines of two columns need not line up.
    columns: dict[int, list[_Line]] = {column: _group_lines(words) for column, words in column_words.items()}
    for column, lines in columns.items():
        for line in lines:
            line.page, line.column = page_no, column
    for line in [*spanning, *(ln for lines in columns.values() for ln in lines)]:
        stats["markers_dropped"] += _finish_line(line)
    for group in [spanning, *columns.values()]:
        if not group:
            continue
        left, right, justified = _edges(group)
        if group is spanning and columns:  # across the page: the page's text box
            left = min(left, *(ln.x0 for lines in columns.values() for ln in lines))
            right = max(right, *(ln.x1 for lines in columns.values() for ln in lines))
        for line in group:
            line.left, line.right, line.justified = left, right, justified
            line.measured = len(group) >= 3
    ordered: list[_Line] = []
    lower = -math.inf
    for cut in [*sorted(spanning, key=lambda ln: ln.top), None]:
        upper = math.inf if cut is None else cut.top
        for column in sorted(columns):
            ordered.extend(ln for ln in columns[column] if lower <= ln.top < upper)
        if cut is not None:
            ordered.append(cut)
            lower = cut.top
    return ordered


def _borrow_edges(lines: list[_Line]) -> None:
    """Give a column of fewer than three lines the edges of a measured column it fits in."""
    known: Counter[tuple[float, float, bool]] = Counter(
        (round(ln.left), round(ln.right), ln.justified) for ln in lines if ln.measured
    )
    groups: dict[tuple[int, int], list[_Line]] = defaultdict(list)
    for line in lines:
        if not line.measured:
            groups[(line.page, line.column)].append(line)
    for group in groups.values():
        x0, x1 = min(ln.x0 for ln in group), max(ln.x1 for ln in group)
        fits = [(n, edges) for edges, n in known.items()
                if edges[0] <= x0 + 1 and edges[1] >= x1 - 1 and x0 - edges[0] < 0.3 * (edges[1] - edges[0])]
        if fits:
            left, right, justified = max(fits)[1]
            for line in group:
                line.left, line.right, line.justified = left, right, justified


# --------------------------------------------------------------------------- paragraphs


def _ends_sentence(text: str) -> bool:
    tail = text.rstrip("\"'”’»)]}*")
    return bool(tail) and tail[-1] in ".!?:;…"


def _space(line: _Line) -> float:
    gaps = [b.x0 - a.x1 for a, b in zip(line.words, line.words[1:], strict=False) if b.x0 - a.x1 >= 0.12 * line.size]
    return min(max(min(gaps, default=0.25 * line.size), 0.15 * line.size), 0.5 * line.size)


def _breaks(prev: _Line, line: _Line, pitches: dict[float, float], usual_indent: float = 0.0,
            prev_first: bool = False) -> bool:
    """Whether ``line`` starts a new paragraph after ``prev`` (the line before it in reading order).

    ``usual_indent`` is the document's first-line indent (0: none); ``prev_first`` says that ``prev``
    opened its paragraph.
    """
    if abs(line.size - prev.size) >= 0.75 or line.bold != prev.bold:
        return True
    if prev.page == line.page and prev.column == line.column:
        pitch = pitches.get(prev.size, 1.2 * prev.size)
        if line.bottom - prev.bottom > 1.25 * pitch + 0.5:
            return True
    first = line.words[0]
    room = prev.right - prev.x1
    if room > first.x1 - first.x0 + _space(prev) + 0.5 and (
        prev.justified or _ends_sentence(prev.text) or room > 0.3 * (prev.right - prev.left)
    ):
        return True
    indent, prev_indent = line.x0 - line.left, prev.x0 - prev.left
    if indent > 0.5 * line.size and indent - prev_indent > 0.5 * line.size:
        return True
    # A one-line paragraph and the next both start at the usual first-line indent.
    return prev_first and usual_indent > 0 and abs(indent - usual_indent) <= 1.0 and abs(prev_indent - usual_indent) <= 1.0


def _join(lines: list[_Line], vocab: set[str]) -> str:
    """One paragraph's lines as one line, line-end hyphenation resolved."""
    from .segment import keep_hyphen

    text = ""
    for line in lines:
        piece = line.text
        if not text:
            text = piece
            continue
        last = text[-1]
        if last in _HYPHENS and text[-2:-1].isalnum() and piece[:1].isalnum():
            left = re.search(r"([A-Za-z]+)[-\u2010\u00ad]$", text)
            right = re.match(r"[A-Za-z]+", piece)
            soft = last == "\u00ad" or (
                left is not None and right is not None and not keep_hyphen(left.group(1), right.group(0), vocab)
            )
            text = (text[:-1] if soft else text) + piece
        elif last in _DASHES and text[-2:-1].isalnum():
            text += piece  # "this—" / "that": a dash set solid
        else:
            text += " " + piece
    return text


def _footnotes(lines: list[_Line], vocab: set[str]) -> list[str]:
    notes: list[list[_Line]] = []
    for i, line in enumerate(lines):
        first = line.words[0].text
        marker = line.lead_marker or (len(line.words) > 1 and _MARKER.fullmatch(first) is not None)
        if marker and not line.lead_marker:
            line.words = line.words[1:]
            line.text = line.text[len(first):].lstrip()
        if not notes or marker or line.page != lines[i - 1].page:
            notes.append([line])
        else:
            notes[-1].append(line)
    return [text for note in notes if (text := _join(note, vocab))]


# --------------------------------------------------------------------------- the document


def _meta(info: dict[str, Any]) -> dict[str, Any]:
    def clean(value: Any) -> str | None:
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str):
            return None
        value = " ".join(value.replace("\x00", "").split())
        return None if value.lower() in _PLACEHOLDERS else value

    date = None
    created = clean(info.get("CreationDate"))
    m = _CREATION_DATE.match(created or "")
    if m:
        date = "-".join(part for part in m.groups() if part)
    return {"title": clean(info.get("Title")), "author": clean(info.get("Author")), "date": date}


def _read_pages(pdf: Any, stats: Counter[str]) -> list[_Page]:
    from pdfminer.psexceptions import PSException
    from pdfplumber.utils.exceptions import PdfminerException

    pages = []
    for page in pdf.pages:
        try:
            words, rotated = _page_words(page)
            images = len(page.images)
        except (PdfminerException, PSException, *_PAGE_ERRORS) as exc:
            stats["pages_unreadable"] += 1
            log.debug("page %s unreadable: %r", page.page_number, exc)
            words, rotated, images = [], 0, 0
        finally:
            page.close()
        stats["rotated_words_dropped"] += rotated
        if not words:
            stats["pages_without_text"] += 1
        pages.append(_Page(float(page.height), _group_lines(words), images))
    return pages


def _same_gutters(a: list[_Gutter], b: list[_Gutter]) -> bool:
    return len(a) == len(b) and all(abs(g.edge - h.edge) <= _SAME_HEIGHT for g, h in zip(a, b, strict=True))


def _usual_gutters(found: list[list[_Gutter] | None]) -> list[_Gutter]:
    """The gutters (the same column edges within 4 pt) of at least half the pages that could tell,
    as seen where their cores are widest."""
    groups: list[list[list[_Gutter]]] = []
    for gutters in found:
        if gutters:
            group = next((g for g in groups if _same_gutters(g[0], gutters)), None)
            if group is None:
                groups.append([gutters])
            else:
                group.append(gutters)
    if not groups:
        return []
    best = max(groups, key=len)
    if len(best) < 0.5 * sum(1 for g in found if g is not None):
        return []
    return max(best, key=lambda gutters: sum(g.end - g.start for g in gutters))


def _layout(pages: list[_Page], stats: Counter[str]) -> tuple[list[_Line], list[_Line]]:
    """Body lines and footnote lines of the document, in reading order."""
    marks = _furniture(pages)
    stats["furniture_lines"] += sum(len(m) for m in marks)
    rows_of = [[row for i, row in enumerate(page.rows) if i not in marks[p]] for p, page in enumerate(pages)]
    found = [_gutters(rows) for rows in rows_of]
    usual = _usual_gutters(found)
    lines: list[_Line] = []
    for p, rows in enumerate(rows_of):
        gutters = found[p] or []
        if usual and any(rows):
            # A page with too few lines to tell, or too few in a column (the last page), takes the
            # document's usual gutters if no word sits in them and there is text on both sides of one.
            clash = any(w.x0 < g.end - 1 and w.x1 > g.start + 1 for row in rows for w in row.words for g in usual)
            sides = {sum(1 for g in usual if w.x0 >= g.start) for row in rows for w in row.words}
            if not clash and len(sides) > 1:
                extra = [g for g in gutters if all(abs(g.edge - u.edge) > _SAME_HEIGHT for u in usual)]
                gutters = sorted([*usual, *extra])
        if gutters:
            stats["pages_in_columns"] += 1
        lines.extend(_layout_page(rows, gutters, p, stats))
    if not lines:
        return [], []
    _borrow_edges(lines)
    weights: Counter[float] = Counter()
    for line in lines:
        weights[line.size] += len(line.text)
    body_size = max(weights.items(), key=lambda kv: (kv[1], kv[0]))[0]
    footnote_ids: set[int] = set()
    by_page: dict[int, list[_Line]] = defaultdict(list)
    for line in lines:
        by_page[line.page].append(line)
    for page_lines in by_page.values():
        body = [ln for ln in page_lines if ln.size >= _SMALL * body_size]
        for line in page_lines:
            if line.size >= _SMALL * body_size:
                continue
            above = [b for b in body if b.x0 < line.x1 and b.x1 > line.x0]
            if above and all(b.top < line.top for b in above):
                footnote_ids.add(id(line))
    return [ln for ln in lines if id(ln) not in footnote_ids], [ln for ln in lines if id(ln) in footnote_ids]


def _pitches(lines: list[_Line]) -> dict[float, float]:
    """The usual distance between baselines of consecutive lines of one column, per font size."""
    seen: dict[float, Counter[float]] = defaultdict(Counter)
    for prev, line in zip(lines, lines[1:], strict=False):
        if prev.page == line.page and prev.column == line.column and abs(prev.size - line.size) < 0.5:
            step = line.bottom - prev.bottom
            if step > 0:
                seen[prev.size][round(step * 2) / 2] += 1
    return {size: max(c.items(), key=lambda kv: (kv[1], -kv[0]))[0] for size, c in seen.items()}


def _usual_indent(lines: list[_Line]) -> float:
    """The document's first-line indent: the most common indent (half a size to four sizes) of a line
    that follows one at its column's left edge; 0 when no such indent is common."""
    seen: Counter[float] = Counter()
    for prev, line in zip(lines, lines[1:], strict=False):
        indent = line.x0 - line.left
        if abs(prev.x0 - prev.left) <= 1.0 and 0.5 * line.size < indent <= 4 * line.size:
            seen[round(indent)] += 1
    if not seen:
        return 0.0
    indent, count = max(seen.items(), key=lambda kv: (kv[1], -kv[0]))
    return float(indent) if count >= 2 else 0.0


def extract_pdf(source: str | Path | IO[bytes]) -> PdfExtraction:
    """The text, metadata and layout counts of one PDF; :class:`PdfSkip` when it yields no text.

    Parameters
    ----------
    source : path or binary file
        The PDF (a ``.gz`` path is decompressed).
    """
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError
    from pdfminer.psexceptions import PSEOF, PSException
    from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

    from .segment import doc_vocab

    _quiet_loggers()
    if isinstance(source, str | Path) and str(source).lower().endswith(".gz"):
        with gzip.open(source, "rb") as fh:
            source = io.BytesIO(fh.read())
    stats: Counter[str] = Counter()
    try:
        with pdfplumber.open(source) as pdf:
            info = dict(pdf.metadata or {})
            pages = _read_pages(pdf, stats)
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else exc
        if isinstance(cause, PDFEncryptionError):
            raise PdfSkip("encrypted PDF (needs a password)") from None
        if isinstance(cause, PSEOF):
            raise PdfSkip("corrupt PDF: unexpected end of file (truncated?)") from None
        raise PdfSkip(f"corrupt PDF: {_one_line(cause)}") from None
    except (PSException, MalformedPDFException) as exc:
        raise PdfSkip(f"corrupt PDF: {_one_line(exc)}") from None
    if not pages:
        raise PdfSkip("PDF has no pages")
    if all(not page.rows for page in pages):
        if stats["pages_unreadable"] == len(pages):
            raise PdfSkip("corrupt PDF: no page could be read")
        if any(page.images for page in pages):
            raise PdfSkip("no text layer (scanned PDF?); run OCR first")
        raise PdfSkip("no text layer (no text or images on any page)")
    body, notes = _layout(pages, stats)
    vocab = doc_vocab("\n".join(line.text for line in body + notes))
    pitches = _pitches(body)
    indent = _usual_indent(body)
    paragraphs: list[list[_Line]] = []
    for line in body:
        if paragraphs and not _breaks(paragraphs[-1][-1], line, pitches, indent, len(paragraphs[-1]) == 1):
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    texts = [text for group in paragraphs if (text := _join(group, vocab))]
    footnotes = _footnotes(notes, vocab)
    if not texts and not footnotes:
        raise PdfSkip("no text left after dropping page headers, footers and page numbers")
    stats["footnotes"] = len(footnotes)
    stats["pages"] = len(pages)
    return PdfExtraction("\n\n".join(texts + footnotes) + "\n", _meta(info), dict(sorted(stats.items())))


def _one_line(exc: object, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def pdf_text(path: str | Path) -> str:
    """The text the ``chunk`` stage reads from a PDF: the paragraph table's offsets point into it."""
    return extract_pdf(path).text


def _quiet_loggers() -> None:
    """pdfminer warns about every odd object of a page; the manifest records what matters."""
    for name in ("pdfminer", "pdfplumber"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.ERROR)


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"pdfplumber {version('pdfplumber')}, pdfminer.six {version('pdfminer.six')}"
    except PackageNotFoundError:
        return "pdfplumber"


def pdf_document(file: Path, doc_id: str, source: str, cfg: ChunkConfig) -> Document:
    """One PDF as a document: its text and metadata, or a skip with the reason."""
    from .readers import Document

    doc = Document(doc_id=doc_id, source=source, meta={"source_path": source, **dict.fromkeys(META_FIELDS)})
    try:
        if file.stat().st_size == 0:
            return doc.skip("empty file")
        with open(file, "rb") as fh:
            head = fh.read(1024)
        if not file.name.lower().endswith(".gz") and b"%PDF-" not in head:
            return doc.skip("not a PDF (no %PDF header)")
        result = extract_pdf(file)
    except PdfSkip as exc:
        return doc.skip(str(exc))
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        return doc.skip(f"unreadable file: {getattr(exc, 'strerror', None) or exc}")
    except MemoryError:  # a decompression bomb, or a page too large for this machine
        return doc.skip("PDF too large to read (out of memory)")
    except Exception as exc:  # noqa: BLE001 - pdfminer fails on broken files in many ways; skipped, not a traceback
        return doc.skip(f"corrupt PDF ({type(exc).__name__}: {_one_line(exc)})")
    doc.meta.update(result.meta)
    doc.text = result.text
    doc.extraction = {
        "reader": "pdf",
        "library": _versions(),
        "text_sha256": hashlib.sha256(result.text.encode("utf-8")).hexdigest(),
        **result.stats,
    }
    return doc
