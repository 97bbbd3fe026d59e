"""Read news pages (``.html`` / ``.htm``, optionally gzipped): the article's text and its metadata.

The main text is found by `trafilatura <https://trafilatura.readthedocs.io>`_ (Apache-2.0), which
drops navigation, cookie banners, share buttons, related-article lists, comments and footers. Only
its extraction functions run, on the decoded page held in memory: nothing is downloaded. Dates come
from the page's markup alone (meta tags, JSON-LD, ``<time>``, the URL; ``htmldate`` without its
free-text search, which takes copyright years for dates) within a fixed window instead of one ending
"today", so a page gives the same date whenever it is read.

Settings, chosen on the test pages (``benchmarks/html_extraction.py``): ``favor_precision`` and no
tables (``<table>`` layouts of older sites otherwise come out whole, menus and all); comments,
images and links are left out.

The document text is the extracted article, one block per paragraph, heading or list item,
blocks separated by a blank line (a ``<br>`` inside a block becomes a single newline), so
:func:`~pipeline.chunk.segment.segment_document` sees one paragraph per block. Offsets in the
paragraph table point into this text, not into the HTML. The metadata columns are ``title``,
``author``, ``date`` (ISO ``yyyy-mm-dd``), ``source`` (the site name: the report's group column) and
``url`` (canonical or ``og:url``), each null when the page does not say, plus ``source_path``.

The manifest entry records the trafilatura / htmldate / lxml versions and the text's SHA-256 under
``extraction`` (another extractor version may cut a page differently).

A page is skipped, with its reason in the manifest, when it cannot be read, is binary, holds no
markup-free text, or holds no main text (a section front or a page of links: nothing longer than a
few words survives extraction).
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .text import decode, looks_binary

if TYPE_CHECKING:
    from lxml.etree import _Element

    from ..config import ChunkConfig
    from .readers import Document

__all__ = ["META_FIELDS", "decode_html", "extract_article", "html_document"]

#: metadata columns of an HTML document, in order (``source_path`` comes first, as for text files)
META_FIELDS = ("title", "author", "date", "source", "url")

#: a page whose extracted text has no line of at least this many words holds no article
MIN_LINE_WORDS = 6

#: htmldate's plausibility window for dates; a fixed upper bound keeps the output independent of the day it runs
_DATE_PARAMS = {"original_date": True, "extensive_search": False, "min_date": "1995-01-01", "max_date": "2099-12-31"}

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
#: ``<meta charset=...>`` or ``<meta http-equiv="Content-Type" content="...; charset=...">``
_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.IGNORECASE)
#: labels browsers decode as windows-1252 (WHATWG Encoding Standard)
_AS_CP1252 = {"ascii", "iso8859-1", "cp1252"}
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")

#: tags (trafilatura's XML and HTML) that do not end a block of text
_INLINE = frozenset({
    "hi", "ref", "del", "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "img",
    "graphic", "kbd", "label", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "tt", "u",
    "var", "wbr",
})
_LINE_BREAKS = frozenset({"lb", "br"})


def _codec(label: bytes) -> str | None:
    try:
        return codecs.lookup(label.decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None


def decode_html(data: bytes, fallback: str = "cp1252") -> tuple[str, str] | None:
    """Decode an HTML page: by its byte-order mark, as UTF-8, by its ``<meta>`` charset, or as text files are.

    Bytes that are valid UTF-8 are UTF-8 whatever the page declares (mislabelled pages are common,
    and legacy text is almost never valid UTF-8 by chance). Otherwise the charset of a
    ``<meta charset>`` or ``<meta http-equiv="Content-Type">`` tag in the first 8 KiB is used if it
    decodes the bytes (ISO-8859-1 and US-ASCII labels as windows-1252, as browsers do), else
    ``fallback`` as for text files (:func:`~pipeline.chunk.text.decode`).

    Returns
    -------
    (text, encoding) or None
        None for binary data (NUL or control bytes without a UTF-16 byte-order mark).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding.removesuffix("-sig")), encoding
            except UnicodeDecodeError:
                break
    if looks_binary(data):
        return None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    match = _META_CHARSET.search(data, 0, 8192)
    declared = _codec(match.group(1)) if match else None
    if declared in _AS_CP1252:
        declared = "cp1252"
    if declared is not None and not declared.startswith("utf"):
        try:
            return data.decode(declared), declared
        except UnicodeDecodeError:
            pass
    return decode(data, fallback)


def _blocks(body: _Element) -> list[str]:
    """The text blocks of trafilatura's body element: one per paragraph, heading, item, cell...

    Inline markup is joined into its block; ``<lb/>`` (``<br>``) and newlines that trafilatura
    left in the text (it writes line breaks so) split a block into lines. Spaces are collapsed.
    """
    blocks: list[list[str]] = [[]]
    line: list[str] = []

    def end_line() -> None:
        text = " ".join("".join(line).split())
        if text:
            blocks[-1].append(text)
        line.clear()

    def end_block() -> None:
        end_line()
        if blocks[-1]:
            blocks.append([])

    def add(text: str | None) -> None:
        if text:
            *lines, last = text.split("\n")
            for piece in lines:
                line.append(piece)
                end_line()
            line.append(last)

    def walk(element: _Element) -> None:
        tag = element.tag if isinstance(element.tag, str) else None
        if tag is not None:
            if tag in _LINE_BREAKS:
                end_line()
            elif tag not in _INLINE:
                end_block()
            add(element.text)
            for child in element:
                walk(child)
            if tag not in _INLINE and tag not in _LINE_BREAKS:
                end_block()
        add(element.tail)

    add(body.text)
    for child in body:
        walk(child)
    end_block()
    return ["\n".join(lines) for lines in blocks if lines]


def _plain(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def extract_article(html: str) -> tuple[str | None, dict[str, str | None]]:
    """The main text of a decoded HTML page and its metadata (:data:`META_FIELDS`).

    Runs trafilatura's extraction on the string (never a URL: nothing is fetched), without
    comments, images or links. A leading heading that repeats the title is dropped (the title is
    a column).

    Returns
    -------
    (text, meta)
        ``text`` is the article, blocks separated by blank lines, or None when no main text was
        found; ``meta`` holds every field of :data:`META_FIELDS` (None when unknown).
    """
    from trafilatura import bare_extraction

    result = bare_extraction(
        _XML_DECLARATION.sub("", html, count=1),
        include_comments=False,
        include_images=False,
        include_links=False,
        include_formatting=False,
        include_tables=False,
        favor_precision=True,
        deduplicate=False,
        with_metadata=True,
        date_extraction_params=dict(_DATE_PARAMS),
    )
    meta: dict[str, str | None] = dict.fromkeys(META_FIELDS)
    if result is None:
        return None, meta
    meta.update(
        title=_plain(result.title), author=_plain(result.author), date=_plain(result.date),
        source=_plain(result.sitename), url=_plain(result.url),
    )
    body = result.body
    blocks = _blocks(body) if body is not None else []
    title = (meta["title"] or "").casefold()
    while blocks and title and " ".join(blocks[0].split()).casefold() == title:
        blocks.pop(0)
    if not any(len(line.split()) >= MIN_LINE_WORDS for block in blocks for line in block.split("\n")):
        return None, meta
    return "\n\n".join(blocks) + "\n", meta


def _quiet_loggers() -> None:
    """trafilatura and htmldate log problems of single pages as errors; the manifest has them."""
    for name in ("trafilatura", "htmldate", "courlan"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.CRITICAL)


def html_document(file: Path, doc_id: str, source: str, cfg: ChunkConfig) -> Document:
    """One HTML page as a document: its article text and metadata, or a skip with the reason."""
    from ..errors import InputError
    from .readers import Document, file_bytes

    doc = Document(doc_id=doc_id, source=source, meta={"source_path": source, **dict.fromkeys(META_FIELDS)})
    data = file_bytes(file, doc)
    if data is None:
        return doc
    decoded = decode_html(data, cfg.encoding_fallback)
    if decoded is None:
        return doc.skip("binary file (NUL or control bytes)")
    html, doc.encoding = decoded
    if "<" not in html:
        return doc.skip("not HTML (no markup)")
    _quiet_loggers()
    try:
        text, meta = extract_article(html)
    except ImportError as exc:
        raise InputError(f"{source}: reading HTML pages needs trafilatura ({exc}); install the project's "
                         "requirements (make install)") from None
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - a page the extractor cannot handle is skipped, not a traceback
        return doc.skip(f"HTML extraction failed ({type(exc).__name__}: {exc})"[:200])
    doc.meta.update(meta)
    if text is None:
        return doc.skip("no main text in the HTML page (navigation, links or boilerplate only)")
    doc.text = text
    doc.extraction = {
        "reader": "html",
        "library": _versions(),
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }
    return doc


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"trafilatura {version('trafilatura')}, htmldate {version('htmldate')}, lxml {version('lxml')}"
    except PackageNotFoundError:
        return "trafilatura"
