"""``chunk.metadata``: a CSV or JSONL file of per-document metadata, joined onto the paragraphs.

A folder of ``.txt`` files carries no date or source; a spreadsheet beside it often does. The file
has one row per document, keyed by ``doc_id`` (the document's id as the manifest shows it: the path
under ``chunk.input`` without its suffix, or the record id of a JSONL/CSV input); every other column
(date, source, url, author, country, ...) becomes a column of the paragraph table. Values from the
file take precedence over fields of the same name that a record already has.

With ``chunk.metadata: auto`` (the default) a file named ``metadata.csv`` or ``metadata.jsonl`` at the
top of a folder input is used when there is one (the folder readers never take it for a document).

A ``doc_id`` that appears twice, a row without one, or a ``doc_id`` that matches no input document
is an :class:`~pipeline.errors.InputError` naming the file and the ids; documents without a row are
counted in the manifest (``counts.documents_without_metadata``) and listed under ``metadata``.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..io import jsonl_objects
from .readers import Document
from .text import decode

KEY = "doc_id"
#: ids shown in an error message before "and N more"
_SHOWN = 10


def _shown(ids: list[str]) -> str:
    more = f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else ""
    return ", ".join(ids[:_SHOWN]) + more


def read_metadata(path: Path | str) -> dict[str, dict[str, Any]]:
    """The rows of a metadata file by ``doc_id``, in file order.

    Parameters
    ----------
    path : path-like
        A ``.csv`` or ``.jsonl`` file (optionally ``.gz``) with a ``doc_id`` column.

    Raises
    ------
    InputError
        When the file is missing or unreadable, has no ``doc_id`` column, a row without an id,
        a repeated id, or (JSONL) a line that is not a JSON object.
    """
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.name.lower().endswith(".gz") else path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: chunk.metadata file not found") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot read chunk.metadata: {getattr(exc, 'strerror', None) or exc}") from None
    text, _ = decode(raw, "cp1252")
    name = path.name.lower().removesuffix(".gz")
    rows: list[tuple[int, dict[str, Any]]] = []
    if name.endswith((".jsonl", ".ndjson")):
        rows.extend(jsonl_objects(text, path))
    elif name.endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if reader.fieldnames is None or KEY not in [f.strip() for f in reader.fieldnames]:
            raise InputError(f"{path}: chunk.metadata needs a {KEY!r} column (has: {', '.join(reader.fieldnames or [])})")
        for row in reader:
            clean = {(k or "").strip(): (v if v != "" else None) for k, v in row.items() if k is not None}
            rows.append((reader.line_num, clean))
    else:
        raise InputError(f"{path}: chunk.metadata must be a .csv or .jsonl file (optionally .gz)")
    table: dict[str, dict[str, Any]] = {}
    first_line: dict[str, int] = {}
    for number, row in rows:
        doc_id = row.pop(KEY, None)
        if doc_id is None or str(doc_id).strip() == "":
            raise InputError(f"{path}:{number}: row has no {KEY}")
        doc_id = str(doc_id).strip()
        if doc_id in table:
            raise InputError(f"{path}:{number}: duplicate {KEY} {doc_id!r} (first on line {first_line[doc_id]})")
        table[doc_id] = {k: v for k, v in row.items() if k}
        first_line[doc_id] = number
    if not table:
        raise InputError(f"{path}: chunk.metadata holds no rows")
    return table


#: the file names ``chunk.metadata: auto`` looks for at the top of a folder input
AUTO_NAMES = ("metadata.csv", "metadata.jsonl", "metadata.csv.gz", "metadata.jsonl.gz")


def metadata_path(setting: Path | str | None, input_path: Path | str) -> Path | None:
    """The metadata file to join: ``setting`` itself, or with ``auto`` a ``metadata.csv``/``.jsonl`` in the input folder."""
    if setting is None:
        return None
    if str(setting) != "auto":
        return Path(setting)
    folder = Path(input_path)
    if folder.is_dir():
        for name in AUTO_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


class MetadataJoin:
    """Join a metadata file onto documents as they stream past; :meth:`finish` checks the ids.

    Parameters
    ----------
    path : path-like
        The ``chunk.metadata`` file (read at once; it has one row per document).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.rows = read_metadata(self.path)
        self.seen: set[str] = set()
        self.without: list[str] = []

    def join(self, docs: Iterator[Document]) -> Iterator[Document]:
        """``docs`` with each one's metadata row merged into its ``meta`` (skipped documents too)."""
        for doc in docs:
            row = self.rows.get(doc.doc_id)
            self.seen.add(doc.doc_id)
            if row is None:
                if doc.status in ("ok", "deferred"):
                    self.without.append(doc.doc_id)
            else:
                for key, value in row.items():  # an empty cell does not erase what the reader found
                    if value is not None or key not in doc.meta:
                        doc.meta[key] = value
            yield doc

    def finish(self) -> dict[str, Any]:
        """The manifest's ``metadata`` entry, once every document has passed.

        Raises
        ------
        InputError
            When rows name ``doc_id`` values that no input document has.
        """
        unknown = [doc_id for doc_id in self.rows if doc_id not in self.seen]
        if unknown:
            raise InputError(f"{self.path}: {len(unknown)} {KEY} value(s) match no input document: {_shown(unknown)} "
                             "(ids are paths under chunk.input without the suffix, or record ids)")
        return {"file": str(self.path), "rows": len(self.rows), "documents_without_metadata": self.without}
