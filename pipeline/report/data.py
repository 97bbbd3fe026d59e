"""The report's tables: loading the pipeline's outputs and computing what the page shows (no rendering).

Stance is summarised over *mentions*: stance rows whose label is favor, against or neutral
(``none`` means the paragraph does not mention the target). ``net_against`` is
``(against - favor) / mentions``: +1 when every mention is hostile, -1 when every one is
favourable, 0 when they balance or are all neutral.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import Config
from ..errors import DataError, InputError
from ..io import read_json, read_parquet
from .provenance import collect_provenance

STANCE_LABELS = ("favor", "against", "neutral", "none")
MENTION_LABELS = ("favor", "against", "neutral")
EXAMPLE_CHARS = 400
#: evidence rows are listed against first, then favor, then neutral
EVIDENCE_ORDER = {"against": 0, "favor": 1, "neutral": 2}
KEYS = ["doc_id", "para_id"]


# ----------------------------------------------------------------------------- tables


def truncate(text: str, limit: int = EXAMPLE_CHARS) -> str:
    """``text`` cut at a word boundary to at most about ``limit`` characters, with an ellipsis."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:") + " \u2026"


def keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``doc_id`` as str and ``para_id`` as int64, so tables join on the same key types."""
    return frame.assign(doc_id=frame["doc_id"].astype(str), para_id=frame["para_id"].astype("int64"))


def corpus_counts(manifest: dict[str, Any], paragraphs: pd.DataFrame) -> dict[str, int]:
    """Headline corpus numbers: the manifest's counts, filled in from the paragraph table."""
    counts = manifest.get("counts") if isinstance(manifest.get("counts"), dict) else {}
    dup = paragraphs["duplicate_of"] if "duplicate_of" in paragraphs.columns else None
    out = {k: int(v) for k, v in counts.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    out.setdefault("documents", out.get("documents_ok", int(paragraphs["doc_id"].nunique())))
    out.setdefault("paragraphs", len(paragraphs))
    out.setdefault("duplicates", int(dup.notna().sum()) if dup is not None else 0)
    out.setdefault("documents_skipped", len(skipped_documents(manifest)))
    return out


def skipped_documents(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest's documents whose status is not ``ok``."""
    docs = manifest.get("documents")
    if not isinstance(docs, list):
        return []
    return [d for d in docs if isinstance(d, dict) and d.get("status") not in (None, "ok")]


def duplicate_pairs(paragraphs: pd.DataFrame) -> pd.DataFrame:
    """Paragraphs flagged as near-duplicates: ``doc_id``, ``para_id``, ``duplicate_of``, ``text``."""
    if "duplicate_of" not in paragraphs.columns:
        return pd.DataFrame(columns=[*KEYS, "duplicate_of", "text"])
    dups = paragraphs[paragraphs["duplicate_of"].notna()]
    return dups[[*KEYS, "duplicate_of", "text"]].sort_values(KEYS, kind="stable")


def stance_counts(stance: pd.DataFrame) -> pd.DataFrame:
    """Target x label counts (labels in the fixed order, unexpected labels after; targets as first seen)."""
    table = pd.crosstab(stance["target"].astype(str), stance["label"].astype(str))
    labels = list(STANCE_LABELS) + sorted(set(table.columns) - set(STANCE_LABELS))
    order = list(pd.unique(stance["target"].astype(str)))
    return table.reindex(index=order, columns=labels, fill_value=0)


def mentions(stance: pd.DataFrame) -> pd.DataFrame:
    """Stance rows that mention their target (label favor, against or neutral), keyed."""
    return keyed(stance[stance["label"].isin(MENTION_LABELS)])


def summarise(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mention counts and shares per group of ``by``.

    Returns one row per group with ``by``, ``mentions``, ``favor``, ``against``, ``neutral``,
    ``favor_share``, ``against_share``, ``neutral_share`` and ``net_against``.
    """
    if len(rows):
        counts = rows.groupby([*by, "label"], sort=True, observed=True).size().unstack("label", fill_value=0)
        counts = counts.reindex(columns=list(MENTION_LABELS), fill_value=0).reset_index()
    else:
        counts = pd.DataFrame({c: pd.Series(dtype=object) for c in by}
                              | {lab: pd.Series(dtype="int64") for lab in MENTION_LABELS})
    counts.columns.name = None
    total = counts[list(MENTION_LABELS)].sum(axis=1)
    counts.insert(len(by), "mentions", total.astype("int64"))
    with np.errstate(invalid="ignore", divide="ignore"):
        for label in MENTION_LABELS:
            counts[f"{label}_share"] = counts[label] / total.where(total > 0)
        counts["net_against"] = (counts["against"] - counts["favor"]) / total.where(total > 0)
    return counts


def stance_by_target(stance: pd.DataFrame) -> pd.DataFrame:
    """:func:`summarise` per target, every target listed (first-seen order), also those never mentioned."""
    order = list(pd.unique(stance["target"].astype(str)))
    table = summarise(mentions(stance).assign(target=lambda f: f["target"].astype(str)), ["target"])
    table = table.set_index("target").reindex(order)
    for col in ("mentions", *MENTION_LABELS):
        table[col] = table[col].fillna(0).astype("int64")
    return table.reset_index()


def dominant_topics(doc_topics: pd.DataFrame) -> pd.DataFrame:
    """``doc_id``, ``para_id``, ``topic``: each paragraph's dominant topic."""
    frame = keyed(doc_topics)
    if "dominant_topic" in frame.columns:
        topic = frame["dominant_topic"].astype("int64")
    else:
        cols = [c for c in frame.columns if c.startswith("topic_")]
        topic = pd.Series(np.argmax(frame[cols].to_numpy(), axis=1), index=frame.index) if cols else -1
    return frame[KEYS].assign(topic=topic).drop_duplicates(KEYS)


def topic_mentions(stance: pd.DataFrame, doc_topics: pd.DataFrame) -> pd.DataFrame:
    """Mentions with their paragraph's dominant topic (mentions of unknown paragraphs are dropped)."""
    rows = mentions(stance).merge(dominant_topics(doc_topics), on=KEYS, how="inner")
    return rows.assign(target=rows["target"].astype(str))


def evidence_rows(rows: pd.DataFrame, per_cell: int) -> pd.DataFrame:
    """Up to ``per_cell`` mentions per (target, topic): against first, then favor, then neutral,
    each by descending probability of its label; only rows with an evidence sentence."""
    if per_cell <= 0 or "evidence" not in rows.columns or not len(rows):
        return rows.iloc[0:0].assign(probability=pd.Series(dtype=float))
    rows = rows[rows["evidence"].map(lambda e: isinstance(e, str) and bool(e.strip()))]
    prob = pd.Series(np.nan, index=rows.index)
    for label in MENTION_LABELS:
        if f"p_{label}" in rows.columns:
            mask = rows["label"] == label
            prob[mask] = rows.loc[mask, f"p_{label}"].astype(float)
    rows = rows.assign(probability=prob, _order=rows["label"].map(EVIDENCE_ORDER),
                       _neg=-prob.fillna(0.0))
    rows = rows.sort_values(["target", "topic", "_order", "_neg", "doc_id", "para_id"], kind="stable")
    return rows.groupby(["target", "topic"], sort=False).head(per_cell).drop(columns=["_order", "_neg"])


def topic_examples(doc_topics: pd.DataFrame, texts: pd.DataFrame, k: int, n: int) -> list[tuple[str, int, float, str]]:
    """The ``n`` paragraphs with the highest share of topic ``k``, non-duplicates first.

    ``texts`` is the paragraph table indexed by ``(doc_id, para_id)``.
    """
    column = f"topic_{k}"
    if n <= 0 or column not in doc_topics.columns:
        return []
    top = doc_topics.loc[doc_topics[column].nlargest(max(n * 5, n + 10)).index, [*KEYS, column]]
    top = keyed(top)
    found = texts.reindex(pd.MultiIndex.from_frame(top[KEYS]))
    top = top.assign(text=found["text"].to_numpy(),
                     _dup=found["duplicate_of"].notna().to_numpy() if "duplicate_of" in found.columns else False)
    top = top[top["text"].notna()].sort_values(["_dup", column, "doc_id", "para_id"],
                                               ascending=[True, False, True, True], kind="stable")
    return [(r.doc_id, int(r.para_id), float(getattr(r, column)), truncate(r.text))
            for r in top.head(n).itertuples(index=False)]


# ----------------------------------------------------------------------------- metadata


def year_column(meta: pd.DataFrame, candidates: list[str]) -> tuple[str, pd.Series] | None:
    """The first of ``candidates`` present in ``meta`` that yields years, as (name, Int64 years).

    A numeric column between 1000 and 2999 is taken as years as it is; anything else is parsed
    as dates and reduced to the year. A column where nothing parses is passed over.
    """
    for name in candidates:
        if name not in meta.columns:
            continue
        values = meta[name]
        numbers = pd.to_numeric(values, errors="coerce")
        if numbers.notna().any() and numbers.dropna().between(1000, 2999).all() and (numbers.dropna() % 1 == 0).all():
            return name, numbers.round().astype("Int64")
        dates = pd.to_datetime(values.astype("string"), errors="coerce", utc=True, format="mixed")
        if dates.notna().any():
            return name, dates.dt.year.astype("Int64")
    return None


def largest_groups(values: pd.Series, limit: int) -> list[str]:
    """The ``limit`` most frequent values (as str), most frequent first, ties by value."""
    counts = values.dropna().astype(str).value_counts()
    frame = counts.rename_axis("value").reset_index(name="n").sort_values(["n", "value"], ascending=[False, True],
                                                                            kind="stable")
    return frame["value"].head(limit).tolist()


def topic_shares_by(doc_topics: pd.DataFrame, keys: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean topic share per value of ``column`` (``keys``: doc_id, para_id, column); rows values,
    columns topic numbers, plus ``paragraphs`` per value."""
    cols = [c for c in doc_topics.columns if c.startswith("topic_")]
    merged = keyed(doc_topics)[[*KEYS, *cols]].merge(keys, on=KEYS, how="inner").dropna(subset=[column])
    grouped = merged.groupby(column, sort=True)
    shares = grouped[cols].mean()
    shares.columns = [int(c.removeprefix("topic_")) for c in cols]
    shares["paragraphs"] = grouped.size()
    return shares


@dataclass
class ReportInputs:
    """Everything the report shows, already loaded."""

    manifest: dict[str, Any]
    paragraphs: Any  # DataFrame: doc_id, para_id, text[, duplicate_of, metadata columns]
    topic_table: Any  # DataFrame: topic, label, top_words, prevalence
    doc_topics: Any  # DataFrame: doc_id, para_id, topic_0..topic_{K-1}[, dominant_topic]
    stance: Any  # DataFrame: doc_id, para_id, target, label[, p_*, evidence]
    topic_metrics: dict[str, Any] = field(default_factory=dict)
    stance_metrics: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)  # see :mod:`~pipeline.report.provenance`


def check_columns(inputs: ReportInputs) -> None:
    """Raise ``DataError`` naming the input file when a table lacks a column the report needs."""
    for name, frame, cols in (("paragraph table", inputs.paragraphs, ("doc_id", "para_id", "text")),
                              ("topic table", inputs.topic_table, ("topic", "label", "top_words", "prevalence")),
                              ("topic output", inputs.doc_topics, ("doc_id", "para_id")),
                              ("stance table", inputs.stance, ("doc_id", "para_id", "target", "label"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataError(f"{inputs.sources.get(name, name)}: missing column(s) {', '.join(missing)}")


def _round(value: float) -> float | None:
    return None if value != value else round(float(value), 4)


def headline_metrics(corpus: dict[str, int], table: pd.DataFrame, counts: pd.DataFrame, by_target: pd.DataFrame) -> dict:
    """The ``report.metrics`` numbers (see :func:`~pipeline.report.build_report`)."""
    return {
        "documents": corpus["documents"],
        "paragraphs": corpus["paragraphs"],
        "duplicates": corpus["duplicates"],
        "documents_skipped": corpus["documents_skipped"],
        "num_topics": len(table),
        "mentions": int(by_target["mentions"].sum()),
        "stance": {lab: int(counts[lab].sum()) for lab in counts.columns},
        "stance_by_target": {str(t): {lab: int(v) for lab, v in zip(counts.columns, row, strict=True)}
                             for t, row in zip(counts.index, counts.to_numpy(), strict=True)},
        "stance_share_by_target": {
            r.target: {"favor": _round(r.favor_share), "against": _round(r.against_share),
                       "neutral": _round(r.neutral_share), "net_against": _round(r.net_against)}
            for r in by_target.itertuples(index=False)},
    }


# ----------------------------------------------------------------------------- loading


#: paragraph-table columns the report never needs (the rest is metadata it may group by)
_UNUSED = ("start", "end")


def _optional_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data = read_json(path)
    return data if isinstance(data, dict) else {}


def _paragraph_columns(path: Path, config: Config) -> list[str]:
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except Exception:  # unreadable: read_parquet below raises the clear error
        return []
    wanted = {"doc_id", "para_id", "text", "duplicate_of", *config.report.time_columns, *config.report.group_columns}
    return [c for c in names if c in wanted and c not in _UNUSED]


def load_inputs(config: Config) -> ReportInputs:
    """Read every input of the ``report`` stage named in ``config``.

    Parameters
    ----------
    config : Config
        The pipeline config; its ``chunk``, ``topics`` and ``stance`` sections name the inputs.

    Returns
    -------
    ReportInputs
        The tables, the optional metrics (empty when absent), the input paths as ``sources`` and
        what made the page as ``provenance`` (:func:`~pipeline.report.provenance.collect_provenance`).

    Raises
    ------
    InputError
        If a required input file does not exist (the message names the stage to run first).
    """
    paths = {
        "manifest": config.chunk.manifest,
        "paragraph table": config.chunk.output,
        "topic table": config.topics.table,
        "topic output": config.topics.output,
        "stance table": config.stance.output,
    }
    hints = {"manifest": "chunk", "paragraph table": "chunk", "topic table": "topics", "topic output": "topics",
             "stance table": "stance"}
    for name, path in paths.items():
        if not Path(path).exists():
            raise InputError(f"{path}: file not found (run `pipeline {hints[name]}` first)")
    return ReportInputs(
        manifest=_optional_json(config.chunk.manifest),
        paragraphs=read_parquet(config.chunk.output, columns=_paragraph_columns(config.chunk.output, config) or None),
        topic_table=read_parquet(config.topics.table),
        doc_topics=read_parquet(config.topics.output),
        stance=read_parquet(config.stance.output),
        topic_metrics=_optional_json(config.topics.metrics),
        stance_metrics=_optional_json(config.stance.metrics),
        sources={name: str(path) for name, path in paths.items()},
        provenance=collect_provenance(config),
    )
