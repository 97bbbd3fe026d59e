"""Decoding bytes and normalising characters.

Normalisation happens on paragraph text only; offsets always point into the decoded
source, so ``source[start:end]`` holds the paragraph's words.
"""

from __future__ import annotations

import re

#: characters mapped one-to-one in paragraph text
_CHAR_MAP = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
        "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200a": " ", "\u2002": " ",
        "\u2003": " ", "\u2004": " ", "\u2005": " ", "\u2006": " ", "\u2008": " ", "\u205f": " ",
        "\u3000": " ", "\t": " ", "\x0b": " ", "\x0c": " ", "\u2028": " ", "\u2029": " ",
        "\u200b": None, "\u200c": None, "\u200d": None, "\u2060": None, "\ufeff": None, "\u00ad": None,
    }
)
_SPACES = re.compile(r"\s+")
#: whitespace that Python's str.isspace() misses or that marks an "empty-looking" line
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
#: characters stripped from line ends: spaces of every kind plus the invisible ones
BLANK_CHARS = " \t\r\n\x0b\x0c\u00a0\u2007\u202f\u2009\u200a\u3000" + INVISIBLE


def normalize(text: str) -> str:
    """Straighten quotes, unify whitespace, drop invisible characters, collapse spaces."""
    return _SPACES.sub(" ", text.translate(_CHAR_MAP)).strip()


def is_blank(line: str) -> bool:
    """True for a line holding only whitespace or invisible characters."""
    return not line.strip(BLANK_CHARS)


def looks_binary(data: bytes) -> bool:
    """Heuristic on the first 8 KiB: NUL bytes or many control characters mean binary."""
    head = data[:8192]
    if not head:
        return False
    if b"\x00" in head:
        # UTF-16 text also has NULs; it is not a supported encoding, so it is binary to us.
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(head) > 0.05


def decode(data: bytes, fallback: str = "cp1252") -> tuple[str, str]:
    """Decode bytes as UTF-8 (BOM stripped) or, failing that, ``fallback``.

    Returns
    -------
    (text, encoding)
        ``encoding`` is ``"utf-8"``, ``"utf-8-sig"`` (a BOM was removed) or the fallback.
        Offsets in the pipeline count characters of ``text``.
    """
    try:
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8"), "utf-8-sig"
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(fallback), fallback
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps every byte, so nothing is lost.
        return data.decode("latin-1"), "latin-1"
