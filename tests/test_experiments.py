"""Override files in configs/experiments and the `pipeline exp` command (without running DVC)."""

import subprocess
import sys
from pathlib import Path

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser

from pipeline.config import DEFAULT_CONFIG, read_yaml_mapping, validate
from pipeline.errors import ConfigError
from pipeline.experiments import hydra_value, leaves, load_experiment, merge, run_experiments
from tests.conftest import ROOT

EXPERIMENTS = sorted((ROOT / "configs" / "experiments").glob("*.yaml"))


def test_there_are_experiments():
    assert len(EXPERIMENTS) >= 4


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_every_override_file_is_valid_and_changes_something(path):
    override = read_yaml_mapping(path)
    base = read_yaml_mapping(ROOT / DEFAULT_CONFIG)
    merged = validate(merge(base, override), str(path)).model_dump(mode="json")
    default = validate(base).model_dump(mode="json")
    assert merged != default
    flat = dict(leaves(merged))
    for key, value in leaves(override):
        assert flat[key] == value, key  # nothing the file sets is lost or coerced


@pytest.mark.parametrize("value", [
    None, True, 3, 0.25, "drop", 'say "hi"', r"U\.S\.A?\.?", "(?i)^\\s*page$", "People'?s",
    ["a", "b c"], [{"name": "West", "aliases": ["the West", "Euro-Atlantic"]}], [],
])
def test_values_survive_dvc_override_grammar(value):
    parsed = OverridesParser.create().parse_override(f"x.y={hydra_value(value)}").value()
    assert parsed == value


def test_default_targets_survive_dvc_override_grammar():
    targets = validate(read_yaml_mapping(ROOT / DEFAULT_CONFIG)).model_dump(mode="json")["stance"]["targets"]
    parsed = OverridesParser.create().parse_override(f"stance.targets={hydra_value(targets)}").value()
    assert parsed == targets


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message", [
    ("topics:\n  num_topcs: 12\n", "topics.num_topcs: unknown key"),
    ("topics:\n  num_topics: -1\n", "topics.num_topics: input should be greater than or equal to 2"),
    ("stance:\n  calibration: maybe\n", "stance.calibration:"),
    ("- 1\n- 2\n", "expected a mapping of sections"),
    ("topics: [\n", "not valid YAML"),
    ("", "sets no parameters"),
    ("stance:\n  train: data/labels/no_such_file.jsonl\n", "stance.train: data/labels/no_such_file.jsonl does not exist"),
])
def test_bad_override_file_names_file_and_key(tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(ROOT)
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    assert str(err.value).startswith(str(path))
    assert message in str(err.value)


def test_dry_run_builds_one_dvc_command_per_file(monkeypatch):
    monkeypatch.chdir(ROOT)
    files = [str(p.relative_to(ROOT)) for p in EXPERIMENTS]
    commands = run_experiments(files, dry_run=True)
    assert len(commands) == len(files)
    more = next(c for c in commands if "more_topics" in c)
    assert more[3:] == ["exp", "run", "-n", "more_topics", "-S", "configs/default.yaml:topics.num_topics=12"]


def test_cli_error_is_one_line(tmp_path):
    path = write(tmp_path, "topics:\n  num_topcs: 12\n")
    proc = subprocess.run([sys.executable, "-m", "pipeline", "exp", "--dry-run", str(path)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {path}: topics.num_topcs: unknown key"), proc.stderr
