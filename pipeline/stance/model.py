"""The target-aware stance classifier.

:class:`StanceClassifier` follows the scikit-learn estimator contract: ``__init__`` only
stores parameters, ``fit`` learns and returns ``self``, learned state ends in ``_``, and an
unfitted model raises ``NotFittedError``. Its input ``X`` is a sequence of
``(text, target)`` pairs (or a DataFrame with ``text`` and ``target`` columns), so it drops
into ``cross_val_score`` and ``GridSearchCV``; ``predict(texts, targets)`` is the
convenience form with two parallel lists.

How it reads a pair: see :mod:`pipeline.stance.features` (target-relative placeholders,
mention sentences, windows, whole text -> TF-IDF word n-grams, plus optional character
n-grams, hostility / cooperation cues of :data:`~pipeline.stance.features.HOSTILE` and ``COOPERATIVE`` and negation
marks; ``block_weights`` scales blocks through the vectorizer's ``idf_``); the classifier is a
``LogisticRegression`` whose probabilities are calibrated with ``CalibratedClassifierCV``
when every label has enough examples.

Its model directory (skops, no pickle; optional transformer files) is :mod:`pipeline.stance.storage`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from ..config import DEFAULT_TARGETS
from ..parallel import effective_jobs, ordered_map
from .features import ContextAnalyzer, TargetView, TokenizedText, target_view
from .inputs import as_pairs, check_params
from .targets import all_mentions, compile_targets, target_spec
from .vectorize import transform_views

#: the stance labels a classifier predicts, in the order of ``classes_``
LABELS = ("against", "favor", "neutral")
#: the label of a text that does not mention the target (never predicted by the model)
NONE_LABEL = "none"

#: pairs featurised and scored at once by ``predict_proba``; results do not depend on it
_PREDICT_BATCH = 8192
#: ``predict_proba`` uses workers (``n_jobs``) from this many pairs on: below it, sending the
#: model to the workers costs more than they save
_PARALLEL_MIN_PAIRS = 8192

#: parameters added after format version 2 was introduced, with the values that give the
#: earlier behaviour (what a model saved without them was trained with)
_OPTIONS_OFF: dict[str, Any] = {"target_features": False, "per_target": False, "char_ngram_range": (0, 0),
                                "lexicon": False, "negation": False, "block_weights": None,
                                "char_scope": "windows", "social_tokens": False, "target_scope": "sentences",
                                "roles": False, "label_scales": None}


@dataclass(frozen=True)
class StanceAnalysis:
    """Stance of many (text, target) pairs, ``none`` where the text does not mention the target.

    ``probabilities`` has one column per label in :data:`LABELS` order and NaN rows for
    ``none``; ``evidence`` is the sentence that carries the stance ("" for ``none``).
    """

    labels: list[str]
    probabilities: np.ndarray
    evidence: list[str]
    mentions: np.ndarray


class StanceClassifier(ClassifierMixin, BaseEstimator):
    """Stance of a text toward a named target: ``against``, ``favor`` or ``neutral``.

    Parameters
    ----------
    targets : list of TargetConfig or dict, optional
        Every target the model can be asked about (name, aliases, case_sensitive_aliases);
        the defaults of :mod:`pipeline.config` when None. Mentions of the target asked about
        and of the others become different placeholder tokens.
    window : int, default 12
        Words either side of each target mention used as a feature block.
    C : float, default 4.0
        Inverse regularisation strength of the logistic regression.
    ngram_range : (int, int), default (1, 2)
        Word n-gram lengths.
    min_df : int, default 1
        Ignore n-grams in fewer training texts than this.
    class_weight : 'balanced' or None, default 'balanced'
        Weight labels inversely to their frequency.
    calibration : {'auto', 'sigmoid', 'isotonic', 'none'}, default 'auto'
        Probability calibration with ``CalibratedClassifierCV``. ``auto`` uses ``sigmoid``
        when every label has at least ``2 * calibration_folds`` examples and the logistic
        regression's own probabilities otherwise.
    calibration_folds : int, default 3
        Folds of the calibration cross-validation.
    random_state : int, default 42
        Seed of the calibration folds and the solver.
    target_features : bool, default False
        Add which target is asked about as features, alone and crossed with words (see
        ``target_scope``).
    per_target : bool, default False
        Also fit one model per target (every label at least ``calibration_folds`` times).
    char_ngram_range : (int, int), default (0, 0)
        Character n-grams (``char_wb``) of the words of ``char_scope``; ``(0, 0)`` for none.
    lexicon : bool, default True
        Hostility / cooperation cue words (``HOSTILE`` / ``COOPERATIVE`` of :mod:`pipeline.stance.features`) in the mention
        sentences and windows as features.
    negation : bool, default False
        Mark the three words after a negation word (``~word``).
    block_weights : dict, optional
        Weight of each feature block (``pipeline.config.schema.FEATURE_BLOCKS``, prefixes in
        :data:`BLOCK_PREFIXES`) within a row's L2 norm; missing blocks weigh 1.
    char_scope : {'windows', 'sentences', 'doc'}, default 'windows'
        Where character n-grams come from.
    social_tokens : bool, default False
        Keep the ``#`` / ``@`` of hashtags and user names.
    target_scope : {'sentences', 'doc'}, default 'sentences'
        With ``target_features``, the words crossed with the target.
    roles : bool, default True
        The target's role in its mention sentences as features (aggressor, victim, accused,
        helper, helped; see :mod:`pipeline.stance.roles`).
    label_scales : dict, optional
        A prior correction: each label's probability is multiplied by its scale (missing: 1) and
        the row renormalised, before the label is chosen. ``train_stance`` tunes it on
        out-of-fold predictions (``stance.label_scales: auto``); None: no correction.

    Attributes
    ----------
    classes_ : ndarray of str
        The labels seen in training, sorted (``["against", "favor", "neutral"]``).
    target_names_ : list of str
        Targets the model can be asked about.
    target_specs_ : list of dict
        Their names and alias patterns.
    vectorizer_ : TfidfVectorizer
        Turns target views into features.
    classifier_ : LogisticRegression or CalibratedClassifierCV
        The fitted classifier.
    calibration_ : str
        The calibration method used (``"none"`` when there was too little data).

    Notes
    -----
    **Pairs.** The prediction methods (:meth:`predict_proba`, :meth:`predict`, :meth:`mentions`,
    :meth:`evidence`, :meth:`analyze`) take ``X``: a sequence of ``(text, target)`` pairs, a
    DataFrame with ``text`` and ``target`` columns, or a sequence of texts with ``targets``, the
    target names parallel to ``X`` (each in ``target_names_``). They raise ``ValueError`` if a
    target is unknown or ``X`` and ``targets`` differ in length, ``TypeError`` if ``X`` is a
    single string or a one-shot iterator, and ``sklearn.exceptions.NotFittedError`` if the
    classifier is not fitted.

    Examples
    --------
    >>> pairs = [(text, target) for text, target in labelled]  # doctest: +SKIP
    >>> model = StanceClassifier(C=4.0).fit(pairs, labels)  # doctest: +SKIP
    >>> model.predict(["Moscow praised Beijing."], ["China"])  # doctest: +SKIP
    array(['favor'], dtype=object)
    """

    def __init__(
        self,
        targets: Sequence[Any] | None = None,
        window: int = 12,
        C: float = 4.0,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int = 1,
        class_weight: str | None = "balanced",
        calibration: str = "auto",
        calibration_folds: int = 3,
        random_state: int = 42,
        target_features: bool = False,
        per_target: bool = False,
        char_ngram_range: tuple[int, int] = (0, 0),
        lexicon: bool = True,
        negation: bool = False,
        block_weights: dict[str, float] | None = None,
        char_scope: str = "windows",
        social_tokens: bool = False,
        target_scope: str = "sentences",
        roles: bool = True,
        label_scales: dict[str, float] | None = None,
    ) -> None:
        self.targets = targets
        self.window = window
        self.C = C
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.class_weight = class_weight
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.random_state = random_state
        self.target_features = target_features
        self.per_target = per_target
        self.char_ngram_range = char_ngram_range
        self.lexicon = lexicon
        self.negation = negation
        self.block_weights = block_weights
        self.char_scope = char_scope
        self.social_tokens = social_tokens
        self.target_scope = target_scope
        self.roles = roles
        self.label_scales = label_scales

    # ------------------------------------------------------------------ fitting

    def fit(self, X: Any, y: Sequence[str], targets: Sequence[str] | None = None,
            sample_weight: Sequence[float] | None = None) -> StanceClassifier:
        """Learn from labelled pairs.

        Parameters
        ----------
        X : sequence of (text, target) pairs, or texts with ``targets``
        y : sequence of str
            Labels from :data:`LABELS`.
        targets : sequence of str, optional
            Target names parallel to ``X`` when ``X`` holds only texts.
        sample_weight : sequence of float, optional
            Weight of each pair in the logistic regression's loss (and its calibration); None: all 1.

        Returns
        -------
        StanceClassifier
            ``self``.

        Raises
        ------
        ValueError
            If a parameter is invalid, a label is not in :data:`LABELS`, fewer than two
            labels occur, ``X`` and ``y`` differ in length, or a target is unknown.
        TypeError
            If ``X`` is a single string or a one-shot iterator.

        Examples
        --------
        >>> model = StanceClassifier(calibration="none").fit(  # doctest: +SKIP
        ...     [("NATO ignored our concerns.", "NATO"), ("We thank China for its help.", "China")],
        ...     ["against", "favor"])
        """
        check_params(self)
        texts, names = as_pairs(X, targets)
        labels = np.asarray([str(label) for label in y], dtype=object)
        if len(labels) != len(texts):
            raise ValueError(f"X and y must have the same length, got {len(texts)} and {len(labels)}")
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if weights is not None and (weights.shape != (len(texts),) or not np.all(weights > 0)):
            raise ValueError(f"sample_weight must hold one positive weight per pair ({len(texts)}), "
                             f"got shape {weights.shape}")
        unknown = sorted(set(labels) - set(LABELS))
        if unknown:
            raise ValueError(f"unknown stance label(s) {unknown}; expected labels from {list(LABELS)}")
        present, counts = np.unique(labels, return_counts=True)
        if len(present) < 2:
            raise ValueError(f"training data needs at least two different labels, got {present.tolist()}")

        specs = [target_spec(t) for t in (self.targets if self.targets is not None else DEFAULT_TARGETS)]
        self.target_specs_ = specs
        self.target_names_ = [s["name"] for s in specs]
        self.matchers_ = list(compile_targets(specs).values())
        views = self._views(texts, names)
        smallest = int(counts.min())
        if self.calibration not in ("auto", "none") and smallest < self.calibration_folds:
            raise ValueError(f"calibration={self.calibration!r} with calibration_folds={self.calibration_folds} needs "
                             f"at least {self.calibration_folds} examples of every label; the rarest has {smallest}")
        self.vectorizer_, self.classifier_, self.calibration_ = self._fit_one(views, labels, weights)
        self.classes_ = np.asarray(self.classifier_.classes_, dtype=object)
        # one model per target (``per_target``) where the target has every label at least
        # ``calibration_folds`` times; other targets use the joint model above
        self.target_models_: dict[str, tuple[Any, Any]] = {}
        if self.per_target:
            name_array = np.asarray(names, dtype=object)
            for name in self.target_names_:
                rows = np.flatnonzero(name_array == name)
                present, counts_t = np.unique(labels[rows], return_counts=True)
                if len(present) == len(self.classes_) and int(counts_t.min()) >= self.calibration_folds:
                    vectorizer, classifier, _ = self._fit_one([views[i] for i in rows], labels[rows],
                                                              None if weights is None else weights[rows])
                    self.target_models_[name] = (vectorizer, classifier)
        self.n_training_ = len(texts)
        return self

    def _fit_one(self, views: Sequence[TargetView], labels: np.ndarray,
                 sample_weight: np.ndarray | None = None) -> tuple[Any, Any, str]:
        """Fit one vectorizer + (calibrated) logistic regression; returns them and the calibration used."""
        vectorizer = TfidfVectorizer(analyzer=ContextAnalyzer(tuple(self.ngram_range), self.target_features,
                                                                     tuple(self.char_ngram_range), self.lexicon,
                                                                     self.negation, self.char_scope,
                                                                     self.target_scope, self.roles),
                                     min_df=self.min_df, sublinear_tf=True, dtype=np.float64)
        features = vectorizer.fit_transform(views)
        weights = _column_weights(vectorizer, self.block_weights)
        if weights is not None:
            # scaling a block's idf weighs the block within each row's L2 norm; the same
            # as reweighting the fitted matrix and normalising its rows again
            from sklearn.preprocessing import normalize

            vectorizer.idf_ = vectorizer.idf_ * weights
            features = normalize(features.multiply(weights).tocsr())
        # newton-cg: exact and, on wide sparse TF-IDF matrices, an order of magnitude faster
        # here than lbfgs (same optimum, different path)
        base = LogisticRegression(C=self.C, class_weight=self.class_weight, solver="newton-cg", max_iter=1000,
                                  random_state=self.random_state)
        method = self.calibration
        smallest = int(np.unique(labels, return_counts=True)[1].min())
        if method == "auto" or (method != "none" and smallest < self.calibration_folds):
            method = "sigmoid" if smallest >= 2 * self.calibration_folds else "none"
        if method == "none":
            classifier: Any = base
        else:
            folds = StratifiedKFold(n_splits=self.calibration_folds, shuffle=True, random_state=self.random_state)
            classifier = CalibratedClassifierCV(base, method=method, cv=folds)
        classifier.fit(features, labels, sample_weight=sample_weight)
        return vectorizer, classifier, method

    # ------------------------------------------------------------------ persistence

    def __getstate__(self) -> dict[str, Any]:
        # the compiled target patterns (``re.Pattern`` inside TargetMatcher) are derived
        # from ``target_specs_``; leaving them out keeps the saved state plain data that
        # skops can store without a pickle
        state = dict(super().__getstate__())
        state.pop("matchers_", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # a model saved before an option existed behaves as that option turned off
        # (added after the saved keys, so a state's key order, and the bytes it saves to, are kept)
        state = {**state, **{k: v for k, v in _OPTIONS_OFF.items() if k not in state}}
        super().__setstate__(state)
        if "target_specs_" in self.__dict__:
            self.matchers_ = list(compile_targets(self.target_specs_).values())

    # ------------------------------------------------------------------ prediction

    def _check_targets(self, names: Sequence[str]) -> None:
        known = set(self.target_names_)
        unknown = sorted({n for n in names if n not in known})
        if unknown:
            raise ValueError(f"unknown target(s) {unknown}; this model knows {self.target_names_}")

    def _views(self, texts: Sequence[str], names: Sequence[str]) -> list[TargetView]:
        self._check_targets(names)
        # mentions of all targets do not depend on the target asked about: find them once per text
        found: dict[str, TokenizedText] = {}
        views = []
        for text, name in zip(texts, names, strict=True):
            tokenized = found.get(text)
            if tokenized is None:
                tokenized = found[text] = TokenizedText.of(text, all_mentions(text, self.matchers_),
                                                                   getattr(self, "social_tokens", False))
            views.append(tokenized.view(name, self.window))
        return views

    def _proba(self, views: Sequence[TargetView]) -> np.ndarray:
        if not views:
            return np.zeros((0, len(self.classes_)))
        models = getattr(self, "target_models_", {})
        if not models:
            return self._rescaled(self.classifier_.predict_proba(transform_views(self.vectorizer_, views)))
        out = np.empty((len(views), len(self.classes_)), dtype=np.float64)
        by_model: dict[str | None, list[int]] = {}
        for i, view in enumerate(views):
            by_model.setdefault(view.target if view.target in models else None, []).append(i)
        for name, rows in by_model.items():
            vectorizer, classifier = models[name] if name is not None else (self.vectorizer_, self.classifier_)
            out[rows] = classifier.predict_proba(transform_views(vectorizer, [views[i] for i in rows]))
        return self._rescaled(out)

    def _rescaled(self, proba: np.ndarray) -> np.ndarray:
        """``proba`` under the prior correction ``label_scales`` (rows renormalised to 1)."""
        return rescale(proba, self.classes_, self.label_scales)

    def _pair_proba(self, texts: Sequence[str], names: Sequence[str], views: Sequence[TargetView]) -> np.ndarray:
        """Probabilities of the pairs: the TF-IDF model's, refined by ``refiner_`` when the model has one."""
        proba = self._proba(views)
        refiner = getattr(self, "refiner_", None)
        if refiner is None:
            return proba
        return refiner.refine(texts, names, proba, [str(c) for c in self.classes_],
                              {m.name: m for m in self.matchers_})

    def predict_proba(self, X: Any, targets: Sequence[str] | None = None, *, n_jobs: int = 1) -> np.ndarray:
        """Class probabilities, shape ``(n, len(classes_))``, columns in ``classes_`` order.

        A text that does not mention its target is still scored (from its words alone);
        see :meth:`analyze` for the ``none`` label.

        Parameters
        ----------
        X, targets
            The pairs, as described under *Pairs* in the class notes (which also lists the errors).
        n_jobs : int, default 1
            Worker processes (joblib semantics, as ``compute.n_jobs``) for at least
            ``_PARALLEL_MIN_PAIRS`` pairs; fewer pairs are scored in this process, as starting
            workers would cost more than it saves. A model with a transformer (``refiner_``)
            always scores in this process, on torch threads. The result does not depend on it.

        Returns
        -------
        ndarray of shape (n_pairs, len(classes_))
            Each row sums to 1.

        Examples
        --------
        >>> model = load_stance("models/stance")  # doctest: +SKIP
        >>> model.predict_proba(["NATO ignored Russia's concerns."], ["NATO"]).round(2)  # doctest: +SKIP
        array([[0.71, 0.08, 0.21]])
        """
        check_is_fitted(self, "classifier_")
        texts, names = as_pairs(X, targets)
        jobs = effective_jobs(n_jobs) if len(texts) >= _PARALLEL_MIN_PAIRS else 1
        if getattr(self, "refiner_", None) is not None:
            jobs = 1  # the transformer runs on torch threads here rather than copied into every worker
        if len(texts) <= _PREDICT_BATCH and jobs == 1:
            return self._pair_proba(texts, names, self._views(texts, names))
        # in batches, so memory stays bounded however many pairs are asked for; with workers,
        # at least one batch per worker (each row depends on its pair only, so batches do not matter)
        size = min(_PREDICT_BATCH, -(-len(texts) // jobs))
        batches = ((texts[i:i + size], names[i:i + size]) for i in range(0, len(texts), size))
        return np.vstack(list(ordered_map(_score_pairs, batches, jobs, shared=(self,))))

    def predict(self, X: Any, targets: Sequence[str] | None = None) -> np.ndarray:
        """The most probable label of each pair (one of ``classes_``; never ``none``, see :meth:`analyze`).

        Parameters
        ----------
        X, targets
            The pairs, as described under *Pairs* in the class notes (which also lists the errors).

        Returns
        -------
        ndarray of str, shape (n_pairs,)

        Examples
        --------
        >>> model.predict(["NATO ignored Russia's concerns."], ["NATO"])  # doctest: +SKIP
        array(['against'], dtype=object)
        """
        proba = self.predict_proba(X, targets)
        return self.classes_[np.argmax(proba, axis=1)] if len(proba) else np.asarray([], dtype=object)

    def mentions(self, X: Any, targets: Sequence[str] | None = None) -> np.ndarray:
        """How many times each text mentions its target.

        Parameters
        ----------
        X, targets
            The pairs, as described under *Pairs* in the class notes (which also lists the errors).

        Returns
        -------
        ndarray of int64, shape (n_pairs,)

        Examples
        --------
        >>> model.mentions(["NATO and the Alliance met."], ["NATO"])  # doctest: +SKIP
        array([2])
        """
        check_is_fitted(self, "classifier_")
        texts, names = as_pairs(X, targets)
        by_name = {m.name: m for m in self.matchers_}
        self._check_targets(names)
        return np.asarray([len(by_name[n].find_mentions(t)) for t, n in zip(texts, names, strict=True)], dtype=np.int64)

    def _evidence(self, texts: Sequence[str], names: Sequence[str], views: Sequence[TargetView],
                  labels: Sequence[str]) -> list[str]:
        evidence = [""] * len(texts)
        pending: list[tuple[int, str]] = []
        sentence_views: list[TargetView] = []
        for i, view in enumerate(views):
            spans = view.sentence_spans
            if len(spans) == 1:
                evidence[i] = texts[i][spans[0][0]:spans[0][1]]
            elif len(spans) > 1:
                for start, end in spans:
                    sentence = texts[i][start:end]
                    pending.append((i, sentence))
                    sentence_views.append(target_view(sentence, names[i], self.matchers_, self.window,
                                                              social_tokens=getattr(self, "social_tokens", False)))
        if pending:
            proba = self._proba(sentence_views)
            column = {label: k for k, label in enumerate(self.classes_)}
            best: dict[int, tuple[float, str]] = {}
            for (i, sentence), row in zip(pending, proba, strict=True):
                k = column.get(labels[i])
                score = float(row[k]) if k is not None else float(row.max())
                if i not in best or score > best[i][0]:
                    best[i] = (score, sentence)
            for i, (_, sentence) in best.items():
                evidence[i] = sentence
        return evidence

    def evidence(self, X: Any, targets: Sequence[str] | None = None, labels: Sequence[str] | None = None) -> list[str]:
        """The sentence that carries each text's stance toward its target.

        Among the sentences that mention the target, the one the classifier, reading that
        sentence alone, gives the highest probability of the text's label (``labels``, or
        the predicted label when None). ``""`` when the text does not mention the target.

        Parameters
        ----------
        X, targets
            The pairs, as described under *Pairs* in the class notes (which also lists the errors).
        labels : sequence of str, optional
            The label whose evidence is wanted, parallel to ``X``.

        Returns
        -------
        list of str

        Examples
        --------
        >>> model.evidence(["It rained. NATO ignored our concerns."], ["NATO"])  # doctest: +SKIP
        ['NATO ignored our concerns.']
        """
        check_is_fitted(self, "classifier_")
        texts, names = as_pairs(X, targets)
        views = self._views(texts, names)
        if labels is None:
            proba = self._pair_proba(texts, names, views)
            labels = list(self.classes_[np.argmax(proba, axis=1)]) if len(proba) else []
        elif len(labels) != len(texts):
            raise ValueError(f"labels must be parallel to texts, got {len(labels)} and {len(texts)}")
        return self._evidence(texts, names, views, list(labels))

    def analyze(self, texts: Sequence[str], targets: Sequence[str]) -> StanceAnalysis:
        """Label, probabilities and evidence of each pair, with ``none`` where the target is not mentioned.

        Parameters
        ----------
        texts : sequence of str
        targets : sequence of str
            Target names, parallel to ``texts``.

        Returns
        -------
        StanceAnalysis
            Probabilities in :data:`LABELS` column order; NaN rows and empty evidence for ``none``.

        Examples
        --------
        >>> result = model.analyze(["NATO ignored our concerns.", "It rained."], ["NATO", "NATO"])  # doctest: +SKIP
        >>> result.labels, result.evidence  # doctest: +SKIP
        (['against', 'none'], ['NATO ignored our concerns.', ''])
        """
        check_is_fitted(self, "classifier_")
        texts, names = as_pairs(texts, targets)
        views = self._views(texts, names)
        mentioned = [i for i, v in enumerate(views) if v.mentions > 0]
        probabilities = np.full((len(texts), len(LABELS)), np.nan)
        labels = [NONE_LABEL] * len(texts)
        if mentioned:
            proba = self._pair_proba([texts[i] for i in mentioned], [names[i] for i in mentioned],
                                     [views[i] for i in mentioned])
            full = np.zeros((len(mentioned), len(LABELS)))
            for k, label in enumerate(self.classes_):
                full[:, LABELS.index(label)] = proba[:, k]
            probabilities[mentioned] = full
            for row, i in enumerate(mentioned):
                labels[i] = str(self.classes_[int(np.argmax(proba[row]))])
        evidence = self._evidence(texts, names, views, labels)
        mentions = np.asarray([v.mentions for v in views], dtype=np.int64)
        return StanceAnalysis(labels, probabilities, evidence, mentions)


def _score_pairs(batch: tuple[Sequence[str], Sequence[str]], model: StanceClassifier) -> np.ndarray:
    """``predict_proba`` of one batch of (texts, target names); a module-level function, for workers."""
    texts, names = batch
    return model._pair_proba(texts, names, model._views(texts, names))


#: feature-name prefix of each block of :class:`~pipeline.stance.features.ContextAnalyzer`
BLOCK_PREFIXES = {"doc": ("d:",), "sentences": ("s:",), "windows": ("w:",), "chars": ("c:",),
                  "lexicon": ("L:",), "target": ("t:", "x:"), "roles": ("R:",)}


def rescale(proba: np.ndarray, classes: Sequence[Any], scales: dict[str, float] | None) -> np.ndarray:
    """Probabilities ``proba`` (columns in ``classes`` order) with each label's column multiplied by its
    scale in ``scales`` (missing labels: 1) and every row renormalised to sum to 1; ``scales`` None or
    empty returns ``proba`` itself."""
    if not scales:
        return proba
    factors = np.asarray([float(scales.get(str(c), 1.0)) for c in classes], dtype=np.float64)
    out = proba * factors
    return out / out.sum(axis=1, keepdims=True)


def _column_weights(vectorizer: TfidfVectorizer, block_weights: dict[str, float] | None) -> np.ndarray | None:
    """Weight of each column of a fitted vectorizer, from ``block_weights`` (None: all 1)."""
    if not block_weights or all(float(w) == 1.0 for w in block_weights.values()):
        return None
    by_prefix = {p: float(w) for block, w in block_weights.items() for p in BLOCK_PREFIXES[block]}
    weights = np.ones(len(vectorizer.vocabulary_), dtype=np.float64)
    for feature, column in vectorizer.vocabulary_.items():
        weight = by_prefix.get(feature[:2])
        if weight is not None:
            weights[column] = weight
    return weights
