"""The saved models as one object for downstream code: ``pipeline.load("models")``.

::

    import pipeline
    bundle = pipeline.load("models")
    bundle.topics(["NATO expansion ignored our warnings."])        # (1, K), rows sum to 1
    bundle.stance(["NATO ignored Russia's concerns."], ["NATO"])
    # [{"label": "against", "probabilities": {"against": ..., "favor": ..., "neutral": ...},
    #   "evidence": "NATO ignored Russia's concerns."}]
    bundle.analyze(["NATO ignored Russia's concerns."])            # DataFrame, one row per target
    bundle.meta["stance"]["libraries"]                              # what built the stance model

Each model directory under ``models_dir`` (``topics/``, ``stance/``) is checked and loaded
by :func:`load`; a directory that is absent makes only the methods that need it fail.
Nothing but the model directories is read: no config file, no data, no working-directory
layout, so a copy of ``models/`` is all a notebook or a service needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ArtifactError, InputError

TOPICS_DIR = "topics"
STANCE_DIR = "stance"
#: columns of :meth:`Bundle.analyze`, in order
ANALYZE_COLUMNS = ("text_index", "dominant_topic", "topic_label", "dominant_prob", "target", "label",
                   "p_favor", "p_against", "p_neutral", "evidence", "mentions")
#: texts classified at a time by :meth:`Bundle.analyze` (times the number of targets); results do not depend on it
_ANALYZE_BATCH = 2000


def _text_list(texts: Any, method: str) -> list[str]:
    """``texts`` as a list of str, or an :class:`InputError` naming what is wrong."""
    if isinstance(texts, str):
        raise InputError(f"bundle.{method}: texts must be a list of strings, got a single string; wrap it in a list")
    try:
        texts = list(texts)
    except TypeError:
        raise InputError(f"bundle.{method}: texts must be a list of strings, got {type(texts).__name__}") from None
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(f"bundle.{method}: texts[{i}] must be a string, got {type(text).__name__}")
    return texts


class Bundle:
    """Topic and stance models loaded together; build it with :func:`pipeline.load`.

    Parameters
    ----------
    models_dir : Path
        Where the models were loaded from.
    topics_model : TopicModel or None
        The fitted topic model (None when ``models_dir`` has no ``topics/``).
    stance_model : StanceClassifier or None
        The fitted stance classifier (None when ``models_dir`` has no ``stance/``).
    meta : dict
        ``{"topics": meta, "stance": meta}``: the ``meta.json`` of each loaded model.

    Attributes
    ----------
    models_dir : Path
        Where the models were loaded from.
    meta : dict
        The configuration and provenance of each loaded model, keyed ``"topics"`` and
        ``"stance"``: the model's ``meta.json`` as a dict (``kind``, ``format_version``,
        ``package_version``, ``python``, ``libraries``, ``config``, ``inputs``, ``files``,
        ``created_by``; the stance model adds ``classes`` and ``targets``). A model
        directory that is absent has no key.
    targets : list of str
        Target names the stance model knows (from its saved config), in the order
        :meth:`analyze` uses; empty without a stance model.

    Examples
    --------
    >>> import pipeline
    >>> bundle = pipeline.load("models")  # doctest: +SKIP
    >>> bundle.targets  # doctest: +SKIP
    ['West', 'United States', 'NATO', 'China', 'European Union', 'Russia', 'Ukraine']
    """

    def __init__(self, models_dir: Path, topics_model: Any | None, stance_model: Any | None,
                 meta: dict[str, dict[str, Any]]) -> None:
        self.models_dir = models_dir
        self._topics = topics_model
        self._stance = stance_model
        self.meta = meta
        self._topic_labels: list[str] | None = None
        saved = ((meta.get(STANCE_DIR) or {}).get("config") or {}).get("stance", {}).get("targets")
        if stance_model is None:
            self.targets: list[str] = []
        elif saved is not None:
            self.targets = [t["name"] for t in saved]
        else:
            self.targets = list(stance_model.target_names_)

    def __repr__(self) -> str:
        parts = [p for p, m in ((TOPICS_DIR, self._topics), (STANCE_DIR, self._stance)) if m is not None]
        return f"Bundle({str(self.models_dir)!r}, models={parts}, targets={self.targets})"

    def _missing(self, name: str) -> ArtifactError:
        return ArtifactError(f"{self.models_dir / name}: model directory not found (run `dvc repro` to build it)")

    # ------------------------------------------------------------------ the models

    @property
    def topic_model(self) -> Any:
        """The loaded :class:`~pipeline.topics.TopicModel` (``num_topics``, ``top_words``, ...).

        Raises
        ------
        ArtifactError
            If ``models_dir`` has no ``topics/`` directory.
        """
        if self._topics is None:
            raise self._missing(TOPICS_DIR)
        return self._topics

    @property
    def stance_model(self) -> Any:
        """The loaded :class:`~pipeline.stance.model.StanceClassifier` (``classes_``, ``predict``, ...).

        Raises
        ------
        ArtifactError
            If ``models_dir`` has no ``stance/`` directory.
        """
        if self._stance is None:
            raise self._missing(STANCE_DIR)
        return self._stance

    @property
    def topic_labels(self) -> list[str]:
        """A label for each topic, as in the topics table and the report.

        The first ``topics.label_words`` words by ``topics.label_ranking`` (FREX, relevance or
        probability; see :meth:`~pipeline.topics.TopicModel.ranked_words`) with the settings the
        model was built with (saved in its ``meta.json``); a model saved without them is labelled
        by its three most probable words.

        Raises
        ------
        ArtifactError
            If ``models_dir`` has no ``topics/`` directory.
        """
        if self._topic_labels is None:
            model = self.topic_model
            saved = ((self.meta.get(TOPICS_DIR) or {}).get("config") or {}).get("topics") or {}
            self._topic_labels = model.labels(
                n=int(saved.get("label_words", 3)), ranking=str(saved.get("label_ranking", "probability")),
                frex_weight=float(saved.get("frex_weight", 0.5)),
                relevance_lambda=float(saved.get("relevance_lambda", 0.6)))
        return list(self._topic_labels)

    # ------------------------------------------------------------------ analysis

    def topics(self, texts: Sequence[str]) -> np.ndarray:
        """Topic distribution of each text.

        Parameters
        ----------
        texts : sequence of str
            The texts (a list, tuple or Series; not a single string).

        Returns
        -------
        ndarray of shape (n_texts, K)
            Row ``i`` is the topic distribution of ``texts[i]`` (sums to 1). A text without
            any vocabulary word gets the prior mean. A text gets the same row in any batch.

        Raises
        ------
        InputError
            If ``texts`` is a single string or holds something other than strings.
        ArtifactError
            If ``models_dir`` has no ``topics/`` directory.

        Examples
        --------
        >>> bundle.topics(["NATO expansion ignored our warnings."]).shape  # doctest: +SKIP
        (1, 8)
        """
        model = self.topic_model
        return model.transform(_text_list(texts, "topics"))

    def _stance_targets(self, targets: Sequence[str], method: str) -> list[str]:
        unknown = sorted({n for n in targets if n not in self.targets})
        if unknown:
            raise InputError(f"bundle.{method}: unknown target(s) {', '.join(map(repr, unknown))}; "
                             f"the model knows {', '.join(self.targets)}")
        return list(targets)

    def stance(self, texts: Sequence[str], targets: Sequence[str] | str) -> list[dict[str, Any]]:
        """Stance of each text toward its target.

        Parameters
        ----------
        texts : sequence of str
        targets : sequence of str, or str
            Target names parallel to ``texts`` (one name applies to every text); each must
            be in :attr:`targets`.

        Returns
        -------
        list of dict
            ``{"label", "probabilities", "evidence"}`` per text. ``label`` is ``favor``,
            ``against``, ``neutral``, or ``none`` when the text does not mention the target;
            ``probabilities`` maps each of the three labels to its probability, and is
            None for ``none``; ``evidence`` is the sentence that carries the stance
            (``""`` for ``none``).

        Raises
        ------
        InputError
            If ``texts`` is a single string or holds something other than strings,
            ``targets`` is not parallel to ``texts``, or a target is unknown.
        ArtifactError
            If ``models_dir`` has no ``stance/`` directory.

        Examples
        --------
        >>> bundle.stance(["NATO ignored Russia's concerns."], ["NATO"])  # doctest: +SKIP
        [{'label': 'against', 'probabilities': {'against': 0.71, 'favor': 0.08, 'neutral': 0.21},
          'evidence': "NATO ignored Russia's concerns."}]
        """
        model = self.stance_model
        texts = _text_list(texts, "stance")
        names = [targets] * len(texts) if isinstance(targets, str) else list(targets)
        if len(names) != len(texts):
            raise InputError(f"bundle.stance: targets must be parallel to texts, got {len(names)} targets "
                             f"for {len(texts)} texts")
        names = self._stance_targets(names, "stance")
        from .stance.model import LABELS, NONE_LABEL

        result = model.analyze(texts, names)
        out = []
        for label, row, evidence in zip(result.labels, result.probabilities, result.evidence, strict=True):
            probabilities = None if label == NONE_LABEL else {k: float(p) for k, p in zip(LABELS, row, strict=True)}
            out.append({"label": label, "probabilities": probabilities, "evidence": evidence})
        return out

    def analyze(self, texts: Sequence[str], targets: Sequence[str] | str | None = None) -> Any:
        """Topics and stance of each text toward every target, as one table.

        Parameters
        ----------
        texts : sequence of str
        targets : sequence of str, or str, optional
            The targets to ask about, in column order; every target the stance model
            knows (:attr:`targets`) when None.

        Returns
        -------
        pandas.DataFrame
            One row per text and target, text by text and, within a text, in target
            order (``len(texts) * len(targets)`` rows), with the columns

            ``text_index`` (int64)
                Position of the text in ``texts``.
            ``dominant_topic`` (int64), ``topic_label`` (string), ``dominant_prob`` (float64)
                The text's most probable topic, its label (:attr:`topic_labels`) and its
                share; repeated on every target row of the text. The full
                distribution is :meth:`topics`.
            ``target`` (string)
                The target name.
            ``label`` (string)
                ``favor``, ``against``, ``neutral``, or ``none`` when the text does not
                mention the target.
            ``p_favor``, ``p_against``, ``p_neutral`` (float64)
                Class probabilities; NaN on ``none`` rows, so a column mean skips texts
                that do not mention the target.
            ``evidence`` (string)
                The sentence that carries the stance (``""`` for ``none``).
            ``mentions`` (int32)
                How many times the text mentions the target.

            The stance columns are those of the ``stance`` stage's table (with
            ``text_index`` for ``doc_id``, ``para_id``) and the topic columns those of
            the ``topics`` stage's, so results compare one to one.

        Raises
        ------
        InputError
            If ``texts`` is a single string or holds something other than strings, or a
            target is unknown.
        ArtifactError
            If ``models_dir`` lacks ``topics/`` or ``stance/``.

        Examples
        --------
        >>> table = bundle.analyze(["NATO expansion ignored our warnings."])  # doctest: +SKIP
        >>> table[table.label != "none"][["target", "label", "p_against", "evidence"]]  # doctest: +SKIP
          target    label  p_against                              evidence
        2   NATO  against      0.694  NATO expansion ignored our warnings.
        """
        import pandas as pd

        from .stance.predict import classify_paragraphs

        topic_model, stance_model = self.topic_model, self.stance_model
        texts = _text_list(texts, "analyze")
        if targets is None:
            names = list(self.targets)
        else:
            names = self._stance_targets([targets] if isinstance(targets, str) else list(targets), "analyze")
        n, k = len(texts), len(names)
        distributions = topic_model.transform(texts) if n else np.zeros((0, topic_model.num_topics))
        dominant = distributions.argmax(axis=1).astype(np.int64) if n else np.zeros(0, dtype=np.int64)
        # the stance stage's own function, over the texts as paragraphs 0..n-1
        rows = classify_paragraphs(stance_model, pd.DataFrame({
            "doc_id": np.arange(n, dtype=np.int64), "para_id": np.zeros(n, dtype=np.int64), "text": texts}),
            names, batch_size=_ANALYZE_BATCH)
        topic_labels = np.asarray(self.topic_labels, dtype=object)
        return pd.DataFrame({
            "text_index": np.repeat(np.arange(n, dtype=np.int64), k),
            "dominant_topic": np.repeat(dominant, k),
            "topic_label": pd.array(np.repeat(topic_labels[dominant], k), dtype="string"),
            "dominant_prob": np.repeat(distributions[np.arange(n), dominant], k).astype(np.float64),
            **{column: rows[column].to_numpy() if column.startswith("p_") else rows[column].array
               for column in ("target", "label", "p_favor", "p_against", "p_neutral", "evidence", "mentions")},
        }, columns=list(ANALYZE_COLUMNS))


def load(models_dir: Path | str = "models") -> Bundle:
    """Load and check the model directories under ``models_dir``.

    Parameters
    ----------
    models_dir : path-like, default "models"
        A directory holding ``topics/`` and/or ``stance/`` model directories, as the
        ``topics`` and ``train_stance`` stages write them. A relative path is resolved
        against the working directory; nothing else is read.

    Returns
    -------
    Bundle

    Raises
    ------
    ArtifactError
        If ``models_dir`` holds neither ``topics/`` nor ``stance/``, or a model directory
        that is there fails its checks (see :func:`pipeline.artifacts.check_artifact`):
        a missing, corrupted or tampered file, another kind, or a format version this
        package does not read (the message names the command that rebuilds it).

    Warns
    -----
    VersionWarning
        When a model was built with other library versions than those installed.

    Examples
    --------
    >>> import pipeline
    >>> bundle = pipeline.load("models")  # doctest: +SKIP
    >>> bundle.meta["topics"]["libraries"]  # doctest: +SKIP
    {'gensim': '4.4.0', 'numpy': '2.4.6', 'scipy': '1.16.3', 'tomotopy': '0.13.0'}
    """
    models_dir = Path(models_dir)
    topics_path, stance_path = models_dir / TOPICS_DIR, models_dir / STANCE_DIR
    if not topics_path.exists() and not stance_path.exists():
        raise ArtifactError(f"{models_dir}: no {TOPICS_DIR}/ or {STANCE_DIR}/ model directory "
                            f"(run `dvc repro` to build them)")
    meta: dict[str, dict[str, Any]] = {}
    topics_model = None
    if topics_path.exists():
        from .topics.model import load_topics_artifact

        topics_model, meta[TOPICS_DIR] = load_topics_artifact(topics_path)
    stance_model = None
    if stance_path.exists():
        from .stance.storage import load_stance_artifact

        stance_model, meta[STANCE_DIR] = load_stance_artifact(stance_path)
    return Bundle(models_dir, topics_model, stance_model, meta)
