"""The ``topics`` stage and the topic model it saves.

``python -m pipeline topics`` reads the paragraph table (``topics.input``), tokenises each
paragraph (gensim ``simple_preprocess``: lower-case alphabetic tokens of
``topics.min_token_chars..max_token_chars`` characters, minus gensim's English stop words
and ``topics.stopwords_extra``), builds a vocabulary (``no_below``, ``no_above``,
``keep_n``), fits LDA on the paragraphs not flagged ``duplicate_of`` (unless
``topics.include_duplicates``) with ``topics.engine`` (gensim's ``LdaModel`` or tomotopy's
Gibbs sampler, optionally anchored by ``topics.seed_words``; see
:mod:`pipeline.topics.engines`) and scores every paragraph. It writes:

``topics.output`` (Parquet), one row per paragraph, in input order
    ``doc_id``, ``para_id``, ``dominant_topic`` (int), ``dominant_prob``, ``n_words``
    (vocabulary words in the paragraph; 0 means the row is the prior mean) and
    ``topic_0`` .. ``topic_{K-1}`` (each row sums to 1).
``topics.table`` (Parquet), one row per topic
    ``topic``, ``label`` (top 3 words), ``top_words`` and ``weights`` (``topics.top_n``
    words, p(word | topic)), ``prevalence`` (mean share over all scored paragraphs),
    ``dominant_paragraphs``.
``topics.metrics`` (JSON)
    ``c_npmi``, ``c_v``, ``u_mass`` (gensim coherence of the top 10 words on the fitting
    paragraphs; ``null`` when undefined), ``topic_diversity`` (distinct share of the top 25
    words of all topics), ``perplexity`` and ``log_perplexity`` as the engine reports them
    (gensim: ``2 ** -bound`` and its per-word bound; tomotopy: ``exp(-ll)`` and the
    log-likelihood per word ``ll`` of the fitting paragraphs; not comparable across
    engines), ``seed_words_missing`` (seed words not in the vocabulary), ``vocab_size``, ``documents_used``, ``paragraphs_scored``,
    ``paragraphs_duplicate``, ``paragraphs_without_vocabulary``, ``metrics_sample`` (how many
    paragraphs the quality measures used; see ``topics.metrics_sample``), ``num_topics``.

Model directory format (``topics.model``, kind ``"topics"``, format version 1)
-------------------------------------------------------------------------------
Every file sits at the top level and is hashed in ``meta.json`` (see
:mod:`pipeline.artifacts`); nothing is pickled, so loading never runs code and does not
depend on gensim's internal classes::

    meta.json            kind, format_version, libraries (gensim, numpy, tomotopy), the topics config,
                         the input table's sha256, the sha256 of every file below
    params.json          {"params": TopicModel constructor arguments, "num_topics": K,
                          "gamma_threshold": E-step tolerance, "n_documents": fitting paragraphs,
                          "seed_words_missing": seed words not in the vocabulary}
    preprocessing.json   {"tokenizer": "gensim.utils.simple_preprocess", "lowercase": true,
                          "deaccent": false, "min_token_chars", "max_token_chars",
                          "stopwords": the full sorted stop list used}
    vocabulary.json      {"words": [V words, index = column], "document_frequencies": [V ints]}
    components.npy       float64 (K, V): topic-word Dirichlet parameters, eta + word counts per
                         topic (gensim: its variational lambda; tomotopy: the final sample's counts)
    alpha.npy            float64 (K,): document-topic prior
    eta.npy              float64 (V,) or (K, V): topic-word prior

``p(word | topic)`` is ``components`` with rows normalised. :func:`load_topics` checks
``meta.json`` before reading any of these files and then validates their shapes.

Python use::

    from pipeline.topics import load_topics
    model = load_topics("models/topics")
    model.top_words(0, n=10)            # [(word, probability), ...]
    model.transform(["Some new text"])  # (1, K) array, rows sum to 1
"""

from __future__ import annotations

from .model import TopicModel, load_topics
from .stage import main, run_topics

__all__ = ["TopicModel", "load_topics", "main", "run_topics"]
