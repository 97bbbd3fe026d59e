from pathlib import Path

import pytest

from pipeline.config import Config, load_config
from pipeline.errors import ConfigError
from tests.conftest import ROOT, run_cli


def test_default_yaml_matches_code_defaults():
    assert load_config(ROOT / "configs" / "default.yaml") == Config()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("topics.num_topcs=7", "topics.num_topcs: unknown key"),
        ("chunkk.input=x", "chunkk: unknown key"),
        ("topics.num_topics=abc", "topics.num_topics: input should be a valid integer"),
        ("topics.num_topics=1", "topics.num_topics: input should be greater than or equal to 2, got 1"),
        ("chunk.dedup.threshold=1.5", "chunk.dedup.threshold: input should be less than or equal to 1"),
        ("chunk.headings=sideways", "chunk.headings: input should be 'attach', 'drop' or 'keep'"),
        ("chunk.dedup.bands=7", "chunk.dedup.bands: must divide chunk.dedup.num_perm"),
        ("chunk.drop_line_patterns=['(unclosed']", "invalid regular expression"),
        ("chunk.encoding_fallback=klingon", "unknown text encoding"),
        ("stance.targets=[]", "stance.targets: list should have at least 1 item"),
        ("stance.targets=[{name: X, aliases: []}]", "stance.targets.0.aliases"),
        ("compute.engine=spark", "compute.engine: input should be 'local' or 'dask'"),
        ("compute.scheduler=localhost:8786", "compute.scheduler: expected a Dask scheduler address"),
        ("compute.dask_workers=0", "compute.dask_workers: input should be greater than or equal to 1"),
        ("compute.partition_rows=0", "compute.partition_rows: input should be greater than or equal to 1"),
        ("topics.fit_sample=5", "topics.fit_sample: input should be greater than or equal to 10"),
    ],
)
def test_bad_values_name_the_key(override, message):
    with pytest.raises(ConfigError) as err:
        load_config(ROOT / "configs" / "default.yaml", [override])
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_override_sets_nested_values():
    cfg = load_config(ROOT / "configs" / "default.yaml", ["topics.num_topics=12", "chunk.dedup.enabled=false"])
    assert cfg.topics.num_topics == 12
    assert cfg.chunk.dedup.enabled is False


def test_set_without_equals_is_an_error():
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load_config(ROOT / "configs" / "default.yaml", ["topics.num_topics"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- a\n- b\n", "expected a mapping of sections"),
        ("chunk: [unclosed\n", "not valid YAML"),
        ("42\n", "expected a mapping"),
    ],
)
def test_bad_config_files(tmp_path: Path, content, message):
    path = tmp_path / "c.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_missing_config_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_empty_config_means_defaults(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("")
    assert load_config(path) == Config()


def test_cli_reports_one_line_error(workspace):
    proc = run_cli("check", "--set", "topics.num_topcs=3")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("Error: configs/default.yaml: topics.num_topcs: unknown key")
    assert "Traceback" not in proc.stderr


def test_cli_check_ok(workspace):
    proc = run_cli("check")
    assert proc.returncode == 0, proc.stderr
