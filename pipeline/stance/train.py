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
    ``cv_folds`` (folds used), ``cv_stratified_by`` (``target+label`` or ``label``),
    ``cv_grouped_by`` (``document``), ``calibration`` (of the final model) and, with
    ``stance.label_scales: auto``, ``label_scales`` (the prior correction tuned on the out-of-fold
    predictions and applied by the saved model), ``label_scales_tuned_on`` and
    ``macro_f1_uncorrected``. Floats are rounded to 6 places. When a label has fewer than two
    examples there is no cross-validation: the scores are ``null`` and ``cv_skipped`` says why.

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
    "source_weights", "label_scales", "label_scales_source", "targets",
)


def source_weight(source: str, weights: dict[str, float]) -> float:
    """The weight of a labelled item from ``source`` under ``stance.source_weights``.

    A key names a source (``written``) or a source and the start of its details
    (``written:roles``, ``ungdc``); the longest key that ``source`` equals or starts with
    followed by ``:`` decides, and an item no key matches weighs 1.
    """
    best, weight = -1, 1.0
    for key, value in weights.items():
        if source_matches(source, key) and len(key) > best:
            best, weight = len(key), float(value)
    return weight


def source_matches(source: str, key: str) -> bool:
    """Whether ``source`` is ``key`` or starts with ``key`` followed by ``:`` (``written:roles`` matches
    ``written``)."""
    return source == key or source.startswith(key + ":")


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
        label_scales=fixed_scales(settings),
    )


def fit_model(settings: StanceConfig, examples: Sequence[LabelledExample]) -> StanceClassifier:
    """The classifier of ``settings`` fitted on ``examples``, weighted by ``stance.source_weights``.

    The TF-IDF model alone (no fine-tuning): what ``train_stance`` fits for ``engine: sklearn``,
    including the prior correction ``stance.label_scales`` (``auto``: tuned by a cross-validation first).
    """
    weights = sample_weights(examples, settings.source_weights)
    model = build_model(settings)
    if settings.label_scales == "auto":
        metrics = cross_validate(model, examples, settings.cv_folds, settings.seed, weights,
                                 tune_scales_on=scales_tuned_on(settings))
        model.set_params(label_scales=metrics.get("label_scales"))
    return model.fit([(e.text, e.target) for e in examples], [e.label for e in examples], sample_weight=weights)


def fixed_scales(settings: StanceConfig) -> dict[str, float] | None:
    """``stance.label_scales`` when it is given as numbers, else None (``auto`` is tuned, ``none`` is off)."""
    return dict(settings.label_scales) if isinstance(settings.label_scales, dict) else None


def scales_tuned_on(settings: StanceConfig) -> str | None | bool:
    """``cross_validate``'s ``tune_scales_on`` for ``settings``: the source to tune on with
    ``label_scales: auto``, else False (no tuning)."""
    return settings.label_scales_source if settings.label_scales == "auto" else False


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


#: the values ``stance.label_scales: auto`` tries for each label (the most frequent label keeps 1)
SCALE_GRID = tuple(round(0.5 + 0.1 * i, 1) for i in range(21))
#: ... and keeps the scales nearest 1 whose out-of-fold macro-F1 is within this of the best
SCALE_TOLERANCE = 0.005


def document_of(example: LabelledExample) -> str:
    """The document an item comes from, for grouped folds: its ``source`` without a final paragraph
    number (``ungdc:70:AFG:18`` -> ``ungdc:70:AFG``), else its text (items of a category such as
    ``written:speech`` are independent texts)."""
    parts = example.source.split(":")
    if len(parts) >= 3 and parts[-1].isdigit():
        return ":".join(parts[:-1])
    return "text:" + " ".join(example.text.split())


def tune_label_scales(proba: np.ndarray, classes: Sequence[str], y: Sequence[str],
                      grid: Sequence[float] = SCALE_GRID, tolerance: float = SCALE_TOLERANCE) -> dict[str, float]:
    """The prior correction that maximises macro-F1 of ``argmax(rescale(proba))`` against ``y``.

    ``proba`` holds out-of-fold probabilities (columns in ``classes`` order). The most frequent
    label of ``y`` keeps scale 1 and every other label tries each value of ``grid``. The scores are
    flat near their top, so, as with the one-standard-error rule, the scales nearest 1 (smallest sum
    of ``|log scale|``) whose macro-F1 is within ``tolerance`` of the best are chosen: no evidence
    means no change, and a small gain does not buy a large shift.
    """
    from itertools import product

    from sklearn.metrics import f1_score

    classes = [str(c) for c in classes]
    codes = {c: i for i, c in enumerate(classes)}
    truth = np.asarray([codes[label] for label in y], dtype=np.int64)
    reference = Counter(str(label) for label in y).most_common(1)[0][0]
    free = [c for c in classes if c != reference]
    logp = np.log(np.clip(proba, 1e-300, None))
    tried = []
    for values in product(grid, repeat=len(free)):
        scales = dict(zip(free, values, strict=True))
        shift = np.asarray([np.log(scales.get(c, 1.0)) for c in classes])
        score = float(f1_score(truth, np.argmax(logp + shift, axis=1), labels=list(range(len(classes))),
                               average="macro", zero_division=0))
        tried.append((round(float(np.abs(shift).sum()), 12), -score, values))
    best = max(-t[1] for t in tried)
    _, _, values = min(t for t in tried if -t[1] >= best - tolerance)
    chosen = dict(zip(free, values, strict=True))
    return {c: float(chosen.get(c, 1.0)) for c in classes}


def cross_validate(model: StanceClassifier, examples: Sequence[LabelledExample], folds: int,
                   seed: int, weights: np.ndarray | None = None, *, tune_scales_on: str | None | bool = False,
                   ) -> dict[str, Any]:
    """Out-of-fold scores of ``model`` on ``examples`` (pure: no I/O).

    Folds are stratified by target and label when every (target, label) group has at
    least ``folds`` examples, otherwise by label, and grouped by document (:func:`document_of`):
    paragraphs of one speech, or one paragraph labelled for several targets, never sit on both
    sides of a split. ``folds`` is lowered to the size of the rarest label when needed (with a
    warning) and the cross-validation is skipped when that leaves fewer than two folds. ``weights``
    (one per example) weigh the training folds; the scores count every held-out item once.

    ``tune_scales_on`` (a source key as in ``stance.source_weights``, such as ``"ungdc"``; None:
    every item; False: no tuning) tunes the prior correction (:func:`tune_label_scales`) on the
    out-of-fold probabilities of the items from that source (all items when fewer than 100 are):
    the result is ``label_scales`` and the scores are those of the corrected predictions
    (``macro_f1_uncorrected`` keeps the plain ones). The correction is tuned on the same predictions
    it is scored on, so those scores are slightly optimistic.
    """
    from sklearn.base import clone
    from sklearn.metrics import precision_recall_fscore_support
    from sklearn.model_selection import StratifiedGroupKFold

    from .model import rescale

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
    documents = np.asarray([document_of(e) for e in examples], dtype=object)
    if len(set(documents.tolist())) < k:
        documents = np.arange(len(y))  # too few distinct documents to group: plain stratified folds
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    classes = sorted(label_sizes)
    proba = np.zeros((len(y), len(classes)))
    for train_index, test_index in splitter.split(np.zeros(len(y)), strata, groups=documents):
        fold_model = clone(model).fit([pairs[i] for i in train_index], y[train_index],
                                      sample_weight=None if weights is None else weights[train_index])
        columns = [classes.index(str(c)) for c in fold_model.classes_]
        proba[np.ix_(test_index, columns)] = fold_model.predict_proba([pairs[i] for i in test_index])
    predicted = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
    tuning: dict[str, Any] = {}
    if tune_scales_on is not False:
        chosen = np.asarray([tune_scales_on is None or source_matches(e.source, tune_scales_on)
                             for e in examples])
        if chosen.sum() < 100:
            chosen[:] = True
        scales = tune_label_scales(proba[chosen], classes, y[chosen].tolist())
        tuning = {"label_scales": scales, "label_scales_tuned_on": int(chosen.sum()),
                  "macro_f1_uncorrected": _scores(y.tolist(), predicted.tolist())["macro_f1"]}
        predicted = np.asarray(classes, dtype=object)[np.argmax(rescale(proba, classes, scales), axis=1)]
        log.info("train_stance: prior correction %s tuned on %d out-of-fold predictions",
                 ", ".join(f"{c} x{v:g}" for c, v in scales.items()), int(chosen.sum()))

    majority = label_sizes.most_common(1)[0][0]
    metrics: dict[str, Any] = dict(_scores(y.tolist(), predicted.tolist()))
    metrics["baseline_macro_f1"] = _scores(y.tolist(), [majority] * len(y))["macro_f1"]
    metrics["cv_folds"] = k
    metrics["cv_stratified_by"] = "target+label" if by_group else "label"
    metrics["cv_grouped_by"] = "document"
    metrics.update(tuning)
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
    metrics = cross_validate(model, examples, settings.cv_folds, settings.seed, weights,
                             tune_scales_on=scales_tuned_on(settings))
    if settings.label_scales == "auto":
        model.set_params(label_scales=metrics.get("label_scales"))
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
