"""The sections of the report page, each rendered to a list of HTML fragments."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..config import ReportConfig
from . import figures
from .data import (
    KEYS,
    MENTION_LABELS,
    ReportInputs,
    duplicate_pairs,
    largest_groups,
    mentions,
    skipped_documents,
    summarise,
    topic_examples,
    topic_shares_by,
    truncate,
)
from .markup import NET_NOTE, esc, fmt_num, html_table, img, net_cell, net_grid, pct_cell
from .provenance import SHORT, SKIPPED

#: corpus counts shown first, in this order (the manifest's other counts follow, sorted)
HEADLINE_COUNTS = ("documents", "paragraphs", "duplicates", "documents_in", "documents_ok", "documents_skipped")
#: the prevalence chart shows at most this many topics (the table lists all)
CHART_MAX_TOPICS = 40
#: skipped documents and near-duplicate pairs listed in full up to this many
LIST_LIMIT = 100
DUPLICATES_SHOWN = 10


def corpus_section(inputs: ReportInputs, corpus: dict[str, int], paragraphs: pd.DataFrame) -> list[str]:
    parts = ['<h2 id="corpus">Corpus</h2>']
    first = [k for k in HEADLINE_COUNTS if k in corpus]
    order = first + sorted(set(corpus) - set(first))
    parts.append(html_table(["measure", "value"], [[esc(k.replace("_", " ")), corpus[k]] for k in order], numeric={1}))
    skipped = skipped_documents(inputs.manifest)
    parts.append(f"<h3>Inputs not used ({len(skipped):,})</h3>")
    if skipped:
        parts.append(html_table(["document", "status", "reason"],
                            [[esc(d.get("doc_id", d.get("source", d.get("path", "?")))), esc(d.get("status")),
                              esc(d.get("reason", ""))] for d in skipped[:LIST_LIMIT]]))
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
        parts.append(html_table(["paragraph", "duplicate of", "text"],
                            [[f"{esc(r.doc_id)} &para;{int(r.para_id)}", esc(r.duplicate_of), esc(truncate(r.text, 160))]
                             for r in dups.head(DUPLICATES_SHOWN).itertuples(index=False)]))
    else:
        parts.append('<p class="meta">No near-duplicate paragraphs were flagged.</p>')
    return parts


#: how the report names each ``topics.label_ranking``
LABEL_RANKING_NAMES = {"probability": "probability", "frex": "FREX (frequent and exclusive words, as STM's labelTopics)",
                       "relevance": "LDAvis relevance"}


def topics_section(inputs: ReportInputs, table: pd.DataFrame, texts: pd.DataFrame, examples: int) -> list[str]:
    parts = [f'<h2 id="topics">Topics ({len(table)})</h2>']
    quality = {k: inputs.topic_metrics.get(k) for k in ("c_npmi", "c_v", "u_mass", "topic_diversity", "perplexity")
               if k in inputs.topic_metrics}
    if quality:
        parts.append('<p class="meta">Model quality: ' + " &middot; ".join(
            f"{esc(k)} {fmt_num(v)}" for k, v in quality.items()) + "</p>")
    top = table.sort_values(["prevalence", "topic"], ascending=[False, True], kind="stable").head(CHART_MAX_TOPICS)
    parts.append(img(figures.prevalence_chart(top), "Topic prevalence: mean share of paragraphs per topic"))
    has_dominant = "dominant_paragraphs" in table.columns
    has_frex = "frex_words" in table.columns
    parts.append(html_table(
        ["topic", "label", "prevalence %", *(["dominant in ¶"] if has_dominant else []), "most probable words",
         *(["FREX words (frequent and exclusive)"] if has_frex else [])],
        [[int(r.topic), esc(r.label), round(100 * float(r.prevalence), 2),
          *([int(r.dominant_paragraphs)] if has_dominant else []), esc(" ".join(map(str, r.top_words))),
          *([esc(" ".join(map(str, r.frex_words)))] if has_frex else [])]
         for r in table.itertuples(index=False)],
        numeric={0, 2, 3} if has_dominant else {0, 2},
    ))
    ranking = inputs.topic_metrics.get("label_ranking")
    if ranking:
        parts.append(f'<p class="meta">Labels: the first words by {esc(LABEL_RANKING_NAMES.get(ranking, ranking))} '
                     "(topics.label_ranking).</p>")
    if examples > 0:
        parts.append("<h3>Representative paragraphs</h3>")
        parts.append(f'<p class="meta">The {examples} paragraphs with the highest share of each topic '
                     "(near-duplicates passed over).</p>")
        for r in table.itertuples(index=False):
            parts.append(f"<h4>Topic {int(r.topic)}: {esc(r.label)}</h4>")
            for doc_id, para_id, share, text in topic_examples(inputs.doc_topics, texts, int(r.topic), examples):
                parts.append(f'<blockquote>{esc(text)}<br><span class="meta">{esc(doc_id)} &para;{para_id} '
                             f"&middot; share {share:.2f}</span></blockquote>")
    return parts


def topics_by_metadata(doc_topics: pd.DataFrame, meta: pd.DataFrame, table: pd.DataFrame, year: Any,
                        groups: list[str], settings: ReportConfig) -> list[str]:
    parts = ['<h2 id="topics-metadata">Topics over time and by group</h2>']
    names = {int(t): f"{int(t)}: {lab}" for t, lab in zip(table["topic"], table["label"], strict=True)}
    if year is None and not groups:
        parts.append(missing_note(settings))
        return parts
    if year is not None:
        name, years = year
        shares = topic_shares_by(doc_topics, meta[KEYS].assign(year=years.to_numpy()).dropna(subset=["year"]), "year")
        ranked = table.sort_values(["prevalence", "topic"], ascending=[False, True], kind="stable")["topic"]
        shown = [int(t) for t in ranked if int(t) in shares.columns][:figures.MAX_LINES]
        parts.append(f"<h3>Over time (from <code>{esc(name)}</code>)</h3>")
        parts.append(img(figures.topic_year_chart(shares, names, shown), "Topic prevalence by year"))
        if len(shown) < len(table):
            parts.append(f'<p class="meta">The {len(shown)} most prevalent topics are drawn.</p>')
        parts.append('<p class="meta">Paragraphs per year: ' + ", ".join(
            f"{int(y)}: {int(n):,}" for y, n in shares["paragraphs"].items()) + "</p>")
    for column in groups:
        keep = largest_groups(meta[column], settings.max_groups)
        keys = meta[KEYS].assign(group=meta[column].astype("string").to_numpy())
        shares = topic_shares_by(doc_topics, keys[keys["group"].isin(keep)], "group").reindex(keep)
        topics = [int(t) for t in table["topic"] if int(t) in shares.columns]
        parts.append(f"<h3>By {esc(column)}</h3>")
        parts.append(img(figures.topic_group_heatmap(shares, topics, names, column), f"Topic prevalence by {column}"))
        if meta[column].nunique() > len(keep):
            parts.append(f'<p class="meta">The {len(keep)} largest of {meta[column].nunique():,} groups.</p>')
    return parts


def missing_note(settings: ReportConfig) -> str:
    wanted = ", ".join(f"<code>{esc(c)}</code>" for c in [*settings.time_columns, *settings.group_columns])
    return (f'<p class="note">The paragraph table has none of the metadata columns {wanted}, so there is no '
            "breakdown over time or by group. Corpora read from .jsonl or .csv keep their fields as columns; "
            "the columns looked for are <code>report.time_columns</code> and <code>report.group_columns</code>.</p>")


def stance_section(inputs: ReportInputs, by_target: pd.DataFrame, counts: pd.DataFrame) -> list[str]:
    parts = ['<h2 id="stance">Stance by target</h2>']
    named = by_target.assign(name=[f"{t} (n={n:,})" for t, n in zip(by_target["target"], by_target["mentions"],
                                                                      strict=True)])
    if len(named):
        parts.append(img(figures.stance_chart(named),
                         "Stance by target: shares of favor, against and neutral mentions"))
    none = counts["none"] if "none" in counts.columns else pd.Series(0, index=counts.index)
    rows = []
    for r in by_target.itertuples(index=False):
        rows.append([esc(r.target), int(r.mentions), int(r.favor), int(r.against), int(r.neutral),
                     int(none.get(r.target, 0)), pct_cell(r.favor_share), pct_cell(r.against_share), pct_cell(r.neutral_share)]
                    + [net_cell(r.net_against, int(r.mentions))])
    parts.append(html_table(["target", "mentions", "favor", "against", "neutral", "not mentioned", "favor %",
                         "against %", "neutral %", "net against"], rows, numeric={1, 2, 3, 4, 5}))
    scalars = {k: v for k, v in inputs.stance_metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    if scalars:
        parts.append('<p class="meta">Classifier (cross-validated): ' + " &middot; ".join(
            f"{esc(k)} {fmt_num(v)}" for k, v in sorted(scalars.items())) + "</p>")
    return parts


def stance_breakdowns(stance: pd.DataFrame, meta: pd.DataFrame, targets: list[str], year: Any, groups: list[str],
                       settings: ReportConfig) -> list[str]:
    rows = mentions(stance).assign(target=lambda f: f["target"].astype(str))
    parts = ['<h3 id="stance-documents">By document</h3>']
    by_doc = summarise(rows, ["doc_id", "target"])
    totals = by_doc.groupby("doc_id")["mentions"].sum()
    docs = totals.rename_axis("doc").reset_index(name="n").sort_values(["n", "doc"], ascending=[False, True],
                                                                     kind="stable")["doc"]
    shown = docs.head(settings.max_groups).tolist()
    parts.append(net_grid(by_doc, "doc_id", shown, targets, "document"))
    if len(docs) > len(shown):
        parts.append(f'<p class="meta">The {len(shown)} documents with the most mentions, of {len(docs):,}.</p>')
    parts.append(NET_NOTE)
    parts.append('<h3 id="stance-metadata">Over time and by group</h3>')
    if year is None and not groups:
        parts.append(missing_note(settings))
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
        parts.append(f"<h4>Over time (from <code>{esc(name)}</code>)</h4>")
        if seen:
            parts.append(img(figures.net_against_year_chart(year_list, grid, seen), "Net against by year and target"))
        parts.append(net_grid(by_year, "year", year_list, targets, "year"))
    for column in groups:
        keep = largest_groups(meta[column], settings.max_groups)
        grouped = with_meta.assign(group=with_meta[column].astype("string"))
        by_group = summarise(grouped[grouped["group"].isin(keep)], ["group", "target"])
        parts.append(f"<h4>By {esc(column)}</h4>")
        parts.append(net_grid(by_group, "group", keep, targets, column))
    return parts


def topic_target_section(rows: pd.DataFrame, table: pd.DataFrame, targets: list[str], slugs: dict[str, str],
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
        parts.append(img(figures.topic_target_heatmap(net, counts, [names[k] for k in topics], targets),
                         "Heatmap: net against by topic and target"))
    has_evidence = set(zip(evidence["topic"].astype(int), evidence["target"], strict=True)) if len(evidence) else set()
    body = []
    for i, k in enumerate(topics):
        cells_html = "".join(
            net_cell(net[i, j], int(counts[i, j]), f"ev-{slugs[t]}-{k}" if (k, t) in has_evidence else None)
            for j, t in enumerate(targets))
        body.append(f"<tr><th>{esc(names[k])}</th>{cells_html}</tr>")
    head = "".join(f'<th><a href="#evidence-{slugs[t]}">{esc(t)}</a></th>' for t in targets)
    parts.append(f'<div class="scroll"><table><thead><tr><th>topic</th>{head}</tr></thead>'
                 f'<tbody>{"".join(body)}</tbody></table></div>')
    return parts


def evidence_section(rows: pd.DataFrame, evidence: pd.DataFrame, table: pd.DataFrame, targets: list[str],
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
        summary = (f"{esc(target)}: {len(mine):,} mentions &middot; {counts['against']:,} against &middot; "
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
                lead = (f'<th rowspan="{len(group)}">{esc(names.get(int(k), k))}</th>' if j == 0 else "")
                prob = "" if r.probability != r.probability else f"{r.probability:.2f}"
                trs.append(f'<tr>{lead}<td class="{esc(r.label)}">{esc(r.label)}</td><td class="num">{prob}</td>'
                           f"<td>{esc(truncate(r.evidence))}</td><td>{esc(r.doc_id)}&nbsp;&para;{int(r.para_id)}</td></tr>")
            bodies.append(f'<tbody id="ev-{slugs[target]}-{int(k)}">{"".join(trs)}</tbody>')
        parts.append('<div class="scroll"><table><thead><tr><th>topic</th><th>stance</th><th>p</th><th>evidence</th>'
                     f'<th>paragraph</th></tr></thead>{"".join(bodies)}</table></div>')
        parts.append('<p class="meta"><a href="#topic-target">back to the topic &times; target table</a></p></details>')
    return parts



def _hash(value: str, what: str) -> str:
    """A hash shortened for the page, in full in the title (hover, copy) and in ``report.metrics``."""
    return f'<code title="{esc(what)}: {esc(value)}">{esc(value[:SHORT])}</code>'


def _model(name: str, facts: dict[str, Any], details: list[str]) -> str:
    """A model in the footer: its key facts and the hash of its ``meta.json`` (or that none was found)."""
    if not facts.get("sha256"):
        return f"{name}: none found (no <code>{esc(facts.get('meta', '?'))}</code>)"
    return " ".join([name, *(esc(d) for d in details if d), _hash(facts["sha256"], f"SHA-256 of {facts['meta']}")])


def provenance_footer(provenance: dict[str, Any]) -> str:
    """The page's footer: the package, code tree, config and models that made it, by hashes that stay put.

    ``provenance`` is :func:`~pipeline.report.provenance.collect_provenance`'s block; nothing in it
    depends on the time or the commit, so the footer keeps the page byte for byte reproducible.
    """
    topics, stance = provenance["topic_model"], provenance["stance_model"]
    code_dir = esc(provenance["code_dir"])
    made = " &middot; ".join([
        f"Made by {esc(provenance['package'])} {esc(provenance['version'])}",
        f"code tree {_hash(provenance['code_tree'], f'git tree of {code_dir}/')}",
        f"config {_hash(provenance['config_sha256'], 'SHA-256 of the validated config')}",
        _model("topic model", topics, [f"K={topics['num_topics']}" if "num_topics" in topics else "",
                                       str(topics.get("engine", ""))]),
        _model("stance model", stance, [str(stance.get("engine", "")) + (
            f", {stance['targets']} targets" if "targets" in stance else "")]),
    ])
    return (f'<footer id="provenance" class="meta"><p>{made}</p>'
            f"<p>Commits with this code: <code>{esc(provenance['find_commits'])}</code> (the oldest listed "
            "introduced it, a later one replaced it; none when the code was run uncommitted).</p>"
            f"<p>Code tree: the git tree id of <code>{code_dir}/</code> as it was on disk ({esc(SKIPPED)} left "
            f"out), equal to <code>git rev-parse &lt;commit&gt;:{code_dir}</code> for the commit it was run from. "
            "Config: SHA-256 of the validated configuration as canonical JSON. Models: SHA-256 of each "
            "model's <code>meta.json</code>, which lists the SHA-256 of every model file.</p></footer>")
