"""Shared loading code for benchmarks on the UN General Debate Corpus (UNGDC).

The corpus lives outside the repository (``../shared/data/corpora/un-general-debates/``) and
is never committed. Sessions 76-78 (2021-2023) are the project's evaluation split: no
benchmark may tune on them, so :func:`load_speeches` refuses to return them.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = (
    REPO_ROOT.parent / "shared" / "data" / "corpora" / "un-general-debates" / "un-general-debates-1946-2024.csv.gz"
)

#: sessions reserved for evaluation: never train, tune or annotate on them
EVALUATION_SESSIONS = frozenset({76, 77, 78})
#: sessions a tuning benchmark may use (2015-2020, one paragraph per line)
TUNING_SESSIONS = frozenset(range(70, 76))

if EVALUATION_SESSIONS & TUNING_SESSIONS:  # pragma: no cover - a guard against editing mistakes
    raise AssertionError("tuning sessions overlap the evaluation split")


def check_sessions(sessions: set[int] | frozenset[int]) -> None:
    """Raise ``AssertionError`` if any session of the evaluation split is present.

    An explicit check rather than ``assert`` so that ``python -O`` cannot disable it.
    """
    leaked = set(sessions) & EVALUATION_SESSIONS
    if leaked:
        raise AssertionError(f"evaluation sessions {sorted(leaked)} must never be used for tuning")


def load_speeches(path: Path, sessions: frozenset[int] = TUNING_SESSIONS) -> pd.DataFrame:
    """Speeches of ``sessions`` (default 70-75) with columns session, year, country, text.

    Rows of every other session, the evaluation split included, are dropped right after
    parsing; the result is checked again before it is returned.
    """
    check_sessions(sessions)
    frame = pd.read_csv(path, usecols=["session", "year", "country", "text"], dtype={"text": "string"})
    frame = frame[frame["session"].isin(sorted(sessions))].reset_index(drop=True)
    check_sessions(set(frame["session"].unique().tolist()))
    if not (frame["year"] == frame["session"] + 1945).all():
        raise AssertionError(f"{path}: year != session + 1945 in some rows")
    frame["text"] = frame["text"].fillna("")
    return frame


def speech_paragraphs(frame: pd.DataFrame, min_words: int = 20) -> pd.DataFrame:
    """Lines of ``min_words``+ words of each speech, white space collapsed: doc_id, para_id, session, text.

    ``doc_id`` is ``COUNTRY_YEAR``; ``para_id`` numbers the kept lines of a speech from 0.
    """
    rows: list[tuple[str, int, int, str]] = []
    for row in frame.itertuples(index=False):
        doc_id = f"{row.country}_{row.year}"
        para = 0
        for line in str(row.text).split("\n"):
            line = " ".join(line.split())
            if len(line.split(" ")) >= min_words:
                rows.append((doc_id, para, int(row.session), line))
                para += 1
    return pd.DataFrame(rows, columns=["doc_id", "para_id", "session", "text"])


def uncompressed_size(path: Path, block: int = 1 << 20) -> int:
    """Size in bytes of the file's content, streaming through gzip when it is compressed."""
    if not path.name.lower().endswith(".gz"):
        return path.stat().st_size
    total = 0
    with gzip.open(path, "rb") as fh:
        while chunk := fh.read(block):
            total += len(chunk)
    return total
