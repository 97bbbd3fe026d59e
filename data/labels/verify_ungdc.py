"""Check the committed UN General Debate labels against the corpus they come from.

Every item of ``data/labels/train/ungdc*.jsonl``, ``data/labels/train/model*.jsonl`` (labelled by a teacher
model, see ``distill.py``) and ``data/labels/dev/ungdc_dev.jsonl`` names its paragraph
(``session``, ``country``, ``para``) and the way the speech was split (``paragraphs``): ``lines`` (sessions
stored one paragraph a line: split on line breaks, white space collapsed, empty lines dropped) or
``chunker`` (hard-wrapped sessions: the non-heading paragraphs of ``segment_document`` with the default
``chunk`` settings). This script re-splits each speech, looks the paragraph up and compares its text and
``sha256_16`` with the item. Sessions 76-78, the evaluation split, are refused before the corpus is read.

A ``chunker`` paragraph that no longer matches is reported but not an error when the chunker has changed
since the label was made (the committed text stays the labelled one); a ``lines`` paragraph must match.

Usage: ``.venv/bin/python data/labels/verify_ungdc.py [--corpus PATH]``; prints one JSON line; exit 2 on
a mismatch of a ``lines`` item, an evaluation session, or an unreadable corpus.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
#: every real UN file of the training folder (labelled by people or by a teacher model), and the development set
FILES = (*sorted(str(p.relative_to(REPO_ROOT)) for pattern in ("ungdc*.jsonl", "model*.jsonl")
                 for p in (REPO_ROOT / "data" / "labels" / "train").glob(pattern)),
         "data/labels/dev/ungdc_dev.jsonl")
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "data" / "corpora" / "un-general-debates" / \
    "un-general-debates-1946-2024.csv.gz"
EVALUATION_SESSIONS = frozenset({76, 77, 78})


def line_paragraphs(text: str) -> list[str]:
    """Lines of a speech, white space collapsed, empty ones dropped."""
    return [p for p in (" ".join(line.split()) for line in text.split("\n")) if p]


def speech_paragraphs(text: str, kind: str, opts) -> list[str]:
    """The paragraphs of a speech as the items number them: ``lines`` or ``chunker`` (with ``opts``)."""
    from pipeline.chunk.segment import segment_document

    if kind == "lines":
        return line_paragraphs(text)
    return [" ".join(p.text.split()) for p in segment_document(text, opts) if not p.heading]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    args = parser.parse_args(argv)
    items = [json.loads(line) for name in FILES
             for line in (REPO_ROOT / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    sessions = {item["session"] for item in items}
    if sessions & EVALUATION_SESSIONS:
        print(f"Error: items from evaluation sessions {sorted(sessions & EVALUATION_SESSIONS)}", file=sys.stderr)
        return 2
    import pandas as pd

    from pipeline.chunk.segment import SegmentOptions
    from pipeline.config import Config

    try:
        frame = pd.read_csv(args.corpus, usecols=["session", "country", "text"])
    except (OSError, ValueError) as exc:
        print(f"Error: {args.corpus}: cannot read the corpus: {exc}", file=sys.stderr)
        return 2
    frame = frame[frame["session"].isin(sorted(sessions))]
    speeches = {(int(s), c): t if isinstance(t, str) else "" for s, c, t in
                zip(frame["session"], frame["country"], frame["text"], strict=True)}
    opts = SegmentOptions.from_config(Config().chunk)
    split: dict[tuple[int, str, str], list[str]] = {}
    bad_lines, changed_chunker, ok = [], [], 0
    for item in items:
        key = (item["session"], item["country"], item["paragraphs"])
        if key not in split:
            split[key] = speech_paragraphs(speeches.get(key[:2], ""), key[2], opts)
        paragraphs = split[key]
        found = paragraphs[item["para"]] if item["para"] < len(paragraphs) else None
        digest = hashlib.sha256(item["text"].encode("utf-8")).hexdigest()[:16]
        if found == item["text"] and digest == item["sha256_16"]:
            ok += 1
        elif item["paragraphs"] == "lines":
            bad_lines.append(item["source"])
        else:
            changed_chunker.append(item["source"])
    print(json.dumps({"items": len(items), "verified": ok, "lines_mismatch": bad_lines[:20],
                      "chunker_changed": len(changed_chunker)}))
    return 2 if bad_lines else 0


if __name__ == "__main__":
    sys.exit(main())
