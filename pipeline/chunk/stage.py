"""The ``chunk`` stage: documents in, a paragraph table and a manifest out.

Output table (``chunk.output``, Parquet), one row per paragraph:

- ``doc_id`` (str), ``para_id`` (int, 0-based within the document)
- ``text``: the normalised paragraph text
- ``start``, ``end``: character offsets of the paragraph's span in the decoded source
  (for JSONL/CSV: in the text field), so ``source[start:end]`` holds its words
- ``duplicate_of``: ``"<doc_id>#<para_id>"`` of the first near-duplicate in an earlier
  document, or null
- the document's metadata: every other JSONL/CSV field, or ``source_path`` for text files, plus
  the columns of its ``chunk.metadata`` row (:mod:`pipeline.chunk.metadata`)

Manifest (``chunk.manifest``, JSON): ``counts`` (documents in = ok + skipped, paragraphs,
duplicates, dropped lines ...) and ``documents``: one entry per input document with its
``status`` (``ok`` / ``skipped``), ``reason`` when skipped, the encoding and counts; with a
metadata file, ``metadata`` (the file, its row count, the documents without a row) and
``counts.documents_without_metadata``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..config import ChunkConfig, ComputeConfig, Config
from ..distributed import dask_map
from ..errors import InputError
from ..io import ParquetBatchWriter, ensure_free_space, path_bytes, read_json, scratch_directory, write_json
from ..logs import Progress
from .batch import SegmentedBatch, document_batches, ordered_map, segment_batch
from .dedup import TokenSets, near_duplicates
from .metadata import MetadataJoin, metadata_path
from .readers import Document, iter_documents
from .segment import SegmentOptions
from .table import CORE_COLUMNS, MetaColumns, ParagraphIndex, Spool, output_tables

log = logging.getLogger(__name__)

__all__ = ["CORE_COLUMNS", "MANIFEST_VERSION", "ChunkResult", "chunk_corpus", "chunk_documents", "load_manifest",
           "main"]

MANIFEST_VERSION = 1


@dataclass
class ChunkResult:
    """The first pass over a corpus: the manifest, and what the table is written from.

    Attributes
    ----------
    manifest : dict
        The manifest (complete: counts, documents, duplicates).
    spool : Spool
        The paragraph text and document metadata, set aside in corpus order.
    index : ParagraphIndex
        Document, paragraph number and duplicate of every paragraph.
    meta_columns : MetaColumns
        The metadata fields and their column types.
    """

    manifest: dict[str, Any]
    spool: Spool
    index: ParagraphIndex
    meta_columns: MetaColumns

    def tables(self, rows: int | None = None) -> Iterator[pa.Table]:
        """The paragraph table in pieces of ``rows`` rows (default: one row group), all with one schema."""
        return output_tables(self.spool, self.index, self.meta_columns, rows)


class _Pass:
    """Running state of the first pass: everything kept per paragraph is a few numbers."""

    def __init__(self, spool: Spool) -> None:
        self.spool = spool
        self.sets = TokenSets()
        self.meta_columns = MetaColumns()
        self.entries: list[dict[str, Any]] = []
        self.totals: Counter[str] = Counter()
        self.characters = 0
        self.paragraphs = 0
        self.doc_ids: list[str] = []
        self._groups: dict[str, int] = {}
        self._doc: list[np.ndarray] = []
        self._para: list[np.ndarray] = []

    def add(self, batch: SegmentedBatch) -> None:
        self.entries.extend(batch.entries)
        self.totals.update(batch.totals)
        self.characters += batch.characters
        counts = batch.paragraph_counts
        first_doc = len(self.doc_ids)
        self.doc_ids.extend(batch.doc_ids)
        self._doc.append(np.repeat(np.arange(first_doc, len(self.doc_ids), dtype=np.int32), counts))
        offsets = np.cumsum(counts, dtype=np.int64) - counts  # first paragraph of each document
        self._para.append((np.arange(int(counts.sum())) - np.repeat(offsets, counts)).astype(np.int32))
        # Pairs within one document id are never flagged: its code is the group.
        codes = np.fromiter((self._groups.setdefault(d, len(self._groups)) for d in batch.doc_ids), dtype=np.int64,
                            count=len(batch.doc_ids))
        groups = np.repeat(codes, counts)
        rows = batch.token_rows
        self.sets.add(rows + self.paragraphs, groups[rows], batch.vocab, batch.token_ids, batch.token_indptr)
        self.spool.append(batch.paragraphs, batch.metas)
        self.meta_columns.update(batch.metas)
        self.paragraphs += batch.num_paragraphs

    def index(self, duplicate: np.ndarray) -> ParagraphIndex:
        def joined(parts: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)

        return ParagraphIndex(self.doc_ids, joined(self._doc), joined(self._para), duplicate)


def chunk_corpus(docs: Iterable[Document], cfg: ChunkConfig, n_jobs: int = 1, spool: Spool | None = None,
                 compute: ComputeConfig | None = None) -> ChunkResult:
    """Segment documents and flag duplicates: the first pass of the stage, streaming.

    Documents are read and segmented in batches (in ``n_jobs`` processes); paragraph text goes
    to ``spool`` as it comes, and only compact arrays per paragraph stay in memory. The result
    is the same for any ``n_jobs``.

    Parameters
    ----------
    docs : iterable of Document
        The input documents, in order (:func:`~pipeline.chunk.readers.iter_documents`).
    cfg : ChunkConfig
        Segmentation and duplicate settings.
    n_jobs : int
        Worker processes (joblib semantics: -1 is every core).
    spool : Spool, optional
        Where paragraph text waits for the second pass; default: in memory.
    compute : ComputeConfig, optional
        With ``engine: dask`` the batches are segmented on that Dask cluster instead of in
        ``n_jobs`` processes (:func:`~pipeline.distributed.dask_map`); the result is the same.

    Returns
    -------
    ChunkResult
        The manifest, and :meth:`ChunkResult.tables` to produce the paragraph table.
    """
    state = _Pass(spool if spool is not None else Spool())
    work = functools.partial(segment_batch, opts=SegmentOptions.from_config(cfg), dedup=cfg.dedup, read=cfg)
    try:
        with Progress("chunk", unit="doc") as bar:
            batches = document_batches(docs)
            segmented = (dask_map(work, batches, compute) if compute is not None and compute.engine == "dask"
                         else ordered_map(work, batches, n_jobs))
            for batch in segmented:
                state.add(batch)
                bar.update(len(batch.entries), paragraphs=state.paragraphs, MB=state.characters / 1e6)
        log.info("%s", bar.line())
    finally:
        state.spool.close()

    started = time.monotonic()
    duplicate = near_duplicates(state.sets.finish(), state.paragraphs, cfg.dedup, n_jobs)
    flagged = np.flatnonzero(duplicate >= 0)
    log.info("chunk: %d near-duplicates among %d paragraphs (%d compared) in %.1fs", len(flagged), state.paragraphs,
             len(state.sets), time.monotonic() - started)
    index = state.index(duplicate)
    per_doc = np.bincount(index.doc[flagged], minlength=len(state.doc_ids))
    dup_counts: Counter[str] = Counter()
    for doc_id, count in zip(state.doc_ids, per_doc.tolist(), strict=True):
        if count:
            dup_counts[doc_id] += count
    entries = state.entries
    for entry in entries:
        if entry["status"] == "ok":
            entry["duplicates"] = dup_counts.get(entry["doc_id"], 0)

    skipped = Counter(e["reason"].split(" (")[0].split(":")[0] for e in entries if e["status"] != "ok")
    counts = {
        "documents_in": len(entries),
        "documents_ok": sum(1 for e in entries if e["status"] == "ok"),
        "documents_skipped": sum(1 for e in entries if e["status"] != "ok"),
        "paragraphs": state.paragraphs,
        "duplicates": len(flagged),
        "characters": state.characters,
        "skipped_by_reason": dict(sorted(skipped.items())),
        "encodings": dict(sorted(Counter(e.get("encoding", "n/a") for e in entries).items())),
        **{k: int(v) for k, v in sorted(state.totals.items())},
    }
    manifest = {"manifest_version": MANIFEST_VERSION, "input": str(cfg.input), "counts": counts, "documents": entries}
    return ChunkResult(manifest, state.spool, index, state.meta_columns)


def chunk_documents(docs: Iterable[Document] | Any, cfg: ChunkConfig, n_jobs: int = 1) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Segment documents and flag duplicates, all in memory; no I/O besides reading ``docs``.

    The same table :func:`main` writes, as one DataFrame (for tests and small corpora).

    Returns
    -------
    (table, manifest)
        The paragraph table and the manifest dictionary.
    """
    result = chunk_corpus(docs, cfg, n_jobs)
    tables = list(result.tables())
    if not tables:
        empty = {name: pd.array([], dtype="string") for name in CORE_COLUMNS}
        empty.update(para_id=np.zeros(0, np.int32), start=np.zeros(0, np.int64), end=np.zeros(0, np.int64))
        return pd.DataFrame({name: empty[name] for name in CORE_COLUMNS}), result.manifest
    return pa.concat_tables(tables).to_pandas(), result.manifest


def main(config: Config) -> None:
    """Run the ``chunk`` stage: read ``chunk.input``, write ``chunk.output`` and ``chunk.manifest``.

    Two passes: documents are segmented in batches (``compute.n_jobs`` processes) with the text
    set aside in a scratch directory beside the output; after duplicates are found the table is
    written row group by row group. Memory does not grow with the corpus's text.
    """
    cfg = config.chunk
    started = time.monotonic()
    # The Parquet table (zstd) is smaller than the text it holds; gzip inputs expand about 4x.
    # The text is written twice: to the scratch spool, then to the table.
    size = path_bytes(cfg.input)
    ensure_free_space(cfg.output, 2 * size * (4 if str(cfg.input).endswith(".gz") else 1), "chunk.output")
    meta_file = metadata_path(cfg.metadata, cfg.input)
    join = MetadataJoin(meta_file) if meta_file is not None else None  # a bad file fails before any work
    with scratch_directory(cfg.output) as scratch:
        docs = iter_documents(cfg, defer=True)  # PDF and HTML files are read in the batch workers
        if join is not None:
            docs = join.join(docs)
        result = chunk_corpus(docs, cfg, config.compute.n_jobs, Spool(scratch), compute=config.compute)
        manifest = result.manifest
        counts = manifest["counts"]
        if join is not None:
            manifest["metadata"] = join.finish()  # ids that match no document fail here, before the table is written
            counts["documents_without_metadata"] = len(manifest["metadata"]["documents_without_metadata"])
            log.info("chunk: metadata from %s joined onto %d of %d documents", meta_file,
                     counts["documents_ok"] - counts["documents_without_metadata"], counts["documents_ok"])
        if counts["documents_ok"] == 0:
            write_json(cfg.manifest, manifest)
            reasons = ", ".join(f"{k}: {v}" for k, v in counts["skipped_by_reason"].items())
            raise InputError(f"{cfg.input}: no usable documents ({counts['documents_in']} skipped: {reasons}); see {cfg.manifest}")
        with ParquetBatchWriter(cfg.output) as sink, \
                Progress("chunk: writing", unit="paragraph", total=counts["paragraphs"]) as bar:
            for table in result.tables():
                sink.write(table)
                bar.update(table.num_rows)
    write_json(cfg.manifest, manifest)
    elapsed = time.monotonic() - started
    log.info(
        "chunk: %d documents (%d skipped) -> %d paragraphs (%d near-duplicates) in %.1fs (%.2f MB/s); wrote %s",
        counts["documents_in"], counts["documents_skipped"], counts["paragraphs"], counts["duplicates"],
        elapsed, counts["characters"] / 1e6 / max(elapsed, 1e-9), cfg.output,
    )


def load_manifest(path: str) -> dict[str, Any]:
    """Read a manifest written by this stage and check that it is one."""
    data = read_json(path)
    if not isinstance(data, dict) or "documents" not in data or "counts" not in data:
        raise InputError(f"{path}: not a chunk manifest (no documents/counts)")
    return data
