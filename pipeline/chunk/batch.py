"""Segment documents batch by batch, in worker processes when ``compute.n_jobs`` asks for them.

A batch is a run of consecutive input documents (:func:`document_batches`). Each is turned
into a :class:`SegmentedBatch` by :func:`segment_batch`, a pure function of the batch and the
settings, so the result does not depend on which process ran it;
:func:`~pipeline.parallel.ordered_map` (re-exported here) hands the batches to joblib and yields
the results in input order. Together: the same paragraph table for any ``n_jobs``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from ..config import ChunkConfig, DedupConfig
from ..parallel import effective_jobs, ordered_map
from .dedup import local_token_sets
from .readers import Document, load_deferred
from .segment import SegmentOptions, SegmentStats, segment_document

__all__ = ["PARAGRAPH_SCHEMA", "SegmentedBatch", "document_batches", "effective_jobs", "ordered_map",
           "plain", "segment_batch"]

#: a batch ends after this many characters of text ...
BATCH_CHARS = 2_000_000
#: ... or this many documents
BATCH_DOCS = 1000
#: what an unread (deferred) PDF or HTML file counts for in a batch, so that a few go to each worker
DEFERRED_CHARS = BATCH_CHARS // 16

#: the paragraph columns a batch carries (``doc_id`` and ``para_id`` are rebuilt from the counts)
PARAGRAPH_SCHEMA = pa.schema([("text", pa.large_string()), ("start", pa.int64()), ("end", pa.int64())])


@dataclass
class SegmentedBatch:
    """What one batch of documents turned into.

    Attributes
    ----------
    entries : list of dict
        One manifest entry per input document, in order (``duplicates`` is added later).
    totals : Counter
        Dropped lines, boilerplate, headings ... summed over the batch.
    characters : int
        Characters of the usable documents.
    doc_ids, metas : list
        Id and metadata (dicts and lists as JSON text) of each document that kept paragraphs.
    paragraph_counts : ndarray of int32
        Paragraphs of each of those documents.
    paragraphs : pyarrow.Table
        ``text``, ``start``, ``end`` of every paragraph, document after document.
    token_rows, vocab, token_ids, token_indptr
        Content-word sets of the paragraphs that can be flagged as duplicates
        (:func:`~pipeline.chunk.dedup.local_token_sets`; rows index ``paragraphs``).
    """

    entries: list[dict[str, Any]] = field(default_factory=list)
    totals: Counter[str] = field(default_factory=Counter)
    characters: int = 0
    doc_ids: list[str] = field(default_factory=list)
    metas: list[dict[str, Any]] = field(default_factory=list)
    paragraph_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    paragraphs: pa.Table = field(default_factory=PARAGRAPH_SCHEMA.empty_table)
    token_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    vocab: list[str] = field(default_factory=list)
    token_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    token_indptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))

    @property
    def num_paragraphs(self) -> int:
        return self.paragraphs.num_rows


def plain(value: Any) -> Any:
    """A metadata value as stored: dicts and lists become JSON text."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def segment_batch(docs: list[Document], opts: SegmentOptions, dedup: DedupConfig,
                  read: ChunkConfig | None = None) -> SegmentedBatch:
    """Segment a batch of documents and compute the content-word sets of their paragraphs.

    Parameters
    ----------
    docs : list of Document
        Consecutive input documents, usable or skipped.
    opts : SegmentOptions
        Segmentation settings.
    dedup : DedupConfig
        ``enabled`` and ``min_chars`` decide which paragraphs get content-word sets.
    read : ChunkConfig, optional
        Reader settings for ``deferred`` documents (PDF, HTML), which are read here, in the worker.
    """
    out = SegmentedBatch()
    texts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    counts: list[int] = []
    for doc in docs:
        if doc.deferred is not None:
            if read is None:
                raise ValueError("segment_batch: deferred documents need the reader settings (read=)")
            doc = load_deferred(doc, read)
        entry: dict[str, Any] = {"doc_id": doc.doc_id, "source": doc.source, "status": doc.status}
        if doc.encoding:
            entry["encoding"] = doc.encoding
        if doc.extraction:
            entry["extraction"] = doc.extraction
        if doc.status != "ok":
            entry["reason"] = doc.reason
            out.entries.append(entry)
            continue
        assert doc.text is not None
        stats = SegmentStats()
        paragraphs = segment_document(doc.text, opts, stats)
        out.characters += len(doc.text)
        entry.update(
            chars=len(doc.text),
            paragraphs=len(paragraphs),
            layout="wrapped" if stats.wrapped else "lines",
            dropped_lines=stats.noise_lines,
            dropped_boilerplate=stats.boilerplate_dropped,
            headings=stats.headings,
            split=stats.split_paragraphs,
        )
        out.totals["dropped_lines"] += stats.noise_lines
        out.totals["dropped_boilerplate"] += stats.boilerplate_dropped
        out.totals["headings"] += stats.headings
        out.totals["split_paragraphs"] += stats.split_paragraphs
        out.totals["short_dropped"] += stats.short_dropped
        if not paragraphs:
            entry["status"] = "skipped"
            entry["reason"] = "no paragraphs left after dropping page furniture and boilerplate"
            out.entries.append(entry)
            continue
        out.doc_ids.append(doc.doc_id)
        out.metas.append({key: plain(value) for key, value in doc.meta.items()})
        counts.append(len(paragraphs))
        for para in paragraphs:
            texts.append(para.text)
            starts.append(para.start)
            ends.append(para.end)
        out.entries.append(entry)
    out.paragraph_counts = np.asarray(counts, dtype=np.int32)
    out.paragraphs = pa.table(
        [pa.array(texts, pa.large_string()), pa.array(starts, pa.int64()), pa.array(ends, pa.int64())],
        schema=PARAGRAPH_SCHEMA,
    )
    if dedup.enabled:
        out.token_rows, out.vocab, out.token_ids, out.token_indptr = local_token_sets(texts, dedup)
    return out


def document_batches(docs: Iterable[Document], max_chars: int | None = None,
                     max_docs: int | None = None) -> Iterator[list[Document]]:
    """Consecutive documents in lists of at most ``max_docs`` documents or about ``max_chars`` characters.

    The defaults are :data:`BATCH_CHARS` and :data:`BATCH_DOCS`. How documents are batched
    changes how work is shared out, never the result.
    """
    max_chars = BATCH_CHARS if max_chars is None else max_chars
    max_docs = BATCH_DOCS if max_docs is None else max_docs
    batch: list[Document] = []
    chars = 0
    for doc in docs:
        batch.append(doc)
        chars += len(doc.text or "") if doc.deferred is None else DEFERRED_CHARS
        if chars >= max_chars or len(batch) >= max_docs:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch
