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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stance import add_model_arguments, stance_model  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")

    from pipeline.stance.checklist import run_checklist

    _, model, _, where = stance_model(args)
    result = run_checklist(model)
    result["model"] = where
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
