"""Estimator parameters checked by the schema: one definition of each parameter's type and range.

The estimators (:class:`~pipeline.topics.estimator.TopicModel`,
:class:`~pipeline.stance.model.StanceClassifier`) take the parameters of a config section under
the same names (or a few renamed ones). Rather than restating each range, they validate their
parameters through that section's pydantic model, so an estimator built in a notebook refuses
exactly what a config file would, with the same message.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError
from .loader import _format_error


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers and tuples as lists (what the schema's strict types take)."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def check_params(owner: str, section: type[BaseModel], params: Mapping[str, Any],
                 names: Mapping[str, str] | None = None) -> None:
    """Validate estimator ``params`` (config key -> value) through the config model ``section``.

    Strict: no coercion of strings or floats to integers, as an estimator takes values as given.
    ``names`` maps config keys to the estimator's own parameter names for the message.

    Raises
    ------
    ValueError
        ``"<owner>: <parameter>: <what is wrong>, got <value>"`` for the first bad parameter,
        worded as the config loader words the same mistake in a YAML file.
    """
    try:
        section.model_validate({key: _plain(value) for key, value in params.items()}, strict=True)
    except ValidationError as exc:
        err = dict(exc.errors()[0])
        loc = list(err["loc"])
        if loc and names and loc[0] in names:
            loc[0] = names[loc[0]]
        err["loc"] = tuple(loc)
        if err["type"] == "extra_forbidden":  # a programming error: the estimator passed a key its section lacks
            raise ConfigError(f"{owner}: {'.'.join(map(str, loc))} is not a key of {section.__name__}") from None
        raise ValueError(f"{owner}: {_format_error(err, '')}") from None
