"""Print the counts of the labelled stance data per target x label (and per source).

Usage: ``.venv/bin/python data/labels/count_labels.py [FILE.jsonl | FOLDER] [--config configs/default.yaml]``
"""

from __future__ import annotations

import argparse
import sys

from pipeline.config import load_config
from pipeline.errors import PipelineError
from pipeline.stance.data import LabelledExample, format_counts, read_training


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", help="labelled JSONL or a folder of them (default: stance.train of the config)")
    parser.add_argument("--config", default="configs/default.yaml")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        path = args.path or config.stance.train
        examples = read_training(path, [t.name for t in config.stance.targets])
    except PipelineError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    print(f"{path}: {len(examples)} labelled examples")
    print(format_counts(examples))
    for kind in ("ungdc", "model", "written", "seed"):
        subset: list[LabelledExample] = [e for e in examples if e.source.split(":", 1)[0] == kind]
        if subset:
            print(f"\n{kind} only:")
            print(format_counts(subset))
    return 0


if __name__ == "__main__":
    sys.exit(main())
