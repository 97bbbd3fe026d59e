"""The ``topics`` stage: fit LDA on the paragraph table, score every paragraph, summarise.

:func:`run_topics` does the work without touching files; :func:`main` reads the config's
input, calls it and writes the model directory, the two tables and the metrics.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ComputeConfig, Config, TopicsConfig
from ..distributed import dask_client
from ..engine import map_frames, require_columns, scratch_directory, write_frames
from ..errors import DataError, InputError
from ..io import ParquetBatchWriter, ensure_free_space, path_bytes, sha256_file, write_json, write_parquet
from ..logs import progress
from ..parallel import ordered_map
from . import engines, labels, quality
from .corpus import (
    ParagraphSource,
    TokenCorpus,
    build_corpus,
    corpus_columns,
    duplicate_flags,
    procedural_flags,
)
from .model import TopicModel
from .partitioned import (
    SCORE_COLUMNS,
    SampledSource,
    fitting_rows,
    sample_rows,
    score_frame,
    score_meta,
    score_rows,
    scoring_model,
    tokenize_items,
    tokenize_range,
)
from .procedural import ProceduralFilter
from .stopwords import find_corpus_stopwords

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("doc_id", "para_id", "text")
#: top words per topic used for coherence and diversity
COHERENCE_TOPN = 10
DIVERSITY_TOPN = 25
#: words per topic behind the exclusivity figure of the label metrics
LABEL_METRIC_TOPN = 10


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
        gensim_workers=settings.gensim_workers,
        seed_words=[list(ws) for ws in settings.seed_words],
        phrases=settings.phrases,
        lemmatize=settings.lemmatize,
        phrase_min_count=settings.phrase_min_count,
        phrase_threshold=settings.phrase_threshold,
        seed_weight=settings.seed_weight,
    )


def _sample(n: int, limit: int, seed: int) -> np.ndarray:
    """Sorted indices of a fixed-seed sample of at most ``limit`` of ``n`` items."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def topic_table(model: TopicModel, prevalence: np.ndarray, dominant: np.ndarray,
                settings: TopicsConfig | None = None) -> Any:
    """One row per topic: label, its words by three rankings, prevalence, dominant count.

    ``top_words``/``weights`` are the ``top_n`` most probable words; ``frex_words`` and
    ``relevance_words`` the ``top_n`` first by FREX and by LDAvis relevance
    (:mod:`pipeline.topics.labels`); ``label`` is the first ``label_words`` words of the
    ``label_ranking`` list. ``prevalence`` is the mean topic share over all paragraphs and
    ``dominant`` the number of paragraphs whose largest share is each topic.
    """
    import pandas as pd

    settings = settings or TopicsConfig()
    options = {"frex_weight": settings.frex_weight, "relevance_lambda": settings.relevance_lambda}
    ranked = {r: model.ranked_words(max(settings.top_n, settings.label_words), r, **options)
              for r in ("probability", "frex", "relevance")}
    rows = []
    for k in range(model.num_topics):
        top = model.top_words(k, settings.top_n)
        rows.append({
            "topic": k,
            "label": ", ".join(ranked[settings.label_ranking][k][:settings.label_words]),
            "top_words": [w for w, _ in top],
            "weights": [round(p, 6) for _, p in top],
            "frex_words": ranked["frex"][k][:settings.top_n],
            "relevance_words": ranked["relevance"][k][:settings.top_n],
            "prevalence": round(float(prevalence[k]), 6),
            "dominant_paragraphs": int(dominant[k]),
        })
    return pd.DataFrame(rows).astype({"topic": "int64", "dominant_paragraphs": "int64"})


def label_metrics(model: TopicModel, settings: TopicsConfig) -> dict[str, Any]:
    """How well the labels tell topics apart: ``label_ranking``, ``label_distinct_share`` (share of
    topics whose label shares no word with another's) and, per ranking, the distinct share of its
    labels and the mean exclusivity of its first 10 words (``labels_by_ranking``)."""
    phi = model.topic_word()
    by_ranking = {}
    for ranking in labels.RANKINGS:
        scores = labels.ranking_scores(phi, ranking, model.word_share(), settings.frex_weight,
                                       settings.relevance_lambda)
        top = labels.ranked(scores, LABEL_METRIC_TOPN)
        names = [[model.vocabulary_[i] for i in row[:settings.label_words]] for row in top]
        by_ranking[ranking] = {"distinct_share": round(labels.distinct_label_share(names), 4),
                               "exclusivity_top10": round(labels.mean_exclusivity(phi, top), 4)}
    return {"label_ranking": settings.label_ranking,
            "label_distinct_share": by_ranking[settings.label_ranking]["distinct_share"],
            "labels_by_ranking": by_ranking}


class FrameSink:
    """Collects the per-paragraph topic rows in memory (for :func:`run_topics` without a file)."""

    def __init__(self) -> None:
        self.parts: list[Any] = []

    def write(self, frame: Any) -> None:
        self.parts.append(frame)

    def result(self) -> Any:
        import pandas as pd

        return pd.concat(self.parts, ignore_index=True) if self.parts else None


def tokenise_source(source: ParagraphSource, model: TopicModel, settings: TopicsConfig,
                    directory: Path | None, n_jobs: int = 1, compute: ComputeConfig | None = None,
                    client: Any = None) -> tuple[TokenCorpus, Any, int]:
    """Tokenise the paragraph table once into a :class:`TokenCorpus` (learning collocations first if asked).

    ``n_jobs`` worker processes tokenise the batches; with ``compute.engine: dask`` and a
    Parquet table, the Dask workers (of ``client``) read and tokenise partitions of it
    themselves. The corpus does not depend on either.

    Returns the corpus, the preprocessor (with the collocations), the number of paragraphs
    flagged as duplicates and the number found procedural (:func:`procedural_filter`).
    """
    preprocessor = model.make_preprocessor()
    procedural = procedural_filter(settings)
    if settings.phrases:  # one extra streaming pass: collocations are learned on the fitting paragraphs
        def fitting_tokens() -> Any:
            for batch in source.batches(corpus_columns(source)):
                dup = duplicate_flags(batch)
                fit = ~procedural_flags(batch, procedural) & (~dup | settings.include_duplicates)
                for text, fits in zip(batch["text"].tolist(), fit.tolist(), strict=True):
                    if fits:
                        yield preprocessor.tokenize(text)
        preprocessor = model.learn_phrases(fitting_tokens(), preprocessor)
    transform = preprocessor.apply_phrases if preprocessor.phrases else None
    tokenised = None
    if compute is not None and compute.engine == "dask" and source.path is not None:
        from ..distributed import dask_map, row_ranges

        table_rows = source.source.num_rows if isinstance(source, SampledSource) else source.num_rows
        items = tokenize_items(source, row_ranges(table_rows, compute.partition_rows, align=source.batch_size))
        work = functools.partial(tokenize_range, path=str(source.path), columns=corpus_columns(source),
                                 tokenize=preprocessor.tokenize, transform_tokens=transform, procedural=procedural)
        tokenised = progress(dask_map(work, items, compute, client=client), total=len(items), desc="tokenising",
                             unit="partition")
    corpus, duplicates, procedural_count = build_corpus(
        source, preprocessor.tokenize, settings.include_duplicates, directory, progress=progress,
        transform_tokens=transform, n_jobs=n_jobs, tokenised=tokenised, procedural=procedural)
    return corpus, preprocessor, duplicates, procedural_count


def procedural_filter(settings: TopicsConfig) -> ProceduralFilter | None:
    """The procedural-paragraph test of ``topics.exclude_procedural`` (None when it is off)."""
    if not settings.exclude_procedural:
        return None
    return ProceduralFilter(settings.procedural_patterns, settings.procedural_share)


def fit_on_corpus(corpus: TokenCorpus, preprocessor: Any, settings: TopicsConfig) -> TopicModel:
    """A :class:`TopicModel` with the config's parameters, fitted on the corpus."""
    return model_from_config(settings).fit_corpus(corpus, preprocessor)


def _theta(block: tuple[np.ndarray, np.ndarray], model: TopicModel) -> np.ndarray:
    """Topic distributions of one block of paragraphs given as (vocabulary ids, offsets); for workers too."""
    return model.transform_ids(*block)


class ScoreTotals:
    """The scoring pass's fold: topic shares summed, dominant-topic counts, paragraphs without vocabulary."""

    def __init__(self, num_topics: int) -> None:
        self.columns = [f"topic_{t}" for t in range(num_topics)]
        self.share_sum = np.zeros(num_topics, dtype=np.float64)
        self.dominant = np.zeros(num_topics, dtype=np.int64)
        self.without_vocabulary = 0
        self.paragraphs = 0

    def add(self, frame: Any) -> None:
        """Count the per-paragraph rows of ``frame`` (as :func:`score_frame` makes them)."""
        self.share_sum += np.ascontiguousarray(frame[self.columns].to_numpy(dtype=np.float64)).sum(axis=0)
        self.dominant += np.bincount(frame["dominant_topic"].to_numpy(), minlength=len(self.columns))
        self.without_vocabulary += int((frame["n_words"].to_numpy() == 0).sum())
        self.paragraphs += len(frame)

    def result(self, num_rows: int) -> dict[str, Any]:
        """The totals, after checking that ``num_rows`` paragraphs (the table's length) were scored."""
        if self.paragraphs != num_rows:
            raise DataError(f"the paragraph table changed while it was being read ({num_rows} rows, "
                            f"then {self.paragraphs})")
        return {"prevalence": self.share_sum / max(self.paragraphs, 1), "dominant": self.dominant,
                "without_vocabulary": self.without_vocabulary, "paragraphs": self.paragraphs}


def score_corpus(model: TopicModel, corpus: TokenCorpus, source: ParagraphSource, sink: Any,
                 n_jobs: int = 1) -> dict[str, Any]:
    """Write every paragraph's topic distribution to ``sink`` batch by batch; return running totals.

    With ``n_jobs`` > 1 the batches are scored in that many worker processes (each gets a slim
    copy of the model once, when it starts); the rows do not depend on it.
    """

    totals = ScoreTotals(model.num_topics)
    mapping = model.corpus_mapping_
    pending: deque[tuple[Any, np.ndarray, np.ndarray]] = deque()  # batches handed out, not yet written
    rows_read = 0

    def blocks() -> Iterable[tuple[np.ndarray, np.ndarray]]:
        nonlocal rows_read
        for batch in source.batches(["doc_id", "para_id"]):
            start, stop = rows_read, rows_read + len(batch)
            if stop > len(corpus):
                break
            lo, hi = int(corpus.offsets[start]), int(corpus.offsets[stop])
            ids = mapping[np.asarray(corpus.ids[lo:hi])]
            offsets = corpus.offsets[start:stop + 1] - lo
            pending.append((batch, ids, offsets))
            rows_read = stop
            yield ids, offsets

    thetas = ordered_map(_theta, blocks(), n_jobs, shared=(scoring_model(model) if n_jobs != 1 else model,))
    for theta in progress(thetas, total=-(-source.num_rows // source.batch_size), desc="scoring", unit="batch"):
        batch, ids, offsets = pending.popleft()
        rows = np.repeat(np.arange(len(batch)), np.diff(offsets))
        n_words = np.bincount(rows[ids >= 0], minlength=len(batch)).astype(np.int64)
        frame = score_rows(batch, theta, n_words)
        totals.add(frame)
        sink.write(frame)
    if rows_read != len(corpus) or source.num_rows != len(corpus):
        raise DataError(f"the paragraph table changed while it was being read ({len(corpus)} rows, "
                        f"then {max(rows_read, source.num_rows)})")
    return totals.result(len(corpus))


def score_partitions(model: TopicModel, source: ParagraphSource, sink: Any,
                     compute: ComputeConfig | None, client: Any = None) -> dict[str, Any]:
    """Score every paragraph from its text (:func:`score_frame`), through :func:`pipeline.engine.map_frames`.

    Batches of ``source.batch_size`` paragraphs in ``compute.n_jobs`` worker processes, or, with
    ``compute.engine: dask`` and a Parquet source, partitions of ``compute.partition_rows`` rows
    (whole read batches) that Dask workers read themselves, with a slim copy of the model
    broadcast to them (through ``client`` when given). The rows go to ``sink`` in pieces of
    ``source.batch_size`` rows, the batches :func:`score_corpus` writes, so both paths give the
    same file; returns the totals of :func:`score_corpus`.
    """
    n_jobs = compute.n_jobs if compute is not None else 1
    slim = scoring_model(model)
    frames = map_frames(score_frame, source, SCORE_COLUMNS, batch_size=source.batch_size, args=(slim,),
                        n_jobs=n_jobs, compute=compute, desc="scoring", meta=score_meta(slim), client=client)
    totals = ScoreTotals(model.num_topics)
    write_frames(frames, sink, row_group_rows=source.batch_size, folds=[totals])
    return totals.result(source.num_rows)


def quality_metrics(model: TopicModel, corpus: TokenCorpus, seed: int, limit: int) -> dict[str, Any]:
    """Coherence, diversity and perplexity on a fixed-seed sample of the fitting paragraphs with a vocabulary word."""
    mapping = model.corpus_mapping_
    used = np.array([i for i in np.flatnonzero(corpus.fit_mask) if (mapping[corpus.doc(int(i))] >= 0).any()],
                    dtype=np.int64)
    sample = used[_sample(len(used), limit, seed)]
    ref_texts = [corpus.tokens(int(i)) for i in sample]
    ref_corpus = [model.bow(t) for t in ref_texts]
    coherence_topics = [[w for w, _ in model.top_words(k, COHERENCE_TOPN)] for k in range(model.num_topics)]
    coherence = quality.coherence(coherence_topics, ref_texts, model.dictionary_, ref_corpus)
    diversity_topics = [[w for w, _ in model.top_words(k, DIVERSITY_TOPN)] for k in range(model.num_topics)]
    bound, perplexity = engines.perplexity(model.engine, model.lda_, ref_corpus)
    return {
        **coherence,
        "topic_diversity": quality.finite_or_none(quality.topic_diversity(diversity_topics)),
        "perplexity": perplexity,
        "log_perplexity": bound,
        "metrics_sample": len(ref_texts),
    }


def as_source(paragraphs: Any) -> ParagraphSource:
    if isinstance(paragraphs, ParagraphSource):
        return paragraphs
    source = ParagraphSource(paragraphs)
    require_columns(source, REQUIRED_COLUMNS, None)
    return source


def run_topics(paragraphs: Any, settings: TopicsConfig, sink: Any = None,
               workdir: Path | None = None, compute: ComputeConfig | None = None) -> TopicsResult:
    """Fit the topic model on a paragraph table and score every paragraph.

    The table is read in batches and tokenised once into a :class:`TokenCorpus` (in
    ``workdir`` on disk, or in memory when ``workdir`` is None), which fitting, scoring and
    the quality metrics then re-read; see :mod:`pipeline.topics.corpus`.

    Parameters
    ----------
    paragraphs : pandas.DataFrame or ParagraphSource
        Columns ``doc_id``, ``para_id``, ``text`` and optionally ``duplicate_of``.
    settings : TopicsConfig
    sink : object with ``write(DataFrame)``, optional
        Receives the per-paragraph rows batch by batch (e.g. a Parquet writer); without
        one they are collected into ``TopicsResult.doc_topics``.
    workdir : path, optional
        Directory for the token-id file.
    compute : ComputeConfig, optional
        ``n_jobs`` worker processes tokenise and score the paragraphs; with ``engine: dask``,
        paragraphs are scored on that Dask cluster. The rows do not depend on either.

    With ``settings.fit_sample`` or the Dask engine, the model is fitted on a fixed-seed
    sample of at most ``fit_sample`` fitting paragraphs (all when null) and every paragraph
    is scored from its text by partition; see :mod:`pipeline.topics.partitioned`.

    Raises
    ------
    DataError
        If a column is missing, or too little text is left to fit a model.
    """
    source = as_source(paragraphs)
    if source.num_rows == 0:
        raise DataError("no paragraphs to fit a topic model on")
    model_from_config(settings)._check_params()
    dask = compute is not None and compute.engine == "dask"
    partitioned = settings.fit_sample is not None or dask
    n_jobs = compute.n_jobs if compute is not None else 1
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(dask_client(compute)) if dask else None  # one cluster for the stage
        def tokenise_and_fit(settings: TopicsConfig, directory: Path | None) -> tuple[Any, ...]:
            model = model_from_config(settings)
            if settings.fit_sample is not None:
                rows, duplicates, procedural = fitting_rows(source, settings.include_duplicates,
                                                            procedural_filter(settings))
                chosen = sample_rows(rows, settings.fit_sample, settings.seed)
                log.info("fitting on a sample of %d of %d fitting paragraphs (topics.fit_sample)", len(chosen),
                         len(rows))
                corpus, preprocessor, _, _ = tokenise_source(SampledSource(source, chosen), model, settings,
                                                             directory, n_jobs, compute, client)
            else:
                corpus, preprocessor, duplicates, procedural = tokenise_source(source, model, settings, directory,
                                                                               n_jobs, compute, client)
            log.info("%d paragraphs, %d flagged as duplicates (%s from fitting), %d procedural (%s)",
                     source.num_rows, duplicates, "kept" if settings.include_duplicates else "left out", procedural,
                     "left out of fitting" if settings.exclude_procedural else "not looked for")
            return model.fit_corpus(corpus, preprocessor), corpus, duplicates, procedural

        model, corpus, duplicates, procedural = tokenise_and_fit(settings, workdir)
        removed: list[str] = []
        if settings.corpus_stopwords:
            removed = find_corpus_stopwords(model, settings.corpus_stopwords_min_df,
                                            settings.corpus_stopwords_min_entropy, settings.corpus_stopwords_max)
            log.info("corpus stop words (%d, fitting again without them): %s", len(removed), " ".join(removed))
            if removed:
                settings = settings.model_copy(update={"stopwords_extra": [*settings.stopwords_extra, *removed]})
                refit_dir = None if workdir is None else Path(workdir) / "refit"
                if refit_dir is not None:
                    refit_dir.mkdir(exist_ok=True)
                model, corpus, duplicates, procedural = tokenise_and_fit(settings, refit_dir)
        log.info("scoring %d paragraphs", source.num_rows)
        collect = FrameSink() if sink is None else None
        if partitioned:
            totals = score_partitions(model, source, collect if sink is None else sink, compute, client)
        else:
            totals = score_corpus(model, corpus, source, collect if sink is None else sink, n_jobs)
    table = topic_table(model, totals["prevalence"], totals["dominant"], settings)
    metrics = {
        **quality_metrics(model, corpus, settings.seed, settings.metrics_sample),
        "vocab_size": len(model.vocabulary_),
        "documents_used": int(model.n_documents_),
        "paragraphs_scored": totals["paragraphs"],
        "paragraphs_duplicate": duplicates,
        "paragraphs_procedural": procedural if settings.exclude_procedural else None,
        "corpus_stopwords_removed": removed if settings.corpus_stopwords else None,
        "paragraphs_without_vocabulary": totals["without_vocabulary"],
        "num_topics": model.num_topics,
        "seed_words_missing": list(model.seed_words_missing_),
        **label_metrics(model, settings),
    }
    return TopicsResult(model=model, doc_topics=collect.result() if collect else None, table=table, metrics=metrics)


def open_paragraphs(path: Path) -> ParagraphSource:
    """The paragraph table as a batch-wise :class:`ParagraphSource`; errors name the file."""
    if not path.exists():
        raise InputError(f"{path}: file not found (run `pipeline chunk` first, or set topics.input)")
    try:
        source = ParagraphSource(path)
    except Exception as exc:  # pyarrow raises many types for a broken file
        raise InputError(f"{path}: cannot read Parquet: {str(exc).splitlines()[0]}") from None
    require_columns(source, REQUIRED_COLUMNS, path)
    return source


def main(config: Config) -> None:
    """Run the stage: ``topics.input`` -> ``topics.model``, ``.output``, ``.table``, ``.metrics``."""
    settings = config.topics
    source = open_paragraphs(settings.input)
    # The paragraph-topic table and the token-id file (scratch, under $TMPDIR) each take about the
    # paragraph table's size; each file system is checked for its own.
    size = path_bytes(settings.input)
    ensure_free_space(settings.output, size, "topics.output")
    with scratch_directory(size, "topics", prefix="pipeline-topics-") as workdir, \
            ParquetBatchWriter(settings.output) as sink:
        try:
            result = run_topics(source, settings, sink=sink, workdir=workdir, compute=config.compute)
        except DataError as exc:
            raise DataError(f"{settings.input}: {exc}") from None
    result.model.save(settings.model, config={"topics": settings.model_dump(mode="json")},
                      inputs={str(settings.input): sha256_file(settings.input)})
    write_parquet(settings.table, result.table)
    write_json(settings.metrics, result.metrics)
    m = result.metrics
    log.info("topics: %d topics over %d paragraphs (%d words); c_npmi=%s c_v=%s diversity=%s",
             m["num_topics"], m["paragraphs_scored"], m["vocab_size"], m["c_npmi"], m["c_v"], m["topic_diversity"])
    for row in result.table.itertuples():
        log.info("topic %d (%.1f%%): %s", row.topic, 100 * row.prevalence, " ".join(row.top_words[:8]))
