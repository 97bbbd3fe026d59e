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

Span = tuple[int, int]


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
    pattern = _SENTENCE_OR_LINE_END if newlines else _SENTENCE_END
    spans: list[Span] = []
    start = 0
    for match in pattern.finditer(text):
        if text[match.start()] == ".":
            word = _WORD_BEFORE.search(text[start : match.start() + 1])
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
