"""Materialise UN General Debate stance references into labelled JSONL.

The label files under ``data/labels/ungdc/`` hold *references* only (no corpus text):
one JSON object a line with ``session``, ``country``, ``para``, ``sha256_16``,
``target`` and ``label``. This script looks each reference up in the UN General
Debates corpus and writes the labelled examples that ``pipeline.stance.data``
reads, in the order of the references::

    {"text": ..., "target": ..., "label": ..., "source": "ungdc:<session>:<country>:<para>"}

Paragraph definition (the reference files rely on it exactly): the
speech ``text`` (one CSV row, identified by ``session`` and ``country``) is split on
``"\\n"``, each line is normalised with ``" ".join(line.split())``, empty lines are
dropped and the remaining lines are numbered from 0. ``sha256_16`` is the first 16 hex
digits of the SHA-256 of the UTF-8 paragraph. Only paragraphs of 20 or more words are
valid references.

Sessions 76, 77 and 78 (2021-2023) are the evaluation split: a reference to them is
refused before the corpus is opened, and their rows are dropped as soon as a chunk of
the corpus is read (only the sessions the references need are kept).

Usage
-----
From the repository root::

    .venv/bin/python data/labels/materialize_ungdc.py
    .venv/bin/python data/labels/materialize_ungdc.py --refs data/labels/ungdc/dev.jsonl \\
        --output data/labels/ungdc_dev.jsonl
    # the larger training set: the repo's own items first, then the UN references
    .venv/bin/python data/labels/materialize_ungdc.py --include data/labels/stance_train.jsonl \\
        --output data/labels/stance_train_large.jsonl

Options
-------
--refs FILE...
    Reference files, read in the order given (default: every
    ``data/labels/ungdc/train_*.jsonl`` of the repository, sorted by name).
--corpus PATH
    The corpus CSV (default: ``../shared/data/corpora/un-general-debates/
    un-general-debates-1946-2024.csv.gz`` relative to the repository root).
--output PATH
    Where to write the JSONL (default: ``data/labels/ungdc_train.jsonl`` of the
    repository). Written atomically (temporary file, then ``os.replace``).
--include FILE...
    Labelled JSONL files copied (as parsed JSON objects) before the materialised
    references, e.g. ``data/labels/stance_train.jsonl`` to train one larger model.

Relative ``--refs``/``--corpus``/``--output`` paths given on the command line are
relative to the current directory; the defaults are anchored at the repository root.

Exit status
-----------
0 on success; 2 with one ``Error: ...`` line on stderr when the corpus is missing or
unreadable, or a reference is malformed, duplicated, points at sessions 76-78, at a
speech or paragraph that does not exist, or its hash does not match (the message names
the reference file and line).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REFS = "data/labels/ungdc/train_*.jsonl"
DEFAULT_CORPUS = "../shared/data/corpora/un-general-debates/un-general-debates-1946-2024.csv.gz"
DEFAULT_OUTPUT = "data/labels/ungdc_train.jsonl"
HELD_OUT_SESSIONS = frozenset({76, 77, 78})
LABELS = ("favor", "against", "neutral")
MIN_WORDS = 20
REF_KEYS = ("session", "country", "para", "sha256_16", "target", "label")


class MaterialiseError(Exception):
    """A problem reported as one ``Error: ...`` line and exit status 2."""


@dataclass(frozen=True)
class Reference:
    """One labelled paragraph reference and where it was read."""

    session: int
    country: str
    para: int
    sha256_16: str
    target: str
    label: str
    where: str


def paragraphs(text: str) -> list[str]:
    """Split a speech into paragraphs: lines, whitespace-normalised, empty ones dropped."""
    normalised = (" ".join(line.split()) for line in (text or "").split("\n"))
    return [line for line in normalised if line]


def paragraph_hash(paragraph: str) -> str:
    """First 16 hex digits of the SHA-256 of the UTF-8 paragraph."""
    return hashlib.sha256(paragraph.encode("utf-8")).hexdigest()[:16]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_references(paths: list[Path]) -> list[Reference]:
    """Read and check every reference file (format only; the corpus is not touched)."""
    refs: list[Reference] = []
    seen: dict[tuple[int, str, int, str], str] = {}
    for path in paths:
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise MaterialiseError(f"{path}: reference file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise MaterialiseError(f"{path}: cannot read: {exc}") from None
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MaterialiseError(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})") from None
            if not isinstance(record, dict):
                raise MaterialiseError(f"{where}: expected a JSON object, got {type(record).__name__}")
            missing = [key for key in REF_KEYS if key not in record]
            if missing:
                raise MaterialiseError(f"{where}: missing field(s) {', '.join(missing)}")
            session, country, para = record["session"], record["country"], record["para"]
            digest, target, label = record["sha256_16"], record["target"], record["label"]
            if not _is_int(session):
                raise MaterialiseError(f"{where}: session must be an integer, got {session!r}")
            if session in HELD_OUT_SESSIONS:
                raise MaterialiseError(
                    f"{where}: session {session} is in the held-out evaluation split (76-78) and may not be used"
                )
            if not isinstance(country, str) or not country.strip():
                raise MaterialiseError(f"{where}: country must be a non-empty string (ISO3 code)")
            if not _is_int(para) or para < 0:
                raise MaterialiseError(f"{where}: para must be a non-negative integer, got {para!r}")
            if not isinstance(digest, str) or len(digest) != 16:
                raise MaterialiseError(f"{where}: sha256_16 must be a 16-character hex string, got {digest!r}")
            if not isinstance(target, str) or not target.strip():
                raise MaterialiseError(f"{where}: target must be a non-empty string")
            if label not in LABELS:
                raise MaterialiseError(f"{where}: unknown label {label!r}, expected one of {', '.join(LABELS)}")
            key = (session, country, para, target)
            if key in seen:
                raise MaterialiseError(f"{where}: duplicate reference (already at {seen[key]})")
            seen[key] = where
            refs.append(Reference(session, country, para, digest.lower(), target, label, where))
    return refs


def read_speeches(corpus: Path, sessions: set[int]) -> dict[tuple[int, str], str]:
    """Speech texts of the given sessions, keyed by ``(session, country)``.

    Only ``session``, ``country`` and ``text`` are read, chunk by chunk; every chunk is
    filtered to ``sessions`` (which never contains 76-78) at once, so held-out rows are
    never kept.
    """
    import pandas as pd  # imported late: argument and reference errors need no pandas

    wanted = set(sessions) - HELD_OUT_SESSIONS
    if not corpus.is_file():
        raise MaterialiseError(f"{corpus}: corpus not found")
    kept = []
    try:
        chunks = pd.read_csv(corpus, usecols=["session", "country", "text"], chunksize=2000)
        for chunk in chunks:
            chunk = chunk[chunk["session"].isin(wanted) & ~chunk["session"].isin(HELD_OUT_SESSIONS)]
            assert not set(chunk["session"]) & HELD_OUT_SESSIONS
            if len(chunk):
                kept.append(chunk)
    except (OSError, EOFError, ValueError, pd.errors.ParserError) as exc:
        raise MaterialiseError(f"{corpus}: cannot read the corpus: {exc}") from None
    speeches: dict[tuple[int, str], str] = {}
    for chunk in kept:
        for session, country, text in zip(chunk["session"], chunk["country"], chunk["text"], strict=True):
            text = text if isinstance(text, str) else ""
            speeches[(int(session), str(country))] = text
    return speeches


def materialise(refs: list[Reference], speeches: dict[tuple[int, str], str]) -> list[dict[str, str]]:
    """Look every reference up and return the output records, in reference order."""
    split: dict[tuple[int, str], list[str]] = {}
    records: list[dict[str, str]] = []
    for ref in refs:
        key = (ref.session, ref.country)
        if key not in speeches:
            raise MaterialiseError(
                f"{ref.where}: paragraph does not exist: no speech for session {ref.session}, country {ref.country!r}"
            )
        if key not in split:
            split[key] = paragraphs(speeches[key])
        paras = split[key]
        if ref.para >= len(paras):
            raise MaterialiseError(
                f"{ref.where}: paragraph does not exist: speech {ref.session}:{ref.country} has "
                f"{len(paras)} paragraphs, para {ref.para} requested"
            )
        text = paras[ref.para]
        if len(text.split()) < MIN_WORDS:
            raise MaterialiseError(
                f"{ref.where}: paragraph {ref.session}:{ref.country}:{ref.para} has fewer than {MIN_WORDS} words"
            )
        actual = paragraph_hash(text)
        if actual != ref.sha256_16:
            raise MaterialiseError(
                f"{ref.where}: hash mismatch for {ref.session}:{ref.country}:{ref.para} "
                f"(reference {ref.sha256_16}, corpus {actual})"
            )
        records.append(
            {
                "text": text,
                "target": ref.target,
                "label": ref.label,
                "source": f"ungdc:{ref.session}:{ref.country}:{ref.para}",
            }
        )
    return records


def write_atomic(path: Path, records: list[dict[str, str]]) -> None:
    """Write JSONL to a temporary file next to ``path``, then ``os.replace`` it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_included(paths: list[str]) -> list[dict[str, str]]:
    """Records of already materialised or written JSONL files, in file order (each line a JSON object)."""
    records: list[dict[str, str]] = []
    for name in paths:
        path = Path(name)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise MaterialiseError(f"{path}: cannot read: {exc.strerror or exc}") from None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MaterialiseError(f"{path}:{number}: not valid JSON: {exc.msg}") from None
            if not isinstance(record, dict):
                raise MaterialiseError(f"{path}:{number}: expected a JSON object")
            records.append(record)
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", nargs="+", metavar="FILE", help=f"reference files (default: {DEFAULT_REFS})")
    parser.add_argument("--corpus", help=f"corpus CSV (default: {DEFAULT_CORPUS}, relative to the repo root)")
    parser.add_argument("--output", help=f"output JSONL (default: {DEFAULT_OUTPUT})")
    parser.add_argument("--include", nargs="+", default=[], metavar="FILE",
                        help="labelled JSONL files (e.g. data/labels/stance_train.jsonl) copied first into the "
                             "output, so one file trains the larger model")
    args = parser.parse_args(argv)
    try:
        if args.refs:
            ref_paths = [Path(p) for p in args.refs]
        else:
            ref_paths = [Path(p) for p in sorted(glob.glob(str(REPO_ROOT / DEFAULT_REFS)))]
            if not ref_paths:
                raise MaterialiseError(f"no reference files match {REPO_ROOT / DEFAULT_REFS}")
        corpus = Path(args.corpus) if args.corpus else REPO_ROOT / DEFAULT_CORPUS
        output = Path(args.output) if args.output else REPO_ROOT / DEFAULT_OUTPUT
        refs = read_references(ref_paths)
        if not refs:
            raise MaterialiseError(f"no references in {', '.join(map(str, ref_paths))}")
        speeches = read_speeches(corpus, {ref.session for ref in refs})
        records = [*read_included(args.include), *materialise(refs, speeches)]
        try:
            write_atomic(output, records)
        except OSError as exc:
            raise MaterialiseError(f"{output}: cannot write: {exc}") from None
    except MaterialiseError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    print(f"{output}: {len(records)} labelled examples from {len(ref_paths)} reference file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
