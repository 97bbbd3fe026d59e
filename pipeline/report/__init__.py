"""The ``report`` stage: one self-contained HTML page over the pipeline's outputs.

Inputs (all from the config): the chunk manifest and paragraph table (with whatever metadata
columns it has), the topic table and per-paragraph topic shares, the stance table, and, when
present, the topic and stance metrics. Outputs:

- ``report.output``: HTML with inline CSS and PNG figures embedded as base64, no script, no
  network resource and no timestamp, so the same inputs give the same bytes; its footer names
  what made it (:mod:`~pipeline.report.provenance`): the package version, the git tree of the
  code, the config hash and the model hashes, none of which changes from run to run or commit
  to commit without a change of code, config or models;
- ``report.metrics``: JSON headline numbers (a DVC metric), and the footer's block as ``provenance``;
- ``report.plots``: CSV tables behind the main figures (DVC plots);
- ``report.browser``: the topic browser (:mod:`~pipeline.report.browser`), pyLDAvis's intertopic
  distance map and relevance slider as one offline page (scripts inline), linked from the Topics section.

Stance is summarised over *mentions*: stance rows whose label is favor, against or neutral
(``none`` means the paragraph does not mention the target). ``net_against`` is
``(against - favor) / mentions``: +1 when every mention is hostile, -1 when every one is
favourable, 0 when they balance or are all neutral.

The work is split over :mod:`~pipeline.report.data` (loading and computing the tables and
metrics, no rendering), :mod:`~pipeline.report.figures` (the PNG figures and the DVC plot
files), :mod:`~pipeline.report.markup` (HTML helpers) and :mod:`~pipeline.report.sections`
(the page's sections), :mod:`~pipeline.report.provenance` (the hashes that name the code, config
and models); :func:`build_report` renders the page, :func:`main` reads and writes.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from ..config import Config, ReportConfig
from ..io import write_json, write_text
from ..topics.model import load_topics
from .browser import build_browser
from .data import (
    EVIDENCE_ORDER,
    EXAMPLE_CHARS,
    KEYS,
    MENTION_LABELS,
    STANCE_LABELS,
    ReportInputs,
    check_columns,
    corpus_counts,
    dominant_topics,
    duplicate_pairs,
    evidence_rows,
    headline_metrics,
    keyed,
    largest_groups,
    load_inputs,
    mentions,
    skipped_documents,
    stance_by_target,
    stance_counts,
    summarise,
    topic_examples,
    topic_mentions,
    topic_shares_by,
    truncate,
    year_column,
)
from .figures import plot_tables, write_plots
from .markup import CSS, NET_NOTE, anchor_slugs, esc
from .sections import (
    CHART_MAX_TOPICS,
    DUPLICATES_SHOWN,
    HEADLINE_COUNTS,
    LIST_LIMIT,
    corpus_section,
    evidence_section,
    provenance_footer,
    stance_breakdowns,
    stance_section,
    topic_target_section,
    topics_by_metadata,
    topics_section,
)

__all__ = [
    "CHART_MAX_TOPICS", "DUPLICATES_SHOWN", "EVIDENCE_ORDER", "EXAMPLE_CHARS", "HEADLINE_COUNTS", "KEYS",
    "LIST_LIMIT", "MENTION_LABELS", "NET_NOTE", "STANCE_LABELS", "Report", "ReportInputs", "browser_link", "build_report",
    "corpus_counts", "dominant_topics", "duplicate_pairs", "evidence_rows", "keyed", "largest_groups", "load_inputs",
    "main", "mentions", "skipped_documents", "stance_by_target", "stance_counts", "summarise", "topic_examples",
    "topic_mentions", "topic_shares_by", "truncate", "year_column",
]

log = logging.getLogger(__name__)


@dataclass
class Report:
    """What :func:`build_report` makes: the page, the metrics and the DVC plot tables (file name -> frame)."""

    html: str
    metrics: dict[str, Any]
    plots: dict[str, pd.DataFrame]


def build_report(inputs: ReportInputs, settings: ReportConfig | None = None) -> Report:
    """Render the page, the headline metrics and the DVC plot tables.

    Parameters
    ----------
    inputs : ReportInputs
        The loaded tables.
    settings : ReportConfig, optional
        The ``report`` section (examples and evidence per topic, metadata columns, groups shown).

    Returns
    -------
    Report
        ``html``; ``metrics`` (documents, paragraphs, duplicates, documents_skipped, num_topics,
        mentions, stance label counts overall and per target, and per-target shares with net
        against, and ``provenance`` when ``inputs`` has it: the code tree, config and model hashes
        the page's footer shows); ``plots`` (``topics.csv``, ``stance_by_target.csv``, ``against_by_topic.csv``,
        ``against_by_year.csv``).
    """
    settings = settings or ReportConfig()
    check_columns(inputs)
    corpus = corpus_counts(inputs.manifest, inputs.paragraphs)
    table = inputs.topic_table.sort_values("topic", kind="stable")
    paragraphs = keyed(inputs.paragraphs).drop_duplicates(KEYS)
    texts = paragraphs.set_index(KEYS)
    meta = paragraphs.drop(columns=["text"])
    year = year_column(meta, settings.time_columns)
    groups = [c for c in settings.group_columns if c in meta.columns and meta[c].notna().any()]
    counts = stance_counts(inputs.stance)
    by_target = stance_by_target(inputs.stance)
    targets = by_target["target"].tolist()
    slugs = anchor_slugs(targets)
    rows = topic_mentions(inputs.stance, inputs.doc_topics)
    evidence = evidence_rows(rows, settings.evidence_per_cell)

    sections = [("corpus", "Corpus"), ("topics", "Topics"), ("topics-metadata", "Topics over time and by group"),
                ("stance", "Stance by target"), ("topic-target", "Topic \u00d7 target"),
                ("evidence", "Evidence sentences")]
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             '<link rel="icon" href="data:,">',
             f"<title>Topic and stance report</title><style>{CSS}</style></head><body>",
             "<h1>Topic and stance report</h1>",
             f'<p class="meta">{corpus["documents"]:,} documents &middot; {corpus["paragraphs"]:,} paragraphs &middot; '
             f"{len(table)} topics &middot; {len(targets)} stance targets</p>",
             "<nav><ol>" + "".join(f'<li><a href="#{i}">{esc(t)}</a></li>' for i, t in sections) + "</ol></nav>"]
    parts += corpus_section(inputs, corpus, paragraphs)
    topic_parts = topics_section(inputs, table, texts, settings.examples_per_topic)
    topic_parts.insert(1, browser_link(settings))
    parts += topic_parts
    parts += topics_by_metadata(inputs.doc_topics, meta, table, year, groups, settings)
    parts += stance_section(inputs, by_target, counts)
    parts += stance_breakdowns(inputs.stance, meta, targets, year, groups, settings)
    parts += topic_target_section(rows, table, targets, slugs, evidence)
    parts += evidence_section(rows, evidence, table, targets, slugs, settings.evidence_per_cell)
    if inputs.sources:
        parts.append('<h2 id="inputs">Inputs</h2><p class="meta">' + "<br>".join(
            f"{esc(k)}: {esc(v)}" for k, v in inputs.sources.items()) + "</p>")
    metrics = headline_metrics(corpus, table, counts, by_target)
    if inputs.provenance:
        parts.append(provenance_footer(inputs.provenance))
        metrics["provenance"] = inputs.provenance
    parts.append("</body></html>\n")
    years = None if year is None else meta[KEYS].assign(year=year[1].to_numpy())
    return Report("\n".join(parts), metrics, plot_tables(table, rows, by_target, years))


def browser_link(settings: ReportConfig) -> str:
    """The Topics section's line linking to the topic browser (``report.browser``, relative to the report)."""
    href = Path(os.path.relpath(Path(settings.browser).absolute(), Path(settings.output).absolute().parent)).as_posix()
    return (f'<p class="meta">Explore the topics in the <a href="{esc(quote(href))}">topic browser</a>: '
            "the intertopic distance map and the relevance slider of LDAvis (its topic N is topic N-1 here).</p>")


def main(config: Config) -> None:
    """Run the stage: pipeline outputs and the topic model -> ``report.output``, ``report.metrics``,
    ``report.plots`` and ``report.browser``."""
    inputs = load_inputs(config)
    report = build_report(inputs, config.report)
    browser = build_browser(load_topics(config.topics.model), inputs.doc_topics, config.topics.relevance_lambda,
                            config.report.browser_terms, inputs.sources.get("topic output", "topic output"),
                            inputs.topic_table.sort_values("topic", kind="stable")["label"].astype(str).tolist())
    plots = Path(config.report.plots)
    write_plots(plots, report.plots)
    write_text(config.report.browser, browser)
    write_text(config.report.output, report.html)
    write_json(config.report.metrics, report.metrics)
    log.info("report: %s (%d documents, %d paragraphs, %d topics); plot data in %s/; topic browser: %s",
             config.report.output, report.metrics["documents"], report.metrics["paragraphs"],
             report.metrics["num_topics"], plots, config.report.browser)
