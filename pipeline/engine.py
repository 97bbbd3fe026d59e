"""One engine that maps a pure function over the paragraph table.

A stage that scores paragraphs (``stance``; ``topics`` for its scoring pass) is a pure
``frame -> frame`` function of some paragraph columns, a fold over its output (counts,
totals, a summary) and a thin ``main``. This module owns everything else:

- reading the table (:class:`~pipeline.paragraphs.ParagraphSource`) in batches of exactly
  ``batch_size`` rows (:func:`rebatch`), or in row-range partitions that Dask workers read
  themselves (``compute.engine: dask``; :func:`pipeline.distributed.map_parquet`);
- the choice of local worker processes (``compute.n_jobs``, :func:`pipeline.parallel.ordered_map`)
  or Dask, with back-pressure (a few batches in flight per worker) and results in table order;
- a scratch directory whose file system is checked for room first (:func:`scratch_directory`);
- progress, the check that the input has the columns the function reads, and writing the
  output in row groups of a fixed size through folds (:func:`write_frames`, to an atomic
  :class:`~pipeline.io.ParquetBatchWriter`).

Nothing here knows what a stage computes. The output does not depend on the engine,
``n_jobs``, the batch size or the partitions as long as the function is pure and row-wise.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from .config import ComputeConfig
from .errors import DataError
from .io import ensure_free_space
from .logs import progress
from .paragraphs import ParagraphSource
from .parallel import ordered_map


class Fold(Protocol):
    """A reducer that sees every output frame once, in order (e.g. counts for a summary table)."""

    def add(self, frame: Any) -> None: ...


def require_columns(source: ParagraphSource, columns: Sequence[str], where: Path | str | None) -> None:
    """Raise :class:`~pipeline.errors.DataError` naming the ``columns`` the table at ``where`` lacks."""
    missing = [c for c in columns if c not in source.columns]
    if missing:
        raise DataError(f"{where if where is not None else 'paragraphs'}: missing column(s) {', '.join(missing)}; "
                        f"expected the paragraph table written by the chunk stage")


def rebatch(frames: Iterable[Any], size: int) -> Iterator[Any]:
    """The rows of ``frames``, in order, as frames of exactly ``size`` rows (the last one may be shorter)."""
    import pandas as pd

    pending: list[Any] = []
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


def map_frames(func: Callable[..., Any], source: ParagraphSource, columns: Sequence[str], *, batch_size: int,
               args: Sequence[Any] = (), n_jobs: int = 1, compute: ComputeConfig | None = None,
               desc: str = "", meta: Any = None, client: Any = None) -> Iterator[Any]:
    """``func(frame, *args)`` for the paragraphs of ``source``, lazily and in table order.

    Parameters
    ----------
    func : callable
        ``func(frame, *args) -> frame``: pure and row-wise (a paragraph's output rows depend on
        that paragraph only), importable by worker processes.
    source : ParagraphSource
        The paragraph table (a Parquet file or an in-memory frame).
    columns : sequence of str
        The columns ``func`` reads.
    batch_size : int
        Paragraphs per call on the local engine; Dask partitions are whole multiples of it.
    args : sequence
        Further arguments of ``func`` (e.g. a fitted model): sent once to each worker process
        or Dask worker, not with every batch.
    n_jobs : int, default 1
        Local worker processes (joblib semantics); with one batch, this process runs it.
    compute : ComputeConfig, optional
        ``compute.engine: dask`` with a Parquet ``source``: Dask workers read partitions of about
        ``compute.partition_rows`` rows themselves and run ``func`` on them.
    desc : str
        Label of the progress bar / log lines.
    meta : DataFrame, optional
        Dask only: an empty frame with ``func``'s output columns (default: ``func`` of no rows).
    client : distributed.Client, optional
        Dask only: an open client (a stage that maps more than once keeps one cluster).
    """
    if compute is not None and compute.engine == "dask" and source.path is not None:
        from .distributed import map_parquet, read_rows, row_ranges

        ranges = row_ranges(source.num_rows, compute.partition_rows, align=batch_size)
        if meta is None:
            meta = func(read_rows(str(source.path), (0, 0), columns), *args)
        frames = map_parquet(func, source.path, columns, ranges, meta, compute, *args, client=client)
        yield from progress(frames, total=len(ranges), desc=desc, unit="partition")
        return
    batches = rebatch(source.batches(list(columns)), batch_size)
    results = ordered_map(func, batches, n_jobs, shared=args)
    yield from progress(results, total=-(-source.num_rows // batch_size), desc=desc, unit="batch")


def write_frames(frames: Iterable[Any], sink: Any, *, row_group_rows: int, folds: Sequence[Fold] = ()) -> int:
    """Write ``frames`` to ``sink`` in pieces of exactly ``row_group_rows`` rows, folding each frame.

    ``sink`` has ``write(frame)`` (e.g. a :class:`~pipeline.io.ParquetBatchWriter`, which makes
    each piece a row group and the file appear atomically). Every frame, as it comes (whole
    paragraphs), passes through each of ``folds`` (``fold.add(frame)``) before it is cut into
    pieces, so a summary is counted in the same single pass. Returns the rows written.
    """
    def folded() -> Iterator[Any]:
        for frame in frames:
            for fold in folds:
                fold.add(frame)
            yield frame

    written = 0
    for piece in rebatch(folded(), row_group_rows):
        sink.write(piece)
        written += len(piece)
    return written


@contextlib.contextmanager
def scratch_directory(needed_bytes: int, what: str, prefix: str = "pipeline-") -> Iterator[Path]:
    """A temporary directory under ``$TMPDIR`` for a stage's scratch files, removed afterwards.

    Its file system (not the output's) is checked first for ``needed_bytes`` free
    (:func:`pipeline.io.ensure_free_space`); the message says to set ``TMPDIR`` to move it.
    """
    base = Path(tempfile.gettempdir())
    ensure_free_space(base / "scratch", needed_bytes, f"{what} scratch files (set TMPDIR to put them elsewhere)")
    with tempfile.TemporaryDirectory(prefix=prefix) as directory:
        yield Path(directory)
