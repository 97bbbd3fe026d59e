"""Input checks of :class:`~pipeline.stance.model.StanceClassifier`: its parameters, declared
as data and checked in one place, and the forms its ``X`` may take."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_targets(value: Any) -> bool:
    return value is None or (not isinstance(value, str | Mapping) and isinstance(value, Sequence) and len(value) > 0)


#: blocks of features that ``block_weights`` may weigh (see ``model.BLOCK_PREFIXES``)
BLOCKS = ("doc", "sentences", "windows", "chars", "lexicon", "target", "roles")

#: parameter -> (check, what is expected); checked in one place, by :func:`check_params`
PARAM_RULES: dict[str, tuple[Any, str]] = {
    "targets": (_is_targets, "None or a non-empty list of targets (name, aliases, case_sensitive_aliases)"),
    "window": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "C": (lambda v: _is_real(v) and v > 0, "a number > 0"),
    "ngram_range": (lambda v: isinstance(v, tuple | list) and len(v) == 2 and all(_is_int(n) for n in v)
                    and 1 <= v[0] <= v[1], "a pair (min_n, max_n) with 1 <= min_n <= max_n"),
    "min_df": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "class_weight": (lambda v: v is None or v == "balanced", "None or 'balanced'"),
    "calibration": (lambda v: v in ("auto", "sigmoid", "isotonic", "none"), "'auto', 'sigmoid', 'isotonic' or 'none'"),
    "calibration_folds": (lambda v: _is_int(v) and v >= 2, "an integer >= 2"),
    "random_state": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "target_features": (lambda v: isinstance(v, bool), "True or False"),
    "per_target": (lambda v: isinstance(v, bool), "True or False"),
    "char_ngram_range": (lambda v: isinstance(v, tuple | list) and len(v) == 2 and all(_is_int(n) for n in v)
                         and (tuple(v) == (0, 0) or 1 <= v[0] <= v[1]),
                         "(0, 0) for none or a pair (min_n, max_n) with 1 <= min_n <= max_n"),
    "lexicon": (lambda v: isinstance(v, bool), "True or False"),
    "char_scope": (lambda v: v in ("windows", "sentences", "doc"), "'windows', 'sentences' or 'doc'"),
    "social_tokens": (lambda v: isinstance(v, bool), "True or False"),
    "target_scope": (lambda v: v in ("sentences", "doc"), "'sentences' or 'doc'"),
    "negation": (lambda v: isinstance(v, bool), "True or False"),
    "roles": (lambda v: isinstance(v, bool), "True or False"),
    "block_weights": (lambda v: v is None or (isinstance(v, Mapping) and all(
        k in BLOCKS and _is_real(w) and w > 0 for k, w in v.items())),
        "None or a mapping of blocks (doc, sentences, windows, chars, lexicon, target, roles) to weights > 0"),
}


def check_params(estimator: Any) -> None:
    """Raise ``ValueError`` naming the first parameter of ``estimator`` that breaks :data:`PARAM_RULES`."""
    for name, (ok, expected) in PARAM_RULES.items():
        value = getattr(estimator, name)
        if not ok(value):
            raise ValueError(f"{type(estimator).__name__}: parameter {name!r} must be {expected}, got {value!r}")


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
