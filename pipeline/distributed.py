"""Run a stage's map work on a Dask cluster (``compute.engine: dask``).

The stages keep their shape: the driver (the stage's own process) reads the config, makes
the decisions that need all the data (duplicate detection, fitting the topic model) and
writes the outputs; only *map work*, a pure function applied to independent pieces, is
shipped to Dask workers:

- :func:`dask_map` maps a function over a stream of items (the chunk stage's document
  batches) and yields the results in input order, with a bounded number of items in flight
  so a corpus larger than memory streams through;
- :func:`map_parquet` maps a function over row ranges of a Parquet file, read by the
  workers themselves as a ``dask.dataframe`` (:func:`dask.dataframe.from_map`, then
  ``map_partitions``), and yields the results in table order. The path must be readable at
  the same place on every worker.

Because the mapped functions are pure, results are the same as the local engine's, byte for
byte. :func:`dask_client` gives the client: a ``LocalCluster`` of worker processes started
for the stage (``compute.scheduler`` null), or a connection to a running scheduler. Dask
is an optional dependency (``pip install 'newsstance-pipeline[dask]'``); this module imports
it only when called, so the local engine never needs it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from .config import ComputeConfig
from .errors import ConfigError, InputError
from .parallel import ordered_results

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

INSTALL_HINT = ("pip install 'newsstance-pipeline[dask]' (in a checkout: pip install -e '.[dask]'; "
                "`make install` does it)")
#: items in flight per worker thread: enough to keep every worker busy while the driver consumes
IN_FLIGHT_PER_THREAD = 2


def require_dask() -> None:
    """Raise :class:`~pipeline.errors.ConfigError` naming the extra to install when Dask is missing."""
    try:
        import dask  # noqa: F401
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"compute.engine is 'dask' but Dask is not installed ({exc.name} is missing); "
                          f"install it with {INSTALL_HINT}, or set compute.engine: local") from None


@contextlib.contextmanager
def dask_client(compute: ComputeConfig) -> Iterator[Any]:
    """A ``distributed.Client`` for the config; closes the client and any cluster it started.

    With ``compute.scheduler`` null a ``LocalCluster`` of ``compute.dask_workers`` processes
    (``compute.dask_threads_per_worker`` threads each, dashboard on a free port) is started for the
    block; otherwise the client connects to the scheduler at that address.

    Raises
    ------
    ConfigError
        If Dask is not installed, or the scheduler cannot be reached.
    """
    require_dask()
    from distributed import Client, LocalCluster

    if compute.scheduler is None:
        cluster = LocalCluster(n_workers=compute.dask_workers, threads_per_worker=compute.dask_threads_per_worker,
                               processes=True, dashboard_address=":0", silence_logs=logging.WARNING)
        log.info("dask: started a local cluster of %d worker(s) x %d thread(s)", compute.dask_workers,
                 compute.dask_threads_per_worker)
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = Client(compute.scheduler, timeout="30s")
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"compute.scheduler: cannot reach the Dask scheduler at {compute.scheduler} "
                          f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    log.info("dask: connected to %s (%d worker(s))", compute.scheduler, len(client.scheduler_info()["workers"]))
    with client:
        yield client


def _threads(client: Any) -> int:
    workers = client.scheduler_info()["workers"].values()
    return max(1, sum(int(w.get("nthreads", 1)) for w in workers))


def dask_map(func: Callable[[T], R], items: Iterable[T], compute: ComputeConfig,
             client: Any = None) -> Iterator[R]:
    """``func(item)`` for every item on Dask workers, yielded lazily in input order.

    ``items`` may be a stream (a generator over a corpus): at most
    :data:`IN_FLIGHT_PER_THREAD` items per worker thread are submitted ahead of the consumer,
    so the driver never holds the whole input. ``func`` and the items are pickled (cloudpickle)
    to the workers, which must be able to import this package.

    Parameters
    ----------
    func : callable
        A pure function of one item (e.g. a ``functools.partial`` with the settings bound).
    items : iterable
    compute : ComputeConfig
        Where to run: see :func:`dask_client`.
    client : distributed.Client, optional
        An open client to use; by default one is opened for the map and closed after it.

    Examples
    --------
    >>> list(dask_map(abs, [-1, 2, -3], ComputeConfig(engine="dask")))  # doctest: +SKIP
    [1, 2, 3]
    """
    with contextlib.ExitStack() as stack:
        if client is None:
            client = stack.enter_context(dask_client(compute))
        window = IN_FLIGHT_PER_THREAD * _threads(client)
        futures = (client.submit(func, item, pure=False) for item in items)
        yield from ordered_results(futures, window)


# ----------------------------------------------------------------------------- Parquet partitions


def row_ranges(num_rows: int, partition_rows: int, align: int = 1) -> list[tuple[int, int]]:
    """``[start, stop)`` row ranges of about ``partition_rows`` rows covering ``num_rows``.

    Every range but the last starts and ends on a multiple of ``align`` (``partition_rows`` is
    rounded up to one), so output written in ``align``-row pieces splits the same way as a
    single pass over the table would.
    """
    size = max(align, -(-partition_rows // align) * align)
    return [(start, min(start + size, num_rows)) for start in range(0, num_rows, size)]


def read_rows(path: str, rows: tuple[int, int], columns: Sequence[str]) -> Any:
    """Rows ``[start, stop)`` of a Parquet file as a pandas DataFrame (only the row groups needed)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    start, stop = rows
    try:
        file = pq.ParquetFile(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read on a Dask worker ({exc}); the file must be at the same path "
                         f"on every worker (a shared filesystem or an object-store URL)") from None
    meta = file.metadata
    groups, first, offset = [], None, 0
    for g in range(meta.num_row_groups):
        n = meta.row_group(g).num_rows
        if offset + n > start and offset < stop:
            groups.append(g)
            first = offset if first is None else first
        offset += n
    if not groups:
        return file.schema_arrow.empty_table().select(list(columns)).to_pandas()
    table: pa.Table = file.read_row_groups(groups, columns=list(columns))
    return table.slice(start - first, stop - start).to_pandas()


def map_parquet(func: Callable[..., Any], path: Path | str, columns: Sequence[str], ranges: Sequence[tuple[int, int]],
                meta: Any, compute: ComputeConfig, *args: Any, client: Any = None) -> Iterator[Any]:
    """``func(rows, *args)`` for each row range of a Parquet file, on Dask workers, in table order.

    The table becomes a ``dask.dataframe`` with one partition per range (each read by a
    worker, see :func:`read_rows`) and ``func`` is mapped over it with ``map_partitions``.
    ``args`` (e.g. a fitted model) are scattered to the workers once (broadcast), not
    shipped with every partition. Partitions are computed a few per worker thread ahead of
    the consumer, so the results of a large table never sit in memory at once.

    Parameters
    ----------
    func : callable
        ``func(frame, *args) -> pandas.DataFrame``, pure.
    path : path
        The Parquet file, at the same path on every worker.
    columns : sequence of str
        The columns ``func`` reads.
    ranges : sequence of (int, int)
        Row ranges, e.g. from :func:`row_ranges`.
    meta : pandas.DataFrame
        An empty frame with ``func``'s output columns and types.
    compute : ComputeConfig
    client : distributed.Client, optional
        An open client; by default one is opened and closed.
    """
    require_dask()
    import dask
    import dask.dataframe as dd

    if not ranges:
        return
    with contextlib.ExitStack() as stack:
        if client is None:
            client = stack.enter_context(dask_client(compute))
        # one copy per worker, referenced by key from every partition's task
        scattered = [dask.delayed(client.scatter(a, broadcast=True, hash=False)) for a in args]
        reader = functools.partial(read_rows, str(path), columns=list(columns))
        # partitions reach ``func`` as pyarrow reads them, as in a local pass (no string conversion)
        with dask.config.set({"dataframe.convert-string": False}):
            frame = dd.from_map(reader, list(ranges), meta=reader((0, 0)), enforce_metadata=False,
                                label="read-paragraphs")
            parts = frame.map_partitions(func, *scattered, meta=meta, enforce_metadata=False).to_delayed()
        window = IN_FLIGHT_PER_THREAD * _threads(client)
        yield from ordered_results((client.compute(part) for part in parts), window)
