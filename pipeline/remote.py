"""Models of another revision or repository, fetched through DVC's own API.

``pipeline.load(repo=..., rev=...)`` (and ``load_topics``/``load_stance`` with the same keywords)
call :func:`fetch`: it opens the repository at the revision with :class:`dvc.api.DVCFileSystem`
(a local path or any git URL; DVC clones a URL into a temporary directory), downloads the
DVC-tracked model directory from the local cache or the repository's DVC remote, and returns a
local copy that the usual loaders check (``meta.json`` hashes) and load.

Copies are kept in a cache directory keyed by the repository and the *resolved commit*, so a
tag or branch that moves is fetched again while a commit id is fetched once::

    import pipeline
    old = pipeline.load(repo="https://github.com/org/project", rev="v0.3")
    new = pipeline.load(repo="https://github.com/org/project", rev="main")

The cache is ``$NEWSSTANCE_CACHE`` when set, else ``$XDG_CACHE_HOME/newsstance-pipeline``
(``~/.cache/newsstance-pipeline``); delete it at any time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from .errors import ArtifactError


def cache_root() -> Path:
    """Where fetched models are kept (see the module docstring)."""
    if os.environ.get("NEWSSTANCE_CACHE"):
        return Path(os.environ["NEWSSTANCE_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "newsstance-pipeline"


def fetch(path: Path | str, *, repo: str | os.PathLike[str] | None = None, rev: str | None = None,
          remote: str | None = None, cache_dir: Path | str | None = None) -> Path:
    """A local copy of the DVC-tracked ``path`` of ``repo`` at ``rev``.

    Parameters
    ----------
    path : path-like
        The path inside the repository, e.g. ``"models"`` or ``"models/stance"``.
    repo : str or path-like, optional
        A git URL or a local repository; the repository around the working directory when omitted.
    rev : str, optional
        A commit, tag or branch; the checked-out revision (HEAD) when omitted.
    remote : str, optional
        The name of the DVC remote to download from; the repository's default remote when omitted.
        Data already in a local repository's cache is read from there.
    cache_dir : path-like, optional
        Where copies are kept; :func:`cache_root` when omitted.

    Returns
    -------
    Path
        The local copy of ``path`` (a directory for a model directory).

    Raises
    ------
    ArtifactError
        When the repository, the revision or the path does not exist, or the data can be found
        neither in a cache nor on a remote. The message says which.
    """
    from dvc.api import DVCFileSystem

    where = f"{path} at {rev or 'HEAD'} of {repo or 'the current repository'}"
    rel = Path(path).as_posix().strip("/")
    if repo is not None and "://" not in str(repo) and "@" not in str(repo) and not Path(repo).exists():
        raise ArtifactError(f"cannot open {where}: {repo} is neither a git URL nor an existing directory")
    try:
        fs = DVCFileSystem(str(repo) if repo is not None else None, rev=rev, remote=remote)
        commit = fs.repo.get_rev()
    except Exception as exc:  # DVC's clone, SCM and revision errors have no common public base
        raise ArtifactError(f"cannot open {where}: {_reason(exc)}") from None
    try:
        source = str(Path(repo).resolve()) if repo is not None and Path(repo).exists() else str(repo or Path.cwd())
        key = hashlib.sha256(f"{source}\0{commit}\0{rel}".encode()).hexdigest()[:20]
        dest = Path(cache_dir or cache_root()) / key / Path(rel).name
        if (dest.parent / ".complete").exists():
            return dest
        if not fs.exists(rel):
            raise ArtifactError(f"cannot fetch {where}: {rel} is not in that revision (is it tracked by DVC and "
                                "committed in dvc.lock?)")
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=dest.parent))
        try:
            fs.get(rel, str(staging / dest.name), recursive=fs.isdir(rel))
            if dest.exists():
                shutil.rmtree(dest) if dest.is_dir() else dest.unlink()
            (staging / dest.name).rename(dest)
            (dest.parent / ".complete").write_text(f"{source}\n{commit}\n{rel}\n")
        except ArtifactError:
            raise
        except Exception as exc:
            raise ArtifactError(f"cannot fetch {where}: {_reason(exc)} (the data is in no cache DVC can read: "
                                "was it pushed to the repository's DVC remote with `dvc push`?)") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return dest
    finally:
        fs.repo.close()


def _reason(exc: Exception) -> str:
    """One line from a DVC or git error, with a hint for an unknown revision."""
    cause = exc.__cause__ or exc.__context__
    text = " ".join(str(exc).split()) or type(exc).__name__
    if cause is not None and str(cause).strip() and text in ("SCM error", "Git error"):
        text = f"{text}: {' '.join(str(cause).split())}"
    name = type(exc).__name__
    if "RevError" in name or "unknown Git revision" in text:
        return f"{text} (no such commit, tag or branch)"
    return text
