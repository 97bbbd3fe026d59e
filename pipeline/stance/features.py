"""Target-relative views of a text, and the n-gram analyzer that turns them into features.

The classifier never sees the target's name. For a pair (text, target) every mention of
the target becomes :data:`TARGET_TOKEN` and every mention of another known target becomes
:data:`OTHER_TOKEN`, so "NATO ignored Russia's concerns" reads
``xxtarget ignored xxother s concerns`` toward NATO and ``xxother ignored xxtarget s
concerns`` toward Russia: the same words, different features. A :class:`TargetView` then
keeps three blocks of lower-cased tokens:

``doc``
    the whole text;
``sentences``
    each sentence that mentions the target;
``windows``
    ``window`` tokens either side of each mention of the target.

:class:`ContextAnalyzer` turns a view into word n-grams prefixed by their block
(``d:``, ``s:``, ``w:``), never joining n-grams across sentences or windows; it is the
``analyzer`` of a scikit-learn ``TfidfVectorizer``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..sentences import Span
from ..sentences import sentence_spans as _sentence_spans
from .targets import TargetMatcher, all_mentions

TARGET_TOKEN = "xxtarget"
OTHER_TOKEN = "xxother"

_TOKEN = re.compile(r"[^\W_]+|[!?]")
def sentence_spans(text: str) -> list[Span]:
    """Sentences of a paragraph; a line break (an attached heading) also ends one."""
    return _sentence_spans(text, newlines=True)


@dataclass(frozen=True)
class TargetView:
    """One text seen relative to one target (see the module docstring)."""

    doc: tuple[str, ...]
    sentences: tuple[tuple[str, ...], ...]
    windows: tuple[tuple[str, ...], ...]
    #: character spans of the sentences in ``sentences``, for evidence
    sentence_spans: tuple[Span, ...]
    #: how many times the text mentions the target
    mentions: int


def target_view(text: str, target: str, matchers: Sequence[TargetMatcher], window: int,
                mentions: Sequence[tuple[int, int, str]] | None = None) -> TargetView:
    """Build the :class:`TargetView` of ``text`` toward the target named ``target``.

    Parameters
    ----------
    text : str
        The paragraph.
    target : str
        Name of the target; must be one of ``matchers``.
    matchers : sequence of TargetMatcher
        Every known target; mentions of the others become :data:`OTHER_TOKEN`.
    window : int
        Tokens kept on either side of each mention of the target.
    mentions : sequence of (start, end, name), optional
        ``all_mentions(text, matchers)`` when already known (it does not depend on the target).
    """
    text = text or ""
    tokens: list[str] = []
    starts: list[int] = []
    target_positions: list[int] = []

    def add_words(segment_start: int, segment_end: int) -> None:
        for m in _TOKEN.finditer(text, segment_start, segment_end):
            tokens.append(m.group().lower())
            starts.append(m.start())

    cursor = 0
    for start, end, name in all_mentions(text, matchers) if mentions is None else mentions:
        add_words(cursor, start)
        if name == target:
            target_positions.append(len(tokens))
            tokens.append(TARGET_TOKEN)
        else:
            tokens.append(OTHER_TOKEN)
        starts.append(start)
        cursor = end
    add_words(cursor, len(text))

    if not target_positions:
        return TargetView(tuple(tokens), (), (), (), 0)

    spans = sentence_spans(text)
    sentence_of = _sentence_index(starts, spans)
    wanted = sorted({sentence_of[i] for i in target_positions})
    sentences = tuple(tuple(t for t, s in zip(tokens, sentence_of, strict=True) if s == k) for k in wanted)
    windows = tuple(tuple(tokens[max(0, i - window): i + window + 1]) for i in target_positions)
    return TargetView(tuple(tokens), sentences, windows, tuple(spans[k] for k in wanted), len(target_positions))


def _sentence_index(starts: list[int], spans: list[Span]) -> list[int]:
    out = []
    k = 0
    for pos in starts:
        while k + 1 < len(spans) and pos >= spans[k + 1][0]:
            k += 1
        out.append(k)
    return out


class ContextAnalyzer:
    """Word n-grams of a :class:`TargetView`, prefixed by block; a ``TfidfVectorizer`` analyzer.

    Parameters
    ----------
    ngram_range : tuple of int
        Smallest and largest n-gram length.
    """

    def __init__(self, ngram_range: tuple[int, int] = (1, 2)) -> None:
        self.ngram_range = tuple(ngram_range)

    def _ngrams(self, prefix: str, tokens: Sequence[str], out: list[str]) -> None:
        low, high = self.ngram_range
        for n in range(low, high + 1):
            for i in range(len(tokens) - n + 1):
                out.append(prefix + " ".join(tokens[i:i + n]))

    def __call__(self, view: TargetView) -> list[str]:
        out: list[str] = []
        self._ngrams("d:", view.doc, out)
        for sentence in view.sentences:
            self._ngrams("s:", sentence, out)
        for win in view.windows:
            self._ngrams("w:", win, out)
        return out

    def __repr__(self) -> str:
        return f"ContextAnalyzer(ngram_range={self.ngram_range})"
