"""The ``report`` stage: one self-contained HTML page over the pipeline's outputs.

Inputs (all from the config): the chunk manifest and paragraph table, the topic table and
per-paragraph topic shares, the stance table, and, when present, the topic and stance
metrics. Output: ``report.output`` (HTML with inline CSS and two PNG figures embedded as
base64, no network resources, no timestamp, so the same inputs give the same bytes) and
``report.metrics`` (JSON headline numbers).

:func:`build_report` does the work on loaded tables; :func:`main` reads and writes.
"""

from __future__ import annotations

import base64
import html
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Config
from .errors import DataError, InputError
from .io import read_json, read_parquet, write_json, write_text
from .plotting import png_bytes

log = logging.getLogger(__name__)

STANCE_LABELS = ("favor", "against", "neutral", "none")
STANCE_COLORS = {"favor": "#1b9e77", "against": "#d95f02", "neutral": "#9e9e9e"}
EXAMPLE_CHARS = 400
#: corpus counts shown first, in this order (the manifest's other counts follow, sorted)
HEADLINE_COUNTS = ("documents", "paragraphs", "duplicates", "documents_in", "documents_ok", "documents_skipped")
#: the prevalence chart shows at most this many topics (the table lists all)
CHART_MAX_TOPICS = 40

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1, h2, h3 { line-height: 1.2; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2.2rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
blockquote { margin: .4rem 0 .8rem; padding: .3rem .8rem; border-left: 3px solid #bbb; background: #fafafa; }
.meta { color: #666; font-size: .85rem; } img { max-width: 100%; }
"""


@dataclass
class ReportInputs:
    """Everything the report shows, already loaded."""

    manifest: dict[str, Any]
    paragraphs: Any  # DataFrame: doc_id, para_id, text[, duplicate_of]
    topic_table: Any  # DataFrame: topic, label, top_words, prevalence
    doc_topics: Any  # DataFrame: doc_id, para_id, topic_0..topic_{K-1}
    stance: Any  # DataFrame: doc_id, para_id, target, label[, p_*, evidence]
    topic_metrics: dict[str, Any] = field(default_factory=dict)
    stance_metrics: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)


# ----------------------------------------------------------------------------- pieces


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def truncate(text: str, limit: int = EXAMPLE_CHARS) -> str:
    """``text`` cut at a word boundary to at most about ``limit`` characters, with an ellipsis."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,;:") + " \u2026"


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if value == value else "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    return _e(value)


def _table(headers: list[str], rows: list[list[Any]], numeric: frozenset[int] | set[int] = frozenset()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{_num(c)}</td>' if i in numeric else f"<td>{c}</td>"
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _png(fig: Any) -> str:
    """A figure as an ``<img>`` with a base64 PNG; no metadata, so the bytes are reproducible."""
    data = png_bytes(fig, dpi=100, tight=True)
    return f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'


def _figure(height: float) -> Any:
    from matplotlib.figure import Figure

    # the object API, not pyplot: no global state and no GUI backend
    fig = Figure(figsize=(7.5, height), dpi=100)
    return fig, fig.subplots()


def prevalence_figure(topic_table: Any) -> str:
    """Horizontal bars: mean topic share, most prevalent first."""
    import matplotlib

    top = topic_table.sort_values(["prevalence", "topic"], ascending=[False, True], kind="stable")
    top = top.head(CHART_MAX_TOPICS).iloc[::-1]
    with matplotlib.rc_context({"font.size": 9, "svg.hashsalt": "pipeline-report"}):
        fig, ax = _figure(0.6 + 0.28 * len(top))
        ax.barh([f"{t}: {lab}" for t, lab in zip(top["topic"], top["label"], strict=True)],
                100 * top["prevalence"].astype(float), color="#4c72b0")
        ax.set_xlabel("mean share of paragraphs (%)")
        ax.set_title("Topic prevalence")
        return _png(fig)


def stance_figure(counts: Any) -> str:
    """Stacked horizontal bars per target: favor / against / neutral mentions."""
    import matplotlib

    shown = [lab for lab in ("favor", "against", "neutral") if lab in counts.columns]
    data = counts[shown].iloc[::-1]
    with matplotlib.rc_context({"font.size": 9, "svg.hashsalt": "pipeline-report"}):
        fig, ax = _figure(0.9 + 0.35 * len(data))
        left = [0] * len(data)
        for label in shown:
            values = data[label].astype(int).tolist()
            ax.barh(list(data.index), values, left=left, label=label, color=STANCE_COLORS[label])
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_xlabel("paragraphs mentioning the target")
        ax.set_title("Stance by target")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        return _png(fig)


def corpus_counts(manifest: dict[str, Any], paragraphs: Any) -> dict[str, int]:
    """Headline corpus numbers: the manifest's counts, filled in from the paragraph table."""
    counts = manifest.get("counts") if isinstance(manifest.get("counts"), dict) else {}
    dup = paragraphs["duplicate_of"] if "duplicate_of" in paragraphs.columns else None
    computed = {
        "documents": int(paragraphs["doc_id"].nunique()),
        "paragraphs": len(paragraphs),
        "duplicates": int(dup.notna().sum()) if dup is not None else 0,
    }
    out = {k: int(v) for k, v in counts.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    out.setdefault("documents", out.get("documents_ok", computed["documents"]))
    out.setdefault("paragraphs", computed["paragraphs"])
    out.setdefault("duplicates", computed["duplicates"])
    return out


def stance_counts(stance: Any) -> Any:
    """Target x label counts (labels in the fixed order, unexpected labels after)."""
    import pandas as pd

    table = pd.crosstab(stance["target"].astype(str), stance["label"].astype(str))
    labels = list(STANCE_LABELS) + sorted(set(table.columns) - set(STANCE_LABELS))
    return table.reindex(columns=labels, fill_value=0).sort_index()


def topic_examples(doc_topics: Any, texts: Any, k: int, n: int) -> list[tuple[str, int, float, str]]:
    """The ``n`` paragraphs with the highest share of topic ``k``, non-duplicates first.

    ``texts`` is the paragraph table indexed by ``(doc_id, para_id)``.
    """
    import pandas as pd

    column = f"topic_{k}"
    if n <= 0 or column not in doc_topics.columns:
        return []
    top = doc_topics.loc[doc_topics[column].nlargest(max(n * 5, n + 10)).index, ["doc_id", "para_id", column]]
    top = top.assign(doc_id=top["doc_id"].astype(str), para_id=top["para_id"].astype("int64"))
    found = texts.reindex(pd.MultiIndex.from_frame(top[["doc_id", "para_id"]]))
    top = top.assign(text=found["text"].to_numpy(),
                     _dup=found["duplicate_of"].notna().to_numpy() if "duplicate_of" in found.columns else False)
    top = top[top["text"].notna()].sort_values(["_dup", column, "doc_id", "para_id"],
                                               ascending=[True, False, True, True], kind="stable")
    return [(r.doc_id, int(r.para_id), float(getattr(r, column)), truncate(r.text))
            for r in top.head(n).itertuples(index=False)]


def stance_examples(stance: Any) -> list[tuple[str, str, float, str, str, int]]:
    """For each target and label favor/against: the row with the highest class probability."""
    out = []
    if "evidence" not in stance.columns:
        return out
    for label in ("favor", "against"):
        prob = f"p_{label}"
        if prob not in stance.columns:
            continue
        rows = stance[stance["label"] == label].sort_values(
            ["target", prob, "doc_id", "para_id"], ascending=[True, False, True, True], kind="stable")
        rows = rows[rows["evidence"].map(lambda e: isinstance(e, str) and bool(e.strip()))]
        for row in rows.drop_duplicates("target").itertuples(index=False):
            out.append((str(row.target), label, float(getattr(row, prob)), truncate(row.evidence),
                        str(row.doc_id), int(row.para_id)))
    return sorted(out)


# ----------------------------------------------------------------------------- the page


def build_report(inputs: ReportInputs, examples_per_topic: int = 2) -> tuple[str, dict[str, Any]]:
    """Render the HTML page and the headline metrics.

    Returns
    -------
    html : str
    metrics : dict
        documents, paragraphs, duplicates, num_topics, stance (label -> count) and
        stance_by_target (target -> label -> count), plus topic quality when available.
    """
    for name, frame, cols in (("paragraph table", inputs.paragraphs, ("doc_id", "para_id", "text")),
                              ("topic table", inputs.topic_table, ("topic", "label", "top_words", "prevalence")),
                              ("topic output", inputs.doc_topics, ("doc_id", "para_id")),
                              ("stance table", inputs.stance, ("doc_id", "para_id", "target", "label"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            where = inputs.sources.get(name, name)
            raise DataError(f"{where}: missing column(s) {', '.join(missing)}")
    corpus = corpus_counts(inputs.manifest, inputs.paragraphs)
    table = inputs.topic_table.sort_values("topic", kind="stable")
    texts = inputs.paragraphs.assign(doc_id=inputs.paragraphs["doc_id"].astype(str),
                                     para_id=inputs.paragraphs["para_id"].astype("int64"))
    texts = texts.drop_duplicates(["doc_id", "para_id"]).set_index(["doc_id", "para_id"])
    counts = stance_counts(inputs.stance)
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>Topic and stance report</title><style>{_CSS}</style></head><body>",
             "<h1>Topic and stance report</h1>"]

    # corpus
    parts.append("<h2>Corpus</h2>")
    first = [k for k in HEADLINE_COUNTS if k in corpus]
    order = first + sorted(set(corpus) - set(first))
    parts.append(_table(["measure", "value"], [[_e(k.replace("_", " ")), corpus[k]] for k in order], numeric={1}))
    docs = inputs.manifest.get("documents")
    skipped = [d for d in docs if isinstance(d, dict) and d.get("status") not in (None, "ok")] \
        if isinstance(docs, list) else []
    if skipped:
        parts.append(f"<h3>Documents not used ({len(skipped):,})</h3>")
        parts.append(_table(["document", "status", "reason"],
                            [[_e(d.get("doc_id", d.get("path", "?"))), _e(d.get("status")), _e(d.get("reason", ""))]
                             for d in skipped[:100]]))
        if len(skipped) > 100:
            parts.append(f'<p class="meta">and {len(skipped) - 100:,} more; see the manifest.</p>')

    # topics
    parts.append(f"<h2>Topics ({len(table)})</h2>")
    quality = {k: inputs.topic_metrics.get(k) for k in ("c_npmi", "c_v", "u_mass", "topic_diversity", "perplexity")
               if k in inputs.topic_metrics}
    if quality:
        parts.append('<p class="meta">' + " &middot; ".join(f"{_e(k)} {_num(v)}" for k, v in quality.items())
                     + "</p>")
    parts.append(prevalence_figure(table))
    parts.append(_table(
        ["topic", "label", "prevalence %", "top words"],
        [[int(r.topic), _e(r.label), round(100 * float(r.prevalence), 2), _e(" ".join(map(str, r.top_words)))]
         for r in table.itertuples(index=False)],
        numeric={0, 2},
    ))
    if examples_per_topic > 0:
        parts.append("<h3>Representative paragraphs</h3>")
        for r in table.itertuples(index=False):
            parts.append(f"<h4>Topic {int(r.topic)}: {_e(r.label)}</h4>")
            for doc_id, para_id, share, text in topic_examples(inputs.doc_topics, texts, int(r.topic), examples_per_topic):
                parts.append(f'<blockquote>{_e(text)}<br><span class="meta">{_e(doc_id)} &para;{para_id} '
                             f"&middot; share {share:.2f}</span></blockquote>")

    # stance
    parts.append("<h2>Stance</h2>")
    if len(counts):
        parts.append(stance_figure(counts))
    parts.append(_table(["target", *counts.columns],
                        [[_e(t), *(int(v) for v in row)] for t, row in zip(counts.index, counts.to_numpy(), strict=True)],
                        numeric=set(range(1, len(counts.columns) + 1))))
    scalars = {k: v for k, v in inputs.stance_metrics.items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    if scalars:
        parts.append('<p class="meta">classifier: ' + " &middot; ".join(
            f"{_e(k)} {_num(v)}" for k, v in sorted(scalars.items())) + "</p>")
    examples = stance_examples(inputs.stance)
    if examples:
        parts.append("<h3>Strongest evidence</h3>")
        parts.append(_table(["target", "label", "probability", "evidence", "paragraph"],
                            [[_e(t), _e(lab), round(p, 3), _e(ev), f"{_e(d)} &para;{pid}"]
                             for t, lab, p, ev, d, pid in examples], numeric={2}))
    if inputs.sources:
        parts.append('<h2>Inputs</h2><p class="meta">' + "<br>".join(
            f"{_e(k)}: {_e(v)}" for k, v in inputs.sources.items()) + "</p>")
    parts.append("</body></html>\n")

    by_label = {lab: int(counts[lab].sum()) for lab in counts.columns}
    metrics: dict[str, Any] = {
        "documents": corpus["documents"],
        "paragraphs": corpus["paragraphs"],
        "duplicates": corpus["duplicates"],
        "num_topics": len(table),
        "stance": by_label,
        "stance_by_target": {str(t): {lab: int(v) for lab, v in zip(counts.columns, row, strict=True)}
                             for t, row in zip(counts.index, counts.to_numpy(), strict=True)},
    }
    if "documents_skipped" in corpus:
        metrics["documents_skipped"] = corpus["documents_skipped"]
    return "\n".join(parts), metrics


# ----------------------------------------------------------------------------- stage


def _optional_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data = read_json(path)
    return data if isinstance(data, dict) else {}


def main(config: Config) -> None:
    """Run the stage: pipeline outputs -> ``report.output`` and ``report.metrics``."""
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
    paragraphs = read_parquet(config.chunk.output)
    keep = [c for c in ("doc_id", "para_id", "text", "duplicate_of") if c in paragraphs.columns]
    inputs = ReportInputs(
        manifest=_optional_json(config.chunk.manifest),
        paragraphs=paragraphs[keep],
        topic_table=read_parquet(config.topics.table),
        doc_topics=read_parquet(config.topics.output),
        stance=read_parquet(config.stance.output),
        topic_metrics=_optional_json(config.topics.metrics),
        stance_metrics=_optional_json(config.stance.metrics),
        sources={name: str(path) for name, path in paths.items()},
    )
    page, metrics = build_report(inputs, config.report.examples_per_topic)
    write_text(config.report.output, page)
    write_json(config.report.metrics, metrics)
    log.info("report: %s (%d documents, %d paragraphs, %d topics)", config.report.output,
             metrics["documents"], metrics["paragraphs"], metrics["num_topics"])
