"""The ``sweep`` stage: fit the topic model for several K and compare their quality.

For every value in ``sweep.num_topics`` the topics stage's own fitting (same preprocessing,
engine and seed as ``topics``) is run on the paragraph table, and coherence, diversity and
perplexity are written as one JSON row per K to ``sweep.output`` (a DVC plot: coherence and
diversity against K) and drawn in ``sweep.plot``, so one can see where more topics stop
paying off.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..config import Config, TopicsConfig
from ..engine import scratch_directory
from ..errors import DataError
from ..io import atomic_path, path_bytes, write_json
from ..plotting import new_figure, png_bytes
from .stage import as_source, fit_on_corpus, model_from_config, open_paragraphs, quality_metrics, tokenise_source

log = logging.getLogger(__name__)

FIELDS = ("c_npmi", "c_v", "u_mass", "topic_diversity", "perplexity")


def sweep_topics(paragraphs: Any, settings: TopicsConfig, values: list[int],
                 workdir: Path | None = None) -> list[dict[str, Any]]:
    """Fit one model per K in ``values`` and return one row of metrics per K.

    The paragraphs (a DataFrame or :class:`~pipeline.topics.corpus.ParagraphSource`) are
    tokenised once; every K is fitted on the same token corpus (in ``workdir`` if given).
    """
    source = as_source(paragraphs)
    corpus, preprocessor, _, _ = tokenise_source(source, model_from_config(settings), settings, workdir)
    rows = []
    for k in values:
        log.info("sweep: fitting K=%d", k)
        k_settings = settings.model_copy(update={"num_topics": k})
        model = fit_on_corpus(corpus, preprocessor, k_settings)
        metrics = quality_metrics(model, corpus, k_settings.seed, k_settings.metrics_sample)
        rows.append({"num_topics": k, **{f: metrics.get(f) for f in FIELDS}})
    return rows


def plot_sweep(rows: list[dict[str, Any]]) -> bytes:
    """PNG of coherence (NPMI, c_v) and diversity against K."""
    ks = [r["num_topics"] for r in rows]
    fig = new_figure(6.4, 3.6)
    ax = fig.subplots()
    for field, colour in (("c_npmi", "#1f77b4"), ("c_v", "#2ca02c"), ("topic_diversity", "#ff7f0e")):
        ys = [r[field] if r[field] is not None else float("nan") for r in rows]
        ax.plot(ks, ys, marker="o", color=colour, label=field)
    ax.set_xlabel("number of topics (K)")
    ax.set_ylabel("score")
    ax.set_xticks(ks)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    ax.set_title("Topic quality against K")
    fig.tight_layout()
    return png_bytes(fig)


def main(config: Config) -> None:
    """Run the sweep on ``topics.input``; write ``sweep.output`` (JSON rows) and ``sweep.plot`` (PNG)."""
    cfg = config.sweep
    source = open_paragraphs(config.topics.input)
    values = sorted(set(cfg.num_topics))
    if source.num_rows < 2:
        raise DataError(f"{config.topics.input}: too few paragraphs for a sweep")
    try:
        with scratch_directory(path_bytes(config.topics.input), "sweep", prefix="pipeline-topics-") as workdir:
            rows = sweep_topics(source, config.topics, values, workdir)
    except DataError as exc:
        raise DataError(f"{config.topics.input}: {exc}") from None
    write_json(cfg.output, rows)
    with atomic_path(cfg.plot) as tmp:
        tmp.write_bytes(plot_sweep(rows))
    best = max(rows, key=lambda r: r["c_npmi"] if r["c_npmi"] is not None else float("-inf"))
    log.info("sweep: K=%s has the best NPMI (%s); wrote %s and %s", best["num_topics"], best["c_npmi"],
             cfg.output, cfg.plot)
