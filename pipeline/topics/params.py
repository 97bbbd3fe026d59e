"""Argument checks of :class:`~pipeline.topics.estimator.TopicModel` beyond its parameters.

The parameters themselves are checked by the config schema (``TopicModel._check_params``,
:func:`pipeline.config.params.check_params`); here are the checks of method arguments.
"""

from __future__ import annotations

import numbers
from typing import Any


def is_int(value: Any) -> bool:
    """True for an integer that is not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def refuse_iterator(items: Any, name: str) -> None:
    """Raise ``TypeError`` when ``items`` is a one-shot iterator (``name`` is the argument's name)."""
    # a generator would be used up by the first of the several passes fitting makes
    if iter(items) is items:
        raise TypeError(f"{name} must be a re-iterable sequence (list, Series, ...), got a one-shot "
                        f"{type(items).__name__}; wrap it in list()")
