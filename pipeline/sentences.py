"""A light rule-based sentence splitter shared by the stages.

Good enough to cut long paragraphs and pick an evidence sentence; not a parser. A sentence
ends at ``.``, ``!``, ``?`` or ``…`` (plus closing quotes or brackets) before white space and
an upper-case letter, digit or opening quote, unless the word before a full stop is a
common abbreviation ("Mr.", "U.S.") or a single initial ("M. K. Bhadrakumar").
"""

from __future__ import annotations

import re

_END = r"[.!?…]+[\"'”’»)\]]*\s+(?=[\"'“‘«(\[]?[A-Z0-9])"
_SENTENCE_END = re.compile(_END)
_SENTENCE_OR_LINE_END = re.compile(_END + r"|\s*\n\s*")
ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "st", "gen", "col", "lt", "sgt", "capt", "adm", "gov", "sen", "rep", "amb",
    "pres", "jr", "sr", "vs", "etc", "no", "nos", "vol", "fig", "inc", "ltd", "co", "corp", "dept", "est", "approx",
    "art", "arts", "para", "paras", "sec", "rev", "hon", "messrs", "mme", "mlle", "cf", "al", "pp", "ch",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "u.s", "u.k", "u.n", "e.u", "e.g", "i.e", "a.m", "p.m", "h.e",
})  # fmt: skip
_WORD_BEFORE = re.compile(r"([\w.]+)[.!?…]*[\"'”’»)\]]*\s*$")
#: characters that can make up a ``_WORD_BEFORE`` match ending at a full stop
_WORD_RUN = re.compile(r"[\w.!?…]*")
#: characters before a full stop that ``_WORD_BEFORE`` looks at, first the fewest, unless the word is longer
_TAILS = (16, 64)

Span = tuple[int, int]


def _word_before(text: str, start: int, stop: int) -> re.Match[str] | None:
    """``_WORD_BEFORE.search(text[start:stop])`` where ``text[stop - 1]`` is a full stop, reading only the tail.

    Ending at the full stop, a match can only hold word characters and ``.!?…``, so it lies
    in the run of those characters that ends the slice. If the last ``tail`` characters are
    not all in that run, the run, and every match, starts within them, and the search at
    every earlier position fails; otherwise the run may reach further back, and a longer
    tail, in the end the whole slice, is searched. The pattern has no lookbehind or ``^``, so
    searching ``text`` between ``pos`` and ``endpos`` is searching the slice.
    """
    for tail in _TAILS:
        pos = stop - tail
        if pos <= start:
            break
        if not _WORD_RUN.fullmatch(text, pos, stop):
            return _WORD_BEFORE.search(text, pos, stop)
    return _WORD_BEFORE.search(text, start, stop)


def sentence_spans(text: str, newlines: bool = False) -> list[Span]:
    """Split ``text`` into sentence spans ``(start, end)`` with surrounding white space trimmed.

    Parameters
    ----------
    text : str
        Any text.
    newlines : bool, default False
        Also end a sentence at a line break (paragraph text, where a line break separates an
        attached heading). Leave it off for raw source text, where line breaks are wrapping.
    """
    # without a line break the line-end alternative never matches, and the plain pattern, which
    # opens with a character set, is found much faster
    pattern = _SENTENCE_OR_LINE_END if newlines and "\n" in text else _SENTENCE_END
    spans: list[Span] = []
    start = 0
    for match in pattern.finditer(text):
        if text[match.start()] == ".":
            word = _word_before(text, start, match.start() + 1)
            if word is not None:
                token = word.group(1).rstrip(".").lower()
                if token in ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                    continue
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(text)))
    trimmed = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            trimmed.append((s, e))
    return trimmed
