"""The paragraph table (the ``chunk`` stage's output), read batch by batch.

Every stage that reads paragraphs (``topics``, ``sweep``, ``prevalence``, ``stance``) streams them
through :class:`ParagraphSource`, so no stage holds the whole table and no stage imports another
stage's package to read it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

#: paragraphs read from Parquet per batch unless a stage asks for another size
READ_BATCH = 8192


class ParagraphSource:
    """The paragraph table, read batch by batch: from a Parquet file or an in-memory DataFrame.

    Parameters
    ----------
    data : path or pandas.DataFrame
        A Parquet paragraph table (read in row batches, never whole) or a DataFrame.
    batch_size : int
        Rows per batch.
    """

    def __init__(self, data: Path | str | Any, batch_size: int = READ_BATCH) -> None:
        self.batch_size = batch_size
        if isinstance(data, (str, os.PathLike)):
            import pyarrow.parquet as pq

            self.path: Path | None = Path(data)
            self.frame = None
            self._file = pq.ParquetFile(self.path)
            self.columns = list(self._file.schema_arrow.names)
            self.num_rows = int(self._file.metadata.num_rows)
        else:
            self.path = None
            self.frame = data
            self.columns = [str(c) for c in data.columns]
            self.num_rows = len(data)

    def batches(self, columns: Sequence[str]) -> Iterator[Any]:
        """DataFrames of ``columns``, ``batch_size`` rows each, in table order."""
        if self.frame is not None:
            for start in range(0, self.num_rows, self.batch_size):
                yield self.frame.iloc[start:start + self.batch_size][list(columns)].reset_index(drop=True)
            return
        for batch in self._file.iter_batches(batch_size=self.batch_size, columns=list(columns)):
            yield batch.to_pandas()
