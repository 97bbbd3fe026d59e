"""The ``train_stance`` stage: labelled JSONL in, stance model and metrics out.

``python -m pipeline train_stance`` reads ``stance.train`` (see :mod:`pipeline.stance.data`),
estimates quality with stratified ``stance.cv_folds``-fold cross-validation, fits the
classifier on all the data and writes:

``stance.model`` (directory, see :mod:`pipeline.stance.model`)
``stance.metrics`` (JSON)
    ``macro_f1``, ``accuracy`` and ``baseline_macro_f1`` (always predicting the most
    frequent label) from out-of-fold predictions; ``per_target``: ``macro_f1``,
    ``accuracy``, ``examples`` and ``label_counts`` per target; ``per_label``:
    ``precision``, ``recall``, ``f1``, ``count``; ``label_counts``; ``examples``;
    ``cv_folds`` (folds used), ``cv_stratified_by`` (``target+label`` or ``label``) and
    ``calibration`` (of the final model). Floats are rounded to 6 places. When a label has
    fewer than two examples there is no cross-validation: the scores are ``null`` and
    ``cv_skipped`` says why.

Everything is seeded by ``stance.seed``: the same data and config give the same model
and metrics.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import Config, StanceConfig
from ..io import sha256_file, write_json
from .checklist import run_checklist
from .data import LabelledExample, label_counts, read_training, training_files
from .model import LABELS, StanceClassifier
from .storage import save_stance
from .targets import compile_targets, target_spec

log = logging.getLogger(__name__)

#: the ``stance`` keys this stage reads, and so records in the model's ``meta.json``; dvc.yaml's
#: ``train_stance`` params list exactly these (tests/test_dvc_deps.py), so changing a key used only
#: by the ``stance`` stage (``input``, ``output``, ``summary``, ``batch_size``) does not retrain
TRAINING_KEYS = (
    "engine", "transformer", "train", "model", "metrics", "seed", "cv_folds", "C", "window", "ngram_max", "min_df",
    "class_weight", "calibration", "calibration_folds", "target_features", "per_target", "lexicon", "negation",
    "char_ngram_min", "char_ngram_max", "char_scope", "block_weights", "social_tokens", "target_scope", "roles",
    "source_weights", "targets",
)


def source_weight(source: str, weights: dict[str, float]) -> float:
    """The weight of a labelled item from ``source`` under ``stance.source_weights``.

    A key names a source (``written``) or a source and the start of its details
    (``written:roles``, ``ungdc``); the longest key that ``source`` equals or starts with
    followed by ``:`` decides, and an item no key matches weighs 1.
    """
    best, weight = -1, 1.0
    for key, value in weights.items():
        if (source == key or source.startswith(key + ":")) and len(key) > best:
            best, weight = len(key), float(value)
    return weight


def sample_weights(examples: Sequence[LabelledExample], weights: dict[str, float]) -> np.ndarray | None:
    """One weight per example from ``stance.source_weights`` (None when every item weighs 1)."""
    if not weights:
        return None
    out = np.asarray([source_weight(e.source, weights) for e in examples])
    return None if np.all(out == 1.0) else out


def build_model(settings: StanceConfig) -> StanceClassifier:
    """An unfitted classifier configured from the ``stance`` section."""
    return StanceClassifier(
        targets=[target_spec(t) for t in settings.targets],
        window=settings.window,
        C=settings.C,
        ngram_range=(1, settings.ngram_max),
        min_df=settings.min_df,
        class_weight=settings.class_weight,
        calibration=settings.calibration,
        calibration_folds=settings.calibration_folds,
        random_state=settings.seed,
        target_features=settings.target_features,
        per_target=settings.per_target,
        lexicon=settings.lexicon,
        negation=settings.negation,
        char_ngram_range=(settings.char_ngram_min, settings.char_ngram_max) if settings.char_ngram_max else (0, 0),
        char_scope=settings.char_scope,
        block_weights=dict(settings.block_weights) or None,
        social_tokens=settings.social_tokens,
        target_scope=settings.target_scope,
        roles=settings.roles,
    )


def fit_model(settings: StanceConfig, examples: Sequence[LabelledExample]) -> StanceClassifier:
    """The classifier of ``settings`` fitted on ``examples``, weighted by ``stance.source_weights``.

    The TF-IDF model alone (no fine-tuning): what ``train_stance`` fits for ``engine: sklearn``.
    """
    return build_model(settings).fit([(e.text, e.target) for e in examples], [e.label for e in examples],
                                     sample_weight=sample_weights(examples, settings.source_weights))


def check_engine(settings: StanceConfig) -> None:
    """Raise :class:`~pipeline.errors.ConfigError` now if ``stance.engine`` cannot be trained here."""
    if settings.engine == "transformer":
        from .transformer import require, resolve_base

        require()
        resolve_base(settings.transformer.base)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


def _scores(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(y_true) | set(y_pred))
    return {
        "macro_f1": _round(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "accuracy": _round(accuracy_score(y_true, y_pred)),
    }


def cross_validate(model: StanceClassifier, examples: Sequence[LabelledExample], folds: int,
                   seed: int, weights: np.ndarray | None = None) -> dict[str, Any]:
    """Out-of-fold scores of ``model`` on ``examples`` (pure: no I/O).

    Folds are stratified by target and label when every (target, label) group has at
    least ``folds`` examples, otherwise by label, and grouped by text: a paragraph labelled
    for several targets never sits on both sides of a split. ``folds`` is lowered to the size of the
    rarest label when needed (with a warning) and the cross-validation is skipped when
    that leaves fewer than two folds. ``weights`` (one per example) weigh the training folds;
    the scores count every held-out item once.
    """
    from sklearn.base import clone
    from sklearn.metrics import precision_recall_fscore_support
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray([e.label for e in examples], dtype=object)
    pairs = [(e.text, e.target) for e in examples]
    label_sizes = Counter(y.tolist())
    rarest = min(label_sizes.values())
    if len(label_sizes) < 2 or rarest < 2:
        reason = "needs at least two labels with two examples each"
        log.warning("train_stance: no cross-validation: %s", reason)
        return {"macro_f1": None, "accuracy": None, "baseline_macro_f1": None, "cv_folds": 0,
                "cv_skipped": reason, "per_target": {}, "per_label": {}}
    k = min(folds, rarest)
    if k < folds:
        log.warning("train_stance: stance.cv_folds=%d lowered to %d: the rarest label has %d examples",
                    folds, k, rarest)
    groups = np.asarray([f"{e.target}|{e.label}" for e in examples], dtype=object)
    by_group = min(Counter(groups.tolist()).values()) >= k
    strata = groups if by_group else y
    texts = np.asarray([" ".join(e.text.split()) for e in examples], dtype=object)
    if len(set(texts.tolist())) < k:
        texts = np.arange(len(y))  # too few distinct texts to group: plain stratified folds
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    predicted = np.empty(len(y), dtype=object)
    for train_index, test_index in splitter.split(np.zeros(len(y)), strata, groups=texts):
        fold_model = clone(model).fit([pairs[i] for i in train_index], y[train_index],
                                      sample_weight=None if weights is None else weights[train_index])
        predicted[test_index] = fold_model.predict([pairs[i] for i in test_index])

    majority = label_sizes.most_common(1)[0][0]
    metrics: dict[str, Any] = dict(_scores(y.tolist(), predicted.tolist()))
    metrics["baseline_macro_f1"] = _scores(y.tolist(), [majority] * len(y))["macro_f1"]
    metrics["cv_folds"] = k
    metrics["cv_stratified_by"] = "target+label" if by_group else "label"
    metrics["cv_grouped_by"] = "text"
    per_target: dict[str, Any] = {}
    targets = np.asarray([e.target for e in examples], dtype=object)
    for target in sorted(set(targets.tolist())):
        mask = targets == target
        per_target[target] = {**_scores(y[mask].tolist(), predicted[mask].tolist()), "examples": int(mask.sum())}
    metrics["per_target"] = per_target
    precision, recall, f1, support = precision_recall_fscore_support(
        y.tolist(), predicted.tolist(), labels=list(LABELS), zero_division=0)
    metrics["per_label"] = {
        label: {"precision": _round(p), "recall": _round(r), "f1": _round(f), "count": int(s)}
        for label, p, r, f, s in zip(LABELS, precision, recall, f1, support, strict=True)
    }
    return metrics


def train(settings: StanceConfig, examples: Sequence[LabelledExample]) -> tuple[StanceClassifier, dict[str, Any]]:
    """Cross-validate, then fit on all examples; returns ``(model, metrics)`` (pure: no I/O)."""
    matchers = compile_targets(settings.targets)
    unmentioned = sum(1 for e in examples if not matchers[e.target].mentions(e.text))
    if unmentioned:
        log.warning("train_stance: %d of %d labelled texts do not mention their target by any alias; "
                    "they are used but teach the model little", unmentioned, len(examples))
    check_engine(settings)  # fail before the cross-validation, not after it
    model = build_model(settings)
    weights = sample_weights(examples, settings.source_weights)
    metrics = cross_validate(model, examples, settings.cv_folds, settings.seed, weights)
    model.fit([(e.text, e.target) for e in examples], [e.label for e in examples], sample_weight=weights)
    metrics["engine"] = settings.engine
    if settings.engine == "transformer":
        import time

        from .transformer import fine_tune

        # cross-validated above: the TF-IDF part alone (fine-tuning once per fold would cost cv_folds times more)
        metrics["cv_model"] = "sklearn"
        start = time.perf_counter()
        model.refiner_ = fine_tune([e.text for e in examples], [e.target for e in examples],
                                   [e.label for e in examples], {m.name: m for m in model.matchers_},
                                   [str(c) for c in model.classes_], settings.transformer, settings.seed)
        log.info("train_stance: transformer fine-tuned in %.0f s", time.perf_counter() - start)
    counts = label_counts(examples)
    for target, row in metrics["per_target"].items():
        row["label_counts"] = counts[target]
    metrics["label_counts"] = {label: sum(row[label] for row in counts.values()) for label in LABELS}
    metrics["examples"] = len(examples)
    metrics["unmentioned_target"] = unmentioned
    metrics["calibration"] = model.calibration_
    checklist = run_checklist(model)
    checklist.pop("failures", None)  # text; benchmarks/stance_checklist.py prints them
    metrics["checklist"] = checklist
    return model, metrics


def main(config: Config) -> None:
    """Run the ``train_stance`` stage with a validated config."""
    settings = config.stance
    check_engine(settings)
    examples = read_training(settings.train, [t.name for t in settings.targets])
    log.info("train_stance: %d labelled examples from %s", len(examples), settings.train)
    model, metrics = train(settings, examples)
    if metrics["macro_f1"] is not None:
        log.info("train_stance: %d-fold cross-validated macro-F1 %.3f (majority baseline %.3f)",
                 metrics["cv_folds"], metrics["macro_f1"], metrics["baseline_macro_f1"])
    if metrics["checklist"].get("overall") is not None:
        log.info("train_stance: behavioural tests (CheckList) pass rate %.3f (mft %.3f, inv %.3f, dir %.3f)",
                 metrics["checklist"]["overall"], *(metrics["checklist"][k]["rate"] for k in ("mft", "inv", "dir")))
    save_stance(model, settings.model, config={"stance": settings.model_dump(mode="json", include=set(TRAINING_KEYS))},
                inputs={str(path): sha256_file(path) for path in training_files(settings.train)})
    write_json(settings.metrics, metrics)
    log.info("train_stance: model saved to %s, metrics to %s", settings.model, settings.metrics)
