"""The LDA topic model: fit with gensim or tomotopy, score with a deterministic numpy E-step.

:class:`TopicModel` follows scikit-learn's estimator contract: ``__init__`` only stores
its arguments, :meth:`TopicModel.fit` learns and returns ``self``, learned state ends in
``_`` and using an unfitted model raises ``NotFittedError``. It is a transformer from
texts to topic distributions, so it drops into a scikit-learn ``Pipeline``. The engines
(and how priors and seed words map onto each) are in :mod:`pipeline.topics.engines`.

Scoring does not use gensim's ``inference`` because that starts every document from a
random point drawn from a shared generator, so a paragraph's distribution would depend
on what was scored before it and in the same batch. :meth:`TopicModel.transform` runs the
same variational update from a fixed start (all ones) and stops each document on its own
convergence, so a text gets the same distribution in any batch, in any process, before
and after a save -> load round trip.
"""

from __future__ import annotations

import json
import logging
import numbers
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..artifacts import check_artifact, save_artifact
from ..config import DISCOURSE_STOPWORDS
from ..errors import ArtifactError, DataError
from ..io import write_json
from . import engines
from .corpus import BowCorpus, TokenCorpus
from .preprocess import Preprocessor, default_stopwords

log = logging.getLogger(__name__)

KIND = "topics"
FORMAT_VERSION = 1
#: format versions :func:`load_topics` reads
SUPPORTED_FORMAT_VERSIONS = (1,)
#: libraries whose versions ``meta.json`` records (and loading checks); ``simplemma`` too with ``lemmatize``
LIBRARIES = ["gensim", "numpy", "scipy", "tomotopy"]
#: constructor arguments added after format version 1 came out, with the value a model
#: saved without them was fitted with (before ``engine`` existed, gensim fitted every model);
#: the others were added with a default that matches what older models did
_LEGACY_PARAMS = {"engine": "gensim"}
#: the E-step stops a document when its mean absolute change in gamma falls below this (gensim's default)
GAMMA_THRESHOLD = 1e-3
#: documents per block in :meth:`TopicModel.transform`; results do not depend on it
_BATCH = 2048
_EPS = float(np.finfo(np.float64).eps)

FILES = {
    "params": "params.json",
    "preprocessing": "preprocessing.json",
    "vocabulary": "vocabulary.json",
    "components": "components.npy",
    "alpha": "alpha.npy",
    "eta": "eta.npy",
}


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


#: parameter -> (check, what is expected); checked in one place, by :meth:`TopicModel._check_params`
_PARAM_RULES: dict[str, tuple[Any, str]] = {
    "num_topics": (lambda v: _is_int(v) and v >= 2, "an integer >= 2"),
    "seed": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "passes": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "iterations": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "alpha": (lambda v: v in ("symmetric", "asymmetric", "auto") or (_is_real(v) and v > 0),
              "'symmetric', 'asymmetric', 'auto' or a positive number"),
    "eta": (lambda v: v is None or v in ("symmetric", "auto") or (_is_real(v) and v > 0),
            "None, 'symmetric', 'auto' or a positive number"),
    "no_below": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "no_above": (lambda v: _is_real(v) and 0 < v <= 1, "a number in (0, 1]"),
    "keep_n": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "min_token_chars": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "max_token_chars": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "stopwords_extra": (lambda v: not isinstance(v, str) and all(isinstance(w, str) for w in v),
                        "a list of strings"),
    "chunksize": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "engine": (lambda v: v in engines.ENGINES, " or ".join(repr(e) for e in engines.ENGINES)),
    "tomotopy_iterations": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "tomotopy_workers": (lambda v: _is_int(v) and v >= 0, "an integer >= 0 (0: all cores)"),
    "gensim_workers": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "seed_words": (lambda v: not isinstance(v, str) and all(
        not isinstance(ws, str) and all(isinstance(w, str) for w in ws) for ws in v), "a list of lists of strings"),
    "seed_weight": (lambda v: _is_real(v) and v > 0, "a positive number"),
    "phrases": (lambda v: isinstance(v, bool), "true or false"),
    "lemmatize": (lambda v: isinstance(v, bool), "true or false"),
    "phrase_min_count": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "phrase_threshold": (lambda v: _is_real(v) and 0 < v <= 1, "a number in (0, 1]"),
}


def _refuse_iterator(items: Any, name: str) -> None:
    # a generator would be used up by the first of the several passes fitting makes
    if iter(items) is items:
        raise TypeError(f"{name} must be a re-iterable sequence (list, Series, ...), got a one-shot "
                        f"{type(items).__name__}; wrap it in list()")


class _VocabularyDocs:
    """Re-iterable token lists (vocabulary words only, in order) of some rows of a corpus."""

    def __init__(self, corpus: TokenCorpus, mapping: np.ndarray, rows: np.ndarray, vocabulary: list[str]) -> None:
        self.corpus, self.mapping, self.rows, self.vocabulary = corpus, mapping, rows, vocabulary

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[list[str]]:
        vocabulary = self.vocabulary
        for i in self.rows:
            ids = self.mapping[self.corpus.doc(int(i))]
            yield [vocabulary[j] for j in ids[ids >= 0].tolist()]


def _dirichlet_expectation(gamma: np.ndarray) -> np.ndarray:
    """E[log theta] for theta ~ Dirichlet(gamma), row-wise."""
    from scipy.special import psi

    return psi(gamma) - psi(gamma.sum(axis=-1, keepdims=True))


class TopicModel(TransformerMixin, BaseEstimator):
    """Latent Dirichlet allocation over paragraphs, fitted with gensim's ``LdaModel`` or tomotopy.

    Parameters
    ----------
    num_topics : int
        Number of topics K.
    seed : int
        Random state of the engine; same data and parameters give the same model (with
        tomotopy, for the same ``tomotopy_workers``).
    passes, iterations, alpha, eta, chunksize
        Passed to ``gensim.models.LdaModel``; ``iterations`` also bounds the E-step of
        :meth:`transform` (for either engine). tomotopy uses ``alpha`` and ``eta`` as
        described in :mod:`pipeline.topics.engines`.
    no_below, no_above, keep_n
        Vocabulary filter, as ``gensim.corpora.Dictionary.filter_extremes``.
    min_token_chars, max_token_chars : int
        Token length bounds (inclusive).
    stopwords_extra : list of str
        Added to gensim's English stop words (default: :data:`pipeline.config.DISCOURSE_STOPWORDS`).
    engine : {'gensim', 'tomotopy'}
        Which library fits the model.
    tomotopy_iterations, tomotopy_workers : int
        Gibbs sampling iterations and threads of the tomotopy engine. A fixed number of
        workers gives the same model on any machine (tomotopy partitions the work the same
        way); a different number gives a different one; 0 means all cores.
    gensim_workers : int
        1: gensim's ``LdaModel`` (bit-reproducible); more: ``LdaMulticore`` with that many
        worker processes, faster on more cores but not bit-reproducible, and unable to learn
        ``alpha``/``eta`` (``'auto'`` is refused).
    seed_words : list of list of str
        Words of topic ``i`` in entry ``i`` (at most ``num_topics`` entries), anchored by a
        larger topic-word prior; words not in the vocabulary are skipped and listed in
        ``seed_words_missing_``.
    seed_weight : float
        Extra prior of a seed word in its topic, as a share of the word's count in the
        fitting paragraphs.

    Attributes
    ----------
    preprocessor_ : Preprocessor
        Tokenisation used in training and by :meth:`transform`.
    vocabulary_ : list of str
        The words, indexed by column of ``components_``.
    document_frequencies_ : ndarray of shape (V,)
        Number of training paragraphs holding each word.
    components_ : ndarray of shape (K, V)
        Variational topic-word parameters (gensim's lambda); normalise rows for p(word | topic).
    alpha_ : ndarray of shape (K,)
        Document-topic Dirichlet prior (learned when ``alpha='auto'``).
    eta_ : ndarray of shape (V,) or (K, V)
        Topic-word Dirichlet prior.
    n_documents_ : int
        Paragraphs with at least one vocabulary word that the model was fitted on.
    seed_words_missing_ : list of str
        Seed words that are not in the vocabulary (and so anchor nothing).
    dictionary_ : gensim.corpora.Dictionary or None
        The vocabulary as a gensim dictionary (``None`` after :func:`load_topics`).
    lda_ : gensim.models.LdaModel, tomotopy.LDAModel or None
        The engine's fitted model (``None`` after :func:`load_topics`; it is not saved).

    Examples
    --------
    >>> from pipeline.topics import TopicModel
    >>> model = TopicModel(num_topics=2, no_above=1.0).fit(texts)  # doctest: +SKIP
    >>> model.transform(["Troops crossed the border."]).round(2)  # doctest: +SKIP
    array([[0.08, 0.92]])
    >>> model.top_words(1, n=3)  # doctest: +SKIP
    [('troops', 0.061), ('border', 0.054), ('missile', 0.047)]
    """

    def __init__(
        self,
        num_topics: int = 8,
        *,
        seed: int = 42,
        passes: int = 10,
        iterations: int = 100,
        alpha: str | float = "auto",
        eta: str | float | None = None,
        no_below: int = 2,
        no_above: float = 0.5,
        keep_n: int = 100000,
        min_token_chars: int = 3,
        max_token_chars: int = 25,
        stopwords_extra: Sequence[str] = DISCOURSE_STOPWORDS,
        chunksize: int = 2000,
        engine: str = "tomotopy",
        tomotopy_iterations: int = 300,
        tomotopy_workers: int = 2,
        gensim_workers: int = 1,
        seed_words: Sequence[Sequence[str]] = (),
        seed_weight: float = 1.0,
        phrases: bool = False,
        lemmatize: bool = False,
        phrase_min_count: int = 5,
        phrase_threshold: float = 0.6,
    ) -> None:
        self.num_topics = num_topics
        self.seed = seed
        self.passes = passes
        self.iterations = iterations
        self.alpha = alpha
        self.eta = eta
        self.no_below = no_below
        self.no_above = no_above
        self.keep_n = keep_n
        self.min_token_chars = min_token_chars
        self.max_token_chars = max_token_chars
        self.stopwords_extra = stopwords_extra
        self.chunksize = chunksize
        self.engine = engine
        self.tomotopy_iterations = tomotopy_iterations
        self.tomotopy_workers = tomotopy_workers
        self.gensim_workers = gensim_workers
        self.seed_words = seed_words
        self.seed_weight = seed_weight
        self.phrases = phrases
        self.lemmatize = lemmatize
        self.phrase_min_count = phrase_min_count
        self.phrase_threshold = phrase_threshold

    # ------------------------------------------------------------------ fitting

    def _check_params(self) -> None:
        for name, (ok, expected) in _PARAM_RULES.items():
            value = getattr(self, name)
            if not ok(value):
                raise ValueError(f"TopicModel: {name} must be {expected}, got {value!r}")
        if self.max_token_chars < self.min_token_chars:
            raise ValueError(f"TopicModel: max_token_chars must be >= min_token_chars ({self.min_token_chars}), "
                             f"got {self.max_token_chars!r}")
        if len(self.seed_words) > self.num_topics:
            raise ValueError(f"TopicModel: seed_words must have at most num_topics ({self.num_topics}) lists, "
                             f"got {len(self.seed_words)}")
        if self.engine == "gensim" and self.gensim_workers > 1 and "auto" in (self.alpha, self.eta):
            raise ValueError("TopicModel: gensim_workers > 1 (LdaMulticore) cannot learn alpha or eta ('auto'), "
                             f"got alpha={self.alpha!r}, eta={self.eta!r}")
        if self.eta == "auto" and (self.engine == "tomotopy" or any(self.seed_words)):
            raise ValueError("TopicModel: eta='auto' works only with engine 'gensim' and no seed_words, "
                             f"got engine {self.engine!r} and {sum(map(len, self.seed_words))} seed words")

    def make_preprocessor(self) -> Preprocessor:
        """The tokenisation these parameters define (the fitted one is ``preprocessor_``).

        Returns
        -------
        Preprocessor
            Token length bounds, stop words and lemmatisation from the parameters; no
            collocations (those are learned by :meth:`fit`).

        Examples
        --------
        >>> TopicModel(stopwords_extra=[]).make_preprocessor().tokenize("The troops crossed")
        ['troops', 'crossed']
        """
        return Preprocessor(self.min_token_chars, self.max_token_chars, default_stopwords(self.stopwords_extra),
                            lemmatize=self.lemmatize)

    def fit(self, texts: Sequence[str], y: Any = None) -> TopicModel:
        """Fit on texts (a list or Series of str; not a generator).

        Parameters
        ----------
        texts : sequence of str
            The training texts; read more than once, so not a one-shot iterator.
        y : None
            Ignored (scikit-learn's transformer signature).

        Returns
        -------
        TopicModel
            ``self``.

        Raises
        ------
        ValueError
            If a parameter is invalid (the message names it, what was expected and what was got).
        TypeError
            If ``texts`` is a generator or another one-shot iterator.
        DataError
            If the vocabulary is empty after filtering or fewer than ``max(2, num_topics)``
            texts keep a vocabulary word.

        Examples
        --------
        >>> model = TopicModel(num_topics=2, no_above=1.0, seed=1).fit(texts)  # doctest: +SKIP
        >>> model.components_.shape  # doctest: +SKIP
        (2, 16)
        """
        self._check_params()
        _refuse_iterator(texts, "texts")
        preprocessor = self.make_preprocessor()
        return self.fit_tokens([preprocessor.tokenize(t) for t in texts])

    def fit_tokens(self, token_lists: Sequence[list[str]]) -> TopicModel:
        """Fit on texts already tokenised with :meth:`make_preprocessor`.

        Parameters
        ----------
        token_lists : sequence of list of str
            One token list per text; read more than once.

        Returns
        -------
        TopicModel
            ``self``.

        Raises
        ------
        ValueError, TypeError, DataError
            As :meth:`fit`.

        Examples
        --------
        >>> model = TopicModel(2)  # doctest: +SKIP
        >>> model.fit_tokens([model.make_preprocessor().tokenize(t) for t in texts])  # doctest: +SKIP
        """
        self._check_params()
        _refuse_iterator(token_lists, "token_lists")
        preprocessor = self.make_preprocessor()
        if self.phrases:
            preprocessor = self.learn_phrases(token_lists, preprocessor)
            token_lists = [preprocessor.apply_phrases(t) for t in token_lists]
        return self.fit_corpus(TokenCorpus.from_token_lists(token_lists), preprocessor)

    def fit_corpus(self, corpus: TokenCorpus, preprocessor: Preprocessor) -> TopicModel:
        """Fit on the fitting paragraphs of a :class:`~pipeline.topics.corpus.TokenCorpus`.

        The streaming path of the ``topics`` stage: the corpus holds token ids (on disk for
        large inputs) produced by ``preprocessor`` (collocations already joined), and is
        read paragraph by paragraph. Afterwards ``corpus_mapping_`` maps the corpus's ids
        to vocabulary ids (``-1``: not a vocabulary word), for :meth:`transform_ids`.

        Parameters
        ----------
        corpus : TokenCorpus
            Token ids of every paragraph; ``corpus.fit_mask`` marks those to fit on.
        preprocessor : Preprocessor
            The tokenisation that produced the corpus; saved with the model.

        Returns
        -------
        TopicModel
            ``self``.

        Raises
        ------
        ValueError, DataError
            As :meth:`fit`.

        Examples
        --------
        >>> from pipeline.topics.corpus import TokenCorpus  # doctest: +SKIP
        >>> model = TopicModel(2)  # doctest: +SKIP
        >>> pre = model.make_preprocessor()  # doctest: +SKIP
        >>> model.fit_corpus(TokenCorpus.from_token_lists([pre.tokenize(t) for t in texts]), pre)  # doctest: +SKIP
        """
        self._check_params()
        fit_rows = np.flatnonzero(corpus.fit_mask)
        raw_size = sum(1 for i in corpus.dictionary.dfs.values() if i > 0)
        if raw_size == 0:
            raise DataError(f"empty vocabulary after filtering: no word is left in {len(fit_rows)} paragraphs "
                            f"once stop words and tokens outside {self.min_token_chars}..{self.max_token_chars} "
                            f"characters are removed")
        dictionary, mapping = corpus.filtered(self.no_below, self.no_above, self.keep_n)
        if len(dictionary) == 0:
            raise DataError(
                f"empty vocabulary after filtering: none of {raw_size} distinct words is in at least "
                f"no_below={self.no_below} and at most no_above={self.no_above} of {len(fit_rows)} paragraphs"
            )
        word_counts = np.zeros(len(dictionary), dtype=np.float64)
        used = np.zeros(len(fit_rows), dtype=bool)
        for n, i in enumerate(fit_rows):
            ids = mapping[corpus.doc(int(i))]
            ids = ids[ids >= 0]
            if ids.size:
                used[n] = True
                word_counts += np.bincount(ids, minlength=len(dictionary))
        n_used = int(used.sum())
        needed = max(2, self.num_topics)
        if n_used < needed:
            raise DataError(
                f"only {n_used} usable paragraphs (with a vocabulary word) of {len(fit_rows)}; "
                f"need at least {needed} for num_topics={self.num_topics}"
            )
        seed_words = [[w.strip().lower() for w in ws] for ws in self.seed_words]
        boosts, missing = engines.seed_boosts(seed_words, dictionary.token2id, word_counts, self.seed_weight)
        if missing:
            log.warning("%d seed word(s) not in the vocabulary, ignored: %s", len(missing), ", ".join(missing))
        log.info("fitting LDA with %s: %d topics, %d paragraphs, %d words, %d seed words",
                 self.engine, self.num_topics, n_used, len(dictionary), len(boosts))
        vocabulary = [dictionary[i] for i in range(len(dictionary))]
        usable_rows = fit_rows[used]
        if self.engine == "tomotopy":
            fitted = engines.fit_tomotopy(_VocabularyDocs(corpus, mapping, usable_rows, vocabulary), vocabulary,
                                          self, boosts)
        else:
            fitted = engines.fit_gensim(BowCorpus(corpus, mapping, usable_rows), dictionary, self, boosts,
                                        GAMMA_THRESHOLD)
        self.preprocessor_ = preprocessor
        self.vocabulary_ = vocabulary
        self.document_frequencies_ = np.array([dictionary.dfs.get(i, 0) for i in range(len(dictionary))],
                                              dtype=np.int64)
        self.components_ = fitted.components
        self.alpha_ = fitted.alpha
        self.eta_ = fitted.eta
        self.n_documents_ = n_used
        self.seed_words_missing_ = missing
        self.dictionary_ = dictionary
        self.corpus_mapping_ = mapping
        self.lda_ = fitted.native
        self._reset_cache()
        return self

    def learn_phrases(self, token_lists: Iterable[list[str]], preprocessor: Preprocessor) -> Preprocessor:
        """Learn two-word collocations with gensim ``Phrases`` and add them to the preprocessor.

        Parameters
        ----------
        token_lists : iterable of list of str
            Read once, so a generator over a large table will do.
        preprocessor : Preprocessor
            The tokenisation that produced them.

        Returns
        -------
        Preprocessor
            A copy of ``preprocessor`` that joins the collocations (``phrase_min_count``
            occurrences, NPMI at least ``phrase_threshold``) into ``word1_word2`` tokens.

        Examples
        --------
        >>> pre = model.learn_phrases(token_lists, model.make_preprocessor())  # doctest: +SKIP
        >>> "climate_change" in pre.phrases  # doctest: +SKIP
        True
        """
        from dataclasses import replace

        from gensim.models.phrases import Phrases

        learned = Phrases(token_lists, min_count=self.phrase_min_count, threshold=self.phrase_threshold, scoring="npmi")
        phrases = frozenset(learned.export_phrases())
        log.info("collocations: %d learned (e.g. %s)", len(phrases), ", ".join(sorted(phrases)[:5]))
        return replace(preprocessor, phrases=phrases)

    # ------------------------------------------------------------------ using

    def _reset_cache(self) -> None:
        self._exp_elog_beta: np.ndarray | None = None
        self._word_index: dict[str, int] | None = None

    def tokenize(self, text: str) -> list[str]:
        """Tokens of ``text`` under the fitted preprocessing.

        Parameters
        ----------
        text : str

        Returns
        -------
        list of str
            Including words outside the vocabulary.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the model is not fitted.

        Examples
        --------
        >>> model.tokenize("Troops crossed the border.")  # doctest: +SKIP
        ['troops', 'crossed', 'border']
        """
        check_is_fitted(self, "components_")
        return self.preprocessor_.tokenize(text)

    def bow(self, tokens: Iterable[str]) -> list[tuple[int, int]]:
        """gensim bag of words of a token list; words outside the vocabulary are dropped.

        Parameters
        ----------
        tokens : iterable of str

        Returns
        -------
        list of (int, int)
            ``(word id, count)`` sorted by word id; ids index ``vocabulary_``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the model is not fitted.

        Examples
        --------
        >>> model.bow(["troops", "border", "troops", "unknownword"])  # doctest: +SKIP
        [(3, 1), (11, 2)]
        """
        check_is_fitted(self, "components_")
        if getattr(self, "_word_index", None) is None:
            self._word_index = {w: i for i, w in enumerate(self.vocabulary_)}
        index = self._word_index
        counts: dict[int, int] = {}
        for token in tokens:
            i = index.get(token)
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
        return sorted(counts.items())

    def transform(self, texts: Iterable[str]) -> np.ndarray:
        """Topic distributions of texts, shape ``(n_texts, num_topics)``; rows sum to 1.

        A text with no vocabulary word gets the prior mean ``alpha_ / alpha_.sum()``. The
        E-step starts every text from the same point, so a text gets the same row in any
        batch, in any process, before and after a save -> load round trip.

        Parameters
        ----------
        texts : iterable of str
            Not a single string.

        Returns
        -------
        ndarray of shape (n_texts, num_topics)
            float64; row ``i`` is the topic distribution of ``texts[i]``.

        Raises
        ------
        TypeError
            If ``texts`` is a single string.
        sklearn.exceptions.NotFittedError
            If the model is not fitted.

        Examples
        --------
        >>> model = load_topics("models/topics")  # doctest: +SKIP
        >>> model.transform(["NATO expansion ignored our warnings."]).sum(axis=1)  # doctest: +SKIP
        array([1.])
        """
        check_is_fitted(self, "components_")
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, got one str; wrap it in a list")
        return self.transform_tokens([self.preprocessor_.tokenize(t) for t in texts])

    def transform_tokens(self, token_lists: Iterable[list[str]]) -> np.ndarray:
        """Like :meth:`transform`, for texts already tokenised with ``preprocessor_``.

        Parameters
        ----------
        token_lists : iterable of list of str

        Returns
        -------
        ndarray of shape (n_texts, num_topics)

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the model is not fitted.

        Examples
        --------
        >>> model.transform_tokens([model.tokenize("Troops crossed the border.")])  # doctest: +SKIP
        array([[0.08, 0.92]])
        """
        check_is_fitted(self, "components_")
        if getattr(self, "_word_index", None) is None:
            self._word_index = {w: i for i, w in enumerate(self.vocabulary_)}
        index = self._word_index
        offsets = [0]
        ids: list[int] = []
        for tokens in token_lists:
            ids.extend(i for i in (index.get(t, -1) for t in tokens) if i >= 0)
            offsets.append(len(ids))
        return self.transform_ids(np.asarray(ids, dtype=np.int64), np.asarray(offsets, dtype=np.int64))

    def transform_ids(self, ids: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Topic distributions of texts given as vocabulary ids, shape ``(len(offsets) - 1, num_topics)``.

        Text ``i`` is ``ids[offsets[i]:offsets[i + 1]]`` (word order does not matter; ``-1``
        entries are ignored). This is the streaming path of the ``topics`` stage; the result
        equals :meth:`transform` of the same texts.

        Parameters
        ----------
        ids : ndarray of int
            Vocabulary ids of all texts, one after the other.
        offsets : ndarray of int
            ``len(texts) + 1`` increasing positions in ``ids``, starting at 0.

        Returns
        -------
        ndarray of shape (len(offsets) - 1, num_topics)

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the model is not fitted.

        Examples
        --------
        >>> import numpy as np
        >>> model.transform_ids(np.array([3, 11, 11]), np.array([0, 1, 3]))  # doctest: +SKIP
        array([[0.2, 0.8], [0.1, 0.9]])
        """
        from scipy.sparse import coo_matrix

        check_is_fitted(self, "components_")
        k, v = self.components_.shape
        n = len(offsets) - 1
        out = np.empty((n, k), dtype=np.float64)
        for start in range(0, n, _BATCH):
            stop = min(start + _BATCH, n)
            lo, hi = int(offsets[start]), int(offsets[stop])
            block_ids = np.asarray(ids[lo:hi], dtype=np.int64)
            rows = np.repeat(np.arange(stop - start), np.diff(np.asarray(offsets[start:stop + 1], dtype=np.int64)))
            keep = block_ids >= 0
            counts = coo_matrix((np.ones(int(keep.sum()), dtype=np.float64), (rows[keep], block_ids[keep])),
                                shape=(stop - start, v)).tocsr()
            counts.sum_duplicates()
            counts.sort_indices()
            gamma = self._e_step(counts)
            out[start:stop] = gamma / gamma.sum(axis=1, keepdims=True)
        return out

    def _e_step(self, counts: Any) -> np.ndarray:
        """Variational document-topic parameters gamma for a CSR block of word counts."""
        from scipy.sparse import csr_matrix

        if self._exp_elog_beta is None:
            self._exp_elog_beta = np.exp(_dirichlet_expectation(self.components_))
        beta = self._exp_elog_beta  # (K, V)
        gamma = np.ones((counts.shape[0], beta.shape[0]), dtype=np.float64)
        active = np.arange(counts.shape[0])
        for _ in range(self.iterations):
            if active.size == 0:
                break
            sub = counts[active]
            rows = np.repeat(np.arange(active.size), np.diff(sub.indptr))
            theta = np.exp(_dirichlet_expectation(gamma[active]))
            beta_nz = beta[:, sub.indices].T  # (nnz, K)
            phinorm = np.einsum("ik,ik->i", theta[rows], beta_nz) + _EPS
            ratio = csr_matrix((sub.data / phinorm, sub.indices, sub.indptr), shape=sub.shape)
            new = self.alpha_ + theta * np.asarray(ratio @ beta.T)
            change = np.abs(new - gamma[active]).mean(axis=1)
            gamma[active] = new
            active = active[change >= GAMMA_THRESHOLD]
        return gamma

    def topic_word(self) -> np.ndarray:
        """p(word | topic): ``components_`` with rows normalised.

        Returns
        -------
        ndarray of shape (num_topics, len(vocabulary_))
            Each row sums to 1.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the model is not fitted.

        Examples
        --------
        >>> model.topic_word().sum(axis=1)  # doctest: +SKIP
        array([1., 1.])
        """
        check_is_fitted(self, "components_")
        return self.components_ / self.components_.sum(axis=1, keepdims=True)

    def top_words(self, k: int, n: int = 10) -> list[tuple[str, float]]:
        """The ``n`` most probable words of topic ``k`` with their probabilities, best first.

        Parameters
        ----------
        k : int
            Topic index, ``0 <= k < num_topics``.
        n : int, default 10
            How many words.

        Returns
        -------
        list of (str, float)
            ``(word, p(word | topic))``, most probable first (ties in vocabulary order).

        Raises
        ------
        ValueError
            If ``k`` is not a topic index or ``n`` is not an integer >= 1.
        sklearn.exceptions.NotFittedError
            If the model is not fitted.

        Examples
        --------
        >>> model.top_words(0, n=3)  # doctest: +SKIP
        [('security', 0.021), ('nuclear', 0.015), ('weapons', 0.012)]
        """
        check_is_fitted(self, "components_")
        if not _is_int(k) or not 0 <= k < self.components_.shape[0]:
            raise ValueError(f"k must be a topic index in 0..{self.components_.shape[0] - 1}, got {k!r}")
        if not _is_int(n) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        weights = self.components_[k] / self.components_[k].sum()
        order = np.argsort(-weights, kind="stable")[:n]
        return [(self.vocabulary_[i], float(weights[i])) for i in order]

    # ------------------------------------------------------------------ saving

    def save(self, path: Path | str, *, config: dict[str, Any] | None = None,
             inputs: dict[str, str] | None = None) -> Path:
        """Write the model directory (see :mod:`pipeline.topics` for the format), atomically.

        Parameters
        ----------
        path : path-like
            The directory; replaced as a whole if it exists.
        config : dict, optional
            Recorded in ``meta.json`` (the ``topics`` stage passes ``{"topics": section}``);
            defaults to ``{"params": constructor arguments}``.
        inputs : dict, optional
            Input file -> SHA-256, recorded in ``meta.json``.

        Returns
        -------
        Path
            The directory. Its ``meta.json`` records the format version, the package,
            Python and library (gensim, numpy, scipy, tomotopy; simplemma with
            ``lemmatize``) versions, ``config``, ``inputs`` and the SHA-256 of every file.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the model is not fitted.

        Examples
        --------
        >>> model.save("models/topics")  # doctest: +SKIP
        PosixPath('models/topics')
        >>> load_topics("models/topics").vocabulary_ == model.vocabulary_  # doctest: +SKIP
        True
        """
        check_is_fitted(self, "components_")
        params = self.get_params()
        params["stopwords_extra"] = list(params["stopwords_extra"])
        params["seed_words"] = [list(ws) for ws in params["seed_words"]]

        def write_files(tmp: Path) -> None:
            write_json(tmp / FILES["params"], {"params": params, "num_topics": int(self.components_.shape[0]),
                                               "gamma_threshold": GAMMA_THRESHOLD,
                                               "n_documents": int(self.n_documents_),
                                               "seed_words_missing": list(self.seed_words_missing_)})
            write_json(tmp / FILES["preprocessing"], self.preprocessor_.to_dict())
            write_json(tmp / FILES["vocabulary"], {"words": self.vocabulary_,
                                                   "document_frequencies": self.document_frequencies_.tolist()})
            np.save(tmp / FILES["components"], self.components_, allow_pickle=False)
            np.save(tmp / FILES["alpha"], self.alpha_, allow_pickle=False)
            np.save(tmp / FILES["eta"], self.eta_, allow_pickle=False)

        libraries = [*LIBRARIES, "simplemma"] if self.preprocessor_.lemmatize else LIBRARIES
        return save_artifact(path, KIND, FORMAT_VERSION, write_files, config=config or {"params": params},
                             inputs=inputs, libraries=libraries, extra={"created_by": "pipeline topics"})

    @classmethod
    def load(cls, path: Path | str) -> TopicModel:
        """Load a model directory after :func:`~pipeline.artifacts.check_artifact` accepts it.

        Parameters
        ----------
        path : path-like
            A directory written by :meth:`save`.

        Returns
        -------
        TopicModel
            The fitted model, without the engine's native model (``lda_`` and
            ``dictionary_`` are None): everything :meth:`transform` needs is in the files.

        Raises
        ------
        ArtifactError
            See :func:`load_topics`.

        Warns
        -----
        VersionWarning
            When a library version recorded in ``meta.json`` differs from the installed one.

        Examples
        --------
        >>> model = TopicModel.load("models/topics")  # doctest: +SKIP
        """
        return cls._load_with_meta(path)[0]

    @classmethod
    def _load_with_meta(cls, path: Path | str) -> tuple[TopicModel, dict[str, Any]]:
        path = Path(path)
        meta = check_artifact(path, KIND, SUPPORTED_FORMAT_VERSIONS)
        try:
            params_doc = json.loads((path / FILES["params"]).read_text(encoding="utf-8"))
            params = params_doc["params"]
            known = set(cls._get_param_names())
            if not isinstance(params, dict) or set(params) - known:
                raise ValueError(f"unknown parameters {sorted(set(params) - known)}")
            params = {**_LEGACY_PARAMS, **params}
            model = cls(**params)
            model._check_params()
            model.preprocessor_ = Preprocessor.from_dict(
                json.loads((path / FILES["preprocessing"]).read_text(encoding="utf-8")))
            vocab = json.loads((path / FILES["vocabulary"]).read_text(encoding="utf-8"))
            model.vocabulary_ = list(vocab["words"])
            model.document_frequencies_ = np.asarray(vocab["document_frequencies"], dtype=np.int64)
            model.components_ = np.load(path / FILES["components"], allow_pickle=False)
            model.alpha_ = np.load(path / FILES["alpha"], allow_pickle=False)
            model.eta_ = np.load(path / FILES["eta"], allow_pickle=False)
            model.n_documents_ = int(params_doc.get("n_documents", 0))
            model.seed_words_missing_ = [str(w) for w in params_doc.get("seed_words_missing", [])]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ArtifactError(f"{path}: malformed topic model: {exc}") from None
        k, v = model.num_topics, len(model.vocabulary_)
        problems = []
        if model.components_.shape != (k, v) or model.components_.dtype != np.float64:
            problems.append(f"components shape {model.components_.shape}, expected {(k, v)}")
        elif not (np.isfinite(model.components_).all() and (model.components_ > 0).all()):
            problems.append("components must be finite and positive")
        if model.alpha_.shape != (k,) or not (np.isfinite(model.alpha_).all() and (model.alpha_ > 0).all()):
            problems.append(f"alpha must be {k} positive numbers")
        if model.document_frequencies_.shape != (v,) or len(set(model.vocabulary_)) != v:
            problems.append("vocabulary words must be unique and match document_frequencies")
        if problems:
            raise ArtifactError(f"{path}: malformed topic model: {'; '.join(problems)}")
        model.lda_ = None
        model.dictionary_ = None
        model._reset_cache()
        log.debug("loaded topic model %s: %d topics, %d words", path, k, v)
        return model, meta


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
