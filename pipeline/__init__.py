"""Topic-modelling and stance-classification pipeline for news and political text.

Downstream code loads the saved models::

    import pipeline
    bundle = pipeline.load("models")
    bundle.topics(["NATO expansion ignored our warnings."])        # (1, K), rows sum to 1
    bundle.stance(["NATO expansion ignored our warnings."], ["NATO"])
    bundle.analyze(["NATO expansion ignored our warnings."])       # DataFrame: topic + stance per target
    bundle.meta                                                    # meta.json of each model

``pipeline.load_topics(path)`` and ``pipeline.load_stance(path)`` load one model. Every
loader checks the model directory's ``meta.json`` first (see :mod:`pipeline.artifacts`) and
warns with :class:`VersionWarning` when a model was built with other library versions than
those installed.

Other revisions: every loader takes ``repo`` (a git URL or a local path: load the model of
another repository), ``rev`` (a commit, tag or branch of ``repo``, or of the repository around
the working directory) and ``remote`` (the DVC remote to fetch from; the repository's default
when omitted). The copy is fetched with DVC (local cache, else the remote) and cached by
commit; see :mod:`pipeline.remote`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cpu import pin_instruction_sets
from .errors import ArtifactError, ConfigError, DataError, InputError, PipelineError, VersionWarning

# before NumPy, OpenBLAS, tomotopy or torch is loaded: the same artifacts on every x86-64 machine (see .cpu)
pin_instruction_sets()

if TYPE_CHECKING:
    from .bundle import Bundle
    from .stance.model import StanceClassifier
    from .topics.model import TopicModel

__all__ = [
    "ArtifactError",
    "Bundle",
    "ConfigError",
    "DataError",
    "InputError",
    "PipelineError",
    "VersionWarning",
    "load",
    "load_stance",
    "load_topics",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # the Bundle class without importing numpy and the models on ``import pipeline``
    if name == "Bundle":
        from .bundle import Bundle

        return Bundle
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_topics(path: Path | str = "models/topics", *, repo: str | None = None, rev: str | None = None,
                remote: str | None = None) -> TopicModel:
    """Load a topic model directory written by the ``topics`` stage.

    Parameters
    ----------
    path : path-like, default "models/topics"
        The model directory.
    repo, rev, remote : optional
        Another repository, revision or DVC remote to load from (see *Other revisions* in the
        module docstring); ``path`` is then a path inside that repository.

    Returns
    -------
    TopicModel
        A fitted model with ``.num_topics``, ``.top_words(k, n=10)`` and
        ``.transform(texts)`` (array ``(n_texts, K)``, rows sum to 1).

    Raises
    ------
    ArtifactError
        If the directory is missing, corrupted or tampered with, of another kind, of a
        format version this package does not read (the message says how to rebuild it),
        or malformed. See :func:`pipeline.topics.load_topics`.

    Examples
    --------
    >>> import pipeline
    >>> model = pipeline.load_topics("models/topics")  # doctest: +SKIP
    >>> model.top_words(0, n=3)  # doctest: +SKIP
    [('security', 0.021), ('nuclear', 0.015), ('weapons', 0.012)]
    """
    from .topics.model import load_topics as _load

    return _load(_local(path, repo, rev, remote))


def load_stance(path: Path | str = "models/stance", *, repo: str | None = None, rev: str | None = None,
                remote: str | None = None) -> StanceClassifier:
    """Load a stance model directory written by the ``train_stance`` stage.

    Parameters
    ----------
    path : path-like, default "models/stance"
        The model directory.
    repo, rev, remote : optional
        Another repository, revision or DVC remote to load from (see *Other revisions* in the
        module docstring); ``path`` is then a path inside that repository.

    Returns
    -------
    StanceClassifier
        A fitted classifier with ``.classes_``, ``.predict(texts, targets)`` and
        ``.predict_proba(texts, targets)``.

    Raises
    ------
    ArtifactError
        If the directory is missing, corrupted or tampered with, of another kind, of a
        format version this package does not read (a version-1 pickle directory must be
        rebuilt; the message says how), or holds a type a stance model does not use.
        See :func:`pipeline.stance.storage.load_stance`.

    Examples
    --------
    >>> import pipeline
    >>> model = pipeline.load_stance("models/stance")  # doctest: +SKIP
    >>> model.predict(["NATO ignored Russia's concerns."], ["NATO"])  # doctest: +SKIP
    array(['against'], dtype=object)
    """
    from .stance.storage import load_stance as _load

    return _load(_local(path, repo, rev, remote))


def load(models_dir: Path | str = "models", *, repo: str | None = None, rev: str | None = None,
         remote: str | None = None) -> Bundle:
    """Load the topic and stance models under ``models_dir`` as one :class:`Bundle`.

    Parameters
    ----------
    models_dir : path-like, default "models"
        A directory holding ``topics/`` and/or ``stance/``. Only these model
        directories are read, so this works from any working directory with a copy of
        ``models/``.
    repo, rev, remote : optional
        Another repository, revision or DVC remote to load from (see *Other revisions* in the
        module docstring); ``models_dir`` is then a path inside that repository.

    Returns
    -------
    Bundle
        ``.topics(texts)``, ``.stance(texts, targets)``, ``.analyze(texts)``, ``.meta``,
        ``.targets``; see :class:`pipeline.bundle.Bundle`.

    Raises
    ------
    ArtifactError
        If ``models_dir`` holds neither model directory, or one fails its checks, or it cannot
        be fetched from ``repo`` at ``rev``.

    Examples
    --------
    >>> import pipeline
    >>> bundle = pipeline.load("models")  # doctest: +SKIP
    >>> bundle.analyze(["NATO expansion ignored our warnings."]).shape  # doctest: +SKIP
    (7, 11)
    >>> v03 = pipeline.load(repo="https://github.com/org/project", rev="v0.3")  # doctest: +SKIP
    >>> pipeline.load(rev="HEAD~1").topic_model.num_topics  # doctest: +SKIP
    12
    """
    from .bundle import load as _load

    return _load(_local(models_dir, repo, rev, remote))


def _local(path: Path | str, repo: str | None, rev: str | None, remote: str | None) -> Path | str:
    """``path`` itself, or its copy fetched from ``repo`` at ``rev`` when either is given."""
    if repo is None and rev is None:
        return path
    from .remote import fetch

    return fetch(path, repo=repo, rev=rev, remote=remote)
