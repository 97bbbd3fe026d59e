"""CheckList-style behavioural tests of the stance model: pass rates per test type and pattern.

The cases come from :mod:`pipeline.stance.checklist` (templates for every ordered pair of the
default targets: aggressor/victim, accuser/accused, helper/harmer; invariance to a non-target
country, a number or a year; directional tests that adding a condemnation never raises
``favor`` and adding thanks never raises ``against``).

Usage::

    .venv/bin/python benchmarks/stance_checklist.py                     # the saved model (models/stance)
    .venv/bin/python benchmarks/stance_checklist.py --train             # train from the config first
    .venv/bin/python benchmarks/stance_checklist.py --train --set stance.roles=false

Output: one JSON line: ``overall``, ``mft``/``inv``/``dir`` (``rate``, ``cases``, ``by_pattern``,
and for ``mft`` ``by_role``), ``failures`` (the first 20), ``model`` (where it came from).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO_ROOT / "configs" / "default.yaml"))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    parser.add_argument("--model", default=None, help="saved model directory (default: stance.model)")
    parser.add_argument("--train", action="store_true", help="train from stance.train instead of loading")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")

    from pipeline.config import load_config
    from pipeline.stance.checklist import run_checklist

    config = load_config(args.config, args.set)
    if args.train:
        from pipeline.stance.data import read_training
        from pipeline.stance.train import build_model

        names = [t.name for t in config.stance.targets]
        train = read_training(config.stance.train, names)
        model = build_model(config.stance).fit([(e.text, e.target) for e in train], [e.label for e in train])
        where = f"trained on {config.stance.train} ({len(train)} items)"
    else:
        from pipeline.stance.model import load_stance

        path = Path(args.model or config.stance.model)
        model = load_stance(path)
        where = str(path)
    result = run_checklist(model)
    result["model"] = where
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
