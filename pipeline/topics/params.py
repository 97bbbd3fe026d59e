"""The parameters of :class:`~pipeline.topics.estimator.TopicModel`: allowed values, declared as data.

:data:`PARAM_RULES` is checked in one place, by ``TopicModel._check_params``; the message
names the parameter, what was expected and what was got.
"""

from __future__ import annotations

import numbers
from typing import Any

from . import engines


def is_int(value: Any) -> bool:
    """True for an integer that is not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: Any) -> bool:
    """True for a real number that is not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


#: parameter -> (check, what is expected); checked in one place, by :meth:`TopicModel._check_params`
PARAM_RULES: dict[str, tuple[Any, str]] = {
    "num_topics": (lambda v: is_int(v) and v >= 2, "an integer >= 2"),
    "seed": (lambda v: is_int(v) and v >= 0, "an integer >= 0"),
    "passes": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
    "iterations": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
    "alpha": (lambda v: v in ("symmetric", "asymmetric", "auto") or (is_real(v) and v > 0),
              "'symmetric', 'asymmetric', 'auto' or a positive number"),
    "eta": (lambda v: v is None or v in ("symmetric", "auto") or (is_real(v) and v > 0),
            "None, 'symmetric', 'auto' or a positive number"),
    "no_below": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
    "no_above": (lambda v: is_real(v) and 0 < v <= 1, "a number in (0, 1]"),
    "keep_n": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
    "min_token_chars": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
    "max_token_chars": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
    "stopwords_extra": (lambda v: not isinstance(v, str) and all(isinstance(w, str) for w in v),
                        "a list of strings"),
    "chunksize": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
    "engine": (lambda v: v in engines.ENGINES, " or ".join(repr(e) for e in engines.ENGINES)),
    "tomotopy_iterations": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
    "tomotopy_workers": (lambda v: is_int(v) and v >= 0, "an integer >= 0 (0: all cores)"),
    "gensim_workers": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
    "seed_words": (lambda v: not isinstance(v, str) and all(
        not isinstance(ws, str) and all(isinstance(w, str) for w in ws) for ws in v), "a list of lists of strings"),
    "seed_weight": (lambda v: is_real(v) and v > 0, "a positive number"),
    "phrases": (lambda v: isinstance(v, bool), "true or false"),
    "lemmatize": (lambda v: isinstance(v, bool), "true or false"),
    "phrase_min_count": (lambda v: is_int(v) and v >= 1, "an integer >= 1"),
    "phrase_threshold": (lambda v: is_real(v) and 0 < v <= 1, "a number in (0, 1]"),
}


def refuse_iterator(items: Any, name: str) -> None:
    """Raise ``TypeError`` when ``items`` is a one-shot iterator (``name`` is the argument's name)."""
    # a generator would be used up by the first of the several passes fitting makes
    if iter(items) is items:
        raise TypeError(f"{name} must be a re-iterable sequence (list, Series, ...), got a one-shot "
                        f"{type(items).__name__}; wrap it in list()")
