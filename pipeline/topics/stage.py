"""The ``topics`` stage: fit LDA on the paragraph table, score every paragraph, summarise.

:func:`run_topics` does the work without touching files; :func:`main` reads the config's
input, calls it and writes the model directory, the two tables and the metrics.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config, TopicsConfig
from ..errors import DataError, InputError
from ..io import read_parquet, sha256_file, write_json, write_parquet
from ..logs import progress
from . import engines, quality
from .model import TopicModel

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("doc_id", "para_id", "text")
#: top words per topic used for coherence and diversity
COHERENCE_TOPN = 10
DIVERSITY_TOPN = 25


@dataclass
class TopicsResult:
    """What :func:`run_topics` produces."""

    model: TopicModel
    doc_topics: Any  # pandas.DataFrame: one row per paragraph
    table: Any  # pandas.DataFrame: one row per topic
    metrics: dict[str, Any]


def model_from_config(settings: TopicsConfig) -> TopicModel:
    """An unfitted :class:`TopicModel` with the config's parameters."""
    return TopicModel(
        settings.num_topics,
        seed=settings.seed,
        passes=settings.passes,
        iterations=settings.iterations,
        alpha=settings.alpha,
        eta=settings.eta,
        no_below=settings.no_below,
        no_above=settings.no_above,
        keep_n=settings.keep_n,
        min_token_chars=settings.min_token_chars,
        max_token_chars=settings.max_token_chars,
        stopwords_extra=list(settings.stopwords_extra),
        chunksize=settings.chunksize,
        engine=settings.engine,
        tomotopy_iterations=settings.tomotopy_iterations,
        tomotopy_workers=settings.tomotopy_workers,
        seed_words=[list(ws) for ws in settings.seed_words],
        phrases=settings.phrases,
        lemmatize=settings.lemmatize,
        phrase_min_count=settings.phrase_min_count,
        phrase_threshold=settings.phrase_threshold,
        seed_weight=settings.seed_weight,
    )


def _duplicate_mask(paragraphs: Any) -> np.ndarray:
    if "duplicate_of" not in paragraphs.columns:
        return np.zeros(len(paragraphs), dtype=bool)
    dup = paragraphs["duplicate_of"]
    return (dup.notna() & (dup.astype("string").fillna("") != "")).to_numpy(dtype=bool)


def _sample(n: int, limit: int, seed: int) -> np.ndarray:
    """Sorted indices of a fixed-seed sample of at most ``limit`` of ``n`` items."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def topic_table(model: TopicModel, theta: np.ndarray, top_n: int) -> Any:
    """One row per topic: label (top 3 words), top words and weights, prevalence, dominant count."""
    import pandas as pd

    dominant = theta.argmax(axis=1) if len(theta) else np.zeros(0, dtype=int)
    rows = []
    for k in range(model.num_topics):
        top = model.top_words(k, top_n)
        rows.append({
            "topic": k,
            "label": ", ".join(w for w, _ in top[:3]),
            "top_words": [w for w, _ in top],
            "weights": [round(p, 6) for _, p in top],
            "prevalence": round(float(theta[:, k].mean()), 6) if len(theta) else 0.0,
            "dominant_paragraphs": int((dominant == k).sum()),
        })
    return pd.DataFrame(rows).astype({"topic": "int64", "dominant_paragraphs": "int64"})


def run_topics(paragraphs: Any, settings: TopicsConfig) -> TopicsResult:
    """Fit the topic model on a paragraph table and score every paragraph.

    Parameters
    ----------
    paragraphs : pandas.DataFrame
        Columns ``doc_id``, ``para_id``, ``text`` and optionally ``duplicate_of``.
    settings : TopicsConfig

    Returns
    -------
    TopicsResult

    Raises
    ------
    DataError
        If a column is missing, or too little text is left to fit a model.
    """
    import pandas as pd

    missing = [c for c in REQUIRED_COLUMNS if c not in paragraphs.columns]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}; expected a paragraph table from `pipeline chunk`")
    if len(paragraphs) == 0:
        raise DataError("no paragraphs to fit a topic model on")
    model = model_from_config(settings)
    preprocessor = model.make_preprocessor()
    texts = paragraphs["text"].tolist()
    tokens = [preprocessor.tokenize(t) for t in progress(texts, total=len(texts), desc="tokenising",
                                                         unit="paragraph")]
    duplicate = _duplicate_mask(paragraphs)
    fit_rows = np.flatnonzero(~duplicate) if not settings.include_duplicates else np.arange(len(tokens))
    log.info("%d paragraphs, %d flagged as duplicates (%s from fitting)", len(tokens), int(duplicate.sum()),
             "kept" if settings.include_duplicates else "left out")
    train_tokens = [tokens[i] for i in fit_rows]
    model.fit_tokens(train_tokens)
    if model.preprocessor_.phrases:  # score and measure with the learned collocations joined
        tokens = [model.preprocessor_.apply_phrases(t) for t in tokens]
        train_tokens = [tokens[i] for i in fit_rows]

    log.info("scoring %d paragraphs", len(tokens))
    theta = model.transform_tokens(tokens)
    n_words = np.array([sum(c for _, c in model.bow(t)) for t in tokens], dtype=np.int64)
    doc_topics = pd.DataFrame({
        "doc_id": paragraphs["doc_id"].astype(str).to_numpy(),
        "para_id": paragraphs["para_id"].to_numpy(dtype=np.int64),
        "dominant_topic": theta.argmax(axis=1).astype(np.int64),
        "dominant_prob": theta.max(axis=1),
        "n_words": n_words,
    })
    topic_columns = pd.DataFrame(theta, columns=[f"topic_{k}" for k in range(model.num_topics)])
    doc_topics = pd.concat([doc_topics, topic_columns], axis=1)
    table = topic_table(model, theta, settings.top_n)

    # quality on the fitting paragraphs that kept a vocabulary word (a fixed sample on large corpora)
    used = [t for t in train_tokens if model.bow(t)]
    sample = _sample(len(used), settings.metrics_sample, settings.seed)
    ref_texts = [used[i] for i in sample]
    ref_corpus = [model.bow(t) for t in ref_texts]
    coherence_topics = [[w for w, _ in model.top_words(k, COHERENCE_TOPN)] for k in range(model.num_topics)]
    coherence = quality.coherence(coherence_topics, ref_texts, model.dictionary_, ref_corpus)
    diversity_topics = [[w for w, _ in model.top_words(k, DIVERSITY_TOPN)] for k in range(model.num_topics)]
    bound, perplexity = engines.perplexity(model.engine, model.lda_, ref_corpus)
    metrics = {
        **coherence,
        "topic_diversity": quality.finite_or_none(quality.topic_diversity(diversity_topics)),
        "perplexity": perplexity,
        "log_perplexity": bound,
        "vocab_size": len(model.vocabulary_),
        "documents_used": int(model.n_documents_),
        "paragraphs_scored": len(doc_topics),
        "paragraphs_duplicate": int(duplicate.sum()),
        "paragraphs_without_vocabulary": int((n_words == 0).sum()),
        "metrics_sample": len(ref_texts),
        "num_topics": model.num_topics,
        "seed_words_missing": list(model.seed_words_missing_),
    }
    return TopicsResult(model=model, doc_topics=doc_topics, table=table, metrics=metrics)


def read_paragraphs(path: Path) -> Any:
    """Read the columns the stage needs from the paragraph table; errors name the file."""
    import pyarrow.parquet as pq

    if not path.exists():
        raise InputError(f"{path}: file not found (run `pipeline chunk` first, or set topics.input)")
    try:
        names = pq.read_schema(path).names
    except Exception:  # unreadable: let read_parquet produce its one-line error
        return read_parquet(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; expected a paragraph table "
                        f"from `pipeline chunk`")
    return read_parquet(path, columns=[*REQUIRED_COLUMNS, *(["duplicate_of"] if "duplicate_of" in names else [])])


def main(config: Config) -> None:
    """Run the stage: ``topics.input`` -> ``topics.model``, ``.output``, ``.table``, ``.metrics``."""
    settings = config.topics
    paragraphs = read_paragraphs(settings.input)
    try:
        result = run_topics(paragraphs, settings)
    except DataError as exc:
        raise DataError(f"{settings.input}: {exc}") from None
    result.model.save(settings.model, config={"topics": settings.model_dump(mode="json")},
                      inputs={str(settings.input): sha256_file(settings.input)})
    write_parquet(settings.output, result.doc_topics)
    write_parquet(settings.table, result.table)
    write_json(settings.metrics, result.metrics)
    m = result.metrics
    log.info("topics: %d topics over %d paragraphs (%d words); c_npmi=%s c_v=%s diversity=%s",
             m["num_topics"], m["paragraphs_scored"], m["vocab_size"], m["c_npmi"], m["c_v"], m["topic_diversity"])
    for row in result.table.itertuples():
        log.info("topic %d (%.1f%%): %s", row.topic, 100 * row.prevalence, " ".join(row.top_words[:8]))
