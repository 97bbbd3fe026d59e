"""The documentation of every parameter cannot drift from the schema (issue 16, "one parameter schema").

The pydantic models in ``pipeline.config`` are the single definition of every parameter (type, range,
default). Two places document them and are checked against those models here:

* **README.md**, section ``## Configuration``: one ``### `SECTION` ...`` subsection per ``Config`` field, each
  with a key table whose header is ``| key | default | meaning |``. A row's first cell names one key or several
  (```` `a`, `b` ````), each in backticks and relative to its section (``dedup.threshold`` is
  ``chunk.dedup.threshold``). The checks:

  1. every leaf key of the schema has exactly one row in its section's table (a leaf is a field whose type is
     not a section model: list- and dict-valued fields such as ``stance.targets``, ``stance.block_weights`` or
     ``chunk.drop_line_patterns`` are leaves, ``chunk.dedup`` and ``stance.transformer`` are not);
  2. every key named in a table exists in the schema;
  3. defaults: a row naming ``n`` keys gives ``n`` defaults separated by ``, `` outside backticks. A default
     that is exactly one backticked span (```` `6.0e-5` ````, ```` `null` ````, ```` `[4, 6, 8]` ````,
     ```` `{roles: 4.0}` ````) is YAML and, parsed with ``yaml.safe_load``, must equal the schema default
     (paths compared as strings, a bool only equals a bool). Any other default is a description, not a value
     (``page numbers, symbols ...``, ``web boilerplate``, ``paragraph table``, the list of target names,
     ``21 generic words (`also, ...`)``) and is not compared, except that a description starting with a
     count ("21 generic words", "8 patterns") must give the length of the default list;
  4. every row has a non-empty meaning.

* **configs/default.yaml**: every key is in the schema, every leaf key of the schema is present, and has a
  comment: on its own line (after the value, or after the colon when the value is a block on the lines below),
  or, when its value takes more than one line, on a comment line directly above. The values themselves are
  checked by ``tests/test_config.py::test_default_yaml_matches_code_defaults``. A key may share the comment of
  the line above only if it is listed in ``UNCOMMENTED_OK`` with a reason.

Failures name the file, the section and the key.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from pipeline.config import Config
from tests.conftest import ROOT

README = ROOT / "README.md"
DEFAULT_YAML = ROOT / "configs" / "default.yaml"

#: keys of configs/default.yaml allowed to go without a comment of their own: dotted key -> reason.
#: Keep it short; a comment in default.yaml is better.
UNCOMMENTED_OK: dict[str, str] = {}

KEY_TABLE_HEADER = ["key", "default", "meaning"]


# --------------------------------------------------------------------------- the schema


def _section_model(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _leaves(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        sub = _section_model(field.annotation)
        keys += _leaves(sub, f"{prefix}{name}.") if sub else [f"{prefix}{name}"]
    return keys


SCHEMA_LEAVES = _leaves(Config)
SECTIONS = list(Config.model_fields)
DEFAULTS = Config().model_dump(mode="json")


def _schema_default(key: str) -> Any:
    node: Any = DEFAULTS
    for part in key.split("."):
        node = node[part]
    return node


def _is_schema_key(key: str) -> bool:
    """A leaf or a nested section of the schema (``chunk.dedup``)."""
    model: type[BaseModel] | None = Config
    for part in key.split("."):
        if model is None or part not in model.model_fields:
            return False
        model = _section_model(model.model_fields[part].annotation)
    return True


# --------------------------------------------------------------------------- README.md


def _split_outside_backticks(text: str, sep: str) -> list[str]:
    parts, current, in_code = [], "", False
    i = 0
    while i < len(text):
        if text[i] == "`":
            in_code = not in_code
        if not in_code and text.startswith(sep, i):
            parts.append(current)
            current, i = "", i + len(sep)
            continue
        current += text[i]
        i += 1
    parts.append(current)
    return [p.strip() for p in parts]


def _cells(line: str) -> list[str]:
    # a `|` inside backticks (`p(w|k)`) is text, not a cell border
    return _split_outside_backticks(line.strip().strip("|"), "|")


def _readme_rows() -> list[dict[str, Any]]:
    """Every row of every key table under ``## Configuration``, with its section and line number."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("## Configuration")
    rows: list[dict[str, Any]] = []
    heading, section, in_table = "", None, False
    for number, line in enumerate(lines[start + 1:], start + 2):
        if line.startswith("## "):
            break
        if line.startswith("### "):
            heading = line.removeprefix("### ").strip()
            named = re.match(r"`([^`]+)`", heading)
            section = named.group(1) if named else None
        if not line.startswith("|"):
            in_table = False
            continue
        cells = _cells(line)
        if cells == KEY_TABLE_HEADER:
            assert section in SECTIONS, (
                f"README.md:{number}: key table under '### {heading}', which names no config section "
                f"(expected ### `SECTION` with SECTION one of {SECTIONS})")
            in_table = True
            continue
        if not in_table or set("".join(cells)) <= set("-: "):
            continue
        assert len(cells) == 3, f"README.md:{number} (### {section}): key table row has {len(cells)} cells, not 3"
        keys = _split_outside_backticks(cells[0], ",")
        bad = [k for k in keys if not re.fullmatch(r"`[^`]+`", k)]
        assert not bad, f"README.md:{number} (### {section}): first cell must name keys in backticks, got {bad}"
        rows.append({"line": number, "section": section, "keys": [k.strip("`") for k in keys],
                     "default": cells[1], "meaning": cells[2]})
    return rows


ROWS = _readme_rows()


def _documented() -> dict[str, list[tuple[dict[str, Any], int]]]:
    """Dotted key -> the rows naming it, with the key's position in the row."""
    found: dict[str, list[tuple[dict[str, Any], int]]] = {}
    for row in ROWS:
        for i, key in enumerate(row["keys"]):
            found.setdefault(f"{row['section']}.{key}", []).append((row, i))
    return found


def test_readme_has_a_key_table_per_section():
    missing = sorted(set(SECTIONS) - {row["section"] for row in ROWS})
    assert not missing, f"README.md ## Configuration: no key table for section(s) {missing}"


@pytest.mark.parametrize("key", SCHEMA_LEAVES)
def test_every_schema_key_has_one_readme_row(key):
    section, rel = key.split(".", 1)
    rows = _documented().get(key, [])
    assert rows, f"README.md ### {section}: key `{key}` has no row (add | `{rel}` | `default` | meaning |)"
    assert len(rows) == 1, (f"README.md ### {section}: key `{key}` has {len(rows)} rows "
                            f"(lines {[r['line'] for r, _ in rows]})")


def test_every_readme_key_is_in_the_schema():
    unknown = [f"README.md:{row['line']} ### {key.split('.')[0]}: key `{key}` is not in the schema (pipeline.config.Config)"
               for key, found in _documented().items() for row, _ in found if key not in SCHEMA_LEAVES]
    assert not unknown, "\n".join(unknown)


def _defaults_of(row: dict[str, Any]) -> list[str]:
    if len(row["keys"]) == 1:
        return [row["default"]]
    parts = _split_outside_backticks(row["default"], ", ")
    assert len(parts) == len(row["keys"]), (
        f"README.md:{row['line']} ### {row['section']}: row names {len(row['keys'])} keys "
        f"({', '.join(row['keys'])}) but gives {len(parts)} defaults: {row['default']!r}")
    return parts


def _same(shown: Any, actual: Any) -> bool:
    if isinstance(shown, bool) or isinstance(actual, bool):
        return type(shown) is type(actual) and shown == actual
    if isinstance(shown, list) and isinstance(actual, list):
        return len(shown) == len(actual) and all(_same(a, b) for a, b in zip(shown, actual, strict=True))
    if isinstance(shown, dict) and isinstance(actual, dict):
        return shown.keys() == actual.keys() and all(_same(shown[k], actual[k]) for k in shown)
    return shown == actual


def test_readme_defaults_equal_schema_defaults():
    wrong = []
    for row in ROWS:
        for key, shown in zip(row["keys"], _defaults_of(row), strict=True):
            dotted = f"{row['section']}.{key}"
            if dotted not in SCHEMA_LEAVES:
                continue  # reported by test_every_readme_key_is_in_the_schema
            actual = _schema_default(dotted)
            where = f"README.md:{row['line']} ### {row['section']}: key `{dotted}`"
            value = re.fullmatch(r"`([^`]*)`", shown)
            if value:
                parsed = yaml.safe_load(value.group(1))
                if not _same(parsed, actual):
                    wrong.append(f"{where} shows default {shown}, the schema (pipeline.config.Config) has {actual!r}")
                continue
            count = re.match(r"(\d+) [a-z]", shown)
            if count and isinstance(actual, list) and int(count.group(1)) != len(actual):
                wrong.append(f"{where} says {shown[:40]!r}..., the default list has {len(actual)} entries")
    assert not wrong, "\n".join(wrong)


def test_readme_rows_have_a_meaning():
    empty = [f"README.md:{row['line']} ### {row['section']}: key(s) {', '.join(row['keys'])} have an empty meaning"
             for row in ROWS if not row["meaning"]]
    assert not empty, "\n".join(empty)


# --------------------------------------------------------------------------- configs/default.yaml


def _yaml_keys() -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """Dotted key -> (key node, value node) for every key of default.yaml down to the schema's leaves."""
    root = yaml.compose(DEFAULT_YAML.read_text(encoding="utf-8"))
    found: dict[str, tuple[yaml.Node, yaml.Node]] = {}

    def walk(node: yaml.Node, model: type[BaseModel], prefix: str) -> None:
        assert isinstance(node, yaml.MappingNode), f"configs/default.yaml: `{prefix.rstrip('.')}` is not a mapping"
        for key_node, value_node in node.value:
            dotted = f"{prefix}{key_node.value}"
            found[dotted] = (key_node, value_node)
            field = model.model_fields.get(key_node.value)
            sub = _section_model(field.annotation) if field else None
            if sub:
                walk(value_node, sub, f"{dotted}.")

    walk(root, Config, "")
    return found


YAML_KEYS = _yaml_keys()
YAML_LINES = DEFAULT_YAML.read_text(encoding="utf-8").splitlines()


def test_every_default_yaml_key_is_in_the_schema():
    unknown = [f"configs/default.yaml:{k.start_mark.line + 1}: key `{key}` is not in the schema (pipeline.config.Config)"
               for key, (k, _) in YAML_KEYS.items() if not _is_schema_key(key)]
    assert not unknown, "\n".join(unknown)


def _has_comment(key_node: yaml.Node, value_node: yaml.Node) -> bool:
    line = key_node.start_mark.line
    text = YAML_LINES[line]
    if value_node.start_mark.line == line and value_node.end_mark.line == line:
        rest = text[value_node.end_mark.column:]  # a scalar or flow value on the key's line
    else:
        rest = text[key_node.end_mark.column:].lstrip().removeprefix(":")  # a value on the lines below
    if rest.strip().startswith("#"):
        return True
    multi_line = value_node.end_mark.line > line
    return multi_line and line > 0 and YAML_LINES[line - 1].strip().startswith("#")


@pytest.mark.parametrize("key", SCHEMA_LEAVES)
def test_every_schema_key_has_a_commented_default_yaml_entry(key):
    assert key in YAML_KEYS, f"configs/default.yaml: key `{key}` is missing (add it with its default and a comment)"
    key_node, value_node = YAML_KEYS[key]
    commented = _has_comment(key_node, value_node)
    where = f"configs/default.yaml:{key_node.start_mark.line + 1}: key `{key}`"
    if key in UNCOMMENTED_OK:
        assert not commented, f"{where} has a comment now: remove it from UNCOMMENTED_OK in {__name__}"
    else:
        assert commented, f"{where} has no comment (add '# meaning' on its line)"


def test_uncommented_allow_list_names_schema_keys():
    stale = sorted(set(UNCOMMENTED_OK) - set(SCHEMA_LEAVES))
    assert not stale, f"UNCOMMENTED_OK in {__name__} names keys not in the schema: {stale}"
