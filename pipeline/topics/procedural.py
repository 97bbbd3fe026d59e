"""Paragraphs of pure protocol: congratulations, thanks and courtesies that fill a topic of their own.

Speeches open with "I congratulate you, Mr. President, on your election ..." and "I thank the
Secretary-General for his report ...": in a UN corpus such paragraphs make a topic whose words
("assembly, general, session, congratulate") say nothing about what the speech is about. A
paragraph is *procedural* when the sentences that match one of ``topics.procedural_patterns``
(case-insensitive regular expressions) hold at least ``topics.procedural_share`` of its words; with
``topics.exclude_procedural`` the topics stage leaves such paragraphs out of the fit (they are
still scored, like duplicates) and counts them in its metrics (``paragraphs_procedural``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from ..config import PROCEDURAL_PATTERNS
from ..sentences import sentence_spans

__all__ = ["PROCEDURAL_PATTERNS", "ProceduralFilter"]

class ProceduralFilter:
    """``filter(text)`` is True when ``text`` is a procedural paragraph (picklable, for worker processes).

    Parameters
    ----------
    patterns : sequence of str
        Case-insensitive regular expressions; a sentence matching any of them is procedural.
    min_share : float
        The paragraph is procedural when its procedural sentences hold at least this share of
        its words.
    """

    def __init__(self, patterns: Sequence[str], min_share: float) -> None:
        self.patterns = list(patterns)
        self.min_share = float(min_share)
        self._regex = re.compile("|".join(f"(?:{p})" for p in self.patterns), re.IGNORECASE) if self.patterns \
            else None

    def __call__(self, text: str) -> bool:
        if self._regex is None or not self._regex.search(text):
            return False
        total = matched = 0
        for start, end in sentence_spans(text, newlines=True):
            sentence = text[start:end]
            words = len(sentence.split())
            total += words
            if self._regex.search(sentence):
                matched += words
        return total > 0 and matched >= self.min_share * total

    def flags(self, texts: Sequence[str]) -> np.ndarray:
        """One bool per text."""
        return np.fromiter((self(t) for t in texts), dtype=bool, count=len(texts))
