"""Fit on a sample, score by partition: the topics stage's path for large tables and clusters.

Fitting LDA needs the fitting paragraphs in one place (tomotopy and gensim are
single-machine fitters); scoring a paragraph needs only the fitted model and the paragraph.
So for a table larger than the driver should hold (``topics.fit_sample``) or with
``compute.engine: dask``, the stage

1. fits on a fixed-seed random sample of at most ``topics.fit_sample`` fitting paragraphs
   (all of them when null) - :class:`SampledSource` shows the table to the usual
   tokenise-and-fit code as if it held only the sample;
2. scores every paragraph by row range (:func:`score_frame`, a pure function of a slim copy
   of the model and the paragraphs' text), in the stage's process or on Dask workers, with
   the model broadcast once to each worker.

A paragraph's row does not depend on the range it is scored in, nor on the process, so the
local and Dask engines write the same table, byte for byte.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .corpus import ParagraphSource, duplicate_flags, procedural_flags, tokenize_batch
from .estimator import TopicModel

#: the columns :func:`score_frame` reads
SCORE_COLUMNS = ("doc_id", "para_id", "text")


def fitting_rows(source: ParagraphSource, include_duplicates: bool,
                 procedural: Callable[[str], bool] | None = None) -> tuple[np.ndarray, int, int]:
    """Row numbers of the fitting paragraphs, the duplicate count and the procedural count.

    Fitting paragraphs are those not flagged as duplicates (unless included) and not found
    procedural by ``procedural`` (when given; it reads the ``text`` column).
    """
    columns = [c for c in ("duplicate_of",) if c in source.columns] + (["text"] if procedural is not None else [])
    if not columns:
        return np.arange(source.num_rows), 0, 0
    dup_parts, proc_parts = [], []
    for batch in source.batches(columns):
        dup_parts.append(duplicate_flags(batch))
        proc_parts.append(procedural_flags(batch, procedural))
    dup = np.concatenate(dup_parts) if dup_parts else np.zeros(0, dtype=bool)
    proc = np.concatenate(proc_parts) if proc_parts else np.zeros(0, dtype=bool)
    keep = ~proc if include_duplicates else ~(dup | proc)
    return np.flatnonzero(keep), int(dup.sum()), int(proc.sum())


def sample_rows(rows: np.ndarray, limit: int | None, seed: int) -> np.ndarray:
    """A sorted fixed-seed random sample of at most ``limit`` of ``rows`` (all of them when ``limit`` is None)."""
    if limit is None or len(rows) <= limit:
        return rows
    return rows[np.sort(np.random.default_rng(seed).choice(len(rows), size=limit, replace=False))]


class SampledSource(ParagraphSource):
    """Some rows of a :class:`ParagraphSource`, read batch by batch in table order.

    Batches have at most ``batch_size`` rows of the sample; the table is still read
    through once, batch by batch, so memory stays flat.
    """

    def __init__(self, source: ParagraphSource, rows: np.ndarray) -> None:  # no super(): nothing to open
        self.source = source
        self.rows = np.asarray(rows, dtype=np.int64)
        self.batch_size = source.batch_size
        self.columns = source.columns
        self.num_rows = len(self.rows)
        self.path = source.path
        self.frame = None

    def batches(self, columns: Sequence[str]) -> Iterator[Any]:
        start = 0
        for batch in self.source.batches(columns):
            stop = start + len(batch)
            lo, hi = np.searchsorted(self.rows, [start, stop])
            if hi > lo:
                yield batch.iloc[self.rows[lo:hi] - start].reset_index(drop=True)
            start = stop


def scoring_model(model: TopicModel) -> TopicModel:
    """A copy of a fitted model with only what scoring needs (small and picklable: no native model, no corpus ids)."""
    slim = copy.copy(model)
    slim.lda_ = None
    slim.dictionary_ = None
    slim.corpus_mapping_ = None
    slim._reset_cache()
    return slim


def tokenize_items(source: ParagraphSource, ranges: Sequence[tuple[int, int]]) -> list[tuple[tuple[int, int], Any]]:
    """``(row range, positions in it or None)`` covering the paragraphs of ``source``, for :func:`tokenize_range`.

    ``ranges`` split the whole table; for a :class:`SampledSource` each range carries the
    positions of its sampled rows, and ranges without one are left out.
    """
    if not isinstance(source, SampledSource):
        return [(r, None) for r in ranges]
    items = []
    for start, stop in ranges:
        lo, hi = np.searchsorted(source.rows, [start, stop])
        if hi > lo:
            items.append(((start, stop), source.rows[lo:hi] - start))
    return items


def tokenize_range(item: tuple[tuple[int, int], Any], path: str, columns: Sequence[str], tokenize: Any,
                   transform_tokens: Any, procedural: Any = None) -> tuple[list[list[str]], np.ndarray, np.ndarray]:
    """:func:`~pipeline.topics.corpus.tokenize_batch` of one item of :func:`tokenize_items`, read from ``path``.

    What a Dask worker runs to tokenise its share of the fitting paragraphs.
    """
    from ..distributed import read_rows

    rows, positions = item
    frame = read_rows(path, rows, columns)
    if positions is not None:
        frame = frame.iloc[positions].reset_index(drop=True)
    return tokenize_batch(tokenize, transform_tokens, frame, procedural)


def score_frame(frame: Any, model: TopicModel) -> Any:
    """The per-paragraph topic rows of a frame of paragraphs (``doc_id``, ``para_id``, ``text``).

    Columns as :func:`score_rows`; the same rows as the stage's single-pass scoring gives.
    """
    index = {w: i for i, w in enumerate(model.vocabulary_)}
    tokenize = model.preprocessor_.tokenize
    ids: list[int] = []
    offsets = [0]
    for text in frame["text"].tolist():
        ids.extend(i for i in (index.get(t, -1) for t in tokenize(text)) if i >= 0)
        offsets.append(len(ids))
    offsets_arr = np.asarray(offsets, dtype=np.int64)
    theta = model.transform_ids(np.asarray(ids, dtype=np.int64), offsets_arr)
    return score_rows(frame, theta, np.diff(offsets_arr))


def score_rows(ids: Any, theta: np.ndarray, n_words: np.ndarray) -> Any:
    """The ``doc_topics`` rows of paragraphs ``ids`` (``doc_id``, ``para_id``) from their topic distributions.

    Columns: ``doc_id``, ``para_id``, ``dominant_topic``, ``dominant_prob``, ``n_words`` (the
    paragraph's vocabulary words) and ``topic_0`` ... ``topic_{K-1}``. Both scoring paths
    (from the token corpus and from text) build their rows here.
    """
    import pandas as pd

    top = theta.argmax(axis=1).astype(np.int64) if len(theta) else np.zeros(0, dtype=np.int64)
    head = pd.DataFrame({
        "doc_id": ids["doc_id"].astype(str).to_numpy(),
        "para_id": ids["para_id"].to_numpy(dtype=np.int64),
        "dominant_topic": top,
        "dominant_prob": theta.max(axis=1) if len(theta) else np.zeros(0),
        "n_words": n_words,
    })
    return pd.concat([head, pd.DataFrame(theta, columns=[f"topic_{t}" for t in range(theta.shape[1])])], axis=1)


def score_meta(model: TopicModel) -> Any:
    """An empty frame with :func:`score_frame`'s columns and types (Dask's ``meta``)."""
    import pandas as pd

    empty = pd.DataFrame({"doc_id": pd.Series([], dtype=object), "para_id": pd.Series([], dtype="int64"),
                          "text": pd.Series([], dtype=object)})
    return score_frame(empty, model)
