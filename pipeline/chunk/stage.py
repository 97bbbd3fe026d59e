"""The ``chunk`` stage: documents in, a paragraph table and a manifest out.

Output table (``chunk.output``, Parquet), one row per paragraph:

- ``doc_id`` (str), ``para_id`` (int, 0-based within the document)
- ``text``: the normalised paragraph text
- ``start``, ``end``: character offsets of the paragraph's span in the decoded source
  (for JSONL/CSV: in the text field), so ``source[start:end]`` holds its words
- ``duplicate_of``: ``"<doc_id>#<para_id>"`` of the first near-duplicate in an earlier
  document, or null
- the document's metadata: every other JSONL/CSV field, or ``source_path`` for text files

Manifest (``chunk.manifest``, JSON): ``counts`` (documents in = ok + skipped, paragraphs,
duplicates, dropped lines ...) and ``documents``: one entry per input document with its
``status`` (``ok`` / ``skipped``), ``reason`` when skipped, the encoding and counts.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..config import ChunkConfig, Config
from ..errors import InputError
from ..io import ensure_free_space, path_bytes, read_json, write_json, write_parquet
from ..logs import progress
from .dedup import find_near_duplicates
from .readers import Document, iter_documents
from .segment import SegmentOptions, SegmentStats, segment_document

log = logging.getLogger(__name__)

CORE_COLUMNS = ("doc_id", "para_id", "text", "start", "end", "duplicate_of")
MANIFEST_VERSION = 1


def chunk_documents(docs: list[Document] | Any, cfg: ChunkConfig) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Segment documents and flag duplicates; no I/O besides reading ``docs``.

    Returns
    -------
    (table, manifest)
        The paragraph table and the manifest dictionary.
    """
    opts = SegmentOptions.from_config(cfg)
    doc_ids: list[str] = []
    para_ids: list[int] = []
    texts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    doc_rows: list[int] = []  # index into metas for each paragraph
    metas: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    totals: Counter[str] = Counter()
    chars = 0
    for doc in progress(docs, desc="chunk", unit="doc"):
        entry: dict[str, Any] = {"doc_id": doc.doc_id, "source": doc.source, "status": doc.status}
        if doc.encoding:
            entry["encoding"] = doc.encoding
        if doc.status != "ok":
            entry["reason"] = doc.reason
            entries.append(entry)
            continue
        assert doc.text is not None
        stats = SegmentStats()
        paragraphs = segment_document(doc.text, opts, stats)
        chars += len(doc.text)
        entry.update(
            chars=len(doc.text),
            paragraphs=len(paragraphs),
            layout="wrapped" if stats.wrapped else "lines",
            dropped_lines=stats.noise_lines,
            dropped_boilerplate=stats.boilerplate_dropped,
            headings=stats.headings,
            split=stats.split_paragraphs,
        )
        totals["dropped_lines"] += stats.noise_lines
        totals["dropped_boilerplate"] += stats.boilerplate_dropped
        totals["headings"] += stats.headings
        totals["split_paragraphs"] += stats.split_paragraphs
        totals["short_dropped"] += stats.short_dropped
        if not paragraphs:
            entry["status"] = "skipped"
            entry["reason"] = "no paragraphs left after dropping page furniture and boilerplate"
            entries.append(entry)
            continue
        metas.append(doc.meta)
        for i, para in enumerate(paragraphs):
            doc_ids.append(doc.doc_id)
            para_ids.append(i)
            texts.append(para.text)
            starts.append(para.start)
            ends.append(para.end)
            doc_rows.append(len(metas) - 1)
        entries.append(entry)

    dup_index = find_near_duplicates(texts, doc_ids, cfg.dedup)
    duplicate_of = [None if j < 0 else f"{doc_ids[j]}#{para_ids[j]}" for j in dup_index]
    dup_counts = Counter(doc_ids[i] for i in np.flatnonzero(dup_index >= 0))
    for entry in entries:
        if entry["status"] == "ok":
            entry["duplicates"] = dup_counts.get(entry["doc_id"], 0)

    table = pd.DataFrame(
        {
            "doc_id": pd.array(doc_ids, dtype="string"),
            "para_id": np.asarray(para_ids, dtype=np.int32),
            "text": pd.array(texts, dtype="string"),
            "start": np.asarray(starts, dtype=np.int64),
            "end": np.asarray(ends, dtype=np.int64),
            "duplicate_of": pd.array(duplicate_of, dtype="string"),
        }
    )
    meta_frame = _metadata_frame(metas, np.asarray(doc_rows, dtype=np.int64))
    for column in meta_frame.columns:
        table[column] = meta_frame[column].to_numpy() if len(table) else meta_frame[column]

    skipped = Counter(e["reason"].split(" (")[0].split(":")[0] for e in entries if e["status"] != "ok")
    counts = {
        "documents_in": len(entries),
        "documents_ok": sum(1 for e in entries if e["status"] == "ok"),
        "documents_skipped": sum(1 for e in entries if e["status"] != "ok"),
        "paragraphs": len(table),
        "duplicates": int((dup_index >= 0).sum()),
        "characters": chars,
        "skipped_by_reason": dict(sorted(skipped.items())),
        "encodings": dict(sorted(Counter(e.get("encoding", "n/a") for e in entries).items())),
        **{k: int(v) for k, v in sorted(totals.items())},
    }
    manifest = {"manifest_version": MANIFEST_VERSION, "input": str(cfg.input), "counts": counts, "documents": entries}
    return table, manifest


def _metadata_frame(metas: list[dict[str, Any]], rows: np.ndarray) -> pd.DataFrame:
    """Per-paragraph metadata columns with one consistent type per column."""
    keys: list[str] = []
    for meta in metas:
        for key in meta:
            if key not in keys:
                keys.append(key)
    columns: dict[str, Any] = {}
    for key in keys:
        name = f"meta_{key}" if key in CORE_COLUMNS else key
        values = [_plain(meta.get(key)) for meta in metas]
        columns[name] = _typed(values)
    frame = pd.DataFrame(columns)
    return frame.iloc[rows].reset_index(drop=True) if len(frame.columns) else pd.DataFrame(index=range(len(rows)))


def _plain(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _typed(values: list[Any]) -> pd.Series:
    """Integers, floats or booleans when every present value is one, else strings."""
    present = [v for v in values if v is not None and v != ""]
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(pd.array([None if v in (None, "") else v for v in values], dtype="boolean"))
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        series = pd.Series([np.nan if v in (None, "") else v for v in values], dtype="float64")
        if all(float(v).is_integer() for v in present):
            return series.astype("Int64")
        return series
    if present and all(isinstance(v, str) for v in present):
        numeric = pd.to_numeric(pd.Series(present), errors="coerce")
        if not numeric.isna().any() and all(v.strip() == v and v.lstrip("-").isdigit() for v in present):
            return pd.Series(pd.to_numeric(pd.Series([None if v in (None, "") else v for v in values])), dtype="Int64")
    return pd.Series(pd.array([None if v is None else str(v) for v in values], dtype="string"))


def main(config: Config) -> None:
    """Run the ``chunk`` stage: read ``chunk.input``, write ``chunk.output`` and ``chunk.manifest``."""
    cfg = config.chunk
    started = time.monotonic()
    # The Parquet table (zstd) is smaller than the text it holds; gzip inputs expand about 4x.
    size = path_bytes(cfg.input)
    ensure_free_space(cfg.output, size * (4 if str(cfg.input).endswith(".gz") else 1), "chunk.output")
    docs = iter_documents(cfg)
    table, manifest = chunk_documents(docs, cfg)
    counts = manifest["counts"]
    if counts["documents_ok"] == 0:
        write_json(cfg.manifest, manifest)
        reasons = ", ".join(f"{k}: {v}" for k, v in counts["skipped_by_reason"].items())
        raise InputError(f"{cfg.input}: no usable documents ({counts['documents_in']} skipped: {reasons}); see {cfg.manifest}")
    write_parquet(cfg.output, pa.Table.from_pandas(table, preserve_index=False))
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
