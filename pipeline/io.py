"""Atomic writes and file hashing.

Every artifact is written to a temporary file beside its destination and renamed into
place, so an interrupted stage never leaves a half-written file for the next stage.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import InputError


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _remove_stale_temporaries(path: Path) -> None:
    """Delete ``.NAME.PID.*.tmp`` files beside ``path`` left by a killed writer (its PID is gone)."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        parts = tmp.name[len(path.name) + 2:].split(".")
        if parts and parts[0].isdigit() and not _pid_alive(int(parts[0])):
            with contextlib.suppress(OSError):
                tmp.unlink()


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path that replaces ``path`` only if the block succeeds.

    The temporary file sits beside ``path`` as ``.NAME.PID.XXXX.tmp``: no stage reads it, and a
    later write of the same file deletes it if the process that made it was killed.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{path.parent}: cannot create output directory: {exc.strerror}") from None
    _remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o644)  # mkstemp creates 0600; outputs are ordinary shared files
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def scratch_directory(path: Path | str) -> Iterator[Path]:
    """Yield a temporary directory beside ``path`` for a stage's intermediate files; removed on exit.

    It sits on the output's file system (not ``$TMPDIR``, which may be small or in memory) as
    ``.NAME.PID.XXXX.scratch``; one left by a killed process (its PID is gone) is removed the
    next time a scratch directory is made beside the same ``path``.
    """
    import shutil

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{path.parent}: cannot create output directory: {exc.strerror}") from None
    for stale in path.parent.glob(f".{path.name}.*.scratch"):
        parts = stale.name[len(path.name) + 2:].split(".")
        if parts and parts[0].isdigit() and not _pid_alive(int(parts[0])):
            shutil.rmtree(stale, ignore_errors=True)
    directory = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".scratch", dir=path.parent))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


#: Free space kept in reserve beyond a stage's own estimate.
DISK_RESERVE_BYTES = 64 << 20


def ensure_free_space(path: Path | str, needed_bytes: int, what: str) -> None:
    """Refuse to start writing ``path`` when its file system has less than ``needed_bytes`` free.

    Parameters
    ----------
    path : path-like
        An output file (its nearest existing parent directory is checked).
    needed_bytes : int
        The stage's estimate of what it will write there (a small reserve is added).
    what : str
        The stage and output, for the message (e.g. ``"chunk.output"``).

    Raises
    ------
    InputError
        When there is not enough space; the message says how much is needed and how much is free.
    """
    import shutil

    directory = Path(path).absolute().parent
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    free = shutil.disk_usage(directory).free
    needed = int(needed_bytes) + DISK_RESERVE_BYTES
    if free < needed:
        raise InputError(
            f"{path}: not enough disk space for {what}: about {_size(needed)} needed, {_size(free)} free "
            f"on {directory}; free some space or point {what} to another disk"
        )


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


def path_bytes(path: Path | str) -> int:
    """Size of a file, or of every file under a folder (0 when missing)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return 0


def write_text(path: Path | str, text: str) -> None:
    """Atomically write a UTF-8 text file."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: Path | str, data: Any) -> None:
    """Atomically write JSON with sorted keys and a trailing newline (stable diffs)."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")


def read_json(path: Path | str) -> Any:
    """Read a JSON file; a missing or malformed file is an :class:`InputError` naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None


def jsonl_objects(text: str, where: Path | str, holding: str = "") -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` of every non-blank line of JSON Lines ``text``, read from ``where``.

    A line that is not valid JSON, or not a JSON object, is an :class:`InputError` naming
    ``where:line`` (``holding`` says what the object should hold, e.g. ``" with text, target and label"``).
    """
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}:{number}: not valid JSON: {exc.msg} (column {exc.colno})") from None
        if not isinstance(record, dict):
            raise InputError(f"{where}:{number}: expected a JSON object{holding}, got {type(record).__name__}")
        yield number, record


def write_parquet(path: Path | str, table: Any) -> None:
    """Atomically write a pyarrow Table or pandas DataFrame as Parquet (zstd)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not isinstance(table, pa.Table):
        table = pa.Table.from_pandas(table, preserve_index=False)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", row_group_size=50_000)


class ParquetBatchWriter:
    """Write a Parquet file batch by batch (one row group each), atomically.

    Use as a context manager: the file appears at ``path`` only when the block ends without
    an error and at least one batch was written; the schema is the first batch's.

    Examples
    --------
    >>> with ParquetBatchWriter("out.parquet") as sink:  # doctest: +SKIP
    ...     for frame in frames:
    ...         sink.write(frame)
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.rows = 0
        self._writer: Any = None
        self._context: Any = None
        self._tmp: Path | None = None

    def __enter__(self) -> ParquetBatchWriter:
        self._context = atomic_path(self.path)
        self._tmp = self._context.__enter__()
        return self

    def write(self, table: Any) -> None:
        """Append a pandas DataFrame or pyarrow Table (same columns and types every time)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not isinstance(table, pa.Table):
            table = pa.Table.from_pandas(table, preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, table.schema, compression="zstd")
        self._writer.write_table(table)
        self.rows += table.num_rows

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if self._writer is not None:
            self._writer.close()
        if exc_type is None and self._writer is None:
            err = ValueError(f"{self.path}: no rows to write")
            self._context.__exit__(ValueError, err, None)  # removes the temporary file
            raise err
        return bool(self._context.__exit__(exc_type, exc, tb))


def read_parquet(path: Path | str, columns: list[str] | None = None) -> Any:
    """Read a Parquet table into pandas; errors name the file."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found (run the stage that writes it first)")
    try:
        return pq.read_table(path, columns=columns).to_pandas()
    except Exception as exc:  # pyarrow raises many types for a broken file
        raise InputError(f"{path}: cannot read Parquet: {str(exc).splitlines()[0]}") from None


def sha256_file(path: Path | str, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()
