"""Read input documents: a folder of files (``.txt``...; see :data:`FILE_READERS`), or a ``.jsonl`` / ``.csv`` file.

Every input document is yielded exactly once, either usable (``status == "ok"``) or
skipped with a reason, so the manifest can account for every input. A malformed record
in a JSONL/CSV file is an :class:`~pipeline.errors.InputError` naming the file and line,
unless ``chunk.on_bad_record`` is ``skip``.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..config import ChunkConfig
from ..errors import InputError
from .html import html_document
from .pdf import pdf_document
from .text import decode, is_blank, looks_binary

csv.field_size_limit(1 << 30)


@dataclass
class Document:
    """One input document, usable or skipped."""

    doc_id: str
    source: str
    text: str | None = None
    encoding: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"
    reason: str | None = None
    #: how a reader made ``text`` from a non-text source (PDF: library versions, SHA-256 of the text), for the manifest
    extraction: dict[str, Any] | None = None
    #: (kind, path) of a file whose reading waits for a batch worker (status ``deferred``); see :func:`load_deferred`
    deferred: tuple[str, str] | None = None

    def skip(self, reason: str) -> Document:
        self.status, self.reason, self.text = "skipped", reason, None
        return self


def _kind_of(name: str) -> str | None:
    """The file reader for a file name (``.gz`` ignored), or None."""
    name = name.lower().removesuffix(".gz")
    for kind, (suffixes, _) in FILE_READERS.items():
        if name.endswith(suffixes):
            return kind
    return None


def detect_format(path: Path, fmt: str) -> str:
    """The input format: ``files`` (a folder), a file reader's kind (``txt``...), ``jsonl`` or ``csv``."""
    if not path.exists():
        raise InputError(f"{path}: input not found (set chunk.input to a folder of documents, or a .jsonl/.csv file)")
    if fmt != "auto":
        if path.is_dir() and fmt not in FILE_READERS:
            raise InputError(f"{path}: is a folder, but chunk.format is {fmt!r}")
        return fmt
    if path.is_dir():
        return "files"
    name = path.name.lower().removesuffix(".gz")
    for suffix, kind in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "jsonl"), (".csv", "csv")):
        if name.endswith(suffix):
            return kind
    kind = _kind_of(name)
    if kind is not None:
        return kind
    raise InputError(f"{path}: cannot tell the format from the name; set chunk.format to one of "
                     f"{', '.join([*FILE_READERS, 'jsonl', 'csv'])}")


def _open_binary(path: Path) -> IO[bytes]:
    try:
        if path.name.lower().endswith(".gz"):
            return gzip.open(path, "rb")
        return open(path, "rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot open: {exc.strerror}") from None


def _read_bytes(path: Path) -> bytes:
    with _open_binary(path) as fh:
        return fh.read()


def iter_documents(cfg: ChunkConfig, defer: bool = False) -> Iterator[Document]:
    """Yield every input document of ``cfg.input`` in a stable order.

    With ``defer``, files of the kinds in :data:`DEFERRED_KINDS` (PDF, HTML: extraction is the slow part)
    are yielded unread, with status ``deferred``; the chunk stage's batch workers read them
    (:func:`load_deferred`), so extraction runs on every core. The result is the same.
    """
    path = Path(cfg.input)
    fmt = detect_format(path, cfg.format)
    if fmt == "files" or fmt in FILE_READERS:
        yield from _iter_files(path, cfg, None if fmt == "files" else fmt, defer)
    elif fmt == "jsonl":
        yield from _dedupe_ids(_iter_jsonl(path, cfg))
    else:
        yield from _dedupe_ids(_iter_csv(path, cfg))


def file_bytes(file: Path, doc: Document) -> bytes | None:
    """The bytes of a document's file (gunzipped), or None with ``doc`` skipped: unreadable or empty."""
    try:
        data = _read_bytes(file)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        doc.skip(f"unreadable file: {getattr(exc, 'strerror', None) or exc}")
        return None
    except InputError as exc:
        doc.skip(str(exc).split(": ", 1)[-1])
        return None
    if not data:
        doc.skip("empty file")
        return None
    return data


def _txt_document(file: Path, doc_id: str, source: str, cfg: ChunkConfig) -> Document:
    doc = Document(doc_id=doc_id, source=source, meta={"source_path": source})
    data = file_bytes(file, doc)
    if data is None:
        return doc
    if looks_binary(data):
        return doc.skip("binary file (NUL or control bytes)")
    text, encoding = decode(data, cfg.encoding_fallback)
    doc.encoding = encoding
    if is_blank(text) or not text.strip():
        return doc.skip("whitespace only")
    doc.text = text
    return doc


#: one document per file, by kind: (name suffixes, reader(file, doc_id, source, cfg) -> Document). A folder
#: input reads every file whose name (``.gz`` ignored) ends in one of the suffixes; ``chunk.format`` set
#: to a kind reads a single file or every file of a folder with that reader.
FILE_READERS: dict[str, tuple[tuple[str, ...], Callable[[Path, str, str, ChunkConfig], Document]]] = {
    "txt": ((".txt",), _txt_document),
    "html": ((".html", ".htm"), html_document),  # news pages: article text and metadata (chunk/html.py)
    "pdf": ((".pdf",), pdf_document),  # text layer laid out by geometry (chunk/pdf.py; pdfplumber loads lazily)
}
#: file kinds the chunk stage reads in its batch workers (``iter_documents(defer=True)``)
DEFERRED_KINDS = frozenset({"pdf", "html"})


def _read(kind: str, file: Path, doc_id: str, source: str, cfg: ChunkConfig, defer: bool) -> Document:
    if defer and kind in DEFERRED_KINDS:
        return Document(doc_id=doc_id, source=source, meta={"source_path": source}, status="deferred",
                        deferred=(kind, str(file)))
    return FILE_READERS[kind][1](file, doc_id, source, cfg)


def load_deferred(doc: Document, cfg: ChunkConfig) -> Document:
    """Read a ``deferred`` document now; metadata already joined onto it wins over what the reader found
    (except null values)."""
    if doc.deferred is None:
        return doc
    kind, path = doc.deferred
    loaded = FILE_READERS[kind][1](Path(path), doc.doc_id, doc.source, cfg)
    for key, value in doc.meta.items():
        if value is not None or key not in loaded.meta:
            loaded.meta[key] = value
    return loaded


def _iter_files(path: Path, cfg: ChunkConfig, kind: str | None, defer: bool = False) -> Iterator[Document]:
    """The documents of one file or of a folder (every file a reader takes, or only ``kind``)."""
    if path.is_file():
        stem = path.name.removesuffix(".gz").removesuffix(".GZ").rsplit(".", 1)[0]
        yield _read(kind or _kind_of(path.name) or "txt", path, stem, path.name, cfg, defer)
        return
    files = []
    for p in path.rglob("*"):
        if p.is_file():
            file_kind = _kind_of(p.name)
            if file_kind is not None and (kind is None or file_kind == kind):
                files.append((p.relative_to(path).as_posix(), p, file_kind))
    files.sort(key=lambda item: item[0])
    if not files:
        wanted = FILE_READERS[kind][0] if kind else tuple(s for suffixes, _ in FILE_READERS.values() for s in suffixes)
        raise InputError(f"{path}: folder holds no {'/'.join(wanted)} files")
    for rel, file, file_kind in files:
        name = rel.removesuffix(".gz").removesuffix(".GZ")
        suffix = next(s for s in FILE_READERS[file_kind][0] if name.lower().endswith(s))
        yield _read(file_kind, file, name[: len(name) - len(suffix)], rel, cfg, defer)


class _BadRecord(Exception):
    pass


def _bad(cfg: ChunkConfig, where: str, problem: str, doc_id: str | None = None) -> Document:
    if cfg.on_bad_record == "error":
        raise InputError(f"{where}: {problem} (set chunk.on_bad_record: skip to skip such records)")
    return Document(doc_id=doc_id or where, source=where).skip(f"malformed record: {problem}")


def _make_id(record: dict[str, Any], number: int, cfg: ChunkConfig) -> str:
    if cfg.id_template:
        try:
            return string.Formatter().vformat(cfg.id_template, (), record)
        except (KeyError, IndexError) as exc:
            raise _BadRecord(f"field {exc} used by chunk.id_template is missing") from None
        except ValueError as exc:
            raise _BadRecord(f"chunk.id_template {cfg.id_template!r}: {exc}") from None
    if cfg.id_field is None:
        return str(number)
    if cfg.id_field not in record:
        raise _BadRecord(f"missing id field {cfg.id_field!r} (set chunk.id_field or chunk.id_template)")
    value = record[cfg.id_field]
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _BadRecord(f"empty id field {cfg.id_field!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _record_document(record: dict[str, Any], number: int, where: str, encoding: str, cfg: ChunkConfig) -> Document:
    try:
        doc_id = _make_id(record, number, cfg)
    except _BadRecord as exc:
        return _bad(cfg, where, str(exc))
    if cfg.text_field not in record:
        return _bad(cfg, where, f"missing text field {cfg.text_field!r} (set chunk.text_field)", doc_id)
    text = record[cfg.text_field]
    meta = {k: v for k, v in record.items() if k not in (cfg.text_field,) and k != cfg.id_field}
    doc = Document(doc_id=doc_id, source=where, encoding=encoding, meta=meta)
    if text is None:
        return doc.skip("text is null")
    if not isinstance(text, str):
        return _bad(cfg, where, f"text field {cfg.text_field!r} is a {type(text).__name__}, expected a string", doc_id)
    if not text:
        return doc.skip("empty text")
    if is_blank(text) or not text.strip():
        return doc.skip("whitespace only")
    if "\x00" in text:
        return doc.skip("binary content (NUL characters) in text")
    doc.text = text
    return doc


def _iter_jsonl(path: Path, cfg: ChunkConfig) -> Iterator[Document]:
    count = 0
    with _open_binary(path) as fh:
        try:
            for number, raw in enumerate(fh, start=1):
                where = f"{path}:{number}"
                text, encoding = decode(raw, cfg.encoding_fallback)
                if not text.strip():
                    continue
                count += 1
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as exc:
                    yield _bad(cfg, where, f"not valid JSON ({exc.msg} at column {exc.colno})")
                    continue
                if not isinstance(record, dict):
                    yield _bad(cfg, where, f"expected a JSON object, got {type(record).__name__}")
                    continue
                yield _record_document(record, number, where, encoding, cfg)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"{path}: cannot read: {exc}") from None
    if count == 0:
        raise InputError(f"{path}: holds no records")


def _detect_stream_encoding(path: Path, fallback: str) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with _open_binary(path) as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return fallback
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    return "utf-8-sig"


def _iter_csv(path: Path, cfg: ChunkConfig) -> Iterator[Document]:
    encoding = _detect_stream_encoding(path, cfg.encoding_fallback)
    with _open_binary(path) as raw:
        stream = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        reader = csv.reader(stream, strict=True)  # an unterminated quote is an error, not a field to EOF
        try:
            header = next(reader, None)
            if header is None:
                raise InputError(f"{path}: empty CSV file")
            header = [h.strip() for h in header]
            if cfg.text_field not in header:
                raise InputError(f"{path}:1: no column {cfg.text_field!r} for chunk.text_field (columns: {', '.join(header)})")
            if cfg.id_field is not None and not cfg.id_template and cfg.id_field not in header:
                raise InputError(
                    f"{path}:1: no column {cfg.id_field!r} for chunk.id_field "
                    f"(columns: {', '.join(header)}); set chunk.id_field: null to number the rows"
                )
            start_line = reader.line_num + 1
            number = 0
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    yield _bad(cfg, f"{path}:{reader.line_num}", f"malformed CSV row ({exc})")
                    continue
                number += 1
                where = f"{path}:{start_line}"
                start_line = reader.line_num + 1
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) != len(header):
                    yield _bad(cfg, where, f"expected {len(header)} fields, got {len(row)}")
                    continue
                record = dict(zip(header, row, strict=True))
                yield _record_document(record, number, where, "utf-8" if encoding == "utf-8-sig" else encoding, cfg)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"{path}: cannot read: {exc}") from None
    if number == 0:
        raise InputError(f"{path}: holds a header but no rows")


def _dedupe_ids(docs: Iterator[Document]) -> Iterator[Document]:
    seen: dict[str, str] = {}
    for doc in docs:
        if doc.status == "ok":
            first = seen.get(doc.doc_id)
            if first is not None:
                doc.skip(f"duplicate doc_id (first at {first})")
            else:
                seen[doc.doc_id] = doc.source
        yield doc
