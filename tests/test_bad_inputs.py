"""The bad-input battery: every user mistake ends in one clear line or a recorded skip.

Two outcomes are allowed, and each case below says which one it gets:

* ``error``: exit code 2, exactly one ``Error: ...`` line on stderr naming the file (and line)
  or the config key, and no traceback;
* ``skip``: the run succeeds, keeps every usable document and records each skipped input with
  its reason in the manifest (documents in = documents ok + documents skipped).

Config keys are checked exhaustively: every key of every section gets a value of the wrong type
and, where the key has a range or a fixed set of choices, a value outside it.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import annotated_types
import pytest
from pydantic import BaseModel

from pipeline.cli import main
from pipeline.config import Config, read_yaml_mapping, validate
from pipeline.errors import ConfigError
from tests.conftest import ROOT

GOOD = (
    "The Secretary-General opened the session on Tuesday. Delegations from many regions spoke about debt, "
    "climate finance and the war.\n\nSeveral ministers called for a ceasefire and for talks under the "
    "auspices of the United Nations. Others asked for reform of the Security Council.\n"
)


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def chunk(workspace: Path, capsys, *overrides: str) -> tuple[int, str, dict | None]:
    """Run the chunk stage through the CLI; return exit code, stderr and the manifest (if any)."""
    args = ["chunk", "--config", "configs/default.yaml", "--set", "chunk.output=out/p.parquet",
            "--set", "chunk.manifest=out/m.json"]
    for item in overrides:
        args += ["--set", item]
    code = main(args)
    err = capsys.readouterr().err
    manifest_path = workspace / "out" / "m.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    return code, err, manifest


def error_lines(err: str) -> list[str]:
    """The stderr lines that are not log lines (the CLI logs progress on stderr too)."""
    return [line for line in err.splitlines() if line.strip() and " INFO " not in line and " WARNING " not in line]


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    lines = error_lines(err)
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# ------------------------------------------------------------------ corpus inputs: errors

def _missing_path(ws: Path) -> tuple[list[str], tuple[str, ...]]:
    return ["chunk.input=no/such/folder"], ("no/such/folder",)


def _empty_folder(ws: Path):
    (ws / "corpus").mkdir()
    return ["chunk.input=corpus"], ("corpus",)


def _malformed_jsonl(ws: Path):
    write(ws / "c.jsonl", '{"id": "a", "text": "fine text here"}\n{"id": "b", "text": \n')
    return ["chunk.input=c.jsonl"], ("c.jsonl:2",)


def _jsonl_record_not_object(ws: Path):
    write(ws / "c.jsonl", '{"id": "a", "text": "fine text here"}\n[1, 2, 3]\n')
    return ["chunk.input=c.jsonl"], ("c.jsonl:2",)


def _jsonl_missing_text_field(ws: Path):
    write(ws / "c.jsonl", '{"id": "a", "text": "fine text here"}\n{"id": "b", "body": "x"}\n')
    return ["chunk.input=c.jsonl"], ("c.jsonl:2", "text")


def _jsonl_missing_id_field(ws: Path):
    write(ws / "c.jsonl", '{"id": "a", "text": "fine text here"}\n{"text": "no id"}\n')
    return ["chunk.input=c.jsonl"], ("c.jsonl:2", "id")


def _jsonl_text_not_string(ws: Path):
    write(ws / "c.jsonl", '{"id": "a", "text": "fine text here"}\n{"id": "b", "text": 42}\n')
    return ["chunk.input=c.jsonl"], ("c.jsonl:2", "text")


def _csv_extra_field(ws: Path):
    write(ws / "c.csv", 'id,text\na,"fine text here"\nb,"more text",surplus\n')
    return ["chunk.input=c.csv"], ("c.csv:3",)


def _csv_missing_text_column(ws: Path):
    write(ws / "c.csv", "id,body\na,fine text here\n")
    return ["chunk.input=c.csv"], ("c.csv", "text")


def _csv_unterminated_quote(ws: Path):
    write(ws / "c.csv", 'id,text\na,"fine text here\n')
    return ["chunk.input=c.csv"], ("c.csv",)


def _csv_header_only(ws: Path):
    write(ws / "c.csv", "id,text\n")
    return ["chunk.input=c.csv"], ("c.csv",)


def _corrupt_gzip(ws: Path):
    write(ws / "c.jsonl.gz", b"this is not gzip data at all")
    return ["chunk.input=c.jsonl.gz"], ("c.jsonl.gz",)


def _truncated_gzip(ws: Path):
    data = gzip.compress(('{"id": "a", "text": "%s"}\n' % ("word " * 5000)).encode())
    write(ws / "c.jsonl.gz", data[: len(data) // 2])
    return ["chunk.input=c.jsonl.gz"], ("c.jsonl.gz",)


def _unknown_extension(ws: Path):
    write(ws / "c.docx", b"PK\x03\x04 not a corpus")
    return ["chunk.input=c.docx"], ("c.docx",)


def _jsonl_all_bad_records_skipped(ws: Path):
    write(ws / "c.jsonl", '{"id": "a"\n{"id": "b"\n')
    return ["chunk.input=c.jsonl", "chunk.on_bad_record=skip"], ("no usable document",)


def _input_is_a_file_of_binary(ws: Path):
    write(ws / "c.txt", bytes(range(256)) * 40)
    return ["chunk.input=c.txt"], ("c.txt",)


INPUT_ERRORS = {f.__name__.lstrip("_"): f for f in [
    _missing_path, _empty_folder, _malformed_jsonl, _jsonl_record_not_object, _jsonl_missing_text_field,
    _jsonl_missing_id_field, _jsonl_text_not_string, _csv_extra_field, _csv_missing_text_column,
    _csv_unterminated_quote, _csv_header_only, _corrupt_gzip, _truncated_gzip, _unknown_extension,
    _jsonl_all_bad_records_skipped, _input_is_a_file_of_binary,
]}


@pytest.mark.parametrize("case", sorted(INPUT_ERRORS))
def test_input_error_is_one_line(workspace, capsys, case):
    overrides, needles = INPUT_ERRORS[case](workspace)
    code, err, _ = chunk(workspace, capsys, *overrides)
    assert_one_line_error(code, err, *needles)
    assert not (workspace / "out" / "p.parquet").exists()  # nothing half-made for the next stage


# ------------------------------------------------------------------ corpus inputs: skips

def test_folder_with_bad_files_keeps_the_good_ones(workspace, capsys):
    corpus = workspace / "corpus"
    write(corpus / "good.txt", GOOD)
    write(corpus / "good_cp1252.txt", GOOD.replace("Secretary-General", "Secretary\u2013General").encode("cp1252"))
    write(corpus / "empty.txt", b"")
    write(corpus / "blank.txt", " \n\t\n  \r\n")
    write(corpus / "binary.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    write(corpus / "nul.txt", b"text\x00with\x00nul\x00bytes" * 50)
    (corpus / "dir.txt").mkdir()  # a folder that looks like a text file
    write(corpus / "good.txt.gz", gzip.compress(GOOD.encode()))
    write(corpus / "broken.txt.gz", b"\x1f\x8b\x08\x00garbage")
    code, err, manifest = chunk(workspace, capsys, "chunk.input=corpus")
    assert code == 0, err
    counts = manifest["counts"]
    assert counts["documents_in"] == counts["documents_ok"] + counts["documents_skipped"] == len(manifest["documents"])
    by_name = {Path(d["source"]).name if d.get("source") else d["doc_id"]: d for d in manifest["documents"]}
    for name in ("good.txt", "good_cp1252.txt", "good.txt.gz"):
        assert any(k.startswith(name) and d["status"] == "ok" for k, d in by_name.items()), (name, by_name.keys())
    skipped = {k: d["reason"] for k, d in by_name.items() if d["status"] != "ok"}
    for name in ("empty.txt", "blank.txt", "binary.txt", "nul.txt", "broken.txt.gz"):
        assert any(k.startswith(name) for k in skipped), (name, skipped)
    assert all(reason for reason in skipped.values())


def test_duplicate_ids_and_bad_records_are_recorded(workspace, capsys):
    write(workspace / "c.jsonl", "\n".join([
        json.dumps({"id": "a", "text": GOOD}),
        json.dumps({"id": "a", "text": GOOD + " Again."}),   # duplicate id
        '{"id": "b", "text": ',                              # malformed
        json.dumps({"id": "c", "text": ""}),                 # empty text
        json.dumps({"id": "d", "text": "   "}),              # whitespace only
        json.dumps({"id": "e"}),                             # no text field
        json.dumps({"id": "f", "text": GOOD}),
    ]) + "\n")
    code, err, manifest = chunk(workspace, capsys, "chunk.input=c.jsonl", "chunk.on_bad_record=skip")
    assert code == 0, err
    counts = manifest["counts"]
    assert counts["documents_ok"] == 2
    assert counts["documents_in"] == counts["documents_ok"] + counts["documents_skipped"] == 7
    skipped = {d["source"]: d.get("reason", "") for d in manifest["documents"] if d["status"] != "ok"}
    assert "duplicate" in skipped["c.jsonl:2"] and "not valid JSON" in skipped["c.jsonl:3"], skipped
    assert "empty" in skipped["c.jsonl:4"] and "whitespace" in skipped["c.jsonl:5"], skipped
    assert "missing text field" in skipped["c.jsonl:6"], skipped


def test_fifty_megabytes_without_a_newline(workspace, capsys):
    sentence = "Delegations called for a ceasefire and for talks under the auspices of the United Nations. "
    write(workspace / "corpus" / "huge.txt", sentence * (50_000_000 // len(sentence)))
    code, err, manifest = chunk(workspace, capsys, "chunk.input=corpus", "chunk.dedup.enabled=false")
    assert code == 0, err
    assert manifest["counts"]["documents_ok"] == 1
    import pyarrow.parquet as pq

    table = pq.read_table(workspace / "out" / "p.parquet", columns=["text"])
    assert table.num_rows > 10_000  # split at sentence boundaries under max_paragraph_chars
    assert max(len(t) for t in table.column("text").to_pylist()[:1000]) <= 4000


# ------------------------------------------------------------------ config files

@pytest.mark.parametrize(("content", "message"), [
    ("chunk: [unclosed\n", "not valid YAML"),
    ("- chunk\n- topics\n", "expected a mapping of sections"),
    ("just a string\n", "expected a mapping"),
    ("chunkk:\n  input: seeds\n", "chunkk: unknown key"),
    ("topics:\n  num_topcs: 3\n", "topics.num_topcs: unknown key"),
    ("topics: 5\n", "topics: input should be a valid dictionary"),
    ("\xff\xfe not utf8".encode("latin-1"), "cannot read config"),
])
def test_bad_config_file_is_one_line(workspace, capsys, content, message):
    write(workspace / "bad.yaml", content)
    code = main(["check", "--config", "bad.yaml"])
    assert_one_line_error(code, capsys.readouterr().err, "bad.yaml", message)


def test_missing_config_file(workspace, capsys):
    code = main(["check", "--config", "nope.yaml"])
    assert_one_line_error(code, capsys.readouterr().err, "nope.yaml", "not found")


def test_override_without_equals(workspace, capsys):
    code = main(["check", "--set", "topics.num_topics"])
    assert_one_line_error(code, capsys.readouterr().err, "topics.num_topics", "KEY=VALUE")


def _leaf_fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out.extend(_leaf_fields(annotation, f"{prefix}{name}."))
        else:
            out.append((f"{prefix}{name}", field))
    return out


LEAVES = _leaf_fields(Config)


def _bad_type(field: Any) -> Any:
    """A value no field accepts unless it is a mapping: a mapping, or a list for mapping fields."""
    origin = typing.get_origin(field.annotation)
    return [1, 2] if origin is dict else {"not": "this"}


def _out_of_range(field: Any) -> list[Any]:
    values = []
    for meta in field.metadata:
        if isinstance(meta, annotated_types.Ge):
            values.append(meta.ge - 1)
        elif isinstance(meta, annotated_types.Gt):
            values.append(meta.gt)
        elif isinstance(meta, annotated_types.Le):
            values.append(meta.le + 1)
        elif isinstance(meta, annotated_types.Lt):
            values.append(meta.lt)
    args = typing.get_args(field.annotation)
    if typing.get_origin(field.annotation) is typing.Literal or any(typing.get_origin(a) is typing.Literal for a in args):
        values.append("no-such-choice")
    return values


def _set(data: dict, dotted: str, value: Any) -> dict:
    node = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return data


BASE = read_yaml_mapping(ROOT / "configs" / "default.yaml")
TYPE_CASES = [(key, _bad_type(field)) for key, field in LEAVES]
RANGE_CASES = [(key, value) for key, field in LEAVES for value in _out_of_range(field)]


def test_battery_covers_every_key():
    assert len(TYPE_CASES) == len(LEAVES) >= 60
    assert len(RANGE_CASES) >= 30


@pytest.mark.parametrize(("key", "value"), TYPE_CASES + RANGE_CASES, ids=[f"{k}={v!r}" for k, v in TYPE_CASES + RANGE_CASES])
def test_every_config_key_rejects_bad_values(key, value):
    data = _set(json.loads(json.dumps(BASE)), key, value)
    with pytest.raises(ConfigError) as err:
        validate(data, "configs/default.yaml")
    message = str(err.value)
    assert message.startswith(f"configs/default.yaml: {key}"), message
    assert "\n" not in message


@pytest.mark.parametrize(("targets", "message"), [
    ([{"name": "NATO", "aliases": []}], "stance.targets.0.aliases"),
    ([{"name": "NATO", "aliases": ["(unclosed"]}], "invalid regular expression"),
    ([{"name": "", "aliases": ["NATO"]}], "stance.targets.0.name"),
    ([{"name": "NATO", "aliases": ["NATO"]}, {"name": "NATO", "aliases": ["alliance"]}], "NATO"),
    ([{"name": "NATO"}], "stance.targets.0.aliases"),
])
def test_bad_targets(targets, message):
    data = _set(json.loads(json.dumps(BASE)), "stance.targets", targets)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        validate(data)


# ------------------------------------------------------------------ labelled data

@pytest.mark.parametrize(("lines", "message"), [
    (['{"text": "NATO is great.", "target": "NATO", "label": "maybe"}'], ":1"),
    (['{"text": "Mars is red.", "target": "Mars", "label": "favor"}'], ":1"),
    (['{"text": "NATO is great.", "target": "NATO", "label": "favor"}', '{"text": "NATO'], ":2"),
    (['{"text": "NATO is great.", "label": "favor"}'], ":1"),
    (["[1, 2]"], ":1"),
    ([], "labels.jsonl"),
])
def test_bad_labelled_data_is_one_line(workspace, capsys, lines, message):
    write(workspace / "labels.jsonl", "\n".join(lines) + ("\n" if lines else ""))
    code = main(["train_stance", "--set", "stance.train=labels.jsonl", "--set", "stance.model=out/m",
                 "--set", "stance.metrics=out/s.json"])
    assert_one_line_error(code, capsys.readouterr().err, message)
    assert not (workspace / "out" / "m").exists()


def test_missing_labelled_data(workspace, capsys):
    code = main(["train_stance", "--set", "stance.train=nope.jsonl", "--set", "stance.model=out/m"])
    assert_one_line_error(code, capsys.readouterr().err, "nope.jsonl")


# ------------------------------------------------------------------ downstream stage inputs

def test_topics_on_missing_paragraph_table(workspace, capsys):
    code = main(["topics", "--set", "topics.input=nope.parquet"])
    assert_one_line_error(code, capsys.readouterr().err, "nope.parquet")


def test_topics_on_corrupt_paragraph_table(workspace, capsys):
    write(workspace / "p.parquet", b"PAR1 definitely not parquet")
    code = main(["topics", "--set", "topics.input=p.parquet", "--set", "topics.model=out/t"])
    assert_one_line_error(code, capsys.readouterr().err, "p.parquet")


def test_stance_with_missing_model(workspace, capsys):
    code = main(["stance", "--set", "stance.model=no/model"])
    assert_one_line_error(code, capsys.readouterr().err, "no/model")


def test_no_traceback_in_a_real_process(tmp_path):
    """The in-process cases above use the same code path; check once that a real process agrees."""
    write(tmp_path / "c.jsonl", '{"id": "a", "text": \n')
    proc = subprocess.run([sys.executable, "-m", "pipeline", "chunk", "--config", str(ROOT / "configs/default.yaml"),
                           "--set", "chunk.input=c.jsonl", "--set", "chunk.output=p.parquet",
                           "--set", "chunk.manifest=m.json"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert error_lines(proc.stderr) == [line for line in proc.stderr.splitlines() if line.startswith("Error: ")]
    assert "c.jsonl:1" in proc.stderr
