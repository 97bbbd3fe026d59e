"""Figures as reproducible PNG bytes (no timestamp or software metadata)."""

from __future__ import annotations

import io
from typing import Any


def new_figure(width: float, height: float, dpi: float = 110) -> Any:
    """A matplotlib ``Figure`` outside pyplot: no global state, no backend switch, nothing to close."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=dpi)


def png_bytes(fig: Any, dpi: float | None = None, tight: bool = False) -> bytes:
    """Render a matplotlib figure to PNG bytes that are identical for identical figures."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight" if tight else None)
    return buf.getvalue()
