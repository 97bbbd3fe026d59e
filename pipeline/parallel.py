"""Order-preserving maps over worker processes, shared by the stages that parallelise.

:func:`ordered_map` hands items to joblib's ``loky`` workers (``compute.n_jobs`` of them) and
yields the results in input order, so a stage built from a pure function of each item gives
the same output for any ``n_jobs``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def effective_jobs(n_jobs: int) -> int:
    """Processes that ``n_jobs`` means on this machine (joblib semantics: -1 is every core)."""
    from joblib import effective_n_jobs

    return max(1, int(effective_n_jobs(n_jobs)))


def ordered_map(func: Callable[[T], R], items: Iterable[T], n_jobs: int = 1) -> Iterator[R]:
    """``func(item)`` for every item, in input order, lazily; in ``n_jobs`` worker processes.

    With one job the items are mapped in this process. Otherwise joblib's ``loky`` workers run
    them, at most ``2 * n_jobs`` items ahead of the consumer, so memory stays bounded when
    ``items`` is a stream.
    """
    jobs = effective_jobs(n_jobs)
    items = iter(items)
    head = list(islice(items, 2))
    if jobs == 1 or len(head) < 2:  # one item: starting workers would only cost time
        return map(func, chain(head, items))
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator", pre_dispatch="2*n_jobs")
    return iter(parallel(delayed(func)(item) for item in chain(head, items)))
