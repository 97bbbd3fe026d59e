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
    #: the target's name
    target: str = ""


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
    return TokenizedText.of(text, all_mentions(text, matchers) if mentions is None else mentions).view(target, window)


class TokenizedText:
    """A text's tokens with its target mentions marked: the target-independent part of a view.

    Tokenising (and splitting into sentences) once per text and then calling :meth:`view`
    for each target asked about gives the same views as :func:`target_view`, faster.
    """

    __slots__ = ("_sentence_of", "_spans", "mention_names", "mention_positions", "starts", "text", "tokens")

    def __init__(self, text: str, tokens: list[str], starts: list[int], mention_positions: list[int],
                 mention_names: list[str]) -> None:
        self.text = text
        self.tokens = tokens
        self.starts = starts
        self.mention_positions = mention_positions
        self.mention_names = mention_names
        self._spans: list[Span] | None = None
        self._sentence_of: list[int] | None = None

    @classmethod
    def of(cls, text: str, mentions: Sequence[tuple[int, int, str]]) -> TokenizedText:
        """Tokenise ``text`` whose target mentions are ``mentions`` (``all_mentions`` output)."""
        tokens: list[str] = []
        starts: list[int] = []
        positions: list[int] = []
        names: list[str] = []
        cursor = 0
        for start, end, name in mentions:
            for m in _TOKEN.finditer(text, cursor, start):
                tokens.append(m.group().lower())
                starts.append(m.start())
            positions.append(len(tokens))
            names.append(name)
            tokens.append(OTHER_TOKEN)
            starts.append(start)
            cursor = end
        for m in _TOKEN.finditer(text, cursor, len(text)):
            tokens.append(m.group().lower())
            starts.append(m.start())
        return cls(text, tokens, starts, positions, names)

    def view(self, target: str, window: int) -> TargetView:
        """The :class:`TargetView` toward ``target`` (see :func:`target_view`)."""
        target_positions = [p for p, n in zip(self.mention_positions, self.mention_names, strict=True) if n == target]
        if not target_positions:
            return TargetView(tuple(self.tokens), (), (), (), 0, target)
        tokens = list(self.tokens)
        for p in target_positions:
            tokens[p] = TARGET_TOKEN
        if self._spans is None:
            self._spans = sentence_spans(self.text)
            self._sentence_of = _sentence_index(self.starts, self._spans)
        spans, sentence_of = self._spans, self._sentence_of
        wanted = sorted({sentence_of[i] for i in target_positions})
        sentences = tuple(tuple(t for t, s in zip(tokens, sentence_of, strict=True) if s == k) for k in wanted)
        windows = tuple(tuple(tokens[max(0, i - window): i + window + 1]) for i in target_positions)
        return TargetView(tuple(tokens), sentences, windows, tuple(spans[k] for k in wanted),
                          len(target_positions), target)


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

    def __init__(self, ngram_range: tuple[int, int] = (1, 2), target_features: bool = False) -> None:
        self.ngram_range = tuple(ngram_range)
        self.target_features = target_features

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
        if getattr(self, "target_features", False) and view.target:
            # which target is asked about, alone and crossed with the words of its sentences,
            # so one model can learn target-specific priors and vocabulary
            key = view.target.lower().replace(" ", "_")
            out.append(f"t:{key}")
            out.extend(f"x:{key}:{word}" for sentence in view.sentences for word in sentence)
        return out

    def __repr__(self) -> str:
        return f"ContextAnalyzer(ngram_range={self.ngram_range}, target_features={self.target_features})"
