"""Rebuild the true paragraphs of one document.

The input is the decoded text of one document; the output is a list of
:class:`Paragraph` with character offsets into that text. The work is done line by line:

1. **Classify lines**: blank, *noise* (page numbers, document symbols, web boilerplate,
   page headers repeated within the document; all configurable patterns) or content.
2. **Detect the layout**: one paragraph per line (blank lines or single newlines
   between paragraphs), or *hard-wrapped* at a fixed width. A document is hard-wrapped
   when nearly all its lines are shorter than ``wrapped_max_width`` and most lines that
   are followed by another content line are nearly full.
3. **Join wrapped lines**: two lines belong to different paragraphs when a blank line
   separates them, when the second is indented, or when the first ends a sentence and
   would have left room for the second line's first word (a greedy wrapper would have put
   the word there had the paragraph gone on). Noise lines between them (a page number
   inserted mid-paragraph) are skipped and do not break the paragraph.
4. **Rejoin soft hyphenation** (``interna-`` / ``tional``) but keep real compounds
   (``well-`` / ``known``), deciding from the document's own vocabulary first and English
   word frequencies second.
5. **Headings and captions** (short lines without end punctuation) are attached to the
   next paragraph, dropped, or kept, as configured; very long paragraphs are split at
   sentence boundaries.

Offsets always point into the source text; only ``Paragraph.text`` is normalised.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from ..config import ChunkConfig
from ..sentences import sentence_spans
from .text import BLANK_CHARS as _WS
from .text import normalize

_TERMINATORS = ".!?:;…"
_CLOSERS = "\"'”’»)]}*"
_HYPHENS = "-\u2010\u00ad"
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


def _header_like(key: str) -> bool:
    # A repeated line that ends a sentence or a clause is text ("Thank you."), not a header.
    return not key.rstrip(_CLOSERS).endswith((".", ",", ";", "?", "!"))


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


def _ends_sentence(body: str) -> bool:
    tail = body.rstrip(_CLOSERS)
    return bool(tail) and tail[-1] in _TERMINATORS


def _first_word_len(body: str) -> int:
    cut = body.find(" ")
    return len(body) if cut < 0 else cut


def _starts_paragraph_like(body: str) -> bool:
    ch = body[0]
    return ch.isupper() or ch.isdigit() or ch in "\"'“‘([•·*-–—§¥●▪►■□◦‣⁃○"


def _is_greedy(text: str, lines: list[_Line], width: int) -> bool:
    """Whether a wrapped document was wrapped by a fixed-width greedy wrapper.

    Seen from the fact that almost no line that does not end a sentence would have had room
    for the next line's first word; text typeset in a proportional font fails this.
    """
    pairs = roomy = 0
    prev: _Line | None = None
    gap = False
    for ln in lines:
        if ln.kind != _CONTENT:
            gap = True
            continue
        if prev is not None and not gap and not _ends_sentence(text[prev.start : prev.end]):
            pairs += 1
            if width - (prev.end - prev.raw_start) >= 1 + _first_word_len(text[ln.start : ln.end]):
                roomy += 1
        prev = ln
        gap = False
    return pairs >= 10 and roomy <= 0.02 * pairs


def _group_wrapped(text: str, lines: list[_Line], width: int) -> list[list[_Line]]:
    indents = Counter(ln.start - ln.raw_start for ln in lines if ln.kind == _CONTENT)
    base_indent = indents.most_common(1)[0][0] if indents else 0
    greedy = _is_greedy(text, lines, width)
    groups: list[list[_Line]] = []
    current: list[_Line] = []
    blank_since = noise_since = False
    for ln in lines:
        if ln.kind == _BLANK:
            blank_since = True
            continue
        if ln.kind == _NOISE:
            noise_since = True
            continue
        if not current:
            current = [ln]
        else:
            prev = current[-1]
            prev_body = text[prev.start : prev.end]
            body = text[ln.start : ln.end]
            # Blank lines around page furniture mark a page break, not a paragraph break.
            blank = blank_since and not noise_since
            if _is_break(prev, prev_body, ln, body, width, blank, base_indent, len(current) == 1, greedy):
                groups.append(current)
                current = [ln]
            else:
                current.append(ln)
        blank_since = noise_since = False
    if current:
        groups.append(current)
    return groups


def _is_break(
    prev: _Line,
    prev_body: str,
    ln: _Line,
    body: str,
    width: int,
    blank: bool,
    base_indent: int,
    first: bool,
    greedy: bool,
) -> bool:
    if blank:
        return True
    if prev_body[-1] in _HYPHENS and body[0].islower():
        return False
    indent = ln.start - ln.raw_start
    if indent > base_indent and indent >= 2 and prev.start - prev.raw_start <= base_indent:
        return True
    room = width - (prev.end - prev.raw_start)
    fits = room >= 1 + _first_word_len(body)
    if _ends_sentence(prev_body):
        return fits and _starts_paragraph_like(body)
    # A line that does not end a sentence but would have had room for the next word is a
    # heading, a list item or a paragraph without end punctuation. In typeset text line
    # lengths are only roughly comparable, so the line must stop well short of the width;
    # the first line of a paragraph is often shorter there (its indent was lost).
    if not greedy and room <= (0.5 if first else 0.3) * width:
        return False
    return fits and _starts_paragraph_like(body)


# ----------------------------------------------------------------------------- hyphens


@lru_cache(maxsize=65536)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def _keep_hyphen(left: str, right: str, vocab: set[str]) -> bool:
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


def _doc_vocab(text: str) -> set[str]:
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
            if prev and prev[-1] in _HYPHENS and prev[-2:-1].isalpha() and piece[:1].isalpha():
                # A hyphen right after a letter at a line end: soft hyphenation or a compound.
                m_left = re.search(r"([A-Za-z]+)[-\u2010\u00ad]$", prev)
                m_right = re.match(r"[A-Za-z]+", piece)
                if prev[-1] == "\u00ad" or (
                    m_left and m_right and not _keep_hyphen(m_left.group(1), m_right.group(0), vocab or set())
                ):
                    pieces[-1] = prev[:-1]
                pieces.append(piece)
                continue
            pieces.append(" ")
        pieces.append(piece)
    return normalize("".join(pieces))


# ----------------------------------------------------------------------------- headings


def _is_heading(body: str, max_words: int) -> bool:
    tail = body.rstrip(_CLOSERS + " ")
    if not tail or tail[-1] in _TERMINATORS or tail[-1] in ",-–—":
        return False
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
    vocab = _doc_vocab(text) if width else None

    # Boilerplate paragraphs, then headings: short groups without end punctuation.
    units: list[tuple[list[_Line], bool]] = []
    para_regex = opts.paragraph_regex
    for group in groups:
        body = text[group[0].start : group[-1].end]
        if para_regex is not None and len(body) <= _BOILERPLATE_MAX_CHARS and para_regex.match(normalize(body)):
            stats.boilerplate_dropped += 1
            continue
        heading = len(groups) > 1 and len(body) <= 300 and _is_heading(body, opts.heading_max_words)
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
