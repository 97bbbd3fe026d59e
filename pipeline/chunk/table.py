"""The paragraph table, built in row groups from what the first pass set aside.

The first pass of the ``chunk`` stage segments documents batch by batch and puts the
paragraph text in a :class:`Spool` (a Parquet file in a scratch directory, or memory for
small in-process runs) and each document's metadata beside it; :class:`MetaColumns` keeps,
per metadata field, just enough to decide the column's type once every document has been
seen. After near-duplicates are found, :func:`output_tables` re-reads the spool in row groups
and yields the final table in pieces that all share one schema.

The types and the schema are exactly those of building the whole table in memory: a field is
integer, float or boolean when every present value is one (numeric strings made of digits
become integers), else text; the schema (with its pandas metadata) is that of the whole
table as pandas would convert it.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .batch import PARAGRAPH_SCHEMA

CORE_COLUMNS = ("doc_id", "para_id", "text", "start", "end", "duplicate_of")
#: rows per row group of the paragraph table
ROW_GROUP_ROWS = 50_000


# --------------------------------------------------------------------------- metadata types


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


@dataclass
class _Field:
    """What has been seen of one metadata field, enough to decide its column type."""

    present: int = 0  # values neither None nor ""
    given: int = 0  # values not None ("" included)
    empty: bool = False  # some value is ""
    sample: Any = None  # the first present value
    all_bool: bool = True
    all_number: bool = True
    all_integral: bool = True
    all_str: bool = True
    all_digits: bool = True


class MetaColumns:
    """Metadata fields of the documents that kept paragraphs, and the type of each column.

    :meth:`update` with every document's metadata in order; then :meth:`kind` says how a
    field's values are converted and :meth:`frame` builds the columns for some documents.
    """

    def __init__(self) -> None:
        self.fields: dict[str, _Field] = {}  # in order of first appearance
        self.documents = 0

    def update(self, metas: Sequence[dict[str, Any]]) -> None:
        """Take in the (plain) metadata of more documents."""
        digit_strings: dict[str, list[str]] = {}
        for meta in metas:
            self.documents += 1
            for key, value in meta.items():
                state = self.fields.get(key)
                if state is None:
                    state = self.fields[key] = _Field()
                if value is None:
                    continue
                state.given += 1
                if _missing(value):
                    state.empty = True
                    continue
                state.present += 1
                if state.present == 1:
                    state.sample = value
                self._observe(key, state, value, digit_strings)
        for key, values in digit_strings.items():
            state = self.fields[key]
            if state.all_digits and state.all_str and pd.to_numeric(pd.Series(values), errors="coerce").isna().any():
                state.all_digits = False

    @staticmethod
    def _observe(key: str, state: _Field, value: Any, digit_strings: dict[str, list[str]]) -> None:
        state.all_bool = state.all_bool and isinstance(value, bool)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        state.all_number = state.all_number and number
        if state.all_number and state.all_integral:
            state.all_integral = float(value).is_integer()
        is_str = isinstance(value, str)
        state.all_str = state.all_str and is_str
        if state.all_str and state.all_digits:
            if value.strip() == value and value.lstrip("-").isdigit():
                digit_strings.setdefault(key, []).append(value)
            else:
                state.all_digits = False

    def kind(self, key: str) -> str:
        """``boolean``, ``integer``, ``float``, ``digits`` (integers written as text) or ``string``."""
        state = self.fields[key]
        if state.present and state.all_bool:
            return "boolean"
        if state.present and state.all_number:
            return "integer" if state.all_integral else "float"
        if state.present and state.all_str and state.all_digits:
            return "digits"
        return "string"

    def has_none(self, key: str) -> bool:
        """Whether some document lacks the field or holds null for it."""
        return self.fields[key].given < self.documents

    def column_names(self) -> list[str]:
        """Column names of the fields (``meta_`` before a name that clashes with a core column)."""
        return [f"meta_{key}" if key in CORE_COLUMNS else key for key in self.fields]

    def frame(self, metas: Sequence[dict[str, Any]], rows: np.ndarray) -> pd.DataFrame:
        """Metadata columns of ``metas`` (one per document), repeated to rows: ``rows[i]`` indexes metas."""
        if not self.fields:
            return pd.DataFrame(index=range(len(rows)))
        columns: dict[str, Any] = {}
        for key, name in zip(self.fields, self.column_names(), strict=True):
            values = [meta.get(key) for meta in metas]
            columns[name] = self._typed(key, values)
        return pd.DataFrame(columns).iloc[rows].reset_index(drop=True)

    def _typed(self, key: str, values: list[Any]) -> pd.Series:
        kind = self.kind(key)
        if kind == "boolean":
            return pd.Series(pd.array([None if _missing(v) else v for v in values], dtype="boolean"))
        if kind in ("integer", "float"):
            series = pd.Series([np.nan if _missing(v) else v for v in values], dtype="float64")
            return series.astype("Int64") if kind == "integer" else series
        if kind == "digits":
            parsed = [None if _missing(v) else v for v in values]
            if self.has_none(key) or self.fields[key].empty:
                parsed.append(None)  # parse as the whole column would be: with a null, via floats
            numbers = pd.to_numeric(pd.Series(parsed))
            return pd.Series(numbers.iloc[: len(values)].to_numpy(), dtype="Int64")
        return pd.Series(pd.array([None if v is None else str(v) for v in values], dtype="string"))

    def representative(self) -> list[dict[str, Any]]:
        """A few metadata dicts whose columns convert to the same types as the whole corpus's.

        Each field cycles through its kinds of value: a present one, ``""`` and null, as seen.
        """
        options: dict[str, list[Any]] = {}
        for key, state in self.fields.items():
            values = [state.sample] if state.present else []
            if state.empty:
                values.append("")
            if self.has_none(key) or not values:
                values.append(None)
            options[key] = values
        count = max((len(v) for v in options.values()), default=1)
        return [{key: values[i % len(values)] for key, values in options.items()} for i in range(count)]


# --------------------------------------------------------------------------- the spool


class Spool:
    """Paragraph text and document metadata, appended in corpus order and read back once.

    Parameters
    ----------
    directory : path or None
        Where the spool files go (a scratch directory); ``None`` keeps everything in memory.
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        self._tables: list[pa.Table] | None = [] if directory is None else None
        self._metas: list[list[dict[str, Any]]] | None = [] if directory is None else None
        self._writer: Any = None
        self._meta_fh: IO[bytes] | None = None
        self.rows = 0
        if directory is not None:
            import pyarrow.parquet as pq

            self._path = Path(directory) / "paragraphs.parquet"
            self._meta_path = Path(directory) / "metadata.pickle"
            self._writer = pq.ParquetWriter(self._path, PARAGRAPH_SCHEMA, compression="zstd")
            self._meta_fh = open(self._meta_path, "wb")  # noqa: SIM115 - closed in close()

    def append(self, paragraphs: pa.Table, metas: list[dict[str, Any]]) -> None:
        """Set aside a batch's paragraphs and the metadata of its documents."""
        if self._tables is not None and self._metas is not None:
            self._tables.append(paragraphs)
            self._metas.append(metas)
        else:
            if paragraphs.num_rows:
                self._writer.write_table(paragraphs)
            # Our own file, read back by this process only.
            pickle.dump(metas, self._meta_fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.rows += paragraphs.num_rows

    def close(self) -> None:
        """Finish writing (the files stay until the scratch directory goes)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._meta_fh is not None:
            self._meta_fh.close()
            self._meta_fh = None

    def paragraphs(self, rows: int) -> Iterator[pa.Table]:
        """The paragraphs again, in tables of exactly ``rows`` rows (the last may be shorter)."""
        if self._tables is not None:
            pieces: Iterator[Any] = iter(self._tables)
        else:
            import pyarrow.parquet as pq

            pieces = pq.ParquetFile(self._path).iter_batches(batch_size=rows)
        buffer: list[Any] = []
        held = 0
        for piece in pieces:
            buffer.append(piece)
            held += piece.num_rows
            while held >= rows:
                table = _concat(buffer)
                yield table.slice(0, rows)
                rest = table.slice(rows)
                buffer, held = [rest], rest.num_rows
        if held:
            yield _concat(buffer)

    def metas(self) -> Iterator[dict[str, Any]]:
        """The documents' metadata again, one dict per document, in order."""
        if self._metas is not None:
            for batch in self._metas:
                yield from batch
            return
        with open(self._meta_path, "rb") as fh:
            while True:
                try:
                    batch = pickle.load(fh)  # noqa: S301 - written above by this process
                except EOFError:
                    return
                yield from batch


def _concat(pieces: list[Any]) -> pa.Table:
    tables = [p if isinstance(p, pa.Table) else pa.Table.from_batches([p]) for p in pieces]
    return pa.concat_tables(tables).combine_chunks() if len(tables) > 1 else tables[0].combine_chunks()


# --------------------------------------------------------------------------- output tables


def _core_frame(doc_ids: list[str], para_ids: Any, texts: list[str], starts: Any, ends: Any,
                duplicate_of: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "doc_id": pd.array(doc_ids, dtype="string"),
            "para_id": np.asarray(para_ids, dtype=np.int32),
            "text": pd.array(texts, dtype="string"),
            "start": np.asarray(starts, dtype=np.int64),
            "end": np.asarray(ends, dtype=np.int64),
            "duplicate_of": pd.array(duplicate_of, dtype="string"),
        }
    )


def _with_metadata(table: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    for column in meta.columns:
        table[column] = meta[column].to_numpy() if len(table) else meta[column]
    return table


def output_schema(meta_columns: MetaColumns) -> pa.Schema:
    """The paragraph table's schema: the one pandas gives the whole table, pandas metadata included."""
    metas = meta_columns.representative()
    n = len(metas)
    core = _core_frame(["d"] * n, [0] * n, ["t"] * n, [0] * n, [0] * n, ["d#0" if i else None for i in range(n)])
    frame = _with_metadata(core, meta_columns.frame(metas, np.arange(n)))
    return pa.Table.from_pandas(frame, preserve_index=False).schema


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s types and metadata (a column with no value in it may have come out null-typed)."""
    columns = [
        column if column.type == target.type else column.cast(target.type, safe=False)
        for column, target in zip(table.columns, schema, strict=True)
    ]
    return pa.Table.from_arrays(columns, schema=schema)


@dataclass
class ParagraphIndex:
    """Where every paragraph comes from, and what it duplicates, as compact arrays.

    Attributes
    ----------
    doc_ids : list of str
        Id of each document that kept paragraphs, in order.
    doc : ndarray of int32
        Per paragraph, its document's position in ``doc_ids``.
    para_id : ndarray of int32
        Per paragraph, its index within the document.
    duplicate : ndarray of int64
        Per paragraph, the paragraph it duplicates (a row number), or -1.
    """

    doc_ids: list[str]
    doc: np.ndarray
    para_id: np.ndarray
    duplicate: np.ndarray

    def label(self, row: int) -> str:
        """``"<doc_id>#<para_id>"`` of a paragraph."""
        return f"{self.doc_ids[self.doc[row]]}#{self.para_id[row]}"


def output_tables(spool: Spool, index: ParagraphIndex, meta_columns: MetaColumns,
                  rows: int | None = None) -> Iterator[pa.Table]:
    """The paragraph table in pieces of ``rows`` rows (one row group each, default
    :data:`ROW_GROUP_ROWS`), all with one schema."""
    rows = ROW_GROUP_ROWS if rows is None else rows
    schema = output_schema(meta_columns)
    metas = spool.metas()
    held: list[dict[str, Any]] = []  # metadata of the documents from held_from on
    held_from = 0
    start = 0
    for piece in spool.paragraphs(rows):
        stop = start + piece.num_rows
        doc = index.doc[start:stop]
        first, last = int(doc[0]), int(doc[-1])
        # Drop metadata of documents before this piece, read up to its last document.
        held = held[first - held_from:]
        held_from = first
        while held_from + len(held) <= last:
            held.append(next(metas))
        doc_ids = [index.doc_ids[d] for d in doc.tolist()]
        dup = index.duplicate[start:stop]
        duplicate_of = [None if j < 0 else index.label(j) for j in dup.tolist()]
        core = pa.table(
            {
                "doc_id": pa.array(doc_ids, pa.large_string()),
                "para_id": pa.array(index.para_id[start:stop], pa.int32()),
                "text": piece.column("text"),
                "start": piece.column("start"),
                "end": piece.column("end"),
                "duplicate_of": pa.array(duplicate_of, pa.large_string()),
            }
        )
        meta = meta_columns.frame(held[: last - first + 1], doc - first)
        if len(meta.columns):
            meta_table = pa.Table.from_pandas(_with_metadata(pd.DataFrame(index=range(len(doc))), meta),
                                              preserve_index=False)
            for name, column in zip(meta_table.column_names, meta_table.columns, strict=True):
                core = core.append_column(name, column)
        yield conform(core, schema)
        start = stop
