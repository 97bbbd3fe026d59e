"""Input checks of :class:`~pipeline.stance.model.StanceClassifier`: its parameters (through the
config schema) and the forms its ``X`` may take."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from ..config import StanceConfig
from ..config.params import check_params as schema_check


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_targets(value: Any) -> bool:
    return value is None or (not isinstance(value, str | Mapping) and isinstance(value, Sequence) and len(value) > 0)


def _pair(value: Any, off_allowed: bool) -> tuple[int, int] | None:
    """``(min_n, max_n)`` when ``value`` is such a pair with ``1 <= min_n <= max_n`` (or ``(0, 0)`` if allowed)."""
    if not (isinstance(value, tuple | list) and len(value) == 2 and all(_is_int(n) for n in value)):
        return None
    low, high = int(value[0]), int(value[1])
    return (low, high) if (1 <= low <= high) or (off_allowed and low == high == 0) else None


#: the classifier's parameters that the ``stance`` config section defines under the same name
SAME_AS_CONFIG = ("window", "C", "min_df", "class_weight", "calibration", "calibration_folds", "target_features",
                  "per_target", "lexicon", "negation", "char_scope", "social_tokens", "target_scope", "roles")


def check_params(estimator: Any) -> None:
    """Raise ``ValueError`` naming the first bad parameter of ``estimator``.

    Types and ranges come from the ``stance`` section of the config schema
    (:func:`pipeline.config.params.check_params`); only the shapes the config spells differently
    are checked here: ``targets``, and the n-gram ranges (pairs, where the config has their bounds).
    """
    owner = type(estimator).__name__
    params = estimator.get_params(deep=False)
    values = {name: params[name] for name in SAME_AS_CONFIG}
    values["seed"] = params["random_state"]
    if not _is_targets(params["targets"]):
        raise ValueError(f"{owner}: targets: expected None or a non-empty list of targets (name, aliases, "
                         f"case_sensitive_aliases), got {params['targets']!r}")
    words = _pair(params["ngram_range"], off_allowed=False)
    if words is None:
        raise ValueError(f"{owner}: ngram_range: expected a pair (min_n, max_n) with 1 <= min_n <= max_n, "
                         f"got {params['ngram_range']!r}")
    values["ngram_max"] = words[1]
    chars = _pair(params["char_ngram_range"], off_allowed=True)
    if chars is None:
        raise ValueError(f"{owner}: char_ngram_range: expected (0, 0) for none or a pair (min_n, max_n) with "
                         f"1 <= min_n <= max_n, got {params['char_ngram_range']!r}")
    if chars[1]:
        values["char_ngram_min"], values["char_ngram_max"] = chars
    if params["block_weights"] is not None:  # None: every block weighs 1
        values["block_weights"] = params["block_weights"]
    scales = params.get("label_scales")
    if scales is not None:  # None: no prior correction ("auto" is the config's, resolved by train_stance)
        if not isinstance(scales, Mapping):
            raise ValueError(f"{owner}: label_scales: expected None or a mapping of labels to scales > 0, "
                             f"got {scales!r}")
        values["label_scales"] = dict(scales)
    schema_check(owner, StanceConfig, values, names={"seed": "random_state", "ngram_max": "ngram_range",
                                                      "char_ngram_min": "char_ngram_range",
                                                      "char_ngram_max": "char_ngram_range"})


def _clean_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    import pandas as pd

    if value is None or pd.isna(value) is True:  # None, NaN and pd.NA read as empty text
        return ""
    raise TypeError(f"texts must be strings, got {type(value).__name__}")


def as_pairs(X: Any, targets: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """Normalise classifier input into parallel lists of texts and target names.

    ``X`` is either the texts (with ``targets`` a parallel list of target names), or, when
    ``targets`` is None, a sequence of ``(text, target)`` pairs, a 2-column array, or a
    DataFrame with ``text`` and ``target`` columns.
    """
    if isinstance(X, str) or (targets is not None and isinstance(targets, str)):
        raise TypeError("expected a list of texts and a list of targets, got a single string; wrap it in a list")
    if iter(X) is X or (targets is not None and iter(targets) is targets):
        raise TypeError("texts and targets must be sequences (list, Series, ...), not one-shot iterators")
    if targets is not None:
        texts = [_clean_text(t) for t in X]
        names = [str(t) for t in targets]
        if len(texts) != len(names):
            raise ValueError(f"texts and targets must have the same length, got {len(texts)} and {len(names)}")
        return texts, names
    if hasattr(X, "columns"):
        missing = {"text", "target"} - set(X.columns)
        if missing:
            raise ValueError(f"a DataFrame input needs columns 'text' and 'target', missing {sorted(missing)}")
        return [_clean_text(t) for t in X["text"]], [str(t) for t in X["target"]]
    texts, names = [], []
    for item in X:
        if isinstance(item, str) or len(item) != 2:
            raise ValueError("X must hold (text, target) pairs, or pass targets=[...] next to a list of texts")
        texts.append(_clean_text(item[0]))
        names.append(str(item[1]))
    return texts, names
