"""Inter-annotator agreement of the doubly labelled stance items (Cohen's kappa per set and target).

``double_annotation.jsonl`` holds one line per (paragraph, target) labelled twice, independently, by two
annotators who saw only ``GUIDELINES.md``: ``source`` (``ungdc:<session>:<country>:<para>``), ``target``,
``set``, ``label_1``, ``label_2`` and ``final`` (the adjudicated label; ``skip`` marks an alias that is a
false friend). Pairs where either annotator said ``skip`` are left out of kappa.

Usage: ``.venv/bin/python data/labels/agreement/kappa.py``; prints one JSON line.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

HERE = Path(__file__).resolve().parent


def main() -> int:
    rows = [json.loads(line) for line in (HERE / "double_annotation.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    rows = [r for r in rows if "skip" not in (r["label_1"], r["label_2"])]

    def kappa(subset: list[dict]) -> dict[str, float | int]:
        a, b = [r["label_1"] for r in subset], [r["label_2"] for r in subset]
        return {"items": len(subset), "kappa": round(cohen_kappa_score(a, b), 3),
                "agreement": round(sum(x == y for x, y in zip(a, b, strict=True)) / len(subset), 3)}

    by_set, by_target = defaultdict(list), defaultdict(list)
    for r in rows:
        by_set[r["set"]].append(r)
        by_target[r["target"]].append(r)
    result = {"all": kappa(rows), "by_set": {k: kappa(v) for k, v in sorted(by_set.items())},
              "by_target": {k: kappa(v) for k, v in sorted(by_target.items())}}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
