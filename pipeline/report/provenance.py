"""What made the report: the code, the config and the models, named by hashes that stay put.

The report's footer and ``report.metrics["provenance"]`` name

``code_tree``
    The git tree id of the ``pipeline/`` package directory *as it is on disk*, computed the
    way git computes it (:func:`git_tree_id`), so for a clean committed checkout it equals
    ``git rev-parse HEAD:pipeline``. Not the HEAD commit: the commit that records ``dvc.lock``
    is made after the run, so HEAD at run time is never the commit a fresh clone checks out;
    the tree is the same in both. ``git log --all --format=%h -t --find-object=<tree>`` lists
    the commits where this tree appears (the oldest introduced it) or is replaced; it lists
    nothing when the code was not committed as it was.
``config_sha256``
    SHA-256 of the validated config (:func:`pipeline.config.config_to_dict`) as canonical JSON
    (sorted keys, no spaces), so it changes with any value, default or not, and with nothing else.
``topic_model``, ``stance_model``
    SHA-256 of each model directory's ``meta.json``, which records the SHA-256 of every model
    file (see :mod:`pipeline.artifacts`), plus a few facts read from it (engine, K, targets).
``package``, ``version``
    The distribution and its installed version.

Nothing here depends on the time, the machine or the commit, so the same code, config and
models give the same bytes and ``dvc.lock`` stays put on a fresh clone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

from ..artifacts import DISTRIBUTION, META_FILE, package_version
from ..config import Config, config_to_dict
from ..io import sha256_file

log = logging.getLogger(__name__)

#: the package directory whose git tree names the code
CODE_DIR = Path(__file__).resolve().parents[1]
#: what :func:`git_tree_id` leaves out: what ``.gitignore`` (and ``.dvcignore``) keep out of the repository
SKIPPED = "__pycache__ directories, *.pyc files and *.egg-info entries"
#: the id of git's empty tree (a directory with nothing git would track)
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
#: how many hex digits of a hash the page shows (the full hash is in the title attribute and the metrics)
SHORT = 12


def find_commits_command(tree: str) -> str:
    """The git command that lists the commits where the code tree ``tree`` appears or is replaced."""
    return f"git log --all --format=%h -t --find-object={tree}"


def _skipped(name: str) -> bool:
    return name == "__pycache__" or name.endswith((".pyc", ".egg-info"))


def _object(kind: bytes, body: bytes) -> bytes:
    """The binary id git gives an object of ``kind`` holding ``body``."""
    return hashlib.sha1(b"%s %d\0" % (kind, len(body)) + body).digest()


def git_blob_id(data: bytes) -> str:
    """The id git gives a file holding ``data`` (``git hash-object``)."""
    return _object(b"blob", data).hex()


def _tree(directory: Path) -> bytes | None:
    """The binary tree id of ``directory``, or None when it holds nothing git would track."""
    entries = []
    with os.scandir(directory) as listing:
        for entry in listing:
            if _skipped(entry.name):
                continue
            name = os.fsencode(entry.name)
            key = name
            if entry.is_symlink():
                mode, oid = b"120000", _object(b"blob", os.fsencode(os.readlink(entry.path)))
            elif entry.is_dir():
                oid = _tree(Path(entry.path))
                if oid is None:  # git does not hold empty directories
                    continue
                mode, key = b"40000", name + b"/"  # git sorts a directory as its name with a slash
            elif entry.is_file():
                mode = b"100755" if entry.stat().st_mode & stat.S_IXUSR else b"100644"
                oid = _object(b"blob", Path(entry.path).read_bytes())
            else:  # sockets, fifos: nothing git stores
                continue
            entries.append((key, mode + b" " + name + b"\0" + oid))
    if not entries:
        return None
    return _object(b"tree", b"".join(entry for _, entry in sorted(entries)))


def git_tree_id(directory: Path | str) -> str:
    """The id git gives the tree of ``directory`` as it is on disk (``git rev-parse HEAD:<dir>`` when committed).

    Files are blobs (``sha1(b"blob <size>\\0" + content)``), mode 100755 when the owner may execute
    them and 100644 otherwise, symbolic links mode 120000 (their target as content), directories
    trees (mode 40000), entries sorted by name in bytes with a directory's name followed by ``/``,
    as git sorts them. Left out, as ``.gitignore`` keeps them out of the repository: __pycache__
    directories, *.pyc files and *.egg-info entries; so are empty directories, which git cannot
    hold. Any other file counts, tracked or not, so an uncommitted file gives a tree no commit has.
    Line endings are read as they are on disk (a checkout with ``core.autocrlf`` differs).
    """
    tree = _tree(Path(directory))
    return EMPTY_TREE if tree is None else tree.hex()


def config_sha256(config: Config) -> str:
    """SHA-256 of the validated config as canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(config_to_dict(config), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return meta if isinstance(meta, dict) else {}


def model_provenance(directory: Path | str, kind: str) -> dict[str, Any]:
    """The hash of a model directory's ``meta.json`` and the key facts it records.

    Returns
    -------
    dict
        ``meta`` (the path of ``meta.json``), ``sha256`` (None when the file is missing),
        ``kind``, ``format_version`` and ``engine``, plus ``num_topics`` for a topic model or
        ``targets`` (their number) for a stance model, each when ``meta.json`` records it.
    """
    path = Path(directory) / META_FILE
    if not path.is_file():
        log.warning("%s: not found, the report names no %s model", path, kind)
        return {"meta": str(path), "sha256": None}
    meta = _read_meta(path)
    facts: dict[str, Any] = {"meta": str(path), "sha256": sha256_file(path)}
    facts.update({k: meta[k] for k in ("kind", "format_version") if k in meta})
    if kind == "topics":
        section = meta.get("config")
        settings = section.get("topics") if isinstance(section, dict) else None
        settings = settings if isinstance(settings, dict) else {}
        facts.update({k: settings[k] for k in ("engine", "num_topics") if k in settings})
    elif kind == "stance":
        if "engine" in meta:
            facts["engine"] = meta["engine"]
        if isinstance(meta.get("targets"), list):
            facts["targets"] = len(meta["targets"])
    return facts


def collect_provenance(config: Config, code_dir: Path | str = CODE_DIR) -> dict[str, Any]:
    """The report's provenance block (see the module docstring); JSON-ready, the same on every run."""
    tree = git_tree_id(code_dir)
    return {
        "package": DISTRIBUTION,
        "version": package_version(),
        "code_dir": Path(code_dir).name,
        "code_tree": tree,
        "find_commits": find_commits_command(tree),
        "config_sha256": config_sha256(config),
        "topic_model": model_provenance(config.topics.model, "topics"),
        "stance_model": model_provenance(config.stance.model, "stance"),
    }
