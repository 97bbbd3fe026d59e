"""The ``stance`` stage: the stance of every paragraph toward every target.

``python -m pipeline stance`` reads the paragraph table ``stance.input`` (``doc_id``,
``para_id``, ``text``, ...), loads the classifier at ``stance.model`` and writes:

``stance.output`` (Parquet), one row per paragraph and target, in paragraph order then
target order (``stance.targets``)
    ``doc_id``, ``para_id``, ``target``, ``label`` (``favor``, ``against``, ``neutral``, or
    ``none`` when the paragraph does not mention the target), ``p_favor``, ``p_against``,
    ``p_neutral`` (class probabilities; **NaN** for ``none`` rows, so means over a column
    skip paragraphs that do not mention the target), ``evidence`` (the sentence that
    carries the stance; ``""`` for ``none``) and ``mentions`` (how many times the paragraph
    mentions the target).
``stance.summary`` (Parquet), one row per document and target
    ``doc_id``, ``target``, ``paragraphs``, and the number of paragraphs with each label:
    ``favor``, ``against``, ``neutral``, ``none``.

Batches of ``stance.batch_size`` paragraphs are classified in ``compute.n_jobs`` worker
processes (in this one with a single batch); the tables do not depend on it.

Every paragraph is classified, including those flagged ``duplicate_of`` (filter on the
paragraph table to drop them). The targets in the config must be those the model was
trained with; otherwise the stage stops and asks for ``train_stance`` to run again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

import numpy as np
import pandas as pd

from ..config import Config
from ..errors import ConfigError, DataError
from ..io import ensure_free_space, path_bytes, read_parquet, write_parquet
from ..logs import progress
from ..parallel import ordered_map
from .model import LABELS, NONE_LABEL, StanceAnalysis, StanceClassifier, load_stance_artifact
from .targets import target_spec

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("doc_id", "para_id", "text")
OUTPUT_LABELS = (*LABELS, NONE_LABEL)


def _analyze_batch(model: StanceClassifier, targets: list[str], batch: list[str]) -> StanceAnalysis:
    """:meth:`StanceClassifier.analyze` of every paragraph of ``batch`` x every target (for workers too)."""
    return model.analyze([text for text in batch for _ in targets], targets * len(batch))


def classify_paragraphs(model: StanceClassifier, paragraphs: pd.DataFrame, targets: Sequence[str],
                        batch_size: int = 2000, n_jobs: int = 1) -> pd.DataFrame:
    """Stance rows for every paragraph x target (pure: no I/O).

    Parameters
    ----------
    model : StanceClassifier
        A fitted classifier that knows every name in ``targets``.
    paragraphs : DataFrame
        With columns ``doc_id``, ``para_id`` and ``text``.
    targets : sequence of str
        Target names, in output order.
    batch_size : int
        Paragraphs classified at a time.
    n_jobs : int, default 1
        Worker processes (``compute.n_jobs``, joblib semantics) that classify the batches; with
        a single batch, this process does. The table does not depend on it.

    Returns
    -------
    DataFrame
        The ``stance.output`` table described in the module docstring.
    """
    targets = list(targets)
    n = len(paragraphs)
    texts = paragraphs["text"].astype(object).where(paragraphs["text"].notna(), "").tolist()
    labels: list[str] = []
    probabilities: list[np.ndarray] = []
    evidence: list[str] = []
    mentions: list[np.ndarray] = []
    starts = range(0, n, batch_size)
    batches = (texts[start:start + batch_size] for start in starts)
    results = ordered_map(partial(_analyze_batch, model, targets), batches, n_jobs)
    for result in progress(results, total=len(starts), desc="stance", unit="batch"):
        labels.extend(result.labels)
        probabilities.append(result.probabilities)
        evidence.extend(result.evidence)
        mentions.append(result.mentions)
    proba = np.vstack(probabilities) if probabilities else np.zeros((0, len(LABELS)))
    k = len(targets)
    rows = pd.DataFrame({
        "doc_id": np.repeat(paragraphs["doc_id"].to_numpy(), k),
        "para_id": np.repeat(paragraphs["para_id"].to_numpy(), k),
        "target": pd.array(targets * n, dtype="string"),
        "label": pd.array(labels, dtype="string"),
        "p_favor": proba[:, LABELS.index("favor")],
        "p_against": proba[:, LABELS.index("against")],
        "p_neutral": proba[:, LABELS.index("neutral")],
        "evidence": pd.array(evidence, dtype="string"),
        "mentions": (np.concatenate(mentions) if mentions else np.zeros(0, dtype=np.int64)).astype(np.int32),
    })
    rows["doc_id"] = rows["doc_id"].astype(paragraphs["doc_id"].dtype)
    rows["para_id"] = rows["para_id"].astype(paragraphs["para_id"].dtype)
    return rows


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Per document and target: paragraph count and the count of each label (pure)."""
    if rows.empty:
        empty = {"doc_id": rows["doc_id"], "target": rows["target"], "paragraphs": pd.Series([], dtype="int64")}
        return pd.DataFrame({**empty, **{label: pd.Series([], dtype="int64") for label in OUTPUT_LABELS}})
    counts = pd.crosstab([rows["doc_id"], rows["target"]], rows["label"])
    counts = counts.reindex(columns=list(OUTPUT_LABELS), fill_value=0).astype("int64")
    counts.insert(0, "paragraphs", counts.sum(axis=1).astype("int64"))
    counts.columns.name = None
    summary = counts.reset_index()
    # keep the input's document order and the configured target order
    doc_order = {d: i for i, d in enumerate(pd.unique(rows["doc_id"]))}
    target_order = {t: i for i, t in enumerate(pd.unique(rows["target"]))}
    summary = summary.sort_values(["doc_id", "target"], key=lambda col: col.map(
        doc_order if col.name == "doc_id" else target_order)).reset_index(drop=True)
    summary["doc_id"] = summary["doc_id"].astype(rows["doc_id"].dtype)
    summary["target"] = summary["target"].astype("string")
    return summary


def _check_targets(config: Config, model: StanceClassifier) -> list[str]:
    wanted = [target_spec(t) for t in config.stance.targets]
    if wanted != list(model.target_specs_):
        trained = ", ".join(model.target_names_)
        raise ConfigError(f"stance.targets differ from those the model at {config.stance.model} was trained with "
                          f"({trained}); run train_stance again")
    return [t["name"] for t in wanted]


def main(config: Config) -> None:
    """Run the ``stance`` stage with a validated config."""
    settings = config.stance
    model, _ = load_stance_artifact(settings.model)
    targets = _check_targets(config, model)
    # One row per paragraph x target with an evidence sentence: about the paragraph table's size.
    ensure_free_space(settings.output, path_bytes(settings.input), "stance.output")
    paragraphs = read_parquet(settings.input)
    missing = [c for c in REQUIRED_COLUMNS if c not in paragraphs.columns]
    if missing:
        raise DataError(f"{settings.input}: missing column(s) {', '.join(missing)}; "
                        f"expected the paragraph table written by the chunk stage")
    log.info("stance: %d paragraphs x %d targets", len(paragraphs), len(targets))
    if paragraphs.empty:
        log.warning("stance: %s holds no paragraphs; writing empty tables", settings.input)
    rows = classify_paragraphs(model, paragraphs, targets, settings.batch_size, config.compute.n_jobs)
    summary = summarize(rows)
    write_parquet(settings.output, rows)
    write_parquet(settings.summary, summary)
    found = rows["label"].value_counts().to_dict()
    log.info("stance: wrote %d rows to %s (%s) and %d summary rows to %s", len(rows), settings.output,
             ", ".join(f"{label} {found.get(label, 0)}" for label in OUTPUT_LABELS), len(summary), settings.summary)
