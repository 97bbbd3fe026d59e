"""Order-preserving maps over worker processes, shared by the stages that parallelise.

:func:`ordered_map` hands items to joblib's ``loky`` worker processes (``compute.n_jobs`` of
them) and yields the results in input order, so a stage built from a pure function of each
item gives the same output for any ``n_jobs``. At most ``2 * n_jobs`` items are handed out
ahead of the consumer: a slow consumer (the stage's process appending tokens or writing
rows) holds the workers back instead of letting finished results pile up in memory.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import chain, islice
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: items handed out per worker ahead of the consumer
IN_FLIGHT_PER_WORKER = 2


def effective_jobs(n_jobs: int) -> int:
    """Processes that ``n_jobs`` means on this machine (joblib semantics: -1 is every core)."""
    from joblib import effective_n_jobs

    return max(1, int(effective_n_jobs(n_jobs)))


def ordered_map(func: Callable[..., R], items: Iterable[T], n_jobs: int = 1,
                shared: Sequence[Any] = ()) -> Iterator[R]:
    """``func(item, *shared)`` for every item, in input order, lazily; in ``n_jobs`` worker processes.

    With one job, or fewer than two items, the items are mapped in this process. Otherwise
    loky workers (joblib's reusable executor) run them, with at most
    :data:`IN_FLIGHT_PER_WORKER` ``* n_jobs`` items submitted and not yet consumed, so memory
    stays bounded however long ``items`` is and however slow the consumer. ``shared`` (e.g. a
    fitted model) is sent to each worker once, when it starts, not with every item. An
    exception in a worker is raised here, at its item.
    """
    jobs = effective_jobs(n_jobs)
    items = iter(items)
    head = list(islice(items, 2))
    if jobs == 1 or len(head) < 2:  # one item: starting workers would only cost time
        shared = tuple(shared)
        return (func(item, *shared) for item in chain(head, items))
    return _windowed(func, chain(head, items), jobs, tuple(shared))


def ordered_results(futures: Iterator[Any], window: int) -> Iterator[Any]:
    """Results of futures in submission order, with at most ``window`` submitted and not yet yielded.

    ``futures`` is a lazy stream (each ``next`` submits one item), so the window bounds how far
    the workers run ahead of the consumer. Futures still queued when the consumer stops or an
    item fails are cancelled. Shared by the local engine and :mod:`pipeline.distributed`.
    """
    pending: deque[Any] = deque()
    try:
        for future in futures:
            pending.append(future)
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


#: what :func:`ordered_map` installed in this worker process: (token, shared arguments)
_SHARED: dict[str, tuple[Any, ...]] = {}


def _install(token: str, shared: tuple[Any, ...]) -> None:
    _SHARED.clear()  # one map's arguments at a time
    _SHARED[token] = shared


def _call_shared(func: Callable[..., Any], token: str, item: Any) -> Any:
    return func(item, *_SHARED[token])


def _windowed(func: Callable[..., R], items: Iterator[Any], jobs: int, shared: tuple[Any, ...]) -> Iterator[R]:
    import uuid

    from joblib.externals.loky import get_reusable_executor

    if shared:
        # a new token (and initializer arguments) restarts the reusable workers with this map's arguments
        token = uuid.uuid4().hex
        executor = get_reusable_executor(max_workers=jobs, initializer=_install, initargs=(token, shared))
        task: Callable[[Any], Any] = partial(_call_shared, func, token)
    else:
        executor = get_reusable_executor(max_workers=jobs)
        task = func
    yield from ordered_results((executor.submit(task, item) for item in items), IN_FLIGHT_PER_WORKER * jobs)
