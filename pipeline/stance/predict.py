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

The stage streams: it reads ``doc_id``, ``para_id`` and ``text`` of ``stance.batch_size``
paragraphs at a time from the Parquet table, classifies each batch in ``compute.n_jobs``
worker processes (in this one with a single batch), appends its rows to ``stance.output``
(row groups of 50,000 rows) and counts them into the summary, so memory does not grow with
the table. With ``compute.engine: dask`` the workers of a Dask cluster read the table
themselves, ``compute.partition_rows`` paragraphs per partition, and classify them; this process
only writes and counts. The stage is :func:`classify_partition` (pure), mapped over the table by
:func:`pipeline.engine.map_frames`, with :class:`SummaryCounts` as its fold. The tables do not depend on
the engine, ``n_jobs``, the batch size or the partitions, and are byte for byte those of
:func:`classify_paragraphs` and :func:`summarize` on the whole table.

Every paragraph is classified, including those flagged ``duplicate_of`` (filter on the
paragraph table to drop them). The targets in the config must be those the model was
trained with; otherwise the stage stops and asks for ``train_stance`` to run again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import ComputeConfig, Config
from ..engine import map_frames, require_columns, write_frames
from ..errors import ConfigError
from ..io import ParquetBatchWriter, ensure_free_space, path_bytes, read_parquet, write_parquet
from ..paragraphs import ParagraphSource
from .model import LABELS, NONE_LABEL, StanceClassifier
from .storage import load_stance_artifact
from .targets import target_spec

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("doc_id", "para_id", "text")
OUTPUT_LABELS = (*LABELS, NONE_LABEL)
#: rows per row group of ``stance.output``, as :func:`~pipeline.io.write_parquet` writes them
ROW_GROUP_ROWS = 50_000


def classify_partition(frame: pd.DataFrame, model: StanceClassifier, targets: Sequence[str]) -> pd.DataFrame:
    """The ``stance.output`` rows of some paragraphs (``doc_id``, ``para_id``, ``text``): the stage's pure function.

    Every paragraph x every target, in paragraph order then target order, through
    :meth:`StanceClassifier.analyze`. :func:`pipeline.engine.map_frames` maps it over the table
    (batches in worker processes, or partitions on Dask workers); :func:`classify_paragraphs`
    and :meth:`pipeline.Bundle.analyze` call it too.
    """
    targets = list(targets)
    texts = _texts(frame["text"])
    result = model.analyze([text for text in texts for _ in targets], targets * len(texts))
    return _rows(frame[["doc_id", "para_id"]], targets, result.labels, [result.probabilities], result.evidence,
                 [result.mentions])


def classify_paragraphs(model: StanceClassifier, paragraphs: pd.DataFrame, targets: Sequence[str],
                        batch_size: int = 2000, n_jobs: int = 1) -> pd.DataFrame:
    """Stance rows for every paragraph x target of an in-memory table (pure: no I/O).

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
    source = ParagraphSource(paragraphs, batch_size)
    frames = list(map_frames(classify_partition, source, REQUIRED_COLUMNS, batch_size=batch_size,
                             args=(model, list(targets)), n_jobs=n_jobs, desc="stance"))
    if not frames:
        return classify_partition(paragraphs[list(REQUIRED_COLUMNS)], model, targets)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _texts(text: pd.Series) -> list[str]:
    """Paragraph texts as a list of str (missing texts as ``""``)."""
    return text.astype(object).where(text.notna(), "").tolist()


def _rows(ids: pd.DataFrame, targets: list[str], labels: list[str], probabilities: list[np.ndarray],
          evidence: list[str], mentions: list[np.ndarray]) -> pd.DataFrame:
    """The ``stance.output`` rows of the paragraphs ``ids`` (``doc_id``, ``para_id``) from their analyses."""
    n = len(ids)
    proba = np.vstack(probabilities) if probabilities else np.zeros((0, len(LABELS)))
    k = len(targets)
    rows = pd.DataFrame({
        "doc_id": np.repeat(ids["doc_id"].to_numpy(), k),
        "para_id": np.repeat(ids["para_id"].to_numpy(), k),
        "target": pd.array(targets * n, dtype="string"),
        "label": pd.array(labels, dtype="string"),
        "p_favor": proba[:, LABELS.index("favor")],
        "p_against": proba[:, LABELS.index("against")],
        "p_neutral": proba[:, LABELS.index("neutral")],
        "evidence": pd.array(evidence, dtype="string"),
        "mentions": (np.concatenate(mentions) if mentions else np.zeros(0, dtype=np.int64)).astype(np.int32),
    })
    rows["doc_id"] = rows["doc_id"].astype(ids["doc_id"].dtype)
    rows["para_id"] = rows["para_id"].astype(ids["para_id"].dtype)
    return rows


class SummaryCounts:
    """The ``stance.summary`` table, counted batch by batch (equal to :func:`summarize` of all the rows)."""

    def __init__(self, targets: Sequence[str]) -> None:
        self.targets = list(targets)
        self._docs: dict[Any, int] = {}
        self._dtype: Any = None
        self._counts = np.zeros((0, len(self.targets), len(OUTPUT_LABELS)), dtype=np.int64)
        self.labels = np.zeros(len(OUTPUT_LABELS), dtype=np.int64)  # rows per label, all documents

    def add(self, rows: pd.DataFrame) -> None:
        """Count ``rows``: output rows of whole paragraphs, every target in order (as :func:`_rows` makes)."""
        k = len(self.targets)
        if self._dtype is None:
            self._dtype = rows["doc_id"].dtype
        if rows.empty:
            return
        if rows["target"].iloc[:k].tolist() != self.targets:
            raise ValueError("rows must hold every target of each paragraph, in order")
        codes = pd.Categorical(rows["label"].astype(object), categories=list(OUTPUT_LABELS)).codes
        if (codes < 0).any():
            raise ValueError(f"unknown stance label(s): {sorted(set(rows['label'][codes < 0]))}")
        self.labels += np.bincount(codes, minlength=len(OUTPUT_LABELS))
        codes = codes.reshape(-1, k)
        doc_ids = rows["doc_id"].iloc[::k]
        keep = doc_ids.notna().to_numpy()  # like crosstab, rows without a document are not counted
        index = np.fromiter((self._docs.setdefault(d, len(self._docs)) for d in doc_ids[keep].tolist()),
                            dtype=np.int64, count=int(keep.sum()))
        if len(self._docs) > len(self._counts):
            grown = np.zeros((max(len(self._docs), 2 * len(self._counts)), *self._counts.shape[1:]), dtype=np.int64)
            grown[:len(self._counts)] = self._counts
            self._counts = grown
        np.add.at(self._counts, (index[:, None], np.arange(k)[None, :], codes[keep]), 1)

    def table(self) -> pd.DataFrame:
        """The summary: documents in order of first appearance, targets in configured order."""
        n, k = len(self._docs), len(self.targets)
        counts = self._counts[:n].reshape(n * k, len(OUTPUT_LABELS))
        summary = pd.DataFrame({
            "doc_id": pd.Series(np.repeat(np.array(list(self._docs), dtype=object), k), dtype=object),
            "target": pd.array(self.targets * n, dtype="string"),
            "paragraphs": counts.sum(axis=1).astype("int64"),
            **{label: counts[:, j].astype("int64") for j, label in enumerate(OUTPUT_LABELS)},
        })
        summary["doc_id"] = summary["doc_id"].astype(self._dtype if self._dtype is not None else object)
        return summary


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Per document and target: paragraph count and the count of each label (pure).

    ``rows`` as :func:`classify_paragraphs` gives them (every target of each paragraph, in
    order); the same table :class:`SummaryCounts` counts batch by batch.
    """
    counts = SummaryCounts(list(pd.unique(rows["target"].astype(object))))
    counts.add(rows)
    return counts.table()


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
    source = ParagraphSource(settings.input, settings.batch_size)
    require_columns(source, REQUIRED_COLUMNS, settings.input)
    log.info("stance: %d paragraphs x %d targets", source.num_rows, len(targets))
    if source.num_rows == 0:
        log.warning("stance: %s holds no paragraphs; writing empty tables", settings.input)
        rows = classify_paragraphs(model, read_parquet(settings.input, list(REQUIRED_COLUMNS)), targets)
        write_parquet(settings.output, rows)
        write_parquet(settings.summary, summarize(rows))
        found, summary_rows = dict.fromkeys(OUTPUT_LABELS, 0), 0
    else:
        n_jobs = config.compute.n_jobs
        if getattr(model, "refiner_", None) is not None and config.compute.engine == "local":
            # one process on torch threads: as fast as workers on large batches (3 times faster on small
            # ones), and the model is not copied into every worker process
            from .transformer import use_threads

            use_threads(settings.transformer.threads)
            log.info("stance: transformer engine: classifying in this process with %d torch threads "
                     "(stance.transformer.threads; compute.n_jobs is not used)", settings.transformer.threads)
            n_jobs = 1
        found, summary_rows = write_stance(model, source, targets, settings.output, settings.summary,
                                           settings.batch_size, n_jobs, config.compute)
    log.info("stance: wrote %d rows to %s (%s) and %d summary rows to %s", source.num_rows * len(targets),
             settings.output, ", ".join(f"{label} {found[label]}" for label in OUTPUT_LABELS), summary_rows,
             settings.summary)


def write_stance(model: StanceClassifier, source: ParagraphSource, targets: Sequence[str], output: Path | str,
                 summary: Path | str, batch_size: int = 2000, n_jobs: int = 1,
                 compute: ComputeConfig | None = None) -> tuple[dict[str, int], int]:
    """Classify ``source`` batch by batch and write ``stance.output`` and ``stance.summary``.

    The paragraphs are read (``doc_id``, ``para_id``, ``text`` only) and classified
    ``batch_size`` at a time; their rows go to ``output`` in row groups of
    :data:`ROW_GROUP_ROWS`, and the summary is counted as they pass, so only a few batches
    are in memory at once. With ``compute.engine: dask`` and a Parquet ``source``, Dask
    workers read and classify partitions of the table instead (:func:`pipeline.engine.map_frames`).
    The files are those :func:`classify_paragraphs`, :func:`summarize` and
    :func:`~pipeline.io.write_parquet` give (byte for byte), whatever the engine. ``source``
    must hold at least one paragraph.

    Returns
    -------
    found : dict
        Output rows per label.
    summary_rows : int
        Rows written to ``summary``.
    """
    targets = list(targets)
    counts = SummaryCounts(targets)
    frames = map_frames(classify_partition, source, REQUIRED_COLUMNS, batch_size=batch_size, args=(model, targets),
                        n_jobs=n_jobs, compute=compute, desc="stance")
    with ParquetBatchWriter(output) as sink:
        write_frames(frames, sink, row_group_rows=ROW_GROUP_ROWS, folds=[counts])
    table = counts.table()
    write_parquet(summary, table)
    return {label: int(n) for label, n in zip(OUTPUT_LABELS, counts.labels, strict=True)}, len(table)
