"""Shared command-line handling of the stance benchmarks: which model to score.

``--config``/``--set`` give the config; ``--train`` fits the configured design on ``stance.train``
(with ``stance.engine: transformer``, as ``train_stance`` does, fine-tuning included), otherwise the saved model at ``--model`` (default ``stance.model``) is loaded.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config``, ``--set``, ``--model`` and ``--train``."""
    parser.add_argument("--config", default=str(REPO_ROOT / "configs" / "default.yaml"))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    parser.add_argument("--model", default=None, help="saved model directory (default: stance.model)")
    parser.add_argument("--train", action="store_true", help="train from stance.train instead of loading")


def stance_model(args: argparse.Namespace) -> tuple[Any, Any, list[Any], str]:
    """``(config, model, training examples, where the model came from)`` for the parsed ``args``."""
    from pipeline.config import load_config
    from pipeline.stance.data import read_training

    config = load_config(args.config, args.set)
    training = read_training(config.stance.train, [t.name for t in config.stance.targets])
    if args.train:
        from pipeline.stance.train import fit_model, train

        if config.stance.engine == "transformer":  # with the fine-tuning (and the cross-validation) of train_stance
            model, _ = train(config.stance, training)
        else:
            model = fit_model(config.stance, training)
        return config, model, training, f"trained on {config.stance.train} ({len(training)} items)"
    from pipeline.stance.storage import load_stance

    path = Path(args.model or config.stance.model)
    return config, load_stance(path), training, str(path)
