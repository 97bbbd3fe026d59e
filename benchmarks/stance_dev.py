"""Stance classifier on the UN development set, trained on what you choose.

The development set is ``data/labels/dev/ungdc_dev.jsonl``: real UN General Debate paragraphs
with a stance label per mentioned target, from speeches that no training item comes from:
every labelled paragraph of session 75 (2020), a sample of session 69 (2014), and the session-79
(2024) speeches that have no training item (see ``data/labels/DATACARD.md``). It is never
trained on. ``per_session`` splits the score by session.

The classifier is built from the ``stance`` section of ``--config`` (with ``--set``
overrides) exactly as ``pipeline train_stance`` builds it, trained on the ``--train``
files or folders (default: ``stance.train`` of the config, i.e. what the default
``dvc repro`` trains on) and scored on every development item.

Usage::

    .venv/bin/python benchmarks/stance_dev.py                                  # the default model
    .venv/bin/python benchmarks/stance_dev.py --train data/labels/train/written.jsonl   # written items only
    .venv/bin/python benchmarks/stance_dev.py --set stance.roles=false         # an ablation

Output: one JSON line: ``train`` (files, examples), ``dev_examples``, ``macro_f1``,
``accuracy``, ``per_session``, ``per_target`` (macro_f1, accuracy, examples), ``per_label``
(precision, recall, f1, count), ``confusion`` (rows: true against/favor/neutral; columns:
predicted), ``seconds``, ``target`` 0.80.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_TEXT = REPO_ROOT / "data" / "labels" / "dev" / "ungdc_dev.jsonl"
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
    from pipeline.stance.data import read_labels, read_training
    from pipeline.stance.model import LABELS
    from pipeline.stance.train import fit_model

    dev_path = Path(args.dev)
    config = load_config(args.config, args.set)
    names = [t.name for t in config.stance.targets]
    train_files = args.train or [str(config.stance.train)]
    train = [ex for f in train_files for ex in read_training(f, names)]
    dev = read_labels(dev_path, names)
    start = time.perf_counter()
    model = fit_model(config.stance, train)
    pred = list(model.predict([(e.text, e.target) for e in dev]))
    seconds = time.perf_counter() - start
    truth = [e.label for e in dev]
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(dev):
        session = e.source.split(":")[1] if e.source.startswith("ungdc:") else "other"
        groups.setdefault("session " + session, []).append(i)
    per_session = {name: round(f1_score([truth[i] for i in idx], [pred[i] for i in idx], labels=list(LABELS),
                                        average="macro", zero_division=0), 4) for name, idx in sorted(groups.items())}
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
        "per_session": per_session,
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
