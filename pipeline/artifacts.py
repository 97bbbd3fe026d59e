"""Model directories: ``meta.json`` with provenance and file hashes, and its checks.

A model directory holds its files plus ``meta.json``::

    {"kind": "topics", "format_version": 1, "package_version": "0.1.0", "python": "3.11.7",
     "libraries": {"gensim": "4.4.0", "numpy": "2.4.6", ...}, "config": {...},
     "inputs": {path: sha256}, "files": {name: sha256}, "created_by": "pipeline topics"}

``kind`` and ``format_version``
    What the directory holds and the layout of its files; a loader accepts only the
    format versions it knows and names the command that rebuilds anything else.
``package_version``, ``python``, ``libraries``
    The package, the Python and the versions of the libraries the artifact depends on
    when it was built (``"missing"`` for one that was not installed).
``config``, ``inputs``
    The configuration section(s) that made it and the SHA-256 of every input file.
``files``
    The SHA-256 of every other file in the directory.

:func:`check_artifact` verifies kind, format version and every file hash *before*
anything in the directory is deserialised, so a corrupted, swapped or tampered file is
refused rather than loaded; a library version that differs from the recorded one gives
a :class:`~pipeline.errors.VersionWarning` (the artifact still loads). ``meta.json`` has
no timestamp, so the same model gives the same bytes and ``dvc.lock`` stays put.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import platform
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .errors import ArtifactError, VersionWarning
from .io import sha256_file, write_json

log = logging.getLogger(__name__)

META_FILE = "meta.json"
#: the distribution name of this package
DISTRIBUTION = "newsstance-pipeline"
#: what rebuilds an artifact of each kind
REBUILD = {
    "topics": "`dvc repro topics` (or `pipeline topics`)",
    "stance": "`dvc repro train_stance` (or `pipeline train_stance`)",
}


def rebuild_hint(kind: str) -> str:
    """The command that rebuilds an artifact of ``kind``, for error and warning messages."""
    return REBUILD.get(kind, "`dvc repro`")


def package_version() -> str:
    """The installed version of this package (``pipeline.__version__`` when not installed)."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        from . import __version__

        return __version__


def library_versions(names: Iterable[str]) -> dict[str, str]:
    """Installed version of each distribution in ``names`` (``"missing"`` when not installed)."""
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def save_artifact(
    directory: Path | str,
    kind: str,
    format_version: int,
    write_files: Callable[[Path], None],
    *,
    config: dict[str, Any],
    inputs: dict[str, str] | None = None,
    libraries: Iterable[str] = (),
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a model directory atomically: files into a temp dir, hash, then swap in.

    Parameters
    ----------
    directory : path-like
        The model directory; replaced as a whole if it exists.
    kind : str
        What the directory holds (``"topics"``, ``"stance"``).
    format_version : int
        The layout of its files.
    write_files : callable
        ``write_files(tmpdir)`` writes the artifact's files (top level, no subdirectories);
        this function adds ``meta.json``.
    config : dict
        The configuration that made the artifact.
    inputs : dict, optional
        Input file -> SHA-256.
    libraries : iterable of str
        Distributions whose installed versions are recorded (and checked on loading).
    extra : dict, optional
        More top-level keys for ``meta.json``.

    Returns
    -------
    Path
        ``directory``.
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        write_files(tmp)
        files = {p.name: sha256_file(p) for p in sorted(tmp.iterdir()) if p.is_file()}
        meta = {
            "kind": kind,
            "format_version": format_version,
            "package_version": package_version(),
            "python": platform.python_version(),
            "libraries": library_versions(libraries),
            "config": config,
            "inputs": inputs or {},
            "files": files,
            **(extra or {}),
        }
        write_json(tmp / META_FILE, meta)
        tmp.chmod(0o755)  # mkdtemp creates 0700
        old = None
        if directory.exists():
            old = directory.with_name(f".{directory.name}.old")
            if old.exists():
                shutil.rmtree(old)
            directory.rename(old)
        tmp.rename(directory)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return directory


def check_artifact(directory: Path | str, kind: str, supported_versions: Iterable[int]) -> dict[str, Any]:
    """Verify a model directory and return its metadata.

    Parameters
    ----------
    directory : path-like
        The model directory.
    kind : str
        The kind it must hold.
    supported_versions : iterable of int
        The format versions the caller can load.

    Returns
    -------
    dict
        The parsed ``meta.json``.

    Raises
    ------
    ArtifactError
        If the directory or ``meta.json`` is missing or malformed, the kind or format
        version is wrong (the message names the command that rebuilds it), a listed file
        is missing or its hash differs, or an unlisted file is present.

    Warns
    -----
    VersionWarning
        When an installed library version differs from the one recorded in ``meta.json``
        (see :func:`library_mismatches`); one warning lists them all.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ArtifactError(f"{directory}: model directory not found (run `dvc repro` to build it)")
    meta_path = directory / META_FILE
    if not meta_path.is_file():
        raise ArtifactError(f"{meta_path}: missing, this is not a {kind} model directory")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{meta_path}: unreadable metadata: {exc}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("files"), dict):
        raise ArtifactError(f"{meta_path}: malformed metadata (no file list)")
    if meta.get("kind") != kind:
        raise ArtifactError(f"{directory}: holds a {meta.get('kind')!r} artifact, expected {kind!r}")
    supported = sorted(supported_versions)
    version = meta.get("format_version")
    if version not in supported:
        newer = isinstance(version, int) and not isinstance(version, bool) and supported and version > supported[-1]
        origin = (f", written by a newer {DISTRIBUTION} ({meta.get('package_version', 'unknown version')}): "
                  f"upgrade the package or" if newer else ";")
        raise ArtifactError(
            f"{directory}: format version {version!r} is not supported by this package "
            f"(supports {supported}){origin} rebuild it with {rebuild_hint(kind)}"
        )
    for name, expected in meta["files"].items():
        path = directory / name
        if Path(name).name != name:
            raise ArtifactError(f"{meta_path}: file entry {name!r} is not a plain file name")
        if not path.is_file():
            raise ArtifactError(f"{path}: listed in meta.json but missing")
        if sha256_file(path) != expected:
            raise ArtifactError(f"{path}: hash differs from meta.json (corrupted or tampered); refusing to load")
    unlisted = sorted(p.name for p in directory.iterdir() if p.is_file() and p.name not in meta["files"]
                      and p.name != META_FILE)
    if unlisted:
        raise ArtifactError(f"{directory}: unexpected file(s) not in meta.json: {', '.join(unlisted)}; refusing to load")
    warn_library_versions(directory, meta)
    return meta


def library_mismatches(meta: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Libraries whose installed version differs from the one recorded in ``meta``.

    Returns
    -------
    dict
        ``{library: (recorded version, installed version)}``; the installed version is
        ``"missing"`` when the library is no longer installed. Libraries recorded as
        ``"missing"`` (not installed when the artifact was built) are skipped.
    """
    recorded = meta.get("libraries")
    if not isinstance(recorded, dict):
        return {}
    current = library_versions(recorded)
    return {lib: (str(saved), current[lib]) for lib, saved in recorded.items()
            if saved != "missing" and str(saved) != current[lib]}


def warn_library_versions(directory: Path | str, meta: dict[str, Any]) -> None:
    """One :class:`~pipeline.errors.VersionWarning` listing every library version that differs."""
    mismatches = library_mismatches(meta)
    if not mismatches:
        return
    listed = ", ".join(f"{lib} {saved} (installed: {current})" for lib, (saved, current) in mismatches.items())
    warnings.warn(
        f"{directory}: built with {listed}; it loads, but its results may differ from those it gave when "
        f"it was built. Rebuild it with {rebuild_hint(str(meta.get('kind')))} to match this environment",
        VersionWarning,
        stacklevel=_caller_stacklevel(),
    )


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside this package."""
    package = str(Path(__file__).resolve().parent)
    frame, level = sys._getframe(1), 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame, level = frame.f_back, level + 1
    return level
