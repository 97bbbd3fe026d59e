"""Labelled stance data: one JSON object a line.

Each line holds ``text`` (the paragraph), ``target`` (a target name from
``stance.targets``), ``label`` (``favor``, ``against`` or ``neutral``) and, optionally,
``source`` (where the text comes from: ``written``, ``seed:<file stem>``, ...). Other
fields are kept out of the way and ignored. Blank lines are skipped. Any other problem is
an :class:`~pipeline.errors.InputError` that names the file and line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..io import jsonl_objects
from .model import LABELS


@dataclass(frozen=True)
class LabelledExample:
    """One labelled (text, target) pair and where it was read."""

    text: str
    target: str
    label: str
    source: str
    line: int


def read_labels(path: Path | str, target_names: Sequence[str]) -> list[LabelledExample]:
    """Read and validate a labelled JSONL file.

    Parameters
    ----------
    path : path-like
        The JSONL file.
    target_names : sequence of str
        Allowed target names (``stance.targets``).

    Raises
    ------
    InputError
        If the file is missing or empty, or a line is not a JSON object, lacks ``text``,
        ``target`` or ``label``, has an unknown label or a target not in ``target_names``.
    """
    path = Path(path)
    known = list(target_names)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: labelled stance data not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    examples: list[LabelledExample] = []
    for number, record in jsonl_objects(raw, path, " with text, target and label"):
        where = f"{path}:{number}"
        missing = [key for key in ("text", "target", "label") if key not in record]
        if missing:
            raise InputError(f"{where}: missing field(s) {', '.join(missing)}")
        text, target, label = record["text"], record["target"], record["label"]
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{where}: text must be a non-empty string")
        if label not in LABELS:
            raise InputError(f"{where}: unknown label {label!r}, expected one of {', '.join(LABELS)}")
        if target not in known:
            raise InputError(f"{where}: target {target!r} is not in stance.targets ({', '.join(known)})")
        source = record.get("source", "")
        examples.append(LabelledExample(text, target, label, str(source) if source is not None else "", number))
    if not examples:
        raise InputError(f"{path}: no labelled examples")
    return examples


def training_files(path: Path | str) -> list[Path]:
    """The labelled JSONL files of ``stance.train``: the file itself, or a folder's ``*.jsonl`` by name.

    Raises
    ------
    InputError
        If the path does not exist or a folder holds no ``*.jsonl`` file.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.jsonl") if p.is_file())
        if not files:
            raise InputError(f"{path}: folder of labelled stance data holds no *.jsonl file")
        return files
    if not path.exists():
        raise InputError(f"{path}: labelled stance data not found")
    return [path]


def read_training(path: Path | str, target_names: Sequence[str]) -> list[LabelledExample]:
    """Every labelled example of ``stance.train`` (a JSONL file or a folder of them, in name order).

    Each file is read with :func:`read_labels`, so its errors name the file and line.
    """
    return [example for file in training_files(path) for example in read_labels(file, target_names)]


def label_counts(examples: Iterable[LabelledExample]) -> dict[str, dict[str, int]]:
    """Counts per target and label, every label present (zeros included)."""
    counts = Counter((e.target, e.label) for e in examples)
    targets = sorted({t for t, _ in counts})
    return {t: {label: counts[(t, label)] for label in LABELS} for t in targets}


def format_counts(examples: Sequence[LabelledExample]) -> str:
    """A plain-text table of counts per target x label, with totals."""
    table = label_counts(examples)
    width = max([len("target"), *map(len, table)])
    head = f"{'target':<{width}} " + " ".join(f"{label:>8}" for label in LABELS) + f" {'total':>8}"
    lines = [head]
    for target, row in table.items():
        lines.append(f"{target:<{width}} " + " ".join(f"{row[label]:>8}" for label in LABELS)
                     + f" {sum(row.values()):>8}")
    totals = {label: sum(row[label] for row in table.values()) for label in LABELS}
    lines.append(f"{'all':<{width}} " + " ".join(f"{totals[label]:>8}" for label in LABELS)
                 + f" {sum(totals.values()):>8}")
    sources = Counter(e.source.split(":", 1)[0] or "unknown" for e in examples)
    lines.append("sources: " + ", ".join(f"{name} {n}" for name, n in sorted(sources.items())))
    return "\n".join(lines)
