"""The chunk stage end to end: inputs, skips, errors, manifest, duplicates, CLI."""

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.chunk.readers import iter_documents
from pipeline.chunk.stage import chunk_documents, load_manifest, main
from pipeline.config import ChunkConfig, load_config
from pipeline.errors import InputError
from tests.conftest import run_cli
from tests.test_chunk_segment import PARAS

ARTICLE = "\n\n".join(PARAS)


def cfg(workspace: Path, *overrides: str):
    return load_config(
        workspace / "configs" / "default.yaml",
        ["chunk.output=out/p.parquet", "chunk.manifest=out/m.json", *overrides],
    )


def run(workspace: Path, *overrides: str):
    config = cfg(workspace, *overrides)
    main(config)
    return pd.read_parquet(workspace / "out/p.parquet"), json.loads((workspace / "out/m.json").read_text())


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def test_folder_of_txt_with_skips_and_encodings(workspace):
    corpus = workspace / "corpus"
    write(corpus / "a.txt", ARTICLE)
    write(corpus / "sub" / "b.txt", b"\xef\xbb\xbf" + ARTICLE.encode())
    write(corpus / "c.txt", ("Caf\u00e9 owners said \u201cno\u201d to the new tax on imports from abroad.\n" * 2).encode("cp1252"))
    write(corpus / "empty.txt", b"")
    write(corpus / "blank.txt", "  \n\t\n\u00a0\n")
    write(corpus / "bin.txt", b"\x00\x01\x02binary\x00" * 20)
    write(corpus / "notes.md", "ignored: not a .txt file")
    table, manifest = run(workspace, "chunk.input=corpus")

    docs = {d["doc_id"]: d for d in manifest["documents"]}
    assert set(docs) == {"a", "sub/b", "c", "empty", "blank", "bin"}
    assert docs["empty"]["reason"] == "empty file"
    assert docs["blank"]["reason"] == "whitespace only"
    assert docs["bin"]["reason"].startswith("binary")
    assert docs["sub/b"]["encoding"] == "utf-8-sig"
    assert docs["c"]["encoding"] == "cp1252"
    counts = manifest["counts"]
    assert counts["documents_in"] == counts["documents_ok"] + counts["documents_skipped"] == 6
    assert counts["documents_ok"] == 3

    a = table[table.doc_id == "a"]
    assert list(a.para_id) == [0, 1, 2, 3]
    assert list(a.text) == PARAS
    assert (table.columns[:6] == ["doc_id", "para_id", "text", "start", "end", "duplicate_of"]).all()
    assert "source_path" in table.columns
    c = table[table.doc_id == "c"].iloc[0]
    assert c.text.startswith('Caf\u00e9 owners said "no"')


def test_offsets_point_into_decoded_source(workspace):
    corpus = workspace / "corpus"
    source = "\ufeff" + "Heading line\n\n" + ARTICLE.replace("\n\n", "\r\n\r\n")
    write(corpus / "doc.txt", source.encode("utf-8"))
    table, _ = run(workspace, "chunk.input=corpus")
    decoded = source[1:]  # the BOM is not part of the decoded text
    for row in table.itertuples():
        span = decoded[row.start : row.end]
        for word in row.text.replace("\n", " ").split():
            assert word in span


def test_near_duplicates_flagged_not_dropped(workspace):
    corpus = workspace / "corpus"
    write(corpus / "a.txt", ARTICLE)
    variant = PARAS[1].replace("the minister said", "the foreign minister stated").replace("Both sides", "The two sides")
    write(corpus / "b.txt", "A new opening paragraph about something else entirely, written by another outlet.\n\n" + variant)
    table, manifest = run(workspace, "chunk.input=corpus")
    b = table[table.doc_id == "b"]
    assert len(b) == 2
    assert b.iloc[1].duplicate_of == "a#1"
    assert pd.isna(b.iloc[0].duplicate_of)
    assert table[table.doc_id == "a"].duplicate_of.isna().all()
    assert manifest["counts"]["duplicates"] == 1
    table2, _ = run(workspace, "chunk.input=corpus", "chunk.dedup.enabled=false")
    assert table2.duplicate_of.isna().all()


def test_jsonl_gz_with_metadata(workspace):
    records = [
        {"id": 7, "title": "Talks", "year": 2019, "source": "wire", "text": ARTICLE},
        {"id": 8, "title": "Empty", "year": 2020, "source": "wire", "text": "   "},
        {"id": 9, "title": "Nested", "year": 2021, "source": None, "tags": ["a", "b"], "text": PARAS[0]},
    ]
    data = "\n".join(json.dumps(r) for r in records) + "\n\n"
    write(workspace / "docs.jsonl.gz", gzip.compress(data.encode()))
    table, manifest = run(workspace, "chunk.input=docs.jsonl.gz")
    assert set(table.doc_id) == {"7", "9"}
    assert pd.api.types.is_integer_dtype(table.year)
    assert table[table.doc_id == "9"].iloc[0].tags == '["a", "b"]'
    assert manifest["counts"]["documents_skipped"] == 1
    assert manifest["documents"][1]["reason"] == "whitespace only"
    assert manifest["documents"][1]["source"].endswith("docs.jsonl.gz:2")


def test_csv_with_template_ids_and_duplicates(workspace):
    text = ARTICLE.replace('"', "'")
    rows = [
        "country,year,text",
        f'FRA,2019,"{text}"',
        f'DEU,2019,"{PARAS[2]}"',
        f'FRA,2019,"{PARAS[3]}"',
    ]
    write(workspace / "speeches.csv", "\n".join(rows) + "\n")
    table, manifest = run(workspace, "chunk.input=speeches.csv", "chunk.id_field=null", "chunk.id_template={country}_{year}")
    assert set(table.doc_id) == {"FRA_2019", "DEU_2019"}
    assert pd.api.types.is_integer_dtype(table.year)
    dup = manifest["documents"][2]
    assert dup["status"] == "skipped" and dup["reason"].startswith("duplicate doc_id (first at ")


def test_malformed_jsonl_is_an_error_naming_file_and_line(workspace):
    write(workspace / "bad.jsonl", json.dumps({"id": 1, "text": ARTICLE}) + "\n{not json\n")
    with pytest.raises(InputError, match=r"bad\.jsonl:2: not valid JSON"):
        run(workspace, "chunk.input=bad.jsonl")


def test_malformed_records_skipped_when_configured(workspace):
    lines = [json.dumps({"id": 1, "text": ARTICLE}), "{not json", json.dumps({"id": 3}), json.dumps([1, 2])]
    write(workspace / "bad.jsonl", "\n".join(lines))
    table, manifest = run(workspace, "chunk.input=bad.jsonl", "chunk.on_bad_record=skip")
    assert set(table.doc_id) == {"1"}
    reasons = [d.get("reason", "") for d in manifest["documents"]]
    assert sum(r.startswith("malformed record") for r in reasons) == 3
    assert manifest["counts"]["documents_in"] == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,text\n1,\"ok text here\"\n2,\"a\",\"extra\"\n", r"bad\.csv:3: expected 2 fields, got 3"),
        ("name,body\nx,y\n", r"bad\.csv:1: no column 'text'"),
        ("", r"bad\.csv: empty CSV file"),
    ],
)
def test_malformed_csv(workspace, content, message):
    write(workspace / "bad.csv", content)
    with pytest.raises(InputError, match=message):
        run(workspace, "chunk.input=bad.csv")


def test_missing_id_field_in_jsonl(workspace):
    write(workspace / "d.jsonl", json.dumps({"text": ARTICLE}) + "\n")
    with pytest.raises(InputError, match=r"d\.jsonl:1: missing id field 'id'"):
        run(workspace, "chunk.input=d.jsonl")


def test_missing_input_and_empty_folder(workspace):
    with pytest.raises(InputError, match="input not found"):
        run(workspace, "chunk.input=nowhere")
    (workspace / "emptydir").mkdir()
    with pytest.raises(InputError, match=r"folder holds no \.txt/\.html/\.htm\S* files"):  # /.pdf ... as readers come
        run(workspace, "chunk.input=emptydir")


def test_all_documents_skipped_is_an_error_but_manifest_written(workspace):
    write(workspace / "c" / "a.txt", b"")
    with pytest.raises(InputError, match="no usable documents"):
        run(workspace, "chunk.input=c")
    manifest = load_manifest(workspace / "out/m.json")
    assert manifest["counts"]["documents_skipped"] == 1


def test_manifest_round_trip(workspace):
    write(workspace / "c" / "a.txt", ARTICLE)
    _, manifest = run(workspace, "chunk.input=c")
    assert load_manifest(workspace / "out/m.json") == manifest
    write(workspace / "junk.json", "[1, 2]")
    with pytest.raises(InputError, match="not a chunk manifest"):
        load_manifest(workspace / "junk.json")


def test_deterministic_output(workspace):
    write(workspace / "c" / "a.txt", ARTICLE)
    write(workspace / "c" / "b.txt", PARAS[1] + "\n\n" + PARAS[0])
    run(workspace, "chunk.input=c")
    first = (workspace / "out/p.parquet").read_bytes()
    run(workspace, "chunk.input=c")
    assert (workspace / "out/p.parquet").read_bytes() == first


def test_pure_function_without_io():
    docs = iter_documents(ChunkConfig(input=Path(__file__).resolve().parents[1] / "seeds"))
    table, manifest = chunk_documents(docs, ChunkConfig())
    assert manifest["counts"]["documents_ok"] == 5
    assert table.duplicate_of.notna().sum() > 10  # two translations of one speech in the seeds
    assert not table.text.str.contains("Leave a Reply|Sharing is caring", regex=True).any()


def test_cli_one_line_error_and_exit_code(workspace):
    write(workspace / "bad.jsonl", "{oops\n")
    proc = run_cli("chunk", "--set", "chunk.input=bad.jsonl", cwd=workspace)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: bad.jsonl:1: not valid JSON")
    assert "Traceback" not in proc.stderr


def test_cli_success(workspace):
    write(workspace / "c" / "a.txt", ARTICLE)
    proc = run_cli("chunk", "--set", "chunk.input=c", "--set", "chunk.output=o.parquet", cwd=workspace)
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_parquet(workspace / "o.parquet")) == 4
