"""Scoring with a fitted topic model: a deterministic numpy E-step, and the topic-word helpers.

Scoring does not use gensim's ``inference`` because that starts every document from a
random point drawn from a shared generator, so a paragraph's distribution would depend
on what was scored before it and in the same batch. :meth:`TopicInference.transform` runs
the same variational update from a fixed start (all ones) and stops each document on its
own convergence, so a text gets the same distribution in any batch, in any process, before
and after a save -> load round trip.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted

from . import labels as _labels
from .params import is_int

#: the E-step stops a document when its mean absolute change in gamma falls below this (gensim's default)
GAMMA_THRESHOLD = 1e-3
#: documents per block in :meth:`TopicModel.transform`; results do not depend on it
_BATCH = 2048
_EPS = float(np.finfo(np.float64).eps)


def _dirichlet_expectation(gamma: np.ndarray) -> np.ndarray:
    """E[log theta] for theta ~ Dirichlet(gamma), row-wise."""
    from scipy.special import psi

    return psi(gamma) - psi(gamma.sum(axis=-1, keepdims=True))


# a TransformerMixin itself, so that scikit-learn wraps ``transform`` here for ``set_output``
# (it only wraps the methods a class defines in its own body)
class TopicInference(TransformerMixin):
    """The scoring half of :class:`~pipeline.topics.estimator.TopicModel`: tokenise, score, read topics.

    Uses the fitted state ``preprocessor_``, ``vocabulary_``, ``components_`` and ``alpha_``
    and the ``iterations`` parameter; every method raises ``NotFittedError`` before :meth:`fit`.
    """

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
            # word-major and contiguous: rows gather fast, and ``ratio @ beta`` copies nothing
            self._exp_elog_beta = np.ascontiguousarray(np.exp(_dirichlet_expectation(self.components_)).T)
        beta = self._exp_elog_beta  # (V, K)
        gamma = np.ones((counts.shape[0], beta.shape[1]), dtype=np.float64)
        active = np.arange(counts.shape[0])
        for _ in range(self.iterations):
            if active.size == 0:
                break
            sub = counts[active]
            rows = np.repeat(np.arange(active.size), np.diff(sub.indptr))
            theta = np.exp(_dirichlet_expectation(gamma[active]))
            beta_nz = beta[sub.indices]  # (nnz, K)
            phinorm = np.einsum("ik,ik->i", theta[rows], beta_nz) + _EPS
            ratio = csr_matrix((sub.data / phinorm, sub.indices, sub.indptr), shape=sub.shape)
            new = self.alpha_ + theta * np.asarray(ratio @ beta)
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
        if not is_int(k) or not 0 <= k < self.components_.shape[0]:
            raise ValueError(f"k must be a topic index in 0..{self.components_.shape[0] - 1}, got {k!r}")
        if not is_int(n) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        weights = self.components_[k] / self.components_[k].sum()
        order = np.argsort(-weights, kind="stable")[:n]
        return [(self.vocabulary_[i], float(weights[i])) for i in order]

    def word_share(self) -> np.ndarray:
        """Each vocabulary word's share of the fitted model's word counts (summed over topics, prior included)."""
        check_is_fitted(self, "components_")
        totals = self.components_.sum(axis=0)
        return totals / totals.sum()

    def ranked_words(self, n: int = 10, ranking: str = "probability", frex_weight: float = 0.5,
                     relevance_lambda: float = 0.6) -> list[list[str]]:
        """The ``n`` first words of every topic by a ranking (see :mod:`pipeline.topics.labels`).

        Parameters
        ----------
        n : int, default 10
            Words per topic.
        ranking : {'probability', 'frex', 'relevance'}
            ``probability`` is :meth:`top_words`'s order; ``frex`` ranks words that are frequent *and*
            exclusive to the topic first (STM's ``labelTopics``); ``relevance`` is LDAvis's ranking.
        frex_weight : float, default 0.5
            FREX: weight of exclusivity (0 < w < 1).
        relevance_lambda : float, default 0.6
            Relevance: 1 ranks by probability, 0 by lift.

        Returns
        -------
        list of list of str
            One list per topic, best first (ties in vocabulary order).

        Examples
        --------
        >>> model.ranked_words(3, ranking="frex")  # doctest: +SKIP
        [['nuclear', 'disarmament', 'weapons'], ['climate', 'island', 'sea']]
        """
        check_is_fitted(self, "components_")
        if not is_int(n) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        scores = _labels.ranking_scores(self.topic_word(), ranking, self.word_share() if ranking == "relevance"
                                        else None, frex_weight, relevance_lambda)
        return [[self.vocabulary_[i] for i in row] for row in _labels.ranked(scores, n)]

    def labels(self, n: int = 3, ranking: str = "frex", frex_weight: float = 0.5,
               relevance_lambda: float = 0.6) -> list[str]:
        """A short label per topic: its first ``n`` words by ``ranking`` (see :meth:`ranked_words`), comma-joined."""
        return [", ".join(words) for words in self.ranked_words(n, ranking, frex_weight, relevance_lambda)]
