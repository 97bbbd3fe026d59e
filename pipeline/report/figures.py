"""The report's figures (PNG bytes, drawn by :mod:`pipeline.plotting`) and its DVC plot files (CSV)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import plotting
from ..io import write_text
from .data import MENTION_LABELS

#: a line chart draws at most this many series (one colour each)
MAX_LINES = len(plotting.SERIES_COLORS)


def prevalence_chart(top: pd.DataFrame) -> bytes:
    """Bar chart of the prevalence (%) of the topic-table rows ``top``, in their order."""
    return plotting.bar_chart([f"{t}: {lab}" for t, lab in zip(top["topic"], top["label"], strict=True)],
                              (100 * top["prevalence"].astype(float)).tolist(),
                              xlabel="mean share of paragraphs (%)", title="Topic prevalence")


def topic_year_chart(shares: pd.DataFrame, names: dict[int, str], shown: list[int]) -> bytes:
    """Line chart of the mean share (%) of topics ``shown`` per year (``shares``: years x topics)."""
    return plotting.line_chart(
        [int(y) for y in shares.index], {names[t]: (100 * shares[t]).tolist() for t in sorted(shown)},
        xlabel="year", ylabel="mean topic share (%)", title="Topic prevalence by year")


def topic_group_heatmap(shares: pd.DataFrame, topics: list[int], names: dict[int, str], column: str) -> bytes:
    """Heatmap of the mean share (%) of ``topics`` per group of ``column`` (``shares``: groups x topics)."""
    return plotting.heatmap(
        100 * shares[topics].to_numpy(dtype=float), [f"{g} ({int(n):,} ¶)" for g, n in shares["paragraphs"].items()],
        [names[t] for t in topics], title=f"Mean topic share (%) by {column}", colorbar="mean topic share (%)",
        diverging=False, annotations=np.vectorize(lambda v: "" if v != v else f"{v:.0f}")(
            100 * shares[topics].to_numpy(dtype=float)))


def stance_chart(named: pd.DataFrame) -> bytes:
    """Stacked bars of the favor, against and neutral shares per target (row names in ``name``)."""
    return plotting.stacked_shares(
        named["name"].tolist(), {lab: (100 * named[f"{lab}_share"]).tolist() for lab in MENTION_LABELS},
        xlabel="share of the paragraphs that mention the target (%)", title="Stance by target")


def net_against_year_chart(years: list[Any], grid: pd.DataFrame, targets: list[str]) -> bytes:
    """Line chart of net against per year for ``targets`` (``grid``: years x targets)."""
    return plotting.line_chart(
        years, {t: grid[t].tolist() for t in targets}, xlabel="year", ylabel="net against",
        title="Net against by year (+1 all hostile, -1 all favourable)", ylim=(-1.05, 1.05),
        zero_line=True)


def topic_target_heatmap(net: np.ndarray, counts: np.ndarray, topic_names: list[str], targets: list[str]) -> bytes:
    """Heatmap of net against by dominant topic (rows) and target (columns), annotated with mentions."""
    notes = np.where(counts > 0, np.vectorize(lambda v, n: f"{v:+.2f}\nn={n}")(net, counts), "")
    return plotting.heatmap(net, topic_names, targets, diverging=True,
                            title="Net against by dominant topic and target", colorbar="net against",
                            annotations=notes)


def plot_tables(table: pd.DataFrame, rows: pd.DataFrame, by_target: pd.DataFrame,
                years: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The DVC plot tables (file name -> frame).

    ``topics.csv``, ``stance_by_target.csv``, ``against_by_topic.csv`` and ``against_by_year.csv``
    (one row per against mention with its paragraph's year; only the header when the paragraph
    table has no time column). ``years`` maps ``doc_id``, ``para_id`` to ``year``.
    """
    names = {int(t): f"{int(t)}: {lab}" for t, lab in zip(table["topic"], table["label"], strict=True)}
    topics = pd.DataFrame({"topic": table["topic"].astype(int), "label": [names[int(t)] for t in table["topic"]],
                           "prevalence": (100 * table["prevalence"].astype(float)).round(4)})
    if "dominant_paragraphs" in table.columns:
        topics["dominant_paragraphs"] = table["dominant_paragraphs"].astype(int).to_numpy()
    against = rows[rows["label"] == "against"].sort_values(["topic", "target", "doc_id", "para_id"], kind="stable")
    against = pd.DataFrame({"topic": [names.get(int(k), str(k)) for k in against["topic"]],
                            "target": against["target"].to_numpy(), "doc_id": against["doc_id"].to_numpy(),
                            "para_id": against["para_id"].astype(int).to_numpy()})
    stance = by_target.copy()
    for col in ("favor_share", "against_share", "neutral_share", "net_against"):
        stance[col] = stance[col].astype(float).round(4)
    by_year = pd.DataFrame({"year": pd.Series(dtype="int64"), "target": pd.Series(dtype="object")})
    if years is not None and len(years):
        dated = rows[rows["label"] == "against"].merge(years, on=["doc_id", "para_id"], how="inner")
        dated = dated.dropna(subset=["year"]).sort_values(["year", "target", "doc_id", "para_id"], kind="stable")
        by_year = pd.DataFrame({"year": dated["year"].astype(int).to_numpy(), "target": dated["target"].to_numpy()})
    return {"topics.csv": topics, "stance_by_target.csv": stance, "against_by_topic.csv": against,
            "against_by_year.csv": by_year}


def write_plots(directory: Path, plots: dict[str, pd.DataFrame]) -> None:
    """Write each plot table as ``directory/NAME`` (CSV, ``\\n`` line ends, floats to 6 significant digits)."""
    for name, frame in plots.items():
        write_text(directory / name, frame.to_csv(index=False, lineterminator="\n", float_format="%.6g"))
