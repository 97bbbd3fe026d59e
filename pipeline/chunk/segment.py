"""Rebuild the true paragraphs of one document.

The input is the decoded text of one document; the output is a list of
:class:`Paragraph` with character offsets into that text. The work is done line by line:

1. **Classify lines**: blank, *noise* (page numbers, document symbols, web boilerplate,
   page headers repeated within the document; all configurable patterns) or content.
2. **Detect the layout**: one paragraph per line (blank lines or single newlines
   between paragraphs), or *hard-wrapped* at a fixed width. A document is hard-wrapped
   when nearly all its lines are shorter than ``wrapped_max_width`` and most lines that
   are followed by another content line are nearly full.
3. **Join wrapped lines** the way a careful reader of a printed page would. Lines are
   measured in characters when the text was wrapped greedily at a fixed width, and in
   approximate glyph widths (Times-like advance widths) when it was typeset in a
   proportional font, against a wrap width estimated per document. Two lines belong to
   different paragraphs when

   - a blank line separates them, unless the sentence visibly runs on across it (a page
     break: the first line ends in a hyphen or a word like "the", or the second starts in
     lower case); where most blank lines are page breaks, only the geometry below counts;
   - the second is indented (by one space too, where the document marks paragraphs so);
   - the first ends a sentence and would have left room for the second line's first word
     (a greedy wrapper would have put the word there had the paragraph gone on); or
   - the first ends a sentence and the second has a **lost indent**: it is short although
     the line after it continues its sentence and that line's first word would have
     fitted. In text extracted from an indented PDF the first line of each paragraph is
     a few characters short because its indent was dropped.

   A line ending in a function word ("the", "that", ...) ends no paragraph (unless a block
   quote follows). Noise lines between two lines (a page number inserted mid-paragraph)
   are skipped and do not break the paragraph.
4. **Rejoin soft hyphenation** (``interna-`` / ``tional``) but keep real compounds
   (``well-`` / ``known``), deciding from the document's own vocabulary first and English
   word frequencies second.
5. **Headings and captions** (short lines without end punctuation) are attached to the
   next paragraph, dropped, or kept, as configured; very long paragraphs are split at
   sentence boundaries.

Offsets always point into the source text; only ``Paragraph.text`` is normalised.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from ..config import ChunkConfig
from ..sentences import sentence_spans
from .text import BLANK_CHARS as _WS
from .text import normalize

_TERMINATORS = ".!?:;…"
_CLOSERS = "\"'”’»)]}*"
_HYPHENS = "-\u2010\u00ad"
_OPEN_QUOTES = "\"'“‘«"
_WORD = re.compile(r"[A-Za-z]+(?:[-\u2010][A-Za-z]+)*")


@dataclass(frozen=True)
class SegmentOptions:
    """Settings of :func:`segment_document` (built from :class:`ChunkConfig`)."""

    line_regex: re.Pattern[str] | None
    paragraph_regex: re.Pattern[str] | None = None
    headings: str = "attach"
    heading_max_words: int = 16
    max_paragraph_chars: int = 4000
    min_paragraph_chars: int = 1
    wrapped_max_width: int = 110
    repeated_line_min_count: int = 3
    repeated_line_max_chars: int = 80

    @classmethod
    def from_config(cls, config: ChunkConfig) -> SegmentOptions:
        return cls(
            line_regex=combine_patterns(config.drop_line_patterns),
            paragraph_regex=combine_patterns(config.drop_paragraph_patterns),
            headings=config.headings,
            heading_max_words=config.heading_max_words,
            max_paragraph_chars=config.max_paragraph_chars,
            min_paragraph_chars=config.min_paragraph_chars,
            wrapped_max_width=config.wrapped_max_width,
            repeated_line_min_count=config.repeated_line_min_count,
            repeated_line_max_chars=config.repeated_line_max_chars,
        )


_GLOBAL_FLAGS = re.compile(r"^\(\?([aiLmsux]+)\)")


def combine_patterns(patterns: list[str]) -> re.Pattern[str] | None:
    """Join line patterns into one alternation, turning leading ``(?i)`` into scoped flags."""
    parts = []
    for pattern in patterns:
        m = _GLOBAL_FLAGS.match(pattern)
        parts.append(f"(?{m.group(1)}:{pattern[m.end():]})" if m else f"(?:{pattern})")
    return re.compile("|".join(parts)) if parts else None


@dataclass
class Paragraph:
    """One paragraph: ``source[start:end]`` spans its words; ``text`` is normalised."""

    start: int
    end: int
    text: str
    heading: bool = False


@dataclass
class SegmentStats:
    """What happened to a document's lines; summed into the manifest."""

    lines: int = 0
    noise_lines: int = 0
    headings: int = 0
    split_paragraphs: int = 0
    short_dropped: int = 0
    boilerplate_dropped: int = 0
    wrapped: bool = False
    width: int = 0


#: boilerplate patterns are only tried on paragraphs up to this long
_BOILERPLATE_MAX_CHARS = 500

# Line kinds
_BLANK, _NOISE, _CONTENT = 0, 1, 2


@dataclass
class _Line:
    __slots__ = ("raw_start", "start", "end", "kind")
    raw_start: int
    start: int
    end: int
    kind: int


def _split_lines(text: str) -> list[_Line]:
    lines = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        lead = len(body) - len(body.lstrip(_WS))
        stripped = body.strip(_WS)
        if stripped:
            start = pos + lead
            lines.append(_Line(pos, start, start + len(stripped), _CONTENT))
        else:
            lines.append(_Line(pos, pos, pos, _BLANK))
        pos += len(raw)
    return lines


def _mark_noise(text: str, lines: list[_Line], opts: SegmentOptions, stats: SegmentStats) -> None:
    regex = opts.line_regex
    counts: Counter[str] = Counter()
    for line in lines:
        if line.kind != _CONTENT:
            continue
        body = text[line.start : line.end]
        if regex is not None and regex.match(body):
            line.kind = _NOISE
        elif len(body) <= opts.repeated_line_max_chars:
            counts[_header_key(body)] += 1
    repeated = {k for k, n in counts.items() if n >= opts.repeated_line_min_count and _header_like(k)}
    for line in lines:
        if line.kind == _NOISE or (line.kind == _CONTENT and repeated and _header_key(text[line.start : line.end]) in repeated):
            if line.kind != _NOISE:
                line.kind = _NOISE
            stats.noise_lines += 1


def _header_key(body: str) -> str:
    return re.sub(r"\d+", "#", body.lower())


#: how speakers address the room (and open with an invocation): a repeated "Mr. President" is the
#: speech's, not a running header, and "In the name of God, ..." is a paragraph, not a heading
_ADDRESS = re.compile(r"(?:(?:mr|mrs|ms|madam|madame|mister|monsieur)\.? (?:president|chair|co-chair|secretary|speaker|vice)"
                      r"|(?:your|their) (?:excellenc|majest|highness|royal)|excellenc|ladies and gentlemen"
                      r"|distinguished (?:delegates|guests|colleagues|representatives|participants)|thank you"
                      r"|in the name of (?:god|allah))")


def _header_like(key: str) -> bool:
    # A repeated line that ends a sentence or a clause is text ("Thank you."), not a header;
    # nor is an address to the room ("Mr. President").
    return not key.rstrip(_CLOSERS).endswith((".", ",", ";", "?", "!")) and not _ADDRESS.match(key)


def _detect_wrap(text: str, lines: list[_Line], opts: SegmentOptions) -> int:
    """Return the wrap width of a hard-wrapped document, or 0 if lines are paragraphs."""
    content = [ln for ln in lines if ln.kind == _CONTENT]
    if len(content) < 4:
        return 0
    lengths = sorted(ln.end - ln.raw_start for ln in content)
    p90 = lengths[int(0.9 * (len(lengths) - 1))]
    if p90 > opts.wrapped_max_width:
        return 0
    limit = p90 * 1.25
    width = max(n for n in lengths if n <= limit)
    # Most lines followed directly by another content line must be nearly full.
    followed = full = 0
    prev = None
    for ln in lines:
        if ln.kind == _NOISE:
            continue
        if prev is not None and prev.kind == _CONTENT and ln.kind == _CONTENT:
            followed += 1
            if prev.end - prev.raw_start >= width * 0.7:
                full += 1
        prev = ln
    if followed < 3 or full < 0.6 * followed:
        return 0
    return width


#: titles before a name: a line ending in "Mr." ends no sentence ("congratulating Mr." / "Peter Thomson")
_TITLES = frozenset({"mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "capt", "adm", "gov", "sen", "amb",
                     "hon", "messrs", "mme", "mlle", "h.e", "st"})
_TITLE_END = re.compile(r"(?:^|\s)([A-Za-z.]+)\.$")


def _ends_sentence(body: str) -> bool:
    tail = body.rstrip(_CLOSERS)
    if not tail or tail[-1] not in _TERMINATORS:
        return False
    title = _TITLE_END.search(tail) if tail[-1] == "." else None
    return not (title and title.group(1).lower().rstrip(".") in _TITLES)


def _first_word(body: str) -> str:
    """The line's first word; ``long- term`` (a hyphen before a space) counts as one."""
    cut = body.find(" ")
    while 0 < cut < len(body) - 1 and body[cut - 1] in _HYPHENS and body[cut - 2 : cut - 1].isalpha():
        nxt = body.find(" ", cut + 1)
        cut = len(body) if nxt < 0 else nxt
    return body if cut < 0 else body[:cut]


def _first_word_len(body: str) -> int:
    return len(_first_word(body))


def _starts_paragraph_like(body: str) -> bool:
    ch = body[0]
    return ch.isupper() or ch.isdigit() or ch in "\"'“‘([•·*-–—§¥●▪►■□◦‣⁃○"


#: words after which a sentence cannot end: a line ending in one runs on into the next
_RUN_ON_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "its", "of", "on", "or",
    "our", "that", "the", "their", "this", "to", "was", "were", "which", "who", "whose", "with",
})


def _runs_on(body: str, comma: bool = True) -> bool:
    """Whether a line visibly continues: it ends in a hyphen, a function word or (``comma``) a comma."""
    tail = body.rstrip(_CLOSERS)
    if not tail or tail[-1] in ("," if comma else "") + "\u2010-\u00ad":
        return bool(tail)
    cut = tail.rfind(" ")
    return tail[cut + 1 :].lower() in _RUN_ON_WORDS


# ----------------------------------------------------------------------------- geometry

#: advance widths (thousandths of an em) of Times Roman, the face of most typeset records;
#: other letters take the width of their base letter (é -> e), anything else 500
_GLYPH_WIDTHS: dict[str, int] = {
    " ": 250, "!": 333, '"': 408, "#": 500, "$": 500, "%": 833, "&": 778, "'": 180, "(": 333, ")": 333,
    "*": 500, "+": 564, ",": 250, "-": 333, ".": 250, "/": 278, ":": 278, ";": 278, "<": 564, "=": 564,
    ">": 564, "?": 444, "@": 921, "[": 333, "\\": 278, "]": 333, "^": 469, "_": 500, "`": 333, "{": 480,
    "|": 200, "}": 480, "~": 541, "\u2018": 333, "\u2019": 333, "\u201c": 444, "\u201d": 444,
    "\u2013": 500, "\u2014": 1000, "\u2026": 1000, "\u00a0": 250,
    **dict.fromkeys("0123456789", 500),
    **dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
               (722, 667, 667, 722, 611, 556, 722, 722, 333, 389, 722, 611, 889, 722, 722, 556, 722, 667, 556,
                611, 722, 722, 944, 722, 722, 611), strict=True)),
    **dict(zip("abcdefghijklmnopqrstuvwxyz",
               (444, 500, 444, 500, 444, 333, 500, 500, 278, 278, 500, 278, 778, 500, 500, 500, 500, 333, 389,
                278, 500, 500, 722, 500, 500, 444), strict=True)),
}


class _WidthTable(dict[str, int]):
    """:data:`_GLYPH_WIDTHS` extended on first use to any character, by its base letter."""

    def __missing__(self, ch: str) -> int:
        width = _GLYPH_WIDTHS.get(unicodedata.normalize("NFD", ch)[:1], 500)
        if len(self) < 65536:
            self[ch] = width
        return width


_WIDTH_TABLE = _WidthTable(_GLYPH_WIDTHS)


def _glyph_width(body: str) -> int:
    """Approximate printed width of ``body`` in thousandths of an em (Times-like metrics)."""
    return sum(map(_WIDTH_TABLE.__getitem__, body))


@dataclass(frozen=True)
class _Geometry:
    """How the lines of a hard-wrapped document are measured, and its wrap width.

    ``greedy`` documents were wrapped at a fixed number of characters: lines are measured in
    characters (leading spaces included) and the width is exact. Otherwise the text was
    typeset in a proportional font and extracted: lines are measured in glyph widths of their
    words and the width is a high percentile of the line widths, so a line counts as short
    only by a margin.
    """

    width: float
    greedy: bool
    #: glyph width of each content line, by its start offset (typeset text only)
    line_widths: dict[int, int] = field(default_factory=dict)

    def measure(self, text: str, ln: _Line) -> float:
        if self.greedy:
            return ln.end - ln.raw_start
        return self.line_widths[ln.start]

    def word(self, body: str) -> float:
        word = _first_word(body)
        return len(word) if self.greedy else _glyph_width(word)

    @property
    def space(self) -> float:
        return 1 if self.greedy else _GLYPH_WIDTHS[" "]

    def room(self, text: str, ln: _Line, next_body: str) -> float:
        """Share of the width left on ``ln`` after the next line's first word would be pulled up.

        Non-negative when a greedy wrapper would have put that word on ``ln``.
        """
        return (self.width - self.measure(text, ln) - self.space - self.word(next_body)) / self.width


#: typeset text: least room (share of the width) that tells a short line from a full one,
#: after a sentence end (the next line starts a paragraph) and on a line with a lost indent.
#: Chosen on sessions 49-66 of the UN General Debate corpus outside the gold fixtures: a
#: sentence-final line followed by a paragraph is 89 % of the time within the width, a
#: sentence-final line inside a paragraph 6 %; a paragraph's first line leaves 2 % of the
#: width free 61 % of the time, a line inside a paragraph 0.9 %.
_PREV_ROOM = 0.0
_INDENT_ROOM = 0.02
_GLYPH_PERCENTILE = 0.95
#: greedy wraps: a paragraph's one-line heading or unpunctuated end must leave this share of
#: the width free when it is the paragraph's first line (more than a lost indent would)
_FIRST_LINE_ROOM = 0.2


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def _geometry(text: str, lines: list[_Line], width: int) -> _Geometry:
    """Measure a wrapped document: characters if it was wrapped greedily, else glyph widths."""
    if _is_greedy(text, lines, width):
        return _Geometry(width, True)
    widths = {ln.start: _glyph_width(text[ln.start : ln.end]) for ln in lines if ln.kind == _CONTENT}
    return _Geometry(max(1.0, _percentile(list(widths.values()), _GLYPH_PERCENTILE)), False, widths)


def _is_greedy(text: str, lines: list[_Line], width: int) -> bool:
    """Whether a wrapped document was wrapped by a fixed-width greedy wrapper.

    Seen from the fact that almost no line inside a paragraph would have had room for the
    next line's first word; text typeset in a proportional font fails this. Only lines
    surely inside a paragraph count: they follow a full line without end punctuation (the
    first line of a paragraph may be short because its indent was lost), they end neither
    a sentence nor a hyphen, and the next line starts in lower case.
    """

    def roomy_line(ln: _Line, nxt: _Line) -> bool:
        return width - (ln.end - ln.raw_start) >= 1 + _first_word_len(text[nxt.start : nxt.end])

    pairs = roomy = 0
    before: _Line | None = None
    prev: _Line | None = None
    for ln in lines:
        if ln.kind != _CONTENT:
            before = prev = None
            continue
        if before is not None and prev is not None:
            before_body, prev_body = text[before.start : before.end], text[prev.start : prev.end]
            if (
                not _ends_sentence(before_body)
                and not roomy_line(before, prev)
                and not _ends_sentence(prev_body)
                and prev_body[-1] not in _HYPHENS
                and text[ln.start].islower()
            ):
                pairs += 1
                roomy += roomy_line(prev, ln)
        before, prev = prev, ln
    # Typeset text measured in characters leaves room on about a fifth of such lines, a
    # greedy wrap on none (a few where the source had odd spacing). A short document is
    # greedy if no such line has room.
    return (pairs >= 10 and roomy <= 0.06 * pairs) or (pairs >= 3 and not roomy)


def _one_space_indents(text: str, lines: list[_Line], base_indent: int) -> bool:
    """Whether the document marks paragraph starts with a one-space indent.

    Text extracted from some PDFs keeps a paragraph's indent as a single leading space. It
    counts when at least three lines are so indented and nearly all of them follow a line
    that ends a sentence (a stray leading space follows any line).
    """
    indented = after_end = 0
    prev: _Line | None = None
    for ln in lines:
        if ln.kind != _CONTENT:
            continue
        if prev is not None and ln.start - ln.raw_start == base_indent + 1 and prev.start - prev.raw_start <= base_indent:
            indented += 1
            after_end += _ends_sentence(text[prev.start : prev.end])
        prev = ln
    return indented >= 3 and after_end >= 0.8 * indented


def _blank_separated(text: str, lines: list[_Line]) -> bool:
    """Whether blank lines (not next to page furniture) separate the document's paragraphs.

    They do when at least 60 % of them follow a line that ends a sentence, or when there
    are fewer than three. Otherwise most of them are page breaks left by the extraction,
    often in mid-sentence, and only the wrap geometry tells where paragraphs end.
    """
    gaps = after_end = 0
    prev: _Line | None = None
    for ln, blank, noise in _content_lines(lines):
        if prev is not None and blank and not noise:
            gaps += 1
            after_end += _ends_sentence(text[prev.start : prev.end])
        prev = ln
    return gaps < 3 or after_end >= 0.6 * gaps


def _content_lines(lines: list[_Line]) -> Iterator[tuple[_Line, bool, bool]]:
    """Each content line with whether blank lines and page furniture stand between it and the one before."""
    blank = noise = False
    for ln in lines:
        if ln.kind == _BLANK:
            blank = True
        elif ln.kind == _NOISE:
            noise = True
        else:
            yield ln, blank, noise
            blank = noise = False


@dataclass(frozen=True)
class _Layout:
    """What :func:`_is_break` knows about the document."""

    text: str
    geometry: _Geometry
    base_indent: int
    min_indent: int
    blank_separated: bool
    #: greedy wraps with lost indents: the least indent (characters) that explains their short first lines, else 0
    lost_indent: int = 0


def _gap(blank: bool, noise: bool) -> bool:
    """Whether blank lines are a paragraph gap: blank lines around page furniture mark a page break."""
    return blank and not noise


def _group_wrapped(text: str, lines: list[_Line], width: int) -> list[list[_Line]]:
    indents = Counter(ln.start - ln.raw_start for ln in lines if ln.kind == _CONTENT)
    base_indent = indents.most_common(1)[0][0] if indents else 0
    min_indent = 1 if _one_space_indents(text, lines, base_indent) else 2
    geometry = _geometry(text, lines, width)
    # Content lines, each with what stands between it and the content line before it.
    content = list(_content_lines(lines))  # (line, blank lines before, furniture before)
    layout = _Layout(text, geometry, base_indent, min_indent, _blank_separated(text, lines),
                     _lost_indent_width(text, content, geometry))
    groups: list[list[_Line]] = []
    current: list[_Line] = []
    for k, (ln, blank_before, noise_before) in enumerate(content):
        if not current:
            current = [ln]
            continue
        blank = _gap(blank_before, noise_before)
        # The line after this one, unless a gap comes first (it may not continue it).
        nxt = content[k + 1][0] if k + 1 < len(content) and not _gap(*content[k + 1][1:]) else None
        # ``prev`` may be the first line of a paragraph (and short for a lost indent).
        first = len(current) == 1 or _ends_sentence(text[current[-2].start : current[-2].end])
        if _is_break(layout, current[-1], ln, nxt, blank, first):
            groups.append(current)
            current = [ln]
        else:
            current.append(ln)
    if current:
        groups.append(current)
    return groups


#: a numbered paragraph ("136. The ..."), as in the verbatim records of the 1980s
_NUMBERED = re.compile(r"\d{1,4}\.\s")


def _lost_indent_width(text: str, content: list[tuple[_Line, bool, bool]], geo: _Geometry) -> int:
    """The indent a greedy wrap with lost indents gave each paragraph's first line (0 if none is seen).

    In a greedy wrap a line inside a sentence never has room for the next line's first word,
    unless it is a first line wrapped narrower by an indent that extraction dropped: then
    the indent is more than the room left. With at least three such lines, the indent is
    taken as the room of the roomiest but a tenth of them, plus one.
    """
    if not geo.greedy:
        return 0
    rooms = []
    for (ln, _, _), (nxt, blank, noise) in itertools.pairwise(content):
        body, next_body = text[ln.start : ln.end], text[nxt.start : nxt.end]
        if _gap(blank, noise) or _ends_sentence(body) or body[-1] in _HYPHENS or not next_body[0].islower():
            continue
        room = geo.width - geo.measure(text, ln) - 1 - _first_word_len(next_body)
        if room >= 0:
            rooms.append(int(room))
    return _percentile(rooms, 0.9) + 1 if len(rooms) >= 3 else 0


def _is_break(layout: _Layout, prev: _Line, ln: _Line, nxt: _Line | None, blank: bool, first: bool) -> bool:
    """Whether ``ln`` starts a new paragraph after ``prev``.

    ``nxt`` is the line after ``ln`` (None after a blank line or at the end), ``blank``
    whether blank lines (and no page furniture) separate ``prev`` and ``ln``, ``first``
    whether ``prev`` may be the first line of its paragraph.
    """
    text, geo = layout.text, layout.geometry
    prev_body, body = text[prev.start : prev.end], text[ln.start : ln.end]
    if prev_body[-1] in _HYPHENS and prev_body[-2:-1].isalnum() and (body[0].islower() or body[0].isdigit() or blank):
        return False  # a word broken at the line end
    ends = _ends_sentence(prev_body)
    if not ends and _runs_on(prev_body, comma=False) and body[0] not in _OPEN_QUOTES:
        return False  # a line ending in "the", "of" ... ends no paragraph, unless a block quote follows
    if blank and layout.blank_separated:
        # A blank line is a paragraph break unless the sentence visibly runs on across it
        # (a page break): the line ends in "the", "of" ..., or the next starts in lower case.
        return ends or not (body[0].islower() or body[0] in "(")
    indent = ln.start - ln.raw_start
    if indent > layout.base_indent and indent >= layout.min_indent and prev.start - prev.raw_start <= layout.base_indent:
        return True
    if not _starts_paragraph_like(body):
        return False
    room = geo.room(text, prev, body)
    if ends:
        if first and layout.lost_indent and room * geo.width < layout.lost_indent and not _NUMBERED.match(body):
            # ``prev`` may be a first line wrapped narrower by a lost indent: its room is no evidence
            return _lost_indent(layout, ln, body, nxt)
        if room >= (0 if geo.greedy else _PREV_ROOM):
            return True
        return _lost_indent(layout, ln, body, nxt)
    # A line that does not end a sentence but would have had room for the next word is a
    # heading, a list item or a paragraph without end punctuation. In typeset text line
    # lengths are only roughly comparable, so the line must stop well short of the width.
    # The first line of a paragraph may be short because its indent was lost (or, at the
    # top of a speech, because of a drop capital), so it must leave more room than that,
    # unless a block quote follows.
    first = first and body[0] not in _OPEN_QUOTES
    if geo.greedy:
        return room >= (_FIRST_LINE_ROOM if first else 0)
    return room >= (0.5 if first else 0.3)


def _lost_indent(layout: _Layout, ln: _Line, body: str, nxt: _Line | None) -> bool:
    """Whether ``ln`` is the first line of a paragraph whose typeset indent was lost.

    It is: the line is short (the next line's first word would have fitted on it, by a
    margin in typeset text) although the next line continues its sentence (``ln`` does not
    end a sentence or a hyphen, and the next line starts in lower case, with a digit, or
    ``ln`` visibly runs on). A greedy wrapper would have pulled the word up unless the line
    was narrower, i.e. indented. The last line of a paragraph ends its sentence, and a
    heading's last line is followed by a capitalised line, so neither qualifies.
    """
    if nxt is None or _ends_sentence(body):
        return False
    text, geo = layout.text, layout.geometry
    next_body = text[nxt.start : nxt.end]
    room = geo.room(text, ln, next_body)
    if body[-1] in _HYPHENS:
        # A word broken at the line end (``conc-`` / ``erned``): in a greedy wrap the whole word
        # (without its soft hyphen) would have fitted on a full-width line.
        return (geo.greedy and body[-2:-1].isalpha() and next_body[0].islower()
                and room * geo.width + geo.space + geo.word("-") >= 0)
    if not (next_body[0].islower() or next_body[0].isdigit() or _runs_on(body)):
        # A capitalised next line ("... thank the United" / "Nations, ...") continues the sentence
        # as well; in a greedy wrap only a narrower first line leaves room before it.
        return geo.greedy and room >= 0
    return room >= (0 if geo.greedy else _INDENT_ROOM)


# ----------------------------------------------------------------------------- hyphens


@lru_cache(maxsize=65536)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def keep_hyphen(left: str, right: str, vocab: set[str]) -> bool:
    """Decide whether ``left-`` + ``right`` at a line break is a real compound.

    The document's own vocabulary decides first (``well-known`` or ``wellknown`` elsewhere
    in it). Otherwise English word frequencies: a common joined word ("international",
    "without") is soft hyphenation; a pair that is much more frequent as two words than
    joined ("well being" vs "wellbeing", "decision making") is a compound.
    """
    lw, rw = left.lower(), right.lower()
    joined = lw + rw
    if f"{lw}-{rw}" in vocab:
        return True
    if joined in vocab:
        return False
    if not right[:1].islower() or not left[-1:].isalpha():
        return True
    joined_f = _zipf(joined)
    if joined_f >= 3.3:  # Zipf 3.3: about two per million words
        return False
    return _zipf(f"{lw} {rw}") - joined_f >= 1.0


def doc_vocab(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _join_lines(text: str, lines: list[_Line], start: int, end: int, vocab: set[str] | None) -> str:
    """Text of ``lines`` clipped to ``[start, end)``, with line-end hyphenation resolved."""
    pieces: list[str] = []
    for ln in lines:
        s, e = max(ln.start, start), min(ln.end, end)
        if s >= e:
            continue
        piece = text[s:e]
        if pieces:
            prev = pieces[-1]
            if prev and prev[-1] in _HYPHENS and prev[-2:-1].isalpha() and piece[:1].isalnum():
                # A hyphen right after a letter at a line end: soft hyphenation or a compound
                # (before a digit, as in post-/2015, always kept).
                m_left = re.search(r"([A-Za-z]+)[-\u2010\u00ad]$", prev)
                m_right = re.match(r"[A-Za-z]+", piece)
                if prev[-1] == "\u00ad" or (
                    m_left and m_right and not keep_hyphen(m_left.group(1), m_right.group(0), vocab or set())
                ):
                    pieces[-1] = prev[:-1]
                pieces.append(piece)
                continue
            pieces.append(" ")
        pieces.append(piece)
    return normalize("".join(pieces))


# ----------------------------------------------------------------------------- headings


def _is_heading(body: str, max_words: int, wrapped: bool = False) -> bool:
    """A short line without end punctuation; in wrapped text, not ending in "the", "that" ...

    (In a document laid out one paragraph per line, such a line is a paragraph broken in
    two, which attaching it to the next keeps together.)
    """
    tail = body.rstrip(_CLOSERS + " ")
    if not tail or tail[-1] in _TERMINATORS or tail[-1] in ",-–—" or (wrapped and _runs_on(tail)):
        return False
    if _ADDRESS.match(tail.lower()):
        return False  # "Mr. President": the speaker addressing the room, a paragraph of its own
    return len(body.split()) <= max_words


# ----------------------------------------------------------------------------- main


def segment_document(text: str, opts: SegmentOptions, stats: SegmentStats | None = None) -> list[Paragraph]:
    """Split one decoded document into paragraphs.

    Parameters
    ----------
    text : str
        The decoded source document.
    opts : SegmentOptions
        Settings, usually ``SegmentOptions.from_config(config.chunk)``.
    stats : SegmentStats, optional
        Filled with counts of what was dropped, attached or split.

    Returns
    -------
    list of Paragraph
        In document order; ``text[p.start:p.end]`` holds each paragraph's words.
    """
    stats = stats if stats is not None else SegmentStats()
    lines = _split_lines(text)
    stats.lines = len(lines)
    _mark_noise(text, lines, opts, stats)
    width = _detect_wrap(text, lines, opts)
    stats.wrapped, stats.width = bool(width), width
    groups = _group_wrapped(text, lines, width) if width else [[ln] for ln in lines if ln.kind == _CONTENT]
    vocab = doc_vocab(text) if width else None

    # Boilerplate paragraphs, then headings: short groups without end punctuation.
    units: list[tuple[list[_Line], bool]] = []
    para_regex = opts.paragraph_regex
    for group in groups:
        body = text[group[0].start : group[-1].end]
        if para_regex is not None and len(body) <= _BOILERPLATE_MAX_CHARS and para_regex.match(normalize(body)):
            stats.boilerplate_dropped += 1
            continue
        heading = len(groups) > 1 and len(body) <= 300 and _is_heading(body, opts.heading_max_words, bool(width))
        units.append((group, heading))
    stats.headings = sum(1 for _, h in units if h)
    if not units:
        return []

    paragraphs: list[Paragraph] = []
    if opts.headings == "keep" or all(h for _, h in units):
        for group, heading in units:
            paragraphs.extend(_emit(text, group, [], opts, vocab, stats, heading))
    else:
        pending: list[list[_Line]] = []
        for group, heading in units:
            if heading:
                if opts.headings == "attach":
                    pending.append(group)
                continue
            paragraphs.extend(_emit(text, group, pending, opts, vocab, stats, False))
            pending = []
        if pending and paragraphs:  # headings at the very end attach to the last paragraph
            last = paragraphs[-1]
            tail = "\n".join(_join_lines(text, g, g[0].start, g[-1].end, vocab) for g in pending)
            paragraphs[-1] = Paragraph(last.start, pending[-1][-1].end, f"{last.text}\n{tail}", last.heading)

    kept = [p for p in paragraphs if len(p.text) >= opts.min_paragraph_chars]
    stats.short_dropped += len(paragraphs) - len(kept)
    return kept


def _emit(
    text: str,
    group: list[_Line],
    headings: list[list[_Line]],
    opts: SegmentOptions,
    vocab: set[str] | None,
    stats: SegmentStats,
    is_heading: bool,
) -> list[Paragraph]:
    start, end = group[0].start, group[-1].end
    body = _join_lines(text, group, start, end, vocab)
    prefix = "\n".join(_join_lines(text, g, g[0].start, g[-1].end, vocab) for g in headings)
    if len(body) + len(prefix) <= opts.max_paragraph_chars:
        if prefix:
            return [Paragraph(headings[0][0].start, end, f"{prefix}\n{body}")]
        return [Paragraph(start, end, body, is_heading)]
    pieces = _split_long(text, group, start, end, opts.max_paragraph_chars, vocab)
    stats.split_paragraphs += len(pieces) - 1
    out = []
    for i, (s, e, piece_text) in enumerate(pieces):
        if i == 0 and prefix:
            out.append(Paragraph(headings[0][0].start, e, f"{prefix}\n{piece_text}"))
        else:
            out.append(Paragraph(s, e, piece_text))
    return out


def _split_long(
    text: str, group: list[_Line], start: int, end: int, limit: int, vocab: set[str] | None
) -> list[tuple[int, int, str]]:
    """Split a paragraph span at sentence boundaries into pieces of at most ``limit`` chars."""
    spans = [(start + s, start + e) for s, e in sentence_spans(text[start:end])]
    # A sentence longer than the limit is cut at the last space before it.
    bounded: list[tuple[int, int]] = []
    for s, e in spans:
        while e - s > limit:
            cut = text.rfind(" ", s, s + limit)
            cut = cut if cut > s else s + limit
            bounded.append((s, cut))
            s = cut
            while s < e and text[s] in _WS:
                s += 1
        if s < e:
            bounded.append((s, e))
    pieces: list[tuple[int, int]] = []
    for s, e in bounded:
        if pieces and e - pieces[-1][0] <= limit:
            pieces[-1] = (pieces[-1][0], e)
        else:
            pieces.append((s, e))
    return [(s, e, _join_lines(text, group, s, e, vocab)) for s, e in pieces]
