"""The ``report`` stage: one self-contained HTML page over the pipeline's outputs.

Inputs (all from the config): the chunk manifest and paragraph table (with whatever metadata
columns it has), the topic table and per-paragraph topic shares, the stance table, and, when
present, the topic and stance metrics. Outputs:

- ``report.output``: HTML with inline CSS and PNG figures embedded as base64, no script, no
  network resource and no timestamp, so the same inputs give the same bytes;
- ``report.metrics``: JSON headline numbers (a DVC metric);
- ``report.plots``: CSV tables behind the main figures (DVC plots).

Stance is summarised over *mentions*: stance rows whose label is favor, against or neutral
(``none`` means the paragraph does not mention the target). ``net_against`` is
``(against - favor) / mentions``: +1 when every mention is hostile, -1 when every one is
favourable, 0 when they balance or are all neutral.

The first part computes tables (no I/O), :func:`build_report` renders them, :func:`main`
reads and writes.
"""

from __future__ import annotations

import base64
import html
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import plotting
from .config import Config, ReportConfig
from .errors import DataError, InputError
from .io import read_json, read_parquet, write_json, write_text

log = logging.getLogger(__name__)

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


# ----------------------------------------------------------------------------- rendering

#: corpus counts shown first, in this order (the manifest's other counts follow, sorted)
HEADLINE_COUNTS = ("documents", "paragraphs", "duplicates", "documents_in", "documents_ok", "documents_skipped")
#: the prevalence chart shows at most this many topics (the table lists all)
CHART_MAX_TOPICS = 40
#: skipped documents and near-duplicate pairs listed in full up to this many
LIST_LIMIT = 100
DUPLICATES_SHOWN = 10

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 64rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1, h2, h3, h4 { line-height: 1.2; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2.4rem; }
nav ol { columns: 2; font-size: .95rem; } a { color: #2b5797; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.cell { text-align: center; font-variant-numeric: tabular-nums; white-space: nowrap; min-width: 4.2rem; }
td.cell a { color: #222; text-decoration: none; display: block; } td.cell a:hover { text-decoration: underline; }
td.empty { color: #bbb; text-align: center; }
small, .n { color: #555; font-size: .8rem; }
blockquote { margin: .4rem 0 .8rem; padding: .3rem .8rem; border-left: 3px solid #bbb; background: #fafafa; }
.meta, .note { color: #555; font-size: .88rem; } .note { background: #f7f7f7; padding: .4rem .7rem; }
img { max-width: 100%; height: auto; display: block; margin: .6rem 0; }
details { margin: .5rem 0 1rem; } summary { cursor: pointer; font-weight: 600; }
tbody:target td { background: #fff6d5; }
.favor { color: #137a5c; font-weight: 600; } .against { color: #b04a00; font-weight: 600; } .neutral { color: #666; }
.scroll { overflow-x: auto; }
"""


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


@dataclass
class Report:
    """What :func:`build_report` makes: the page, the metrics and the DVC plot tables (file name -> frame)."""

    html: str
    metrics: dict[str, Any]
    plots: dict[str, pd.DataFrame]


# ----------------------------------------------------------------------------- small HTML helpers


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if value == value else "n/a"
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    return _e(value)


class _Td(str):
    """A complete ``<td>`` element, put into a table as it is."""


def _pct(value: float) -> _Td:
    return _Td(f'<td class="num">{"&ndash;" if value != value else f"{100 * value:.0f}%"}</td>')


def _cell(value: Any, numeric: bool) -> str:
    if isinstance(value, _Td):
        return value
    return f'<td class="num">{_num(value)}</td>' if numeric else f"<td>{value}</td>"


def _table(headers: list[str], rows: list[list[Any]], numeric: frozenset[int] | set[int] = frozenset()) -> str:
    """A table; cells are HTML (escape text first) except ``numeric`` columns, which are formatted numbers."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(c, i in numeric) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _slugs(names: list[str]) -> dict[str, str]:
    """A unique anchor-safe slug per name."""
    out: dict[str, str] = {}
    for name in names:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "target"
        while slug in out.values():
            slug += "-x"
        out[name] = slug
    return out


def _net_cell(net: float, n: int, href: str | None = None) -> _Td:
    """A table cell coloured by net against, showing the value and the number of mentions."""
    if not n:
        return _Td('<td class="empty">&middot;</td>')
    color = plotting.tint(plotting.net_cmap(), net, -1.0, 1.0)
    text = f'{net:+.2f} <span class="n">({n})</span>'
    if href:
        text = f'<a href="#{href}" title="evidence for this cell">{text}</a>'
    return _Td(f'<td class="cell" style="background:{color}">{text}</td>')


def _net_grid(table: pd.DataFrame, row_col: str, row_order: list[Any], targets: list[str], row_header: str,
              row_names: dict[Any, str] | None = None) -> str:
    """Rows x targets grid of net against (mentions) from a :func:`summarise` table on ``[row_col, target]``."""
    cells = {(r, t): (net, n) for r, t, net, n in
             zip(table[row_col], table["target"], table["net_against"], table["mentions"], strict=True)}
    rows = []
    for r in row_order:
        name = _e(row_names.get(r, r) if row_names else r)
        rows.append(f"<tr><th>{name}</th>" + "".join(
            _net_cell(*cells.get((r, t), (np.nan, 0))) for t in targets) + "</tr>")
    head = "".join(f"<th>{_e(h)}</th>" for h in [row_header, *targets])
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


NET_NOTE = ('<p class="meta">Cells: net against = (against &minus; favor) / mentions, from &minus;1 (all favourable, '
            'green) to +1 (all hostile, orange); mentions in brackets. Paragraphs that do not mention a target '
            'are not counted.</p>')


# ----------------------------------------------------------------------------- sections


def _corpus_section(inputs: ReportInputs, corpus: dict[str, int], paragraphs: pd.DataFrame) -> list[str]:
    parts = ['<h2 id="corpus">Corpus</h2>']
    first = [k for k in HEADLINE_COUNTS if k in corpus]
    order = first + sorted(set(corpus) - set(first))
    parts.append(_table(["measure", "value"], [[_e(k.replace("_", " ")), corpus[k]] for k in order], numeric={1}))
    skipped = skipped_documents(inputs.manifest)
    parts.append(f"<h3>Inputs not used ({len(skipped):,})</h3>")
    if skipped:
        parts.append(_table(["document", "status", "reason"],
                            [[_e(d.get("doc_id", d.get("source", d.get("path", "?")))), _e(d.get("status")),
                              _e(d.get("reason", ""))] for d in skipped[:LIST_LIMIT]]))
        if len(skipped) > LIST_LIMIT:
            parts.append(f'<p class="meta">and {len(skipped) - LIST_LIMIT:,} more; see the manifest.</p>')
    else:
        parts.append('<p class="meta">Every input document was read and split into paragraphs.</p>')
    dups = duplicate_pairs(paragraphs)
    parts.append(f"<h3>Near-duplicate paragraphs ({len(dups):,})</h3>")
    if len(dups):
        parts.append('<p class="meta">Flagged paragraphs repeat (most of) an earlier paragraph of another document; '
                     "they stay in the stance counts and are left out of topic fitting and examples. "
                     f"The first {min(DUPLICATES_SHOWN, len(dups))}:</p>")
        parts.append(_table(["paragraph", "duplicate of", "text"],
                            [[f"{_e(r.doc_id)} &para;{int(r.para_id)}", _e(r.duplicate_of), _e(truncate(r.text, 160))]
                             for r in dups.head(DUPLICATES_SHOWN).itertuples(index=False)]))
    else:
        parts.append('<p class="meta">No near-duplicate paragraphs were flagged.</p>')
    return parts


def _topics_section(inputs: ReportInputs, table: pd.DataFrame, texts: pd.DataFrame, examples: int) -> list[str]:
    parts = [f'<h2 id="topics">Topics ({len(table)})</h2>']
    quality = {k: inputs.topic_metrics.get(k) for k in ("c_npmi", "c_v", "u_mass", "topic_diversity", "perplexity")
               if k in inputs.topic_metrics}
    if quality:
        parts.append('<p class="meta">Model quality: ' + " &middot; ".join(
            f"{_e(k)} {_num(v)}" for k, v in quality.items()) + "</p>")
    top = table.sort_values(["prevalence", "topic"], ascending=[False, True], kind="stable").head(CHART_MAX_TOPICS)
    parts.append(_img(plotting.bar_chart([f"{t}: {lab}" for t, lab in zip(top["topic"], top["label"], strict=True)],
                                         (100 * top["prevalence"].astype(float)).tolist(),
                                         xlabel="mean share of paragraphs (%)", title="Topic prevalence"),
                      "Topic prevalence: mean share of paragraphs per topic"))
    has_dominant = "dominant_paragraphs" in table.columns
    parts.append(_table(
        ["topic", "label", "prevalence %", *(["dominant in ¶"] if has_dominant else []), "top words"],
        [[int(r.topic), _e(r.label), round(100 * float(r.prevalence), 2),
          *([int(r.dominant_paragraphs)] if has_dominant else []), _e(" ".join(map(str, r.top_words)))]
         for r in table.itertuples(index=False)],
        numeric={0, 2, 3} if has_dominant else {0, 2},
    ))
    if examples > 0:
        parts.append("<h3>Representative paragraphs</h3>")
        parts.append(f'<p class="meta">The {examples} paragraphs with the highest share of each topic '
                     "(near-duplicates passed over).</p>")
        for r in table.itertuples(index=False):
            parts.append(f"<h4>Topic {int(r.topic)}: {_e(r.label)}</h4>")
            for doc_id, para_id, share, text in topic_examples(inputs.doc_topics, texts, int(r.topic), examples):
                parts.append(f'<blockquote>{_e(text)}<br><span class="meta">{_e(doc_id)} &para;{para_id} '
                             f"&middot; share {share:.2f}</span></blockquote>")
    return parts


def _topics_by_metadata(doc_topics: pd.DataFrame, meta: pd.DataFrame, table: pd.DataFrame, year: Any,
                        groups: list[str], settings: ReportConfig) -> list[str]:
    parts = ['<h2 id="topics-metadata">Topics over time and by group</h2>']
    names = {int(t): f"{int(t)}: {lab}" for t, lab in zip(table["topic"], table["label"], strict=True)}
    if year is None and not groups:
        parts.append(_missing_note(settings))
        return parts
    if year is not None:
        name, years = year
        shares = topic_shares_by(doc_topics, meta[KEYS].assign(year=years.to_numpy()).dropna(subset=["year"]), "year")
        ranked = table.sort_values(["prevalence", "topic"], ascending=[False, True], kind="stable")["topic"]
        shown = [int(t) for t in ranked if int(t) in shares.columns][:len(plotting.SERIES_COLORS)]
        parts.append(f"<h3>Over time (from <code>{_e(name)}</code>)</h3>")
        parts.append(_img(plotting.line_chart(
            [int(y) for y in shares.index], {names[t]: (100 * shares[t]).tolist() for t in sorted(shown)},
            xlabel="year", ylabel="mean topic share (%)", title="Topic prevalence by year"),
            "Topic prevalence by year"))
        if len(shown) < len(table):
            parts.append(f'<p class="meta">The {len(shown)} most prevalent topics are drawn.</p>')
        parts.append('<p class="meta">Paragraphs per year: ' + ", ".join(
            f"{int(y)}: {int(n):,}" for y, n in shares["paragraphs"].items()) + "</p>")
    for column in groups:
        keep = largest_groups(meta[column], settings.max_groups)
        keys = meta[KEYS].assign(group=meta[column].astype("string").to_numpy())
        shares = topic_shares_by(doc_topics, keys[keys["group"].isin(keep)], "group").reindex(keep)
        topics = [int(t) for t in table["topic"] if int(t) in shares.columns]
        parts.append(f"<h3>By {_e(column)}</h3>")
        parts.append(_img(plotting.heatmap(
            100 * shares[topics].to_numpy(dtype=float), [f"{g} ({int(n):,} ¶)" for g, n in shares["paragraphs"].items()],
            [names[t] for t in topics], title=f"Mean topic share (%) by {column}", colorbar="mean topic share (%)",
            diverging=False, annotations=np.vectorize(lambda v: "" if v != v else f"{v:.0f}")(
                100 * shares[topics].to_numpy(dtype=float))), f"Topic prevalence by {column}"))
        if meta[column].nunique() > len(keep):
            parts.append(f'<p class="meta">The {len(keep)} largest of {meta[column].nunique():,} groups.</p>')
    return parts


def _missing_note(settings: ReportConfig) -> str:
    wanted = ", ".join(f"<code>{_e(c)}</code>" for c in [*settings.time_columns, *settings.group_columns])
    return (f'<p class="note">The paragraph table has none of the metadata columns {wanted}, so there is no '
            "breakdown over time or by group. Corpora read from .jsonl or .csv keep their fields as columns; "
            "the columns looked for are <code>report.time_columns</code> and <code>report.group_columns</code>.</p>")


def _stance_section(inputs: ReportInputs, by_target: pd.DataFrame, counts: pd.DataFrame) -> list[str]:
    parts = ['<h2 id="stance">Stance by target</h2>']
    named = by_target.assign(name=[f"{t} (n={n:,})" for t, n in zip(by_target["target"], by_target["mentions"],
                                                                      strict=True)])
    if len(named):
        parts.append(_img(plotting.stacked_shares(
            named["name"].tolist(), {lab: (100 * named[f"{lab}_share"]).tolist() for lab in MENTION_LABELS},
            xlabel="share of the paragraphs that mention the target (%)", title="Stance by target"),
            "Stance by target: shares of favor, against and neutral mentions"))
    none = counts["none"] if "none" in counts.columns else pd.Series(0, index=counts.index)
    rows = []
    for r in by_target.itertuples(index=False):
        rows.append([_e(r.target), int(r.mentions), int(r.favor), int(r.against), int(r.neutral),
                     int(none.get(r.target, 0)), _pct(r.favor_share), _pct(r.against_share), _pct(r.neutral_share)]
                    + [_net_cell(r.net_against, int(r.mentions))])
    parts.append(_table(["target", "mentions", "favor", "against", "neutral", "not mentioned", "favor %",
                         "against %", "neutral %", "net against"], rows, numeric={1, 2, 3, 4, 5}))
    scalars = {k: v for k, v in inputs.stance_metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    if scalars:
        parts.append('<p class="meta">Classifier (cross-validated): ' + " &middot; ".join(
            f"{_e(k)} {_num(v)}" for k, v in sorted(scalars.items())) + "</p>")
    return parts


def _stance_breakdowns(stance: pd.DataFrame, meta: pd.DataFrame, targets: list[str], year: Any, groups: list[str],
                       settings: ReportConfig) -> list[str]:
    rows = mentions(stance).assign(target=lambda f: f["target"].astype(str))
    parts = ['<h3 id="stance-documents">By document</h3>']
    by_doc = summarise(rows, ["doc_id", "target"])
    totals = by_doc.groupby("doc_id")["mentions"].sum()
    docs = totals.rename_axis("doc").reset_index(name="n").sort_values(["n", "doc"], ascending=[False, True],
                                                                     kind="stable")["doc"]
    shown = docs.head(settings.max_groups).tolist()
    parts.append(_net_grid(by_doc, "doc_id", shown, targets, "document"))
    if len(docs) > len(shown):
        parts.append(f'<p class="meta">The {len(shown)} documents with the most mentions, of {len(docs):,}.</p>')
    parts.append(NET_NOTE)
    parts.append('<h3 id="stance-metadata">Over time and by group</h3>')
    if year is None and not groups:
        parts.append(_missing_note(settings))
        return parts
    with_meta = rows.merge(meta[KEYS + groups], on=KEYS, how="left")
    if year is not None:
        name, years = year
        by_key = meta[KEYS].assign(year=years.to_numpy())
        dated = rows.merge(by_key, on=KEYS, how="inner").dropna(subset=["year"])
        by_year = summarise(dated.assign(year=dated["year"].astype(int)), ["year", "target"])
        year_list = sorted(by_year["year"].unique().tolist())
        seen = [t for t in targets if t in set(by_year["target"])]
        grid = by_year.pivot(index="year", columns="target", values="net_against").reindex(index=year_list)
        parts.append(f"<h4>Over time (from <code>{_e(name)}</code>)</h4>")
        if seen:
            parts.append(_img(plotting.line_chart(
                year_list, {t: grid[t].tolist() for t in seen}, xlabel="year", ylabel="net against",
                title="Net against by year (+1 all hostile, -1 all favourable)", ylim=(-1.05, 1.05),
                zero_line=True), "Net against by year and target"))
        parts.append(_net_grid(by_year, "year", year_list, targets, "year"))
    for column in groups:
        keep = largest_groups(meta[column], settings.max_groups)
        grouped = with_meta.assign(group=with_meta[column].astype("string"))
        by_group = summarise(grouped[grouped["group"].isin(keep)], ["group", "target"])
        parts.append(f"<h4>By {_e(column)}</h4>")
        parts.append(_net_grid(by_group, "group", keep, targets, column))
    return parts


def _topic_target_section(rows: pd.DataFrame, table: pd.DataFrame, targets: list[str], slugs: dict[str, str],
                          evidence: pd.DataFrame) -> list[str]:
    parts = ['<h2 id="topic-target">Which topics carry the stance? Topic &times; target</h2>',
             '<p class="meta">Each paragraph counts under its dominant topic. Colour and number: net against '
             "(+1 all hostile, &minus;1 all favourable); n: mentions. Click a cell for its evidence sentences.</p>"]
    cells = summarise(rows, ["topic", "target"])
    topics = [int(t) for t in table["topic"]]
    names = {int(t): f"{int(t)}: {lab}" for t, lab in zip(table["topic"], table["label"], strict=True)}
    lookup = {(int(r.topic), r.target): (r.net_against, int(r.mentions)) for r in cells.itertuples(index=False)}
    net = np.array([[lookup.get((k, t), (np.nan, 0))[0] for t in targets] for k in topics], dtype=float)
    counts = np.array([[lookup.get((k, t), (np.nan, 0))[1] for t in targets] for k in topics], dtype=int)
    if targets and topics:
        notes = np.where(counts > 0, np.vectorize(lambda v, n: f"{v:+.2f}\nn={n}")(net, counts), "")
        parts.append(_img(plotting.heatmap(net, [names[k] for k in topics], targets, diverging=True,
                                           title="Net against by dominant topic and target", colorbar="net against",
                                           annotations=notes), "Heatmap: net against by topic and target"))
    has_evidence = set(zip(evidence["topic"].astype(int), evidence["target"], strict=True)) if len(evidence) else set()
    body = []
    for i, k in enumerate(topics):
        cells_html = "".join(
            _net_cell(net[i, j], int(counts[i, j]), f"ev-{slugs[t]}-{k}" if (k, t) in has_evidence else None)
            for j, t in enumerate(targets))
        body.append(f"<tr><th>{_e(names[k])}</th>{cells_html}</tr>")
    head = "".join(f'<th><a href="#evidence-{slugs[t]}">{_e(t)}</a></th>' for t in targets)
    parts.append(f'<div class="scroll"><table><thead><tr><th>topic</th>{head}</tr></thead>'
                 f'<tbody>{"".join(body)}</tbody></table></div>')
    return parts


def _evidence_section(rows: pd.DataFrame, evidence: pd.DataFrame, table: pd.DataFrame, targets: list[str],
                      slugs: dict[str, str], per_cell: int) -> list[str]:
    parts = ['<h2 id="evidence">Evidence sentences</h2>']
    if per_cell <= 0:
        return [*parts, '<p class="note">Evidence listing is off (<code>report.evidence_per_cell: 0</code>).</p>']
    parts.append(f'<p class="meta">Per target and topic, up to {per_cell} sentences that carry the stance: against '
                 "first, then favor, then neutral, each by the classifier's probability.</p>")
    names = {int(t): f"{int(t)}: {lab}" for t, lab in zip(table["topic"], table["label"], strict=True)}
    for target in targets:
        mine = rows[rows["target"] == target]
        counts = {lab: int((mine["label"] == lab).sum()) for lab in MENTION_LABELS}
        summary = (f"{_e(target)}: {len(mine):,} mentions &middot; {counts['against']:,} against &middot; "
                   f"{counts['favor']:,} favor &middot; {counts['neutral']:,} neutral")
        shown = evidence[evidence["target"] == target]
        parts.append(f'<details open id="evidence-{slugs[target]}"><summary>{summary}</summary>')
        if not len(shown):
            parts.append('<p class="meta">No evidence sentences.</p></details>')
            continue
        bodies = []
        for k, group in shown.groupby("topic", sort=True):
            trs = []
            for j, r in enumerate(group.itertuples(index=False)):
                lead = (f'<th rowspan="{len(group)}">{_e(names.get(int(k), k))}</th>' if j == 0 else "")
                prob = "" if r.probability != r.probability else f"{r.probability:.2f}"
                trs.append(f'<tr>{lead}<td class="{_e(r.label)}">{_e(r.label)}</td><td class="num">{prob}</td>'
                           f"<td>{_e(truncate(r.evidence))}</td><td>{_e(r.doc_id)}&nbsp;&para;{int(r.para_id)}</td></tr>")
            bodies.append(f'<tbody id="ev-{slugs[target]}-{int(k)}">{"".join(trs)}</tbody>')
        parts.append('<div class="scroll"><table><thead><tr><th>topic</th><th>stance</th><th>p</th><th>evidence</th>'
                     f'<th>paragraph</th></tr></thead>{"".join(bodies)}</table></div>')
        parts.append('<p class="meta"><a href="#topic-target">back to the topic &times; target table</a></p></details>')
    return parts


# ----------------------------------------------------------------------------- the page


def _check_columns(inputs: ReportInputs) -> None:
    for name, frame, cols in (("paragraph table", inputs.paragraphs, ("doc_id", "para_id", "text")),
                              ("topic table", inputs.topic_table, ("topic", "label", "top_words", "prevalence")),
                              ("topic output", inputs.doc_topics, ("doc_id", "para_id")),
                              ("stance table", inputs.stance, ("doc_id", "para_id", "target", "label"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataError(f"{inputs.sources.get(name, name)}: missing column(s) {', '.join(missing)}")


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
        against); ``plots`` (``topics.csv``, ``stance_by_target.csv``, ``against_by_topic.csv``).
    """
    settings = settings or ReportConfig()
    _check_columns(inputs)
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
    slugs = _slugs(targets)
    rows = topic_mentions(inputs.stance, inputs.doc_topics)
    evidence = evidence_rows(rows, settings.evidence_per_cell)

    sections = [("corpus", "Corpus"), ("topics", "Topics"), ("topics-metadata", "Topics over time and by group"),
                ("stance", "Stance by target"), ("topic-target", "Topic \u00d7 target"),
                ("evidence", "Evidence sentences")]
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             '<link rel="icon" href="data:,">',
             f"<title>Topic and stance report</title><style>{_CSS}</style></head><body>",
             "<h1>Topic and stance report</h1>",
             f'<p class="meta">{corpus["documents"]:,} documents &middot; {corpus["paragraphs"]:,} paragraphs &middot; '
             f"{len(table)} topics &middot; {len(targets)} stance targets</p>",
             "<nav><ol>" + "".join(f'<li><a href="#{i}">{_e(t)}</a></li>' for i, t in sections) + "</ol></nav>"]
    parts += _corpus_section(inputs, corpus, paragraphs)
    parts += _topics_section(inputs, table, texts, settings.examples_per_topic)
    parts += _topics_by_metadata(inputs.doc_topics, meta, table, year, groups, settings)
    parts += _stance_section(inputs, by_target, counts)
    parts += _stance_breakdowns(inputs.stance, meta, targets, year, groups, settings)
    parts += _topic_target_section(rows, table, targets, slugs, evidence)
    parts += _evidence_section(rows, evidence, table, targets, slugs, settings.evidence_per_cell)
    if inputs.sources:
        parts.append('<h2 id="inputs">Inputs</h2><p class="meta">' + "<br>".join(
            f"{_e(k)}: {_e(v)}" for k, v in inputs.sources.items()) + "</p>")
    parts.append("</body></html>\n")
    return Report("\n".join(parts), _metrics(corpus, table, counts, by_target), _plots(table, rows, by_target))


def _round(value: float) -> float | None:
    return None if value != value else round(float(value), 4)


def _metrics(corpus: dict[str, int], table: pd.DataFrame, counts: pd.DataFrame, by_target: pd.DataFrame) -> dict:
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


def _plots(table: pd.DataFrame, rows: pd.DataFrame, by_target: pd.DataFrame) -> dict[str, pd.DataFrame]:
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
    return {"topics.csv": topics, "stance_by_target.csv": stance, "against_by_topic.csv": against}


# ----------------------------------------------------------------------------- stage


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


def main(config: Config) -> None:
    """Run the stage: pipeline outputs -> ``report.output``, ``report.metrics`` and ``report.plots``."""
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
    inputs = ReportInputs(
        manifest=_optional_json(config.chunk.manifest),
        paragraphs=read_parquet(config.chunk.output, columns=_paragraph_columns(config.chunk.output, config) or None),
        topic_table=read_parquet(config.topics.table),
        doc_topics=read_parquet(config.topics.output),
        stance=read_parquet(config.stance.output),
        topic_metrics=_optional_json(config.topics.metrics),
        stance_metrics=_optional_json(config.stance.metrics),
        sources={name: str(path) for name, path in paths.items()},
    )
    report = build_report(inputs, config.report)
    plots = Path(config.report.plots)
    for name, frame in report.plots.items():
        write_text(plots / name, frame.to_csv(index=False, lineterminator="\n", float_format="%.6g"))
    write_text(config.report.output, report.html)
    write_json(config.report.metrics, report.metrics)
    log.info("report: %s (%d documents, %d paragraphs, %d topics); plot data in %s/", config.report.output,
             report.metrics["documents"], report.metrics["paragraphs"], report.metrics["num_topics"], plots)
