"""LDA engines: fit a topic model with gensim or tomotopy into one engine-neutral state.

Both engines see the same tokens and the same vocabulary (built by
:meth:`~pipeline.topics.model.TopicModel.fit_tokens`) and return an :class:`EngineFit`:
the topic-word matrix ``components`` (K, V) = topic-word prior + (expected) word counts
per topic, the document-topic prior ``alpha`` (K,) and the topic-word prior ``eta``
((V,) or (K, V)). That is all :meth:`TopicModel.transform` needs, so a saved model is
scored the same way whichever engine fitted it.

``gensim``
    ``gensim.models.LdaModel`` (online variational Bayes), or ``LdaMulticore`` with
    ``gensim_workers`` > 1 (not bit-reproducible); ``components`` is its lambda.
``tomotopy``
    ``tomotopy.LDAModel`` (collapsed Gibbs sampling in C++), ``tomotopy_iterations``
    sweeps on ``tomotopy_workers`` threads; ``components`` is the final sample's word
    counts per topic plus ``eta``. With a fixed seed it is bit-reproducible for a fixed
    number of workers (checked on 1 and 2 cores with 2 workers); each number of workers
    gives its own model. The parallel scheme is fixed to ``PARTITION`` (tomotopy's
    default for LDA), in which each worker samples its own block of documents and words. Priors map as follows: alpha ``symmetric`` -> ``1/K`` for every topic,
    ``asymmetric`` -> gensim's asymmetric vector, a number -> that number, all kept fixed;
    ``auto`` -> start at ``1/K`` and let tomotopy re-estimate alpha every 10 iterations.
    eta ``null``/``symmetric`` -> ``1/K`` (gensim's default), a number -> that number;
    ``auto`` (learned eta) has no tomotopy counterpart and is refused.

Seed words (``seed_words``, ``seed_weight``)
    A seed word ``w`` of topic ``i`` gets the topic-word prior
    ``eta + seed_weight * count(w)`` in topic ``i`` (``count``: its occurrences in the
    fitting paragraphs) and keeps ``eta`` in every other topic; so the default
    ``seed_weight=1`` weighs as if all of the word's occurrences were already assigned to
    its topic, whatever the corpus size (0.5: half of them). On the test fixture 0.5 was
    not always enough for gensim to move a theme into the seeded topic; 1 was. gensim gets the (K, V) eta matrix, tomotopy the same values
    through ``set_word_prior``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

ENGINES = ("gensim", "tomotopy")
#: tomotopy re-estimates alpha every this many iterations when ``alpha='auto'`` (its own default)
TOMOTOPY_OPTIM_INTERVAL = 10
#: tomotopy iterations between progress log lines; the result does not depend on it
_TOMOTOPY_STEP = 50


@dataclass
class EngineFit:
    """What an engine learned, in engine-neutral form.

    Attributes
    ----------
    components : ndarray of shape (K, V)
        Topic-word Dirichlet parameters (prior plus word counts per topic).
    alpha : ndarray of shape (K,)
    eta : ndarray of shape (V,) or (K, V)
    native : object
        The engine's fitted model (``gensim.models.LdaModel`` or ``tomotopy.LDAModel``).
    """

    components: np.ndarray
    alpha: np.ndarray
    eta: np.ndarray
    native: Any


def base_eta(eta: str | float | None, num_topics: int) -> float:
    """The scalar topic-word prior that ``eta`` (``None``, ``'symmetric'`` or a number) stands for."""
    return 1.0 / num_topics if eta is None or eta == "symmetric" else float(eta)


def asymmetric_alpha(num_topics: int) -> np.ndarray:
    """gensim's ``alpha='asymmetric'``: ``1 / (k + sqrt(K))``, normalised to sum to 1."""
    prior = 1.0 / (np.arange(num_topics, dtype=np.float64) + np.sqrt(num_topics))
    return prior / prior.sum()


def seed_boosts(seed_words: Sequence[Sequence[str]], word_index: dict[str, int], word_counts: np.ndarray,
                weight: float) -> tuple[dict[tuple[int, int], float], list[str]]:
    """Prior pseudo-counts added for seed words, and the seed words not in the vocabulary.

    Returns
    -------
    boosts : dict
        ``(topic, word id) -> seed_weight * count(word)``.
    missing : list of str
        Seed words (in config order, without repeats) that are not vocabulary words.
    """
    boosts: dict[tuple[int, int], float] = {}
    missing: list[str] = []
    for topic, words in enumerate(seed_words):
        for word in words:
            i = word_index.get(word)
            if i is None:
                if word not in missing:
                    missing.append(word)
                continue
            boosts[(topic, i)] = weight * float(word_counts[i])
    return boosts, missing


def eta_array(eta: str | float | None, num_topics: int, vocab_size: int,
              boosts: dict[tuple[int, int], float]) -> np.ndarray | str | float | None:
    """The eta gensim is given: ``eta`` itself without seed words, else the (K, V) prior matrix."""
    if not boosts:
        return eta
    matrix = np.full((num_topics, vocab_size), base_eta(eta, num_topics), dtype=np.float64)
    for (topic, word), extra in boosts.items():
        matrix[topic, word] += extra
    return matrix


def fit_gensim(corpus: list[list[tuple[int, int]]], dictionary: Any, params: Any,
               boosts: dict[tuple[int, int], float], gamma_threshold: float) -> EngineFit:
    """Fit gensim's ``LdaModel``; ``params`` is the :class:`TopicModel` (its constructor arguments)."""
    from gensim.models import LdaModel, LdaMulticore

    common = {
        "corpus": corpus,
        "id2word": dictionary,
        "num_topics": params.num_topics,
        "random_state": params.seed,
        "passes": params.passes,
        "iterations": params.iterations,
        "alpha": params.alpha,
        "eta": eta_array(params.eta, params.num_topics, len(dictionary), boosts),
        "chunksize": params.chunksize,
        "eval_every": None,
        "gamma_threshold": gamma_threshold,
        "dtype": np.float64,
    }
    if params.gensim_workers > 1:  # parallel E-steps in worker processes; not bit-reproducible
        lda = LdaMulticore(workers=params.gensim_workers, **common)
    else:
        lda = LdaModel(update_every=1, **common)
    return EngineFit(components=np.asarray(lda.state.get_lambda(), dtype=np.float64),
                     alpha=np.asarray(lda.alpha, dtype=np.float64),
                     eta=np.asarray(lda.eta, dtype=np.float64), native=lda)


def _require_tomotopy() -> Any:
    try:
        with warnings.catch_warnings():  # its C extension trips a DeprecationWarning on import
            warnings.simplefilter("ignore", DeprecationWarning)
            import tomotopy
    except ImportError:
        from ..errors import ConfigError

        raise ConfigError("topics.engine: 'tomotopy' needs the tomotopy package (pip install 'tomotopy>=0.12')") \
            from None
    return tomotopy


def fit_tomotopy(token_lists: list[list[str]], vocabulary: list[str], params: Any,
                 boosts: dict[tuple[int, int], float]) -> EngineFit:
    """Fit ``tomotopy.LDAModel`` on token lists holding vocabulary words only (none empty).

    ``params.eta='auto'`` has been refused by :meth:`TopicModel._check_params` already.
    """
    tp = _require_tomotopy()
    k, v = params.num_topics, len(vocabulary)
    eta = base_eta(params.eta, k)
    if params.alpha == "asymmetric":
        alpha: Any = asymmetric_alpha(k).tolist()
    elif params.alpha in ("symmetric", "auto"):
        alpha = 1.0 / k
    else:
        alpha = float(params.alpha)
    mdl = tp.LDAModel(tw=tp.TermWeight.ONE, min_cf=0, min_df=0, rm_top=0, k=k, alpha=alpha, eta=eta,
                      seed=params.seed)
    mdl.optim_interval = TOMOTOPY_OPTIM_INTERVAL if params.alpha == "auto" else 0
    eta_matrix = np.full((k, v), eta, dtype=np.float64)
    for (topic, word), extra in boosts.items():
        eta_matrix[topic, word] += extra
    for word in sorted({w for _, w in boosts}):
        mdl.set_word_prior(vocabulary[word], eta_matrix[:, word].tolist())
    for tokens in token_lists:
        mdl.add_doc(tokens)
    done = 0
    while done < params.tomotopy_iterations:
        step = min(_TOMOTOPY_STEP, params.tomotopy_iterations - done)
        with warnings.catch_warnings():  # "may differ if workers != 1": not so under PARTITION (see above)
            warnings.filterwarnings("ignore", message="The training result may differ", category=RuntimeWarning)
            mdl.train(step, workers=params.tomotopy_workers, parallel=tp.ParallelScheme.PARTITION)
        done += step
        log.info("tomotopy: iteration %d/%d, log-likelihood per word %.4f", done, params.tomotopy_iterations,
                 mdl.ll_per_word)
    # tomotopy's raw topic-word values are counts + its scalar eta; swap in the full prior (seed words included)
    index = {w: i for i, w in enumerate(vocabulary)}
    columns = np.array([index[w] for w in mdl.used_vocabs], dtype=np.int64)
    counts = np.zeros((k, v), dtype=np.float64)
    for topic in range(k):
        raw = np.asarray(mdl.get_topic_word_dist(topic, normalize=False), dtype=np.float64)
        counts[topic, columns] = np.round(raw - np.float32(mdl.eta))
    return EngineFit(components=counts + eta_matrix, alpha=np.asarray(mdl.alpha, dtype=np.float64),
                     eta=eta_matrix if boosts else np.full(v, eta, dtype=np.float64), native=mdl)


def perplexity(engine: str, native: Any, corpus: Sequence[Sequence[tuple[int, int]]]) -> tuple[float | None,
                                                                                               float | None]:
    """``(log_perplexity, perplexity)`` as the engine reports them, or ``(None, None)`` without a fitted model.

    gensim: its per-word likelihood bound on ``corpus`` and ``2 ** -bound``. tomotopy: the
    log-likelihood per word of the final Gibbs sample on the fitting paragraphs and
    ``exp(-that)`` (``corpus`` is not used). The two are not comparable across engines.
    """
    from . import quality

    if native is None:
        return None, None
    if engine == "gensim":
        return quality.perplexity(native, corpus)
    return quality.finite_or_none(native.ll_per_word), quality.finite_or_none(native.perplexity)
