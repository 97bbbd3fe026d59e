"""Label unlabelled real UN paragraphs with a teacher stance model (knowledge distillation).

The fine-tuned transformer engine reads real speeches better than the TF-IDF model (README, "stance") but
is too slow to be the default. This script lets the default model learn from it: every paragraph of 20+
words of the allowed speeches that mentions a default target and is not labelled yet is labelled, for every
target it mentions, by a teacher model directory (``--teacher``: ``stance.engine: transformer`` trained on
the labelled folder, e.g. ``benchmarks/stance_transformer.py --train --save DIR``; its ``route_below`` is set
to ``--route-below``, 1.0 by default, so every pair is read by the transformer), and written to ``--output``
in the format of ``ungdc.jsonl`` with source ``model:ungdc:<session>:<country>:<para>``,
``annotation: "model"``, ``batch: "2026-12-distilled"``, the teacher's probability of its label (``p``) and
of every label (``p_teacher``). Pairs whose top probability is below ``--min-p`` are left out.

Not part of the default training data. To train on it, put FILE in a copy of the training folder
(``stance.train``) and weigh it with ``stance.source_weights`` (key ``model``). Measured on 2026-12-07:

- teacher: the transformer engine trained on the 8,285 items of the folder before ``ungdc_against.jsonl``
  (4,409 pairs once the known-groups speeches are left out), weight 0.5: development macro-F1 0.683 -> 0.690,
  known groups 29 -> 30 of 34;
- teacher: the transformer engine trained on today's folder (8,707 items; development macro-F1 0.762 with
  ``route_below: 1.0``; 5,050 pairs), weight 0.5: 0.681 -> 0.679 (1.0: 0.674), known groups 29 of 34 either way;
  CheckList 0.883 -> 0.905.

The gain does not hold up from one teacher to the next, so the default model does not use it. Cross-validation
over the real training items is not a fair check here: the teacher saw every one of them.

Allowed speeches: sessions 55-68, 70-74 and 79, minus every speech of the development set and, so that
``benchmarks/stance_known_groups.py`` stays a check on unseen text, every speech of a known-groups country
(``benchmarks/data/known_groups.csv``) in the sessions that check reads (69-75 and 79); sessions 69 and 75
(development slices) and 76-78 (the evaluation split) are never read. Paragraphs are split as
``verify_ungdc.py`` splits them (``lines`` for sessions 70+, the chunker before), so the items verify.

Usage: ``.venv/bin/python data/labels/distill.py --teacher DIR --output FILE [--min-p 0.0]``; prints one JSON
line of counts.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from verify_ungdc import DEFAULT_CORPUS, speech_paragraphs  # noqa: E402

TRAIN = REPO_ROOT / "data" / "labels" / "train"
DEV = REPO_ROOT / "data" / "labels" / "dev" / "ungdc_dev.jsonl"
KNOWN_GROUPS = REPO_ROOT / "benchmarks" / "data" / "known_groups.csv"
SESSIONS = frozenset([*range(55, 69), *range(70, 75), 79])
#: the sessions whose speeches the known-groups check reads
KNOWN_GROUP_SESSIONS = frozenset({69, 70, 71, 72, 73, 74, 75, 79})
MIN_WORDS = 20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", required=True, help="a stance model directory")
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--min-p", type=float, default=0.0, help="leave out pairs the teacher is less sure of")
    parser.add_argument("--route-below", type=float, default=1.0,
                        help="the teacher's transformer route_below (1.0: the transformer reads every pair)")
    parser.add_argument("--output", required=True, help="the JSONL file to write")
    args = parser.parse_args(argv)
    if SESSIONS & {69, 75, 76, 77, 78}:  # pragma: no cover - a guard against editing mistakes
        raise AssertionError("development or evaluation sessions in SESSIONS")
    import numpy as np
    import pandas as pd

    from pipeline.chunk.segment import SegmentOptions
    from pipeline.config import Config
    from pipeline.stance.storage import load_stance

    dev_speeches = {(r["session"], r["country"]) for r in map(json.loads, DEV.read_text().splitlines()) if r}
    with open(KNOWN_GROUPS, encoding="utf-8") as handle:
        known_group_countries = {row["country"] for row in csv.DictReader(handle)}
    labelled = {" ".join(json.loads(line)["text"].split()) for path in sorted(TRAIN.glob("*.jsonl"))
                if not path.name.startswith("model")  # human labels only: a distilled file is replaced
                for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    frame = pd.read_csv(args.corpus, usecols=["session", "country", "text"])
    frame = frame[frame["session"].isin(sorted(SESSIONS))]
    if set(frame["session"]) - SESSIONS:  # pragma: no cover
        raise AssertionError("a session outside SESSIONS was read")
    model = load_stance(args.teacher)
    if getattr(model, "refiner_", None) is not None:
        model.refiner_.route_below = args.route_below
    matchers = {m.name: m for m in model.matchers_}
    opts = SegmentOptions.from_config(Config().chunk)
    rows = []
    for session, country, text in zip(frame["session"], frame["country"], frame["text"], strict=True):
        session = int(session)
        if (session, country) in dev_speeches or not isinstance(text, str):
            continue
        if session in KNOWN_GROUP_SESSIONS and country in known_group_countries:
            continue
        kind = "lines" if session >= 70 else "chunker"
        paragraphs = speech_paragraphs(text, kind, opts)
        for para, paragraph in enumerate(paragraphs):
            if len(paragraph.split()) < MIN_WORDS or paragraph in labelled:
                continue
            for name, matcher in matchers.items():
                if matcher.mentions(paragraph):
                    rows.append({"text": paragraph, "target": name, "session": session, "country": country,
                                 "para": para, "paragraphs": kind})
    print(f"{len(rows)} pairs to label", file=sys.stderr)
    proba = model.predict_proba([r["text"] for r in rows], [r["target"] for r in rows])
    classes = [str(c) for c in model.classes_]
    kept = 0
    with open(args.output, "w", encoding="utf-8") as out:
        for row, p in zip(rows, proba, strict=True):
            k = int(np.argmax(p))
            if p[k] < args.min_p:
                continue
            item = {"text": row["text"], "target": row["target"], "label": classes[k],
                    "source": f"model:ungdc:{row['session']}:{row['country']}:{row['para']}", "session": row["session"],
                    "country": row["country"], "para": row["para"],
                    "sha256_16": hashlib.sha256(row["text"].encode("utf-8")).hexdigest()[:16],
                    "paragraphs": row["paragraphs"], "batch": "2026-12-distilled", "annotation": "model",
                    "p": round(float(p[k]), 4),
                    "p_teacher": {c: round(float(x), 4) for c, x in zip(classes, p, strict=True)}}
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
            kept += 1
    labels = {c: int((proba.argmax(1) == i).sum()) for i, c in enumerate(classes)} if len(rows) else {}
    print(json.dumps({"pairs": len(rows), "kept": kept, "labels": labels, "output": args.output}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
