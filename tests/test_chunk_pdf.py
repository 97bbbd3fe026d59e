"""PDF input: paragraphs rebuilt from the geometry of PDFs built here with ReportLab, skips, the stage end to end."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("pdfplumber")
pytest.importorskip("reportlab")

from pipeline.chunk.pdf import extract_pdf, pdf_text  # noqa: E402
from pipeline.chunk.readers import iter_documents  # noqa: E402
from pipeline.chunk.stage import chunk_documents, main  # noqa: E402
from pipeline.config import ChunkConfig, load_config  # noqa: E402
from tests import pdf_fixtures as fx  # noqa: E402

BODY = [re.sub(r"<super>.*?</super>", "", text) for text in fx.FOOTNOTED]
TWO_COLUMNS = [f"{fx.ARTICLE_TITLE}\n{fx.ARTICLE[0]}", *fx.ARTICLE[1:]]


def chunk(path: Path, **settings):
    docs = list(iter_documents(ChunkConfig(input=path, **settings)))
    table, manifest = chunk_documents(docs, ChunkConfig(input=path, **settings))
    return docs, table, manifest


def test_one_column_headers_page_numbers_hyphens_and_page_breaks(tmp_path):
    path = tmp_path / "report.pdf"
    pages = fx.one_column_pdf(path)
    # The fixture has what the test is about: three pages, soft and real hyphens at line ends, and
    # paragraphs that go on across both page breaks.
    assert len(pages) == 3
    ends = [line for page in pages for line in page if line.endswith("-")]
    assert any(line.endswith("develop-") for line in ends) and any(line.endswith("decision-") for line in ends)
    first_lines = {fx._wrap(text, 205.0, 18.0, "Times-Roman", 11)[0] for kind, text in fx.REPORT if kind == "p"}
    assert pages[1][0] not in first_lines and pages[2][0] not in first_lines

    docs, table, manifest = chunk(path)
    assert list(table.text) == fx.expected(fx.REPORT)
    assert "sustainable development" in table.text[1] and "international order" in table.text[0]
    assert "decision-making" in table.text[2] and "competent courts" in table.text[4]
    assert not table.text.str.contains(fx.RUNNING_HEADER).any()
    entry = manifest["documents"][0]
    assert entry["status"] == "ok" and entry["extraction"]["furniture_lines"] == 6  # 3 headers, 3 page numbers
    # Offsets point into the extracted text, which pdf_text reproduces and the manifest hashes.
    text = pdf_text(path)
    assert text == docs[0].text
    assert entry["extraction"]["text_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    for row in table.itertuples():
        assert " ".join(text[row.start : row.end].split()) == " ".join(row.text.split())
    # Metadata from the info dictionary (ReportLab's invariant mode dates every file 2000-01-01).
    assert list(table.columns[6:]) == ["source_path", "title", "author", "date"]
    assert set(table.title) == {"Annual debate: summary"} and set(table.author) == {"Rapporteur"}
    assert set(table.date) == {"2000-01-01"}


def test_two_columns_with_a_title_across_them(tmp_path):
    path = tmp_path / "article.pdf"
    fx.two_column_pdf(path)
    _, table, manifest = chunk(path)
    assert list(table.text) == TWO_COLUMNS
    assert manifest["documents"][0]["extraction"]["pages"] == 2


def test_footnotes_follow_the_body_and_markers_go(tmp_path):
    path = tmp_path / "notes.pdf"
    fx.footnote_pdf(path)
    _, table, manifest = chunk(path)
    assert list(table.text) == BODY + fx.FOOTNOTES
    extraction = manifest["documents"][0]["extraction"]
    assert extraction["footnotes"] == 2 and extraction["markers_dropped"] == 4
    assert table.title.isna().all() and table.author.isna().all()  # ReportLab's "(anonymous)" is no author


def test_paragraph_accuracy_on_the_fixtures(tmp_path):
    """Paragraphs exactly right over the three layouts (the figure quoted in the README)."""
    fx.one_column_pdf(tmp_path / "a.pdf")
    fx.two_column_pdf(tmp_path / "b.pdf")
    fx.footnote_pdf(tmp_path / "c.pdf")
    _, table, _ = chunk(tmp_path)
    expected = fx.expected(fx.REPORT) + TWO_COLUMNS + BODY + fx.FOOTNOTES
    got = list(table.text)
    assert sum(1 for text in expected if text in got) == len(expected) == len(got) == 18


def test_scanned_corrupt_encrypted_and_empty_pdfs_are_skipped_with_a_reason(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    fx.scanned_pdf(folder / "scan.pdf")
    fx.encrypted_pdf(folder / "locked.pdf")
    fx.footnote_pdf(tmp_path / "good.pdf")
    good = (tmp_path / "good.pdf").read_bytes()
    (folder / "truncated.pdf").write_bytes(good[: len(good) // 2])
    (folder / "garbled.pdf").write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 100)
    (folder / "notpdf.pdf").write_bytes(b"<html><body>a web page saved as .pdf</body></html>")
    (folder / "empty.pdf").write_bytes(b"")
    docs = {d.doc_id: d for d in iter_documents(ChunkConfig(input=folder))}
    assert docs["scan"].reason == "no text layer (scanned PDF?); run OCR first"
    assert docs["locked"].reason == "encrypted PDF (needs a password)"
    assert docs["truncated"].reason.startswith("corrupt PDF")
    assert docs["garbled"].reason.startswith("corrupt PDF")
    assert docs["notpdf"].reason == "not a PDF (no %PDF header)"
    assert docs["empty"].reason == "empty file"
    assert all(d.status == "skipped" and d.text is None for d in docs.values())
    for doc in docs.values():
        assert "\n" not in doc.reason and len(doc.reason) <= 200


def test_folder_of_pdf_and_txt_with_gzip_and_format(tmp_path):
    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    fx.footnote_pdf(folder / "notes.pdf")
    fx.two_column_pdf(tmp_path / "article.pdf")
    (folder / "sub" / "article.pdf.gz").write_bytes(gzip.compress((tmp_path / "article.pdf").read_bytes()))
    (folder / "plain.txt").write_text("A plain text document with a single paragraph in it.\n", encoding="utf-8")
    (folder / "ignored.md").write_text("not read", encoding="utf-8")
    _, table, manifest = chunk(folder)
    assert [d["doc_id"] for d in manifest["documents"]] == ["notes", "plain", "sub/article"]
    assert "extraction" not in manifest["documents"][1]
    assert list(table[table.doc_id == "sub/article"].text) == TWO_COLUMNS
    assert list(table[table.doc_id == "notes"].text) == BODY + fx.FOOTNOTES
    plain = table[table.doc_id == "plain"].iloc[0]
    assert plain.source_path == "plain.txt" and pd.isna(plain.title) and pd.isna(plain.date)
    # chunk.format: pdf reads a file whatever its name, or only the PDFs of a folder.
    (tmp_path / "download.bin").write_bytes((folder / "notes.pdf").read_bytes())
    _, table, _ = chunk(tmp_path / "download.bin", format="pdf")
    assert list(table.text) == BODY + fx.FOOTNOTES
    _, _, manifest = chunk(folder, format="pdf")
    assert [d["doc_id"] for d in manifest["documents"]] == ["notes", "sub/article"]


def test_extract_pdf_reads_a_stream(tmp_path):
    fx.footnote_pdf(tmp_path / "notes.pdf")
    with open(tmp_path / "notes.pdf", "rb") as fh:
        result = extract_pdf(fh)
    assert result.text == pdf_text(tmp_path / "notes.pdf")
    assert result.text.split("\n\n")[-2:] == [note + ("\n" if i else "") for i, note in enumerate(fx.FOOTNOTES)]


@pytest.mark.slow
def test_stage_end_to_end_same_bytes_for_any_n_jobs(workspace):
    corpus = workspace / "corpus"
    corpus.mkdir()
    fx.one_column_pdf(corpus / "report.pdf")
    fx.two_column_pdf(corpus / "article.pdf")
    fx.footnote_pdf(corpus / "notes.pdf")
    fx.scanned_pdf(corpus / "scan.pdf")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog")
    (corpus / "memo.txt").write_text("A short memo about the agenda of the next meeting of the committee.\n",
                                     encoding="utf-8")
    outputs = []
    for n_jobs in (1, 2):
        config = load_config(workspace / "configs" / "default.yaml", [
            "chunk.input=corpus", f"chunk.output=out{n_jobs}/p.parquet", f"chunk.manifest=out{n_jobs}/m.json",
            f"compute.n_jobs={n_jobs}",
        ])
        main(config)
        outputs.append(((workspace / f"out{n_jobs}/p.parquet").read_bytes(), (workspace / f"out{n_jobs}/m.json").read_bytes()))
    assert outputs[0] == outputs[1]

    table = pd.read_parquet(workspace / "out1/p.parquet")
    manifest = json.loads(outputs[0][1])
    counts = manifest["counts"]
    assert counts["documents_in"] == 6 and counts["documents_ok"] == 4 and counts["documents_skipped"] == 2
    assert counts["skipped_by_reason"] == {"corrupt PDF": 1, "no text layer": 1}
    assert list(table[table.doc_id == "report"].text) == fx.expected(fx.REPORT)
    assert list(table[table.doc_id == "article"].text) == TWO_COLUMNS
    assert list(table[table.doc_id == "notes"].text) == BODY + fx.FOOTNOTES
    assert list(table.columns[6:]) == ["source_path", "title", "author", "date"]
    by_id = {d["doc_id"]: d for d in manifest["documents"]}
    assert by_id["report"]["extraction"]["text_sha256"] == hashlib.sha256(
        pdf_text(corpus / "report.pdf").encode()).hexdigest()
