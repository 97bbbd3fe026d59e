"""The ``prevalence`` stage: topic prevalence by any metadata column.

For each column in ``prevalence.by`` (``year``, ``country``, ``source`` ... or ``doc_id``),
paragraphs are grouped by the column's value and each topic's prevalence is the mean of its
share over the group's paragraphs. The long table (``column``, ``value``, ``topic``,
``label``, ``prevalence``, ``paragraphs``) goes to ``prevalence.output`` and one PNG per
column to ``prevalence.plots``: lines over the values for numeric columns (time), a heatmap
of the largest groups otherwise. "How did talk of NATO expansion change after 2014?" is
``pipeline prevalence --set 'prevalence.by=[year]'`` on a corpus with a ``year`` column.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Config
from ..errors import DataError
from ..io import atomic_path, read_parquet, write_parquet
from ..plotting import new_figure, png_bytes

log = logging.getLogger(__name__)


def prevalence_by(doc_topics: pd.DataFrame, meta: pd.DataFrame, labels: list[str], columns: list[str]) -> pd.DataFrame:
    """Mean topic share per value of each metadata column (no I/O).

    Parameters
    ----------
    doc_topics : DataFrame
        The topics stage's output: ``doc_id``, ``para_id``, ``topic_0`` ... ``topic_{K-1}``.
    meta : DataFrame
        The paragraph table (``doc_id``, ``para_id`` and metadata columns).
    labels : list of str
        Topic labels, one per topic.
    columns : list of str
        Metadata columns to group by.
    """
    topic_cols = [c for c in doc_topics.columns if c.startswith("topic_")]
    missing = [c for c in columns if c not in meta.columns]
    if missing:
        available = ", ".join(c for c in meta.columns if c not in ("text", "start", "end", "para_id"))
        raise DataError(f"prevalence.by: no column {', '.join(map(repr, missing))} in the paragraph table "
                        f"(available: {available})")
    keys = ["doc_id", "para_id"]
    merged = doc_topics[keys + topic_cols].merge(meta[keys + [c for c in columns if c not in keys]], on=keys,
                                                 how="left")
    frames = []
    for column in columns:
        grouped = merged.groupby(column, dropna=True, sort=True)
        shares = grouped[topic_cols].mean()
        counts = grouped.size()
        long = shares.reset_index().melt(id_vars=column, var_name="topic", value_name="prevalence")
        long["topic"] = long["topic"].str.removeprefix("topic_").astype(np.int64)
        long["label"] = [labels[t] if t < len(labels) else str(t) for t in long["topic"]]
        long["paragraphs"] = long[column].map(counts).astype(np.int64)
        long.insert(0, "value", long.pop(column).astype(str))
        long.insert(0, "column", column)
        frames.append(long)
    table = pd.concat(frames, ignore_index=True)
    return table[["column", "value", "topic", "label", "prevalence", "paragraphs"]]


def plot_prevalence(table: pd.DataFrame, column: str, numeric: bool, max_groups: int = 30) -> bytes:
    """PNG: lines over the values (numeric column) or a heatmap of the largest groups."""
    from matplotlib import colormaps

    sub = table[table["column"] == column]
    wide = sub.pivot_table(index="value", columns="topic", values="prevalence")
    sizes = sub.drop_duplicates("value").set_index("value")["paragraphs"]
    labels = sub.drop_duplicates("topic").set_index("topic")["label"]
    if numeric:
        wide.index = pd.to_numeric(wide.index)
        wide = wide.sort_index()
        fig = new_figure(8, 4.2)
        ax = fig.subplots()
        cmap = colormaps["tab20"]
        for i, topic in enumerate(wide.columns):
            ax.plot(wide.index, wide[topic], marker="o", ms=3, color=cmap(i % 20), label=f"{topic}: {labels[topic]}")
        ax.set_xlabel(column)
        ax.set_ylabel("mean topic share")
        ax.legend(fontsize=7, frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
        ax.grid(alpha=0.3)
    else:
        keep = sizes.sort_values(ascending=False).index[:max_groups]
        wide = wide.loc[sorted(keep)]
        fig = new_figure(8, 1.5 + 0.28 * len(wide))
        ax = fig.subplots()
        image = ax.imshow(wide.to_numpy(), aspect="auto", cmap="Blues")
        ax.set_yticks(range(len(wide)), [str(v)[:40] for v in wide.index], fontsize=7)
        ax.set_xticks(range(len(wide.columns)), [f"{t}: {labels[t]}"[:28] for t in wide.columns], rotation=45,
                      ha="right", fontsize=7)
        fig.colorbar(image, ax=ax, label="mean topic share")
    ax.set_title(f"Topic prevalence by {column}")
    fig.tight_layout()
    return png_bytes(fig)


def main(config: Config) -> None:
    """Write the prevalence table and one plot per ``prevalence.by`` column."""
    cfg = config.prevalence
    doc_topics = read_parquet(config.topics.output)
    table_path = Path(config.topics.table)
    labels = read_parquet(table_path, columns=["topic", "label"]).sort_values("topic")["label"].tolist()
    import pyarrow.parquet as pq

    available = set(pq.read_schema(config.chunk.output).names) if Path(config.chunk.output).exists() else set()
    wanted = ["doc_id", "para_id"] + [c for c in cfg.by if c in available and c not in ("doc_id", "para_id")]
    meta = read_parquet(config.chunk.output, columns=wanted) if available else pd.DataFrame()
    if not len(meta):
        meta = read_parquet(config.chunk.output)  # a clear error naming the file
    table = prevalence_by(doc_topics, meta, labels, list(cfg.by))
    write_parquet(cfg.output, table)
    plots = Path(cfg.plots)
    plots.mkdir(parents=True, exist_ok=True)
    for column in cfg.by:
        values = meta[column]
        numeric = pd.api.types.is_numeric_dtype(values) and values.nunique() > 1
        with atomic_path(plots / f"{column}.png") as tmp:
            tmp.write_bytes(plot_prevalence(table, column, numeric))
    log.info("prevalence: %d rows for %s; wrote %s and %s/", len(table), ", ".join(cfg.by), cfg.output, plots)


