"""News pages (``.html`` / ``.htm``): main text, metadata columns, charsets, skips, no network.

The pages under ``tests/data/html`` were written for these tests in the layouts of real news sites
(``benchmarks/html_extraction.py`` measures extraction on them and describes the measures).
"""

from __future__ import annotations

import gzip
import json
import shutil
import socket
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.html_extraction import PAGES, load_pages, run, score_page
from pipeline.chunk.html import META_FIELDS, decode_html, html_document
from pipeline.chunk.readers import iter_documents
from pipeline.chunk.stage import main
from pipeline.chunk.text import normalize
from pipeline.config import ChunkConfig, load_config
from pipeline.errors import InputError
from tests.conftest import run_cli

ARTICLES = sorted(p.stem for p in PAGES.glob("*.json") if not json.loads(p.read_text(encoding="utf-8")).get("skip"))


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Every test here fails if anything opens a connection or resolves a name."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def pages():
    return {page.name: page for page in load_pages()}


def read(path: Path, **cfg):
    return html_document(path, path.name.split(".")[0], path.name, ChunkConfig(**cfg))


def lines(text: str | None) -> list[str]:
    return [line for line in (text or "").split("\n") if line.strip()]


# ----------------------------------------------------------------------------- extraction quality


def test_extraction_floors_on_the_news_pages(pages):
    result = run(list(pages.values()))
    assert result["pages"] == len(ARTICLES) >= 8
    assert result["paragraphs"] >= 60
    assert result["paragraphs_exact"] >= 0.95
    assert result["paragraphs_near"] >= 0.98
    assert result["boilerplate_lines"] >= 300
    assert result["boilerplate_dropped"] >= 0.95
    assert result["chunked_boilerplate_dropped"] >= 0.95
    assert result["precision_chars"] >= 0.95
    assert result["chunked_paragraphs_exact"] >= 0.95
    assert result["metadata"]["date"] == 1.0
    assert result["metadata"]["title"] == 1.0
    assert result["metadata"]["author"] >= 0.85
    assert result["metadata"]["source"] >= 0.7
    assert result["metadata"]["url"] >= 0.8
    assert result["skip_pages"] == result["skip_pages_skipped"] == 1


@pytest.mark.parametrize("name", ARTICLES)
def test_each_page_keeps_its_article_and_drops_comments(name, pages):
    page = pages[name]
    doc = read(page.path)
    assert doc.status == "ok", doc.reason
    counts = score_page(page, lines(doc.text))
    assert counts["near"] == counts["paragraphs"], counts["missed"]
    assert len(counts["boilerplate_kept"]) <= 3, counts["boilerplate_kept"]
    assert doc.meta["date"] == page.meta["date"]
    assert doc.meta["title"] == page.meta["title"]
    text = doc.text.lower()
    for word in ("cookie", "reply", "sign up", "most read", "most popular", "copyright", "share on"):
        assert word not in text, word
    assert list(doc.meta) == ["source_path", *META_FIELDS]


def test_blocks_are_separated_by_blank_lines_and_br_breaks_lines(pages):
    doc = read(pages["harbour-gazette"].path)
    blocks = doc.text.rstrip("\n").split("\n\n")
    assert blocks[3] == "Fears for shellfish beds"  # the sub-heading is a block of its own
    assert all(block.strip() == block and "\n" not in block for block in blocks)
    riverside = read(pages["riverside-post"].path)  # paragraphs separated by <br /> pairs in one <div>
    assert lines(riverside.text)[:6] == pages["riverside-post"].paragraphs


def test_title_is_a_column_not_a_heading(pages):
    doc = read(pages["metro-daily"].path)  # the <h1> is inside the extracted part
    assert not doc.text.startswith(pages["metro-daily"].meta["title"])
    assert doc.meta["title"] == pages["metro-daily"].meta["title"]


# ----------------------------------------------------------------------------- charsets


def test_legacy_charsets_from_the_meta_tag(pages):
    courier = read(pages["vistula-courier"].path)
    assert courier.encoding == "iso8859-2"  # cp1252 (the fallback) would have garbled these
    assert "Łódź" in courier.text and "Wrocław" in courier.text and "złoty" in courier.text
    assert courier.meta["author"] == "Małgorzata Wiśniewska"
    assert "\u201cFor a hundred years" in courier.text  # from &#8220;
    herald = read(pages["northern-herald"].path)
    assert herald.encoding == "cp1252"
    assert "£1.2m" in herald.text and "children\u2019s corner" in herald.text


def test_gzipped_page(pages):
    doc = read(pages["valley-news"].path)
    assert doc.doc_id == "valley-news" and doc.meta["source_path"] == "valley-news.html.gz"
    assert doc.meta["source"] == "Valley News"


@pytest.mark.parametrize(
    ("data", "tail", "encoding"),
    [
        ('<meta charset="iso-8859-2"><p>Łódź</p>'.encode("iso-8859-2"), "<p>Łódź</p>", "iso8859-2"),
        ("<meta http-equiv='Content-Type' content='text/html; charset=KOI8-R'><p>Москва</p>".encode("koi8-r"),
         "<p>Москва</p>", "koi8-r"),
        # mislabelled: valid UTF-8 wins over a single-byte label
        ('<meta charset="iso-8859-1"><p>café €</p>'.encode(), "<p>café €</p>", "utf-8"),
        # labelled UTF-8 but not: the fallback, as for text files
        ('<meta charset="utf-8"><p>café €</p>'.encode("cp1252"), "<p>café €</p>", "cp1252"),
        ('<meta charset="x-no-such-charset"><p>café</p>'.encode("cp1252"), "<p>café</p>", "cp1252"),
        # latin-1 labels decode as windows-1252, as in browsers
        ('<meta charset="ISO-8859-1"><p>\u201cq\u201d</p>'.encode("cp1252"), "<p>\u201cq\u201d</p>", "cp1252"),
        (b"\xef\xbb\xbf<p>x</p>", "<p>x</p>", "utf-8-sig"),
        ("\ufeff<p>Grüße</p>".encode("utf-16-le"), "<p>Grüße</p>", "utf-16-le"),
        ("\ufeff<p>Grüße</p>".encode("utf-16-be"), "<p>Grüße</p>", "utf-16-be"),
    ],
)
def test_decode_html(data, tail, encoding):
    text, used = decode_html(data)
    assert used == encoding
    assert text.endswith(tail) and not text.startswith("\ufeff")


def test_binary_is_not_decoded():
    assert decode_html(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10) is None


# ----------------------------------------------------------------------------- skips


def test_navigation_only_page_is_skipped_with_reason(pages):
    doc = read(PAGES / "nav-only.html")
    assert doc.status == "skipped"
    assert doc.reason == "no main text in the HTML page (navigation, links or boilerplate only)"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.html", b"", "empty file"),
        ("binary.html", b"\x00\x01\x02\x03" * 100, "binary file (NUL or control bytes)"),
        ("gzip-not-named.html", gzip.compress(b"<html><body><p>hello</p></body></html>"), "binary file"),
        ("truncated.html.gz", gzip.compress((PAGES / "world-wire.html").read_bytes())[:1000], "unreadable file"),
        ("bad-gzip.html.gz", b"this is not gzip data at all", "unreadable file: Not a gzipped file"),
        ("plain.htm", b"Just some text that someone saved with the wrong name.\n", "not HTML (no markup)"),
        ("url.html", b"https://www.example.com/news/2024/01/01/story.html", "not HTML (no markup)"),
        ("blank.html", b"   \n\t\n", "not HTML (no markup)"),
        ("scripts.html", b"<html><head><script>var a = 1;</script></head><body><div id='app'></div></body></html>",
         "no main text"),
        ("links.html", b"<html><body><a href='https://example.com/a'>https://example.com/a</a></body></html>",
         "no main text"),
    ],
)
def test_bad_pages_are_accounted_skips(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    doc = read(path)
    assert doc.status == "skipped"
    assert doc.reason.startswith(reason), doc.reason
    assert doc.text is None


def test_extractor_failure_is_a_skip(tmp_path, monkeypatch, pages):
    import trafilatura

    def boom(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(trafilatura, "bare_extraction", boom)
    doc = read(pages["world-wire"].path)
    assert (doc.status, doc.reason) == ("skipped", "HTML extraction failed (RecursionError: maximum recursion depth "
                                                    "exceeded)")


def test_missing_trafilatura_is_a_one_line_error(monkeypatch, pages):
    import sys

    monkeypatch.setitem(sys.modules, "trafilatura", None)  # import trafilatura -> ImportError
    with pytest.raises(InputError, match="world-wire.html: reading HTML pages needs trafilatura"):
        read(pages["world-wire"].path)


def test_dates_do_not_depend_on_the_day_of_the_run(tmp_path, pages):
    source = pages["daily-beacon"].path.read_text(encoding="utf-8")  # its URL holds no date
    path = tmp_path / "future.html"
    path.write_text(source.replace("2023-04-18T05:00:00+01:00", "2090-05-01T05:00:00+01:00"), encoding="utf-8")
    assert read(path).meta["date"] == "2090-05-01"  # htmldate's default upper bound is "today"


# ----------------------------------------------------------------------------- the chunk stage


def _corpus(root: Path) -> Path:
    corpus = root / "corpus"
    (corpus / "web").mkdir(parents=True)
    for name in ("harbour-gazette.html", "metro-daily.htm", "valley-news.html.gz", "vistula-courier.html",
                 "nav-only.html"):
        shutil.copy(PAGES / name, corpus / "web" / name)
    (corpus / "speech.txt").write_text(
        "The Assembly met to consider the report of the committee on the budget.\n\n"
        "Delegates agreed that the report should be adopted without a vote.\n", encoding="utf-8")
    (corpus / "web" / "notes.json").write_text("{}", encoding="utf-8")  # not a document
    return corpus


def _stage(workspace: Path, *overrides: str):
    config = load_config(workspace / "configs" / "default.yaml",
                         ["chunk.output=out/p.parquet", "chunk.manifest=out/m.json", *overrides])
    main(config)
    return (pd.read_parquet(workspace / "out/p.parquet"), json.loads((workspace / "out/m.json").read_text()),
            (workspace / "out/p.parquet").read_bytes())


def test_folder_of_html_and_txt_through_the_stage(workspace):
    _corpus(workspace)
    table, manifest, first = _stage(workspace, "chunk.input=corpus", "compute.n_jobs=1")

    docs = {d["doc_id"]: d for d in manifest["documents"]}
    assert set(docs) == {"speech", "web/harbour-gazette", "web/metro-daily", "web/valley-news",
                         "web/vistula-courier", "web/nav-only"}
    assert docs["web/nav-only"]["status"] == "skipped"
    assert docs["web/nav-only"]["reason"].startswith("no main text in the HTML page")
    assert docs["web/vistula-courier"]["encoding"] == "iso8859-2"
    extraction = docs["web/harbour-gazette"]["extraction"]
    assert extraction["reader"] == "html" and extraction["library"].startswith("trafilatura 2.")
    counts = manifest["counts"]
    assert counts["documents_in"] == counts["documents_ok"] + counts["documents_skipped"] == 6
    assert counts["skipped_by_reason"] == {"no main text in the HTML page": 1}

    for column in ("source_path", *META_FIELDS):
        assert column in table.columns
    harbour = table[table.doc_id == "web/harbour-gazette"]
    assert harbour.iloc[0].text.startswith("The harbour's governing board has approved")  # normalised quotes
    assert set(harbour.title) == {"Port authority approves dredging plan despite fishers\u2019 objections"}
    assert set(harbour.date) == {"2024-03-12"}
    assert set(harbour.source) == {"The Harbour Gazette"}
    assert set(harbour.author) == {"Maria Okafor"}
    heading = harbour[harbour.text.str.startswith("Fears for shellfish beds\n")]
    assert len(heading) == 1  # the sub-heading is attached to its paragraph (chunk.headings: attach)
    speech = table[table.doc_id == "speech"]
    assert len(speech) == 2 and speech.title.isna().all() and speech.date.isna().all()
    metro = table[table.doc_id == "web/metro-daily"]
    assert not metro.text.str.startswith("Read more:").any()  # dropped by chunk.drop_paragraph_patterns

    # Offsets point into the extracted text.
    doc = next(d for d in iter_documents(ChunkConfig(input=workspace / "corpus")) if d.doc_id == "web/valley-news")
    for row in table[table.doc_id == "web/valley-news"].itertuples():
        assert row.text.replace("\n", " ") == normalize(doc.text[row.start:row.end])

    _, again, second = _stage(workspace, "chunk.input=corpus", "compute.n_jobs=2")
    assert second == first
    assert again == manifest


def test_single_page_and_format_html(workspace):
    _corpus(workspace)
    shutil.copy(PAGES / "world-wire.html", workspace / "world-wire.html")
    table, manifest, _ = _stage(workspace, "chunk.input=world-wire.html")
    assert manifest["counts"]["documents_in"] == 1
    assert set(table.doc_id) == {"world-wire"}
    assert set(table.author) == {"Jonas Lindqvist; Amara Nwosu"}
    # chunk.format: html reads only the pages of a folder
    _, manifest, _ = _stage(workspace, "chunk.input=corpus", "chunk.format=html")
    assert {d["doc_id"] for d in manifest["documents"]} == {
        "web/harbour-gazette", "web/metro-daily", "web/valley-news", "web/vistula-courier", "web/nav-only"}


def test_folder_of_unusable_pages_is_one_line_error(workspace):
    folder = workspace / "pages"
    folder.mkdir()
    shutil.copy(PAGES / "nav-only.html", folder / "a.html")
    (folder / "b.htm").write_bytes(b"\x00\x01" * 50)
    with pytest.raises(InputError, match="no usable documents"):
        _stage(workspace, "chunk.input=pages")
    proc = run_cli("chunk", "--set", "chunk.input=pages", cwd=workspace)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("Error: pages: no usable documents")
