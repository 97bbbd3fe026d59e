"""Logging set-up and progress reporting shared by the stages."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger("pipeline")


def setup_logging(verbose: bool = False) -> None:
    """Log to stderr with timestamps; called once by the CLI."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger("pipeline")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False


def progress(items: Iterable[T], total: int | None = None, desc: str = "", unit: str = "it") -> Iterator[T]:
    """Wrap an iterable in a progress bar on a terminal, periodic log lines otherwise."""
    from tqdm.auto import tqdm

    if sys.stderr.isatty():
        yield from tqdm(items, total=total, desc=desc, unit=unit, leave=False)
        return
    import time

    start = last = time.monotonic()
    for count, item in enumerate(items, start=1):
        yield item
        now = time.monotonic()
        if now - last >= 10.0:
            last = now
            rate = count / max(now - start, 1e-9)
            of = f"/{total}" if total else ""
            log.info("%s: %d%s %s (%.1f %s/s)", desc, count, of, unit, rate, unit)


class Progress:
    """Counts and rates of long work done in steps of several items (a batch of documents ...).

    On a terminal a tqdm bar; otherwise a log line every ``interval`` seconds and one at the end,
    e.g. ``chunk: 5,300 doc (530.1 doc/s); 201,000 paragraphs (20,100/s); 95.2 MB (9.5 MB/s)``.

    Parameters
    ----------
    desc : str
        What is being done (the start of every line).
    unit : str
        What ``update(n)`` counts.
    total : int, optional
        Expected number of units, when known.
    interval : float
        Seconds between log lines when stderr is not a terminal.

    Examples
    --------
    >>> with Progress("chunk", unit="doc") as bar:  # doctest: +SKIP
    ...     for batch in batches:
    ...         bar.update(len(batch), paragraphs=n_paragraphs, MB=n_chars / 1e6)
    """

    def __init__(self, desc: str, unit: str = "it", total: int | None = None, interval: float = 10.0) -> None:
        import time

        self.desc, self.unit, self.total, self.interval = desc, unit, total, interval
        self.count = 0
        self.extra: dict[str, float] = {}
        self._clock = time.monotonic
        self._start = self._last = self._clock()
        self._bar = None
        if sys.stderr.isatty():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, leave=False)

    def update(self, n: int = 1, **totals: float) -> None:
        """Add ``n`` units done; ``totals`` are running totals of other counts to show with rates."""
        self.count += n
        self.extra.update(totals)
        if self._bar is not None:
            self._bar.update(n)
            if totals:
                self._bar.set_postfix({k: _number(v) for k, v in totals.items()}, refresh=False)
            return
        now = self._clock()
        if now - self._last >= self.interval:
            self._last = now
            log.info("%s", self.line())

    def line(self) -> str:
        """The current counts and rates as one line."""
        elapsed = max(self._clock() - self._start, 1e-9)
        of = f"/{self.total:,}" if self.total else ""
        parts = [f"{self.desc}: {self.count:,}{of} {self.unit} ({self.count / elapsed:,.1f} {self.unit}/s)"]
        for name, value in self.extra.items():
            parts.append(f"{_number(value)} {name} ({_number(value / elapsed)} {name}/s)")
        return "; ".join(parts)

    def close(self) -> None:
        """Close the bar (on a terminal)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"
