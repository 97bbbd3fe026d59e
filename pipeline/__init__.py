"""Topic-modelling and stance-classification pipeline for news and political text.

Downstream code loads the saved models::

    import pipeline
    bundle = pipeline.load("models")
    bundle.topics(["NATO expansion ignored our warnings."])
"""

from __future__ import annotations

from typing import Any

from .errors import ArtifactError, ConfigError, DataError, InputError, PipelineError

__all__ = [
    "ArtifactError",
    "ConfigError",
    "DataError",
    "InputError",
    "PipelineError",
    "load",
    "load_stance",
    "load_topics",
]

__version__ = "0.1.0"


def load_topics(path: Any = "models/topics") -> Any:
    """Load a topic model directory (see :func:`pipeline.topics.load_topics`)."""
    from .topics import load_topics as _load

    return _load(path)


def load_stance(path: Any = "models/stance") -> Any:
    """Load a stance model directory (see :func:`pipeline.stance.model.load_stance`)."""
    from .stance.model import load_stance as _load

    return _load(path)


def load(models_dir: Any = "models") -> Any:
    """Load the topic and stance models under ``models_dir`` as one bundle."""
    from .bundle import load as _load

    return _load(models_dir)
