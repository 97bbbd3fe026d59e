"""``stance.engine: transformer`` against ``sklearn`` on the three stance checks, at several routing thresholds.

The model is a stance model directory of ``stance.engine: transformer`` (``--model``, default
``stance.model``), or one fitted now exactly as ``pipeline train_stance`` fits it (``--train``: the
config's ``stance`` section with ``stance.engine=transformer``; about 25 minutes on 2 cores). Its TF-IDF part alone is the
``sklearn`` row (the same model as the default engine's: same data, same settings, same seed).

For each ``--routes`` value ``r`` the refiner's ``route_below`` is set to ``r`` (pairs whose
TF-IDF top probability is below ``r`` are read by the transformer too, and blended with weight
``blend``) and scored on

- macro-F1 on ``data/labels/dev/ungdc_dev.jsonl`` (real UN paragraphs never trained on), per session;
- the CheckList cases of :mod:`pipeline.stance.checklist` (overall, mft, inv, dir, by role);
- known-groups validity (``benchmarks/stance_known_groups.py``; training paragraphs left out);
- ``routed``: the share of development pairs sent to the transformer, and ``pairs_per_s`` on them
  (this process, ``stance.transformer.threads`` threads).

Needs the ``transformer`` extra (``make install`` installs it).

Usage::

    .venv/bin/python benchmarks/stance_transformer.py --model /tmp/stance_tr          # a saved model
    .venv/bin/python benchmarks/stance_transformer.py --train --save /tmp/stance_tr   # fine-tune, keep, score
    .venv/bin/python benchmarks/stance_transformer.py --model /tmp/stance_tr --routes 0.6 0.8 1.0 --no-known-groups

Output: one JSON line: ``model`` (where it came from), ``train_seconds`` (with ``--train``),
``rows``: one per engine/route with ``engine``, ``route_below``, ``blend``, ``routed``,
``pairs_per_s``, ``dev_macro_f1``, ``dev_per_session``, ``dev_per_target``, ``checklist``,
``known_groups`` (sign_right, scored, wrong).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stance import add_model_arguments, stance_model  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV = REPO_ROOT / "data" / "labels" / "dev" / "ungdc_dev.jsonl"
log = logging.getLogger("stance_transformer")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_arguments(parser)
    parser.add_argument("--save", help="with --train: where to keep the model directory")
    parser.add_argument("--routes", nargs="+", type=float, default=[0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    parser.add_argument("--no-known-groups", action="store_true", help="skip the known-groups check (slow)")
    args = parser.parse_args(argv)
    args.set.append("stance.engine=transformer")  # --train fine-tunes the transformer engine
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")

    from sklearn.metrics import f1_score

    from pipeline.errors import PipelineError
    from pipeline.stance.checklist import build_cases, score_cases
    from pipeline.stance.data import read_labels
    from pipeline.stance.model import LABELS
    from pipeline.stance.storage import save_stance

    try:
        start = time.perf_counter()
        config, model, training, where = stance_model(args)
        result: dict = {"model": where}
        if args.train:
            result["train_seconds"] = round(time.perf_counter() - start, 1)
            if args.save:
                save_stance(model, args.save)
    except PipelineError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    if getattr(model, "refiner_", None) is None:
        print(f"Error: {where}: not a model of stance.engine: transformer", file=sys.stderr)
        return 2
    names = [t.name for t in config.stance.targets]

    import stance_known_groups as kg

    refiner = model.refiner_
    dev_examples = read_labels(DEV, names)
    dev_texts, dev_targets = [e.text for e in dev_examples], [e.target for e in dev_examples]
    gold = [e.label for e in dev_examples]
    sessions = [e.source.split(":")[1] for e in dev_examples]
    cases = build_cases(names)
    training_texts = {" ".join(e.text.split()) for e in training}
    matchers = {m.name: m for m in model.matchers_}

    def f1(g, p):
        return round(f1_score(g, p, labels=list(LABELS), average="macro", zero_division=0), 4)

    def score(engine: str, route: float | None) -> dict:
        model.__dict__.pop("refiner_", None)
        if engine == "transformer":
            refiner.route_below = route
            model.refiner_ = refiner
        base = model._proba(model._views(dev_texts, dev_targets))
        routed = int((base.max(axis=1) < route).sum()) if engine == "transformer" else 0
        start = time.perf_counter()
        proba = model.predict_proba(dev_texts, dev_targets)
        seconds = time.perf_counter() - start
        pred = [str(model.classes_[i]) for i in proba.argmax(1)]
        row = {"engine": engine, "route_below": route, "blend": refiner.blend if engine == "transformer" else None,
               "routed": round(routed / len(gold), 4),
               "pairs_per_s": round(routed / seconds, 1) if routed else None,
               "dev_macro_f1": f1(gold, pred),
               "dev_per_session": {s: f1([g for g, x in zip(gold, sessions, strict=True) if x == s],
                                         [q for q, x in zip(pred, sessions, strict=True) if x == s])
                                   for s in sorted(set(sessions))},
               "dev_per_target": {t: f1([g for g, x in zip(gold, dev_targets, strict=True) if x == t],
                                        [q for q, x in zip(pred, dev_targets, strict=True) if x == t])
                                  for t in names}}
        checks = score_cases(cases, list(model.classes_),
                             model.predict_proba([c.text for c in cases], [c.target for c in cases]),
                             model.predict_proba([c.base or c.text for c in cases], [c.target for c in cases]))
        row["checklist"] = {"overall": checks["overall"], **{k: checks[k]["rate"] for k in ("mft", "inv", "dir")},
                            "by_role": checks["mft"]["by_role"]}
        if not args.no_known_groups:
            groups = kg.score_pairs(lambda texts, targets: list(model.predict(texts, targets)), matchers,
                                    training_texts=training_texts)
            row["known_groups"] = {k: groups[k] for k in ("sign_right", "scored", "wrong")}
        log.info("%s", json.dumps({k: v for k, v in row.items() if k not in ("dev_per_target",)}))
        return row

    result["rows"] = [score("sklearn", None)] + [score("transformer", r) for r in args.routes]
    model.refiner_ = refiner
    print(json.dumps(result, default=lambda o: o.item() if isinstance(o, np.generic) else str(o)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
