"""The LDA topic model estimator: fit with gensim or tomotopy.

:class:`TopicModel` follows scikit-learn's estimator contract: ``__init__`` only stores
its arguments, :meth:`TopicModel.fit` learns and returns ``self``, learned state ends in
``_`` and using an unfitted model raises ``NotFittedError``. It is a transformer from
texts to topic distributions, so it drops into a scikit-learn ``Pipeline``. The engines
(and how priors and seed words map onto each) are in :mod:`pipeline.topics.engines`;
scoring is in :mod:`pipeline.topics.inference`, saving and loading in
:mod:`pipeline.topics.storage`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from ..config import DISCOURSE_STOPWORDS, TopicsConfig
from ..config.params import check_params
from ..errors import DataError
from . import engines
from .corpus import BowCorpus, TokenCorpus
from .inference import GAMMA_THRESHOLD, TopicInference
from .params import refuse_iterator
from .preprocess import Preprocessor, default_stopwords
from .storage import TopicStorage

# the public module's name, so log lines read as before the split
log = logging.getLogger("pipeline.topics.model")


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


class TopicModel(TopicStorage, TopicInference, BaseEstimator):
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

    Notes
    -----
    Every method that needs the fitted state (scoring, words, saving) raises
    ``sklearn.exceptions.NotFittedError`` before :meth:`fit`.

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
        """Validate the parameters through ``topics`` of the config schema (same ranges, same messages)."""
        check_params(type(self).__name__, TopicsConfig, self.get_params())

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
        refuse_iterator(texts, "texts")
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
        refuse_iterator(token_lists, "token_lists")
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
