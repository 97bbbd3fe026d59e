"""The LDA topic model: fit with gensim or tomotopy, score with a deterministic numpy E-step.

The public import path of the topic model. :class:`TopicModel` follows scikit-learn's
estimator contract (see :mod:`pipeline.topics.estimator`); it is built from parts:

- :mod:`pipeline.topics.params`: the allowed parameter values, checked in one place;
- :mod:`pipeline.topics.estimator`: the estimator and fitting;
- :mod:`pipeline.topics.inference`: the deterministic E-step behind ``transform``, and the
  topic-word helpers;
- :mod:`pipeline.topics.storage`: the directory format, its version, ``save`` and ``load``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .estimator import TopicModel
from .inference import GAMMA_THRESHOLD
from .storage import FILES, FORMAT_VERSION, KIND, LIBRARIES, SUPPORTED_FORMAT_VERSIONS

__all__ = ["FILES", "FORMAT_VERSION", "GAMMA_THRESHOLD", "KIND", "LIBRARIES", "SUPPORTED_FORMAT_VERSIONS",
           "TopicModel", "load_topics", "load_topics_artifact"]


def load_topics_artifact(path: Path | str) -> tuple[TopicModel, dict[str, Any]]:
    """Load a topic model directory and return ``(model, meta)``; see :func:`load_topics`.

    Parameters
    ----------
    path : path-like
        A directory written by the ``topics`` stage or :meth:`TopicModel.save`.

    Returns
    -------
    model : TopicModel
    meta : dict
        Its ``meta.json``: format and package versions, library versions, config, input
        and file hashes.

    Raises
    ------
    ArtifactError
        See :func:`load_topics`.
    """
    return TopicModel._load_with_meta(path)


def load_topics(path: Path | str = "models/topics") -> TopicModel:
    """Load a topic model directory written by the ``topics`` stage.

    The directory's ``meta.json`` (kind, format version, file hashes) is checked before
    any file is read; nothing in the directory is unpickled. Every directory of format
    version 1 loads, including those written before the engine, seed-word, collocation
    and lemmatisation options existed (their models are read as fitted with gensim and
    none of those options).

    Parameters
    ----------
    path : path-like, default "models/topics"
        The model directory (relative paths are resolved against the working directory).

    Returns
    -------
    TopicModel
        A fitted model: ``num_topics``, ``top_words(k, n=10)``, ``transform(texts)``.

    Raises
    ------
    ArtifactError
        If the directory is missing, tampered with (a file's hash differs from
        ``meta.json`` or an unlisted file is present), of another kind, of a format
        version this package does not read (the message says how to rebuild it), or
        malformed.

    Warns
    -----
    VersionWarning
        When a library version recorded in ``meta.json`` (gensim, numpy, scipy,
        tomotopy, ...) differs from the installed one; the model still loads.

    Examples
    --------
    >>> from pipeline.topics import load_topics
    >>> model = load_topics("models/topics")  # doctest: +SKIP
    >>> model.transform(["NATO expansion ignored our warnings."]).shape  # doctest: +SKIP
    (1, 8)
    """
    return TopicModel.load(path)
