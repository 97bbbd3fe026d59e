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
themselves, ``compute.partition_rows`` paragraphs per partition, and classify them
(:func:`classify_partition`); this process only writes and counts. The tables do not depend on
the engine, ``n_jobs``, the batch size or the partitions, and are byte for byte those of
:func:`classify_paragraphs` and :func:`summarize` on the whole table.

Every paragraph is classified, including those flagged ``duplicate_of`` (filter on the
paragraph table to drop them). The targets in the config must be those the model was
trained with; otherwise the stage stops and asks for ``train_stance`` to run again.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import ComputeConfig, Config
from ..errors import ConfigError, DataError
from ..io import ParquetBatchWriter, ensure_free_space, path_bytes, read_parquet, write_parquet
from ..logs import progress
from ..paragraphs import ParagraphSource
from ..parallel import ordered_map
from .model import LABELS, NONE_LABEL, StanceAnalysis, StanceClassifier, load_stance_artifact
from .targets import target_spec

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("doc_id", "para_id", "text")
OUTPUT_LABELS = (*LABELS, NONE_LABEL)
#: rows per row group of ``stance.output``, as :func:`~pipeline.io.write_parquet` writes them
ROW_GROUP_ROWS = 50_000


def _analyze_batch(model: StanceClassifier, targets: list[str], batch: list[str]) -> StanceAnalysis:
    """:meth:`StanceClassifier.analyze` of every paragraph of ``batch`` x every target (for workers too)."""
    return model.analyze([text for text in batch for _ in targets], targets * len(batch))


def classify_partition(frame: pd.DataFrame, model: StanceClassifier, targets: Sequence[str]) -> pd.DataFrame:
    """The ``stance.output`` rows of one partition of paragraphs (``doc_id``, ``para_id``, ``text``); pure.

    What a Dask worker runs over its part of the paragraph table: the rows equal those of
    :func:`classify_paragraphs` for the same paragraphs.
    """
    targets = list(targets)
    result = _analyze_batch(model, targets, _texts(frame["text"]))
    return _rows(frame[["doc_id", "para_id"]], targets, result.labels, [result.probabilities], result.evidence,
                 [result.mentions])


def classify_partitions(model: StanceClassifier, path: Path, num_rows: int, targets: Sequence[str],
                        compute: ComputeConfig, align: int) -> Iterator[pd.DataFrame]:
    """:func:`classify_partition` of every partition of the Parquet table at ``path``, on Dask workers, in order.

    Partitions hold about ``compute.partition_rows`` paragraphs (whole multiples of ``align``);
    the workers read them from ``path`` themselves, and the model is sent to each worker once.
    """
    from ..distributed import map_parquet, read_rows, row_ranges

    ranges = row_ranges(num_rows, compute.partition_rows, align=align)
    func = partial(classify_partition, targets=list(targets))
    meta = func(read_rows(str(path), (0, 0), REQUIRED_COLUMNS), model)
    frames = map_parquet(func, path, REQUIRED_COLUMNS, ranges, meta, compute, model)
    yield from progress(frames, total=len(ranges), desc="stance", unit="partition")


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
    ids = paragraphs[["doc_id", "para_id"]]
    texts = _texts(paragraphs["text"])
    labels: list[str] = []
    probabilities: list[np.ndarray] = []
    evidence: list[str] = []
    mentions: list[np.ndarray] = []
    starts = range(0, len(paragraphs), batch_size)
    batches = (texts[start:start + batch_size] for start in starts)
    results = ordered_map(partial(_analyze_batch, model, targets), batches, n_jobs)
    for result in progress(results, total=len(starts), desc="stance", unit="batch"):
        labels.extend(result.labels)
        probabilities.append(result.probabilities)
        evidence.extend(result.evidence)
        mentions.append(result.mentions)
    return _rows(ids, targets, labels, probabilities, evidence, mentions)


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


def rebatch(frames: Iterable[pd.DataFrame], size: int) -> Iterator[pd.DataFrame]:
    """The rows of ``frames``, in order, as frames of exactly ``size`` rows (the last one may be shorter)."""
    pending: list[pd.DataFrame] = []
    count = 0
    for frame in frames:
        if not len(frame):
            continue
        pending.append(frame)
        count += len(frame)
        while count >= size:
            whole = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
            yield whole.iloc[:size].reset_index(drop=True)
            rest = whole.iloc[size:].reset_index(drop=True)
            pending, count = ([rest] if len(rest) else []), len(rest)
    if count:
        yield pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0].reset_index(drop=True)


def classify_batches(model: StanceClassifier, batches: Iterable[pd.DataFrame], targets: Sequence[str],
                     n_jobs: int = 1, total: int | None = None) -> Iterator[pd.DataFrame]:
    """:func:`classify_paragraphs` of each paragraph batch, lazily and in order.

    Each frame of ``batches`` (``doc_id``, ``para_id``, ``text``) is classified as one batch, in
    ``n_jobs`` worker processes that stay up for the whole stream (at most ``2 * n_jobs``
    batches ahead of the consumer); its rows are yielded as soon as they are ready. With the
    batches of :func:`classify_paragraphs` (``batch_size`` paragraphs each), the concatenated
    frames are its table.
    """
    targets = list(targets)
    in_flight: deque[pd.DataFrame] = deque()  # ids of the batches handed out and not yet yielded

    def texts() -> Iterator[list[str]]:
        for batch in batches:
            in_flight.append(batch[["doc_id", "para_id"]])
            yield _texts(batch["text"])

    results = ordered_map(partial(_analyze_batch, model, targets), texts(), n_jobs)
    for result in progress(results, total=total, desc="stance", unit="batch"):
        yield _rows(in_flight.popleft(), targets, result.labels, [result.probabilities], result.evidence,
                    [result.mentions])


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
    source = ParagraphSource(settings.input, settings.batch_size)
    missing = [c for c in REQUIRED_COLUMNS if c not in source.columns]
    if missing:
        raise DataError(f"{settings.input}: missing column(s) {', '.join(missing)}; "
                        f"expected the paragraph table written by the chunk stage")
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
    workers read and classify partitions of the table instead (:func:`classify_partitions`).
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
    if compute is not None and compute.engine == "dask" and source.path is not None:
        classified = classify_partitions(model, source.path, source.num_rows, targets, compute, batch_size)
    else:
        batches = rebatch(source.batches(list(REQUIRED_COLUMNS)), batch_size)
        classified = classify_batches(model, batches, targets, n_jobs, -(-source.num_rows // batch_size))

    def counted() -> Iterator[pd.DataFrame]:
        for rows in classified:
            counts.add(rows)
            yield rows

    with ParquetBatchWriter(output) as sink:
        for group in rebatch(counted(), ROW_GROUP_ROWS):
            sink.write(group)
    table = counts.table()
    write_parquet(summary, table)
    return {label: int(n) for label, n in zip(OUTPUT_LABELS, counts.labels, strict=True)}, len(table)
