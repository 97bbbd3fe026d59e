"""Corpus stop words: words a first fit spreads evenly over the topics, found rather than listed.

Every corpus has words that are frequent everywhere ("united", "nations", "international" in UN
speeches) and so sit among the most probable words of many topics without telling any apart.
After a first fit, a vocabulary word is a *corpus stop word* when

- it is in at least ``topics.corpus_stopwords_min_df`` of the fitting paragraphs, and
- its topic distribution ``p(k | w)`` (the fitted word-topic counts, normalised over topics)
  has a normalised entropy ``H / log K`` of at least ``topics.corpus_stopwords_min_entropy``:
  it is about as likely in every topic.

At most ``topics.corpus_stopwords_max`` are taken, the most even first; the topics stage then
adds them to the stop words and fits again (``topics.corpus_stopwords``), and lists them in its
metrics (``corpus_stopwords_removed``).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def topic_entropy(components: np.ndarray) -> np.ndarray:
    """Normalised entropy (0..1) of each word's distribution over topics, from the (K x V) word-topic counts."""
    k = components.shape[0]
    p = components / components.sum(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=0)
    return h / np.log(k) if k > 1 else np.zeros(components.shape[1])


def find_corpus_stopwords(model: Any, min_df: float, min_entropy: float, limit: int) -> list[str]:
    """The corpus stop words of a fitted :class:`~pipeline.topics.TopicModel` (see the module docstring).

    Returns at most ``limit`` words, most even spread first (ties: the more frequent first, then
    vocabulary order).
    """
    df_share = model.document_frequencies_ / max(int(model.n_documents_), 1)
    entropy = topic_entropy(model.components_)
    candidates = np.flatnonzero((df_share >= min_df) & (entropy >= min_entropy))
    order = np.lexsort((candidates, -df_share[candidates], -entropy[candidates]))
    return [model.vocabulary_[i] for i in candidates[order][:limit]]
