"""Figures as reproducible PNG bytes (no timestamp or software metadata), in one palette.

Every figure of the pipeline uses the colours below, so a topic bar, a stance share and a
heatmap cell mean the same colour wherever they appear: :data:`ACCENT` for topics,
:data:`STANCE_COLORS` for stance labels, :func:`net_cmap` (favor colour -> light grey ->
against colour) for "net against" values, :func:`share_cmap` for shares, and
:data:`SERIES_COLORS` for one line per topic or target.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

ACCENT = "#4c72b0"
STANCE_COLORS = {"favor": "#1b9e77", "against": "#d95f02", "neutral": "#9e9e9e"}
#: qualitative colours for series (matplotlib's tab10, without the greys that read as "neutral")
SERIES_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
                 "#17becf", "#393b79", "#637939", "#8c6d31")
#: rcParams for every figure: readable sizes, no hash salt drift in SVGs
RC = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8,
      "legend.fontsize": 8, "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "pipeline"}
NEUTRAL_MID = "#f2f2f2"


def new_figure(width: float, height: float, dpi: float = 110) -> Any:
    """A matplotlib ``Figure`` outside pyplot: no global state, no backend switch, nothing to close."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=dpi)


def png_bytes(fig: Any, dpi: float | None = None, tight: bool = False) -> bytes:
    """Render a matplotlib figure to PNG bytes that are identical for identical figures."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight" if tight else None)
    return buf.getvalue()


def net_cmap() -> Any:
    """Diverging colormap for net against (-1 favor ... 0 ... +1 against)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("net_against", [STANCE_COLORS["favor"], NEUTRAL_MID,
                                                             STANCE_COLORS["against"]])


def share_cmap() -> Any:
    """Sequential colormap for shares (0 white ... max the accent colour)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("share", ["#ffffff", ACCENT])


def tint(cmap: Any, value: float, vmin: float, vmax: float, strength: float = 0.75) -> str:
    """Hex colour of ``value`` on ``cmap``, blended toward white so dark text stays readable."""
    from matplotlib.colors import to_hex, to_rgb

    span = vmax - vmin or 1.0
    rgb = to_rgb(cmap(min(1.0, max(0.0, (value - vmin) / span))))
    return to_hex(tuple(1 - strength * (1 - c) for c in rgb))


def _rc() -> Any:
    import matplotlib

    return matplotlib.rc_context(RC)


def bar_chart(labels: Sequence[str], values: Sequence[float], *, xlabel: str, title: str,
              color: str = ACCENT) -> bytes:
    """Horizontal bars, first label on top."""
    with _rc():
        fig = new_figure(8, 0.7 + 0.3 * len(labels))
        ax = fig.subplots()
        ax.barh(list(labels)[::-1], list(values)[::-1], color=color)
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left")
        ax.grid(axis="x", alpha=0.3)
        ax.set_axisbelow(True)
        return png_bytes(fig, tight=True)


def stacked_shares(categories: Sequence[str], shares: dict[str, Sequence[float]], *, xlabel: str,
                   title: str) -> bytes:
    """Stacked horizontal bars of stance shares per category (first category on top)."""
    with _rc():
        fig = new_figure(8, 1.0 + 0.34 * len(categories))
        ax = fig.subplots()
        names = list(categories)[::-1]
        left = [0.0] * len(names)
        for label, values in shares.items():
            values = [0.0 if v != v else float(v) for v in list(values)[::-1]]
            ax.barh(names, values, left=left, label=label, color=STANCE_COLORS.get(label, ACCENT))
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_xlim(0, 100)
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        return png_bytes(fig, tight=True)


def heatmap(matrix: Any, rows: Sequence[str], columns: Sequence[str], *, title: str, colorbar: str,
            diverging: bool, annotations: Any = None, vmax: float | None = None) -> bytes:
    """A rows x columns heatmap; NaN cells stay blank; ``annotations`` is a same-shaped array of strings."""
    import numpy as np

    data = np.asarray(matrix, dtype=float)
    with _rc():
        fig = new_figure(min(11.0, 3.2 + 0.95 * len(columns)), 1.2 + 0.42 * len(rows))
        ax = fig.subplots()
        if diverging:
            image = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap=net_cmap(), vmin=-1, vmax=1)
        else:
            top = vmax if vmax is not None else (float(np.nanmax(data)) if np.isfinite(data).any() else 1.0)
            image = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap=share_cmap(), vmin=0, vmax=top or 1.0)
        ax.set_yticks(range(len(rows)), [str(r) for r in rows])
        ax.set_xticks(range(len(columns)), [str(c) for c in columns], rotation=30, ha="right")
        ax.set_xticks(np.arange(-0.5, len(columns)), minor=True)
        ax.set_yticks(np.arange(-0.5, len(rows)), minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="minor", length=0)
        for spine in ax.spines.values():  # a light frame, so a column or row without data still reads as one
            spine.set_visible(True)
            spine.set_color("#dddddd")
        if annotations is not None:
            for (i, j), text in np.ndenumerate(np.asarray(annotations, dtype=object)):
                if text:
                    ax.text(j, i, str(text), ha="center", va="center", fontsize=7, color="#222222")
        ax.set_title(title, loc="left")
        fig.colorbar(image, ax=ax, label=colorbar, fraction=0.04, pad=0.02)
        return png_bytes(fig, tight=True)


def line_chart(x: Sequence[Any], series: dict[str, Sequence[float]], *, xlabel: str, ylabel: str, title: str,
               ylim: tuple[float, float] | None = None, zero_line: bool = False) -> bytes:
    """One line per series over integer ``x`` (years; NaN gaps kept), legend outside on the right."""
    from matplotlib.ticker import MaxNLocator

    with _rc():
        fig = new_figure(8, 3.6)
        ax = fig.subplots()
        for i, (name, values) in enumerate(series.items()):
            ax.plot(list(x), [float(v) for v in values], marker="o", ms=3, lw=1.5,
                    color=SERIES_COLORS[i % len(SERIES_COLORS)], label=name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if zero_line:
            ax.axhline(0, color="#888888", lw=0.8)
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title, loc="left")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        return png_bytes(fig, tight=True)
