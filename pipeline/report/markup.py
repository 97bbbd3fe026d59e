"""Small HTML helpers of the report: escaping, number formatting, tables, embedded images, the CSS."""

from __future__ import annotations

import base64
import html
import re
from typing import Any

import numpy as np
import pandas as pd

from .. import plotting

CSS = """
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
footer { margin-top: 3rem; border-top: 1px solid #ddd; padding-top: .4rem; font-size: .8rem; }
footer p { margin: .3rem 0; } footer code { overflow-wrap: anywhere; }
"""


def esc(value: Any) -> str:
    """``value`` as text, HTML-escaped (quotes too)."""
    return html.escape(str(value), quote=True)


def fmt_num(value: Any) -> str:
    """A number with thousands separators (floats to 4 decimals, NaN as n/a); anything else escaped."""
    if isinstance(value, float | np.floating):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if value == value else "n/a"
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    return esc(value)


class _Td(str):
    """A complete ``<td>`` element, put into a table as it is."""


def pct_cell(value: float) -> _Td:
    """A numeric cell with a share as a whole percentage (a dash for NaN)."""
    return _Td(f'<td class="num">{"&ndash;" if value != value else f"{100 * value:.0f}%"}</td>')


def _cell(value: Any, numeric: bool) -> str:
    if isinstance(value, _Td):
        return value
    return f'<td class="num">{fmt_num(value)}</td>' if numeric else f"<td>{value}</td>"


def html_table(headers: list[str], rows: list[list[Any]], numeric: frozenset[int] | set[int] = frozenset()) -> str:
    """A table; cells are HTML (escape text first) except ``numeric`` columns, which are formatted numbers."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(c, i in numeric) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def img(png: bytes, alt: str) -> str:
    """An ``<img>`` with the PNG embedded as base64."""
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def anchor_slugs(names: list[str]) -> dict[str, str]:
    """A unique anchor-safe slug per name."""
    out: dict[str, str] = {}
    for name in names:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "target"
        while slug in out.values():
            slug += "-x"
        out[name] = slug
    return out


def net_cell(net: float, n: int, href: str | None = None) -> _Td:
    """A table cell coloured by net against, showing the value and the number of mentions."""
    if not n:
        return _Td('<td class="empty">&middot;</td>')
    color = plotting.tint(plotting.net_cmap(), net, -1.0, 1.0)
    text = f'{net:+.2f} <span class="n">({n})</span>'
    if href:
        text = f'<a href="#{href}" title="evidence for this cell">{text}</a>'
    return _Td(f'<td class="cell" style="background:{color}">{text}</td>')


def net_grid(table: pd.DataFrame, row_col: str, row_order: list[Any], targets: list[str], row_header: str,
              row_names: dict[Any, str] | None = None) -> str:
    """Rows x targets grid of net against (mentions) from a :func:`summarise` table on ``[row_col, target]``."""
    cells = {(r, t): (net, n) for r, t, net, n in
             zip(table[row_col], table["target"], table["net_against"], table["mentions"], strict=True)}
    rows = []
    for r in row_order:
        name = esc(row_names.get(r, r) if row_names else r)
        rows.append(f"<tr><th>{name}</th>" + "".join(
            net_cell(*cells.get((r, t), (np.nan, 0))) for t in targets) + "</tr>")
    head = "".join(f"<th>{esc(h)}</th>" for h in [row_header, *targets])
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


NET_NOTE = ('<p class="meta">Cells: net against = (against &minus; favor) / mentions, from &minus;1 (all favourable, '
            'green) to +1 (all hostile, orange); mentions in brackets. Paragraphs that do not mention a target '
            'are not counted.</p>')
