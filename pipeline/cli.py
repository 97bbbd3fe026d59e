"""Command line: ``pipeline STAGE --config FILE --set KEY=VALUE ...``.

A thin layer over the library: it parses arguments, loads the config once, runs one
stage and turns a :class:`~pipeline.errors.PipelineError` into one ``Error: ...`` line
on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from .config import DEFAULT_CONFIG, Config, load_config
from .errors import PipelineError

#: stage name -> (module, function, help)
STAGES: dict[str, tuple[str, str, str]] = {
    "check": ("pipeline.config", "check", "validate the whole config and exit"),
    "chunk": ("pipeline.chunk.stage", "main", "split documents into paragraphs"),
    "topics": ("pipeline.topics", "main", "fit the LDA topic model and score paragraphs"),
    "sweep": ("pipeline.topics.sweep", "main", "fit the topic model for several K and plot their quality"),
    "prevalence": ("pipeline.topics.prevalence", "main", "topic prevalence by metadata columns, table and plots"),
    "train_stance": ("pipeline.stance.train", "main", "train the stance classifier"),
    "stance": ("pipeline.stance.predict", "main", "classify paragraph stance toward each target"),
    "report": ("pipeline.report", "main", "write the HTML report"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pipeline",
        description="Topic-modelling and stance-classification pipeline for news and political text.",
    )
    sub = parser.add_subparsers(dest="stage", required=True, metavar="STAGE")
    for name, (_, _, help_text) in STAGES.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--config", default=str(DEFAULT_CONFIG), help="YAML config (default: %(default)s)")
        p.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a dotted config key, e.g. --set topics.num_topics=20 (repeatable)",
        )
        p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    exp = sub.add_parser(
        "exp",
        help="run one DVC experiment per override file (configs/experiments/*.yaml)",
        description="Validate each override file against the base config, then run "
        "`dvc exp run -n STEM -S KEY=VALUE ...` for it; `dvc exp show` compares them.",
    )
    exp.add_argument("files", nargs="+", metavar="FILE", help="override YAML file(s), e.g. configs/experiments/more_topics.yaml")
    exp.add_argument("--config", default=str(DEFAULT_CONFIG), help="base config DVC tracks (default: %(default)s)")
    exp.add_argument("--name", help="experiment name (one file only; default: the file's stem)")
    exp.add_argument("--keep", action="store_true", help="leave the (last) experiment's config and outputs in the work tree")
    exp.add_argument("-f", "--force", action="store_true", help="overwrite an experiment of the same name (dvc exp run -f)")
    exp.add_argument("--dry-run", action="store_true", help="validate and print the dvc commands without running them")
    exp.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def run_exp(args: argparse.Namespace) -> None:
    """The ``exp`` verb (see :mod:`pipeline.experiments`)."""
    import shlex

    from .experiments import run_experiments

    commands = run_experiments(args.files, base=args.config, name=args.name, keep=args.keep,
                               force=args.force, dry_run=args.dry_run)
    if args.dry_run:
        for cmd in commands:
            print(shlex.join(["dvc", *cmd[3:]]))


def run_stage(stage: str, config: Config) -> None:
    """Import and run one stage with a validated config."""
    module_name, func_name, _ = STAGES[stage]
    func = getattr(importlib.import_module(module_name), func_name)
    func(config)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pipeline`` console script; returns the exit code."""
    from .logs import setup_logging

    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        if args.stage == "exp":
            run_exp(args)
        else:
            run_stage(args.stage, load_config(args.config, args.overrides))
    except PipelineError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"Error: {args.stage}: out of memory", file=sys.stderr)
        return 3
    except OSError as exc:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"Error: {args.stage}: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    logging.getLogger("pipeline").debug("stage %s finished", args.stage)
    return 0
