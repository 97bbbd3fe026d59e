"""Model directories: ``meta.json`` with provenance and file hashes, and its checks.

A model directory holds its files plus ``meta.json``::

    {"kind": "topics", "format_version": 1, "package_version": "...",
     "libraries": {"gensim": "..."}, "config": {...}, "inputs": {path: sha256},
     "files": {name: sha256}, "created_by": "pipeline topics"}

:func:`check_artifact` verifies kind, format version and every file hash *before*
anything in the directory is deserialised, so a corrupted, swapped or tampered file is
refused rather than loaded.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .errors import ArtifactError
from .io import sha256_file, write_json

log = logging.getLogger(__name__)

META_FILE = "meta.json"


def package_version() -> str:
    try:
        return importlib.metadata.version("newsstance-pipeline")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def library_versions(names: Iterable[str]) -> dict[str, str]:
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

    ``write_files(tmpdir)`` writes the artifact's files; this function adds ``meta.json``.
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

    Raises
    ------
    ArtifactError
        If the directory or ``meta.json`` is missing or malformed, the kind or format
        version is wrong, a listed file is missing or its hash differs, or an unlisted
        file is present.
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
        raise ArtifactError(
            f"{directory}: format version {version!r} is not supported by this package "
            f"(supports {supported}); rebuild it with `dvc repro` or the matching package version"
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
    for lib, saved in meta.get("libraries", {}).items():
        current = library_versions([lib])[lib]
        if saved != current:
            warnings.warn(
                f"{directory}: built with {lib} {saved}, running {lib} {current}; results may differ",
                stacklevel=3,
            )
    return meta
