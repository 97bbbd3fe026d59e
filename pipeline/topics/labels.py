"""Word rankings that tell topics apart, and the measures of how well labels do it.

A topic's most probable words are often words every topic shares ("united", "nations",
"international" in UN speeches), so labels made of them repeat from topic to topic. Two
rankings from the political-science and visualisation literature put distinctive words first:

- **FREX** (Bischof & Airoldi 2012; the Structural Topic Model's ``labelTopics``): the weighted
  harmonic mean of a word's rank within the topic by *exclusivity* (its share of the word's
  probability over all topics) and by *frequency* (its probability in the topic), each rank an
  empirical CDF in 0..1. ``weight`` is the weight of exclusivity (STM's default 0.5).
- **Relevance** (Sievert & Shirley 2014, LDAvis): ``lambda * log p(w|k) + (1 - lambda) * log
  (p(w|k) / p(w))``; ``lambda`` 1 is the probability ranking, 0 the lift; about 0.6 reads best in
  their user study. ``p(w)`` is the word's share of the fitted model's word counts (all topics).

All functions take the topic-word matrix ``phi`` (K x V, rows summing to 1) and are
deterministic: ties are broken by vocabulary index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: the rankings a topic's words can be listed by (``topics.label_ranking``)
RANKINGS = ("probability", "frex", "relevance")


def exclusivity(phi: np.ndarray) -> np.ndarray:
    """``phi[k, w] / sum_j phi[j, w]``: how much of a word's probability mass sits in topic ``k``."""
    total = phi.sum(axis=0, keepdims=True)
    return np.divide(phi, total, out=np.zeros_like(phi, dtype=np.float64), where=total > 0)


def _ecdf(values: np.ndarray) -> np.ndarray:
    """Row-wise empirical CDF: the share of the row's entries <= each entry (ties share the highest rank)."""
    v = values.shape[1]
    order = np.argsort(values, axis=1, kind="stable")
    sorted_rows = np.take_along_axis(values, order, axis=1)
    out = np.empty_like(values, dtype=np.float64)
    for k in range(values.shape[0]):
        out[k] = np.searchsorted(sorted_rows[k], values[k], side="right") / v
    return out


def frex(phi: np.ndarray, weight: float = 0.5) -> np.ndarray:
    """FREX score of every (topic, word): ``1 / (weight / ecdf(exclusivity) + (1 - weight) / ecdf(phi))``."""
    if not 0.0 < weight < 1.0:
        raise ValueError(f"weight must be in (0, 1), got {weight!r}")
    ex = _ecdf(exclusivity(phi))
    fr = _ecdf(phi)
    return 1.0 / (weight / ex + (1.0 - weight) / fr)


def relevance(phi: np.ndarray, word_share: np.ndarray, lam: float = 0.6) -> np.ndarray:
    """LDAvis relevance of every (topic, word) given each word's corpus share ``word_share`` (length V)."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lambda must be in [0, 1], got {lam!r}")
    with np.errstate(divide="ignore"):
        log_phi = np.log(phi)
        return lam * log_phi + (1.0 - lam) * (log_phi - np.log(word_share)[None, :])


def ranked(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` highest scores of each row, best first (ties: lower index first)."""
    n = min(n, scores.shape[1])
    order = np.argsort(-scores, axis=1, kind="stable")
    return order[:, :n]


def ranking_scores(phi: np.ndarray, ranking: str, word_share: np.ndarray | None = None,
                   frex_weight: float = 0.5, relevance_lambda: float = 0.6) -> np.ndarray:
    """The (K x V) scores a ranking orders words by (``probability``, ``frex`` or ``relevance``)."""
    if ranking == "probability":
        return phi
    if ranking == "frex":
        return frex(phi, frex_weight)
    if ranking == "relevance":
        if word_share is None:
            raise ValueError("relevance needs word_share")
        return relevance(phi, word_share, relevance_lambda)
    raise ValueError(f"ranking must be one of {', '.join(RANKINGS)}, got {ranking!r}")


def distinct_label_share(labels: Sequence[Sequence[str]]) -> float:
    """Share of topics whose label shares no word with any other topic's label (1.0: all labels distinct)."""
    if not labels:
        return float("nan")
    sets = [set(words) for words in labels]
    distinct = sum(1 for i, s in enumerate(sets) if not any(s & o for j, o in enumerate(sets) if j != i))
    return distinct / len(sets)


def mean_exclusivity(phi: np.ndarray, top: np.ndarray) -> float:
    """Mean exclusivity of the listed words (``top``: K x n vocabulary indices) in their topics."""
    ex = exclusivity(phi)
    return float(np.take_along_axis(ex, top, axis=1).mean())
