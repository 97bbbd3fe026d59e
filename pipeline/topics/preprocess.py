"""Turning paragraph text into the tokens the topic model counts.

Training and :meth:`TopicModel.transform` share one :class:`Preprocessor`; its settings,
including the full stop word list, are saved with the model so new text is tokenised
exactly as the training text was, even if a later gensim ships a different stop list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

TOKENIZER = "gensim.utils.simple_preprocess"


def _lemma(token: str) -> str:
    """English lemma of a lower-case token (simplemma: a dictionary lookup, no model download)."""
    import simplemma

    return simplemma.lemmatize(token, lang="en")


def default_stopwords(extra: Iterable[str] = ()) -> frozenset[str]:
    """gensim's English stop words plus ``extra`` (lower-cased)."""
    from gensim.parsing.preprocessing import STOPWORDS

    # Multi-word entries ("general assembly") match the collocation token (general_assembly).
    return frozenset(STOPWORDS) | {"_".join(w.lower().split()) for w in extra if w.strip()}


@dataclass(frozen=True)
class Preprocessor:
    """Lower-case alphabetic tokens of ``min_chars..max_chars`` characters, minus stop words.

    Parameters
    ----------
    min_chars, max_chars : int
        Inclusive token length bounds; shorter and longer tokens are dropped.
    stopwords : frozenset of str
        Lower-case words to drop.
    """

    min_chars: int = 3
    max_chars: int = 25
    stopwords: frozenset[str] = field(default_factory=default_stopwords)
    phrases: frozenset[str] = frozenset()
    lemmatize: bool = False

    def tokenize(self, text: str | None) -> list[str]:
        """Tokens of one text; ``None`` or non-text gives no tokens."""
        from gensim.utils import simple_preprocess

        if not isinstance(text, str) or not text:
            return []
        stop = self.stopwords
        tokens = simple_preprocess(text, deacc=False, min_len=self.min_chars, max_len=self.max_chars)
        if self.lemmatize:
            tokens = [_lemma(t) for t in tokens]
        tokens = [t for t in tokens if t not in stop]
        return self.apply_phrases(tokens) if self.phrases else tokens

    def apply_phrases(self, tokens: list[str]) -> list[str]:
        """Join adjacent tokens that form a learned collocation (``climate`` ``change`` -> ``climate_change``)."""
        phrases = self.phrases
        if not phrases or len(tokens) < 2:
            return tokens
        out: list[str] = []
        i = 0
        while i < len(tokens):
            if i + 1 < len(tokens) and f"{tokens[i]}_{tokens[i + 1]}" in phrases:
                out.append(f"{tokens[i]}_{tokens[i + 1]}")
                i += 2
            else:
                out.append(tokens[i])
                i += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON form, saved in the model directory."""
        return {
            "tokenizer": TOKENIZER,
            "lowercase": True,
            "deaccent": False,
            "min_token_chars": self.min_chars,
            "max_token_chars": self.max_chars,
            "stopwords": sorted(self.stopwords),
            "phrases": sorted(self.phrases),
            "lemmatizer": "simplemma:en" if self.lemmatize else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessor:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` on an unknown tokenizer or bad field."""
        if data.get("tokenizer") != TOKENIZER:
            raise ValueError(f"unknown tokenizer {data.get('tokenizer')!r}, expected {TOKENIZER!r}")
        if data.get("lowercase") is not True or data.get("deaccent") is not False:
            raise ValueError("unsupported lowercase/deaccent settings")
        min_chars, max_chars = data.get("min_token_chars"), data.get("max_token_chars")
        stopwords = data.get("stopwords")
        if not isinstance(min_chars, int) or not isinstance(max_chars, int) or not 1 <= min_chars <= max_chars:
            raise ValueError(f"bad token length bounds {min_chars!r}..{max_chars!r}")
        if not isinstance(stopwords, list) or not all(isinstance(w, str) for w in stopwords):
            raise ValueError("stopwords must be a list of strings")
        phrases = data.get("phrases", [])  # absent in models saved before collocations existed
        if not isinstance(phrases, list) or not all(isinstance(p, str) and "_" in p for p in phrases):
            raise ValueError("phrases must be a list of 'word_word' strings")
        lemmatizer = data.get("lemmatizer")
        if lemmatizer not in (None, "simplemma:en"):
            raise ValueError(f"unknown lemmatizer {lemmatizer!r}")
        return cls(min_chars=min_chars, max_chars=max_chars, stopwords=frozenset(stopwords),
                   phrases=frozenset(phrases), lemmatize=lemmatizer is not None)
