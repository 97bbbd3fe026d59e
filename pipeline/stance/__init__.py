"""Stance toward named targets: the ``train_stance`` and ``stance`` stages and their model.

- :mod:`~pipeline.stance.targets`: find mentions of each target (aliases as regexes);
- :mod:`~pipeline.stance.features`: the text seen relative to one target;
- :mod:`~pipeline.stance.model`: :class:`StanceClassifier`, :func:`save_stance`, :func:`load_stance`;
- :mod:`~pipeline.stance.data`: the labelled JSONL;
- :mod:`~pipeline.stance.train` and :mod:`~pipeline.stance.predict`: the two stages.
"""

from __future__ import annotations

from .model import LABELS, NONE_LABEL, StanceClassifier
from .storage import load_stance, save_stance
from .targets import compile_target, find_mentions

__all__ = ["LABELS", "NONE_LABEL", "StanceClassifier", "compile_target", "find_mentions", "load_stance", "save_stance"]
