"""Topic quality measures: coherence, diversity and perplexity.

Every measure returns a finite float or ``None``: on a tiny corpus a coherence measure can
be undefined (no co-occurring pair of top words), and that is reported, not a crash.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

COHERENCE_MEASURES = ("c_npmi", "c_v", "u_mass")


def finite_or_none(value: Any, digits: int = 6) -> float | None:
    """``value`` rounded to ``digits`` decimals, or ``None`` when it is missing, NaN or infinite."""
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def coherence(
    topics: Sequence[Sequence[str]],
    texts: Sequence[Sequence[str]],
    dictionary: Any,
    corpus: Sequence[Sequence[tuple[int, int]]],
) -> dict[str, float | None]:
    """gensim coherence of each measure in :data:`COHERENCE_MEASURES`, averaged over topics.

    Parameters
    ----------
    topics : list of list of str
        Top words of each topic (all must be in ``dictionary``).
    texts : list of list of str
        Tokenised reference texts (for ``c_npmi`` and ``c_v``).
    dictionary : gensim.corpora.Dictionary
    corpus : list of bag of words
        The same texts as bags of words (for ``u_mass``).
    """
    from gensim.models.coherencemodel import CoherenceModel

    topn = min(len(t) for t in topics)
    scores: dict[str, float | None] = {}
    for measure in COHERENCE_MEASURES:
        data = {"corpus": corpus} if measure == "u_mass" else {"texts": texts}
        try:
            # processes=1: the parallel accumulator forks workers, slow for small corpora
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                model = CoherenceModel(topics=[list(t) for t in topics], dictionary=dictionary, coherence=measure,
                                       topn=topn, processes=1, **data)
                value = model.get_coherence()
        except (ValueError, ZeroDivisionError, FloatingPointError, IndexError) as exc:
            log.warning("coherence %s could not be computed (%s); reported as null", measure, exc)
            value = None
        scores[measure] = finite_or_none(value)
        if scores[measure] is None and value is not None:
            log.warning("coherence %s is undefined on this corpus (%s); reported as null", measure, value)
    return scores


def topic_diversity(topics: Sequence[Sequence[str]]) -> float:
    """Share of distinct words among the top words of all topics (1.0: no word is shared)."""
    words = [w for t in topics for w in t]
    return len(set(words)) / len(words) if words else 0.0


def perplexity(lda: Any, corpus: Sequence[Sequence[tuple[int, int]]]) -> tuple[float | None, float | None]:
    """gensim's per-word likelihood bound on ``corpus`` and the perplexity ``2 ** -bound``."""
    with np.errstate(all="ignore"):
        bound = float(lda.log_perplexity(list(corpus)))
        return finite_or_none(bound), finite_or_none(np.exp2(-bound))
