"""Accuracy of the stance model on hand-written contrast sentences: who does what to whom.

The CheckList suite (``stance_checklist.py``) fills nine fixed templates; a model can learn their
wording. These sets are written apart from the templates, in varied wording, from
``data/labels/GUIDELINES.md`` alone, by a writer who never saw the templates or the model: the same
sentence with two targets' roles swapped, a claim stated and the same claim quoted and rejected,
condemnation of an act done *to* a target, passives and nominalisations ("the occupation of X by Y"),
and neutral mentions next to hostile words. Each line is
``{"id", "text", "target", "label", "role", "pair"}``; items of one ``pair`` share a sentence or a
contrast.

- ``benchmarks/data/contrast_dev.jsonl``: the development half, read while fixing the role reader.
- ``benchmarks/data/contrast_heldout.jsonl``: scored once per model change, never used to fix anything.

Usage::

    .venv/bin/python benchmarks/stance_contrast.py                     # the saved model, both sets
    .venv/bin/python benchmarks/stance_contrast.py --train --set stance.roles=false
    .venv/bin/python benchmarks/stance_contrast.py --verbose            # list the errors on stderr

Output: one JSON line: per set ``accuracy``, ``items``, ``pairs_all_right`` (share of pairs whose items
are all right), ``by_role`` and ``by_label`` (accuracy), ``errors`` (count); ``target`` 0.90.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stance import add_model_arguments, stance_model  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
SETS = {"dev": DATA / "contrast_dev.jsonl", "heldout": DATA / "contrast_heldout.jsonl"}


def score(predict, rows: list[dict]) -> tuple[dict, list[str]]:
    """Accuracy of ``predict(texts, targets) -> labels`` on ``rows``, and the error lines."""
    labels = list(predict([r["text"] for r in rows], [r["target"] for r in rows]))
    right = [str(p) == r["label"] for p, r in zip(labels, rows, strict=True)]
    by: dict[str, dict[str, list[bool]]] = {"role": defaultdict(list), "label": defaultdict(list),
                                            "pair": defaultdict(list)}
    for ok, row in zip(right, rows, strict=True):
        by["role"][row["role"]].append(ok)
        by["label"][row["label"]].append(ok)
        by["pair"][row["pair"]].append(ok)
    errors = [f"{r['id']} {r['target']} ({r['role']}): expected {r['label']}, got {p} | {r['text']}"
              for p, r, ok in zip(labels, rows, right, strict=True) if not ok]
    return {
        "accuracy": round(sum(right) / len(right), 4),
        "items": len(rows),
        "pairs_all_right": round(sum(all(v) for v in by["pair"].values()) / len(by["pair"]), 4),
        "by_role": {k: round(sum(v) / len(v), 4) for k, v in sorted(by["role"].items())},
        "by_label": {k: round(sum(v) / len(v), 4) for k, v in sorted(by["label"].items())},
        "errors": len(errors),
    }, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_arguments(parser)
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=sorted(SETS))
    parser.add_argument("--verbose", action="store_true", help="print every error on stderr")
    args = parser.parse_args(argv)

    from pipeline.errors import PipelineError

    try:
        _, model, _, where = stance_model(args)
    except PipelineError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    result: dict = {"benchmark": "stance_contrast", "model": where, "target": 0.90}
    for name in args.sets:
        rows = [json.loads(line) for line in SETS[name].read_text(encoding="utf-8").splitlines() if line.strip()]
        result[name], errors = score(model.predict, rows)
        if args.verbose:
            print(f"--- {name}: {len(errors)} errors", file=sys.stderr)
            for line in errors:
                print(line, file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
