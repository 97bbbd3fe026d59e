"""Stance classifier on the UN development set (session 75), trained on what you choose.

The development set is ``data/labels/ungdc/dev.jsonl``: references to paragraphs of UN
General Debate session 75 (2020) with a stance label per mentioned target, materialised by
``data/labels/materialize_ungdc.py`` into ``data/labels/ungdc_dev.jsonl`` (done here when
missing). It is never trained on; it estimates the held-out in-domain figure of issue 4
(target macro-F1 >= 0.80 over favor/against/neutral).

The classifier is built from the ``stance`` section of ``--config`` (with ``--set``
overrides) exactly as ``pipeline train_stance`` builds it, trained on the ``--train``
files (default: ``stance.train`` of the config, i.e. what the default ``dvc repro``
trains on) and scored on every development item.

Usage::

    .venv/bin/python benchmarks/stance_dev.py                                  # the default model
    .venv/bin/python benchmarks/stance_dev.py --train data/labels/stance_train.jsonl \\
        data/labels/ungdc_train.jsonl                                          # + UN references

Output: one JSON line: ``train`` (files, examples), ``dev_examples``, ``macro_f1``,
``accuracy``, ``per_target`` (macro_f1, accuracy, examples), ``per_label`` (precision,
recall, f1, count), ``confusion`` (rows: true against/favor/neutral; columns: predicted),
``seconds``, ``target`` 0.80.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_REFS = REPO_ROOT / "data" / "labels" / "ungdc" / "dev.jsonl"
DEV_TEXT = REPO_ROOT / "data" / "labels" / "ungdc_dev.jsonl"
log = logging.getLogger("stance_dev")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO_ROOT / "configs" / "default.yaml"))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    parser.add_argument("--train", nargs="+", default=None, help="labelled JSONL files (default: stance.train)")
    parser.add_argument("--dev", default=str(DEV_TEXT), help="materialised development set")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")

    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    from pipeline.config import load_config
    from pipeline.stance.data import read_labels
    from pipeline.stance.model import LABELS
    from pipeline.stance.train import build_model

    dev_path = Path(args.dev)
    if not dev_path.exists() and dev_path == DEV_TEXT:
        subprocess.run([sys.executable, str(REPO_ROOT / "data" / "labels" / "materialize_ungdc.py"),
                        "--refs", str(DEV_REFS), "--output", str(DEV_TEXT)], check=True)
    config = load_config(args.config, args.set)
    names = [t.name for t in config.stance.targets]
    train_files = args.train or [str(config.stance.train)]
    train = [ex for f in train_files for ex in read_labels(f, names)]
    dev = read_labels(dev_path, names)
    start = time.perf_counter()
    model = build_model(config.stance).fit([(e.text, e.target) for e in train], [e.label for e in train])
    pred = list(model.predict([(e.text, e.target) for e in dev]))
    seconds = time.perf_counter() - start
    truth = [e.label for e in dev]
    per_target = {}
    for name in names:
        idx = [i for i, e in enumerate(dev) if e.target == name]
        if idx:
            t, p = [truth[i] for i in idx], [pred[i] for i in idx]
            per_target[name] = {"macro_f1": round(f1_score(t, p, labels=list(LABELS), average="macro",
                                                           zero_division=0), 4),
                                "accuracy": round(accuracy_score(t, p), 4), "examples": len(idx)}
    prec, rec, f1, count = precision_recall_fscore_support(truth, pred, labels=list(LABELS), zero_division=0)
    result = {
        "benchmark": "stance_dev",
        "train": {"files": train_files, "examples": len(train)},
        "overrides": args.set,
        "dev_examples": len(dev),
        "macro_f1": round(f1_score(truth, pred, labels=list(LABELS), average="macro", zero_division=0), 4),
        "accuracy": round(accuracy_score(truth, pred), 4),
        "per_target": per_target,
        "per_label": {lab: {"precision": round(float(prec[i]), 4), "recall": round(float(rec[i]), 4),
                            "f1": round(float(f1[i]), 4), "count": int(count[i])} for i, lab in enumerate(LABELS)},
        "confusion": confusion_matrix(truth, pred, labels=list(LABELS)).tolist(),
        "seconds": round(seconds, 2),
        "target": 0.80,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
