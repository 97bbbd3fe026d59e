"""chunk.metadata: a CSV/JSONL of per-document metadata joined onto the paragraph table."""

import json
import shutil

import pandas as pd
import pytest

from pipeline.chunk.metadata import read_metadata
from pipeline.errors import InputError
from tests.conftest import ROOT, run_cli
from tests.test_chunk_stage import ARTICLE, run, write


def corpus(workspace, names=("a", "b", "c")):
    for name in names:
        write(workspace / "docs" / f"{name}.txt", ARTICLE.replace("Beijing", name.upper() + " Beijing"))
    return workspace / "docs"


def test_auto_picks_metadata_csv_in_the_folder(workspace):
    folder = corpus(workspace)
    write(folder / "metadata.csv", "doc_id,date,source\na,2021-03-04,Outlet A\nb,2022-01-02,\n")
    table, manifest = run(workspace, "chunk.input=docs")
    by_doc = table.drop_duplicates("doc_id").set_index("doc_id")
    assert by_doc.loc["a", "date"] == "2021-03-04" and by_doc.loc["a", "source"] == "Outlet A"
    assert by_doc.loc["b", "date"] == "2022-01-02" and pd.isna(by_doc.loc["b", "source"])
    assert pd.isna(by_doc.loc["c", "date"])  # no row: the columns are null
    assert manifest["counts"]["documents_in"] == 3  # metadata.csv is not read as a document
    assert manifest["counts"]["documents_without_metadata"] == 1
    assert manifest["metadata"] == {"file": "docs/metadata.csv", "rows": 2, "documents_without_metadata": ["c"]}


def test_explicit_jsonl_file_and_null(workspace):
    corpus(workspace)
    write(workspace / "meta.jsonl", '{"doc_id": "a", "year": 2019, "url": "https://x.test/a"}\n\n'
                                    '{"doc_id": "c", "year": 2020}\n')
    table, manifest = run(workspace, "chunk.input=docs", "chunk.metadata=meta.jsonl")
    years = table.drop_duplicates("doc_id").set_index("doc_id")["year"]
    assert years["a"] == 2019 and years["c"] == 2020
    assert manifest["metadata"]["documents_without_metadata"] == ["b"]
    table, manifest = run(workspace, "chunk.input=docs", "chunk.metadata=null")
    assert "year" not in table.columns and "metadata" not in manifest


def test_metadata_overrides_record_fields_of_a_jsonl_corpus(workspace):
    rows = [{"id": "r1", "text": ARTICLE, "source": "old"}, {"id": "r2", "text": ARTICLE.upper(), "source": "kept"}]
    write(workspace / "in.jsonl", "\n".join(json.dumps(r) for r in rows))
    write(workspace / "meta.csv", "doc_id,source,country\nr1,new,FRA\n")
    table, _ = run(workspace, "chunk.input=in.jsonl", "chunk.metadata=meta.csv")
    first = table.drop_duplicates("doc_id").set_index("doc_id")
    assert first.loc["r1", "source"] == "new" and first.loc["r1", "country"] == "FRA"
    assert first.loc["r2", "source"] == "kept"


def test_output_is_the_same_for_any_number_of_workers(workspace):
    folder = corpus(workspace, names=[f"d{i}" for i in range(12)])
    write(folder / "metadata.csv", "doc_id,date\n" + "".join(f"d{i},20{10 + i}-01-01\n" for i in range(0, 12, 2)))
    one, m1 = run(workspace, "chunk.input=docs", "compute.n_jobs=1")
    two, m2 = run(workspace, "chunk.input=docs", "compute.n_jobs=2")
    assert one.equals(two) and m1 == m2


@pytest.mark.parametrize("content, message", [
    ("doc_id,date\na,2021\na,2022\n", "metadata.csv:3: duplicate doc_id 'a' (first on line 2)"),
    ("id,date\na,2021\n", "needs a 'doc_id' column"),
    ("doc_id,date\n,2021\n", "metadata.csv:2: row has no doc_id"),
    ("doc_id,date\n", "holds no rows"),
])
def test_bad_files_are_errors_naming_the_line(workspace, content, message):
    folder = corpus(workspace)
    write(folder / "metadata.csv", content)
    with pytest.raises(InputError, match="metadata") as info:
        run(workspace, "chunk.input=docs")
    assert message in str(info.value)


def test_unknown_ids_fail_before_the_table_is_written(workspace):
    folder = corpus(workspace)
    write(folder / "metadata.csv", "doc_id,date\na,2021\nzz,2022\nyy,2023\n")
    with pytest.raises(InputError, match=r"2 doc_id value\(s\) match no input document: zz, yy"):
        run(workspace, "chunk.input=docs")
    assert not (workspace / "out" / "p.parquet").exists()


def test_missing_file_and_wrong_suffix(workspace):
    corpus(workspace)
    with pytest.raises(InputError, match="nope.csv: chunk.metadata file not found"):
        run(workspace, "chunk.input=docs", "chunk.metadata=nope.csv")
    write(workspace / "meta.xlsx", "x")
    with pytest.raises(InputError, match="must be a .csv or .jsonl"):
        read_metadata(workspace / "meta.xlsx")


def test_cli_error_is_one_line(workspace):
    folder = corpus(workspace)
    write(folder / "metadata.csv", "doc_id,date\nzz,2022\n")
    proc = run_cli("chunk", "--config", "configs/default.yaml", "--set", "chunk.input=docs", cwd=workspace)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if not line[:1].isdigit()]  # log lines start with the time
    assert errors == [
        "Error: docs/metadata.csv: 1 doc_id value(s) match no input document: zz "
        "(ids are paths under chunk.input without the suffix, or record ids)"]


def test_the_seed_articles_have_dates(workspace):
    """The embedded corpus carries its dates, so the report's over-time section has data out of the box."""
    shutil.copytree(ROOT / "seeds", workspace / "seeds")
    table, manifest = run(workspace)
    assert manifest["counts"]["documents_without_metadata"] == 0
    years = sorted(table.groupby("doc_id")["date"].first().str[:4].astype(int).unique())
    assert years == [2021, 2023, 2024]


def test_html_read_in_workers_keeps_its_date_under_an_empty_cell(workspace):
    """PDF/HTML files are read in the batch workers; a metadata row's empty cell keeps the page's own value."""
    import shutil as _shutil

    from pipeline.chunk.readers import iter_documents
    from pipeline.config import ChunkConfig

    folder = workspace / "web"
    folder.mkdir()
    _shutil.copy(ROOT / "tests" / "data" / "html" / "civic-ledger.html", folder / "civic.html")
    expected = json.loads((ROOT / "tests" / "data" / "html" / "civic-ledger.json").read_text())["meta"]
    write(folder / "metadata.csv", "doc_id,date,country\ncivic,,USA\n")
    docs = list(iter_documents(ChunkConfig(input=folder), defer=True))
    assert [d.status for d in docs] == ["deferred"] and docs[0].text is None
    one, m1 = run(workspace, "chunk.input=web", "compute.n_jobs=1")
    two, m2 = run(workspace, "chunk.input=web", "compute.n_jobs=2")
    assert one.equals(two) and m1 == m2
    row = one.iloc[0]
    assert row["country"] == "USA" and row["date"] == expected["date"] and row["title"] == expected["title"]
