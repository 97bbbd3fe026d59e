"""End to end: the DVC pipeline in a fresh copy of the repository."""

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def sh(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    env["PYTHONPATH"] = str(cwd)
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def fresh_repo(dest: Path) -> Path:
    """A git repository holding the project's tracked files (cv_folds 2 to keep it short), reproduced."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target)
    config = dest / "configs" / "default.yaml"
    data = yaml.safe_load(config.read_text())
    data["stance"]["cv_folds"] = 2  # keep the test short; the real run uses 5
    config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"]):
        subprocess.run(cmd, cwd=dest, check=True, capture_output=True)
    proc = sh("dvc", "repro", cwd=dest)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return dest


def output_hashes(repo: Path) -> dict[str, str]:
    """Every stage output and its md5 as dvc.lock records them."""
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    return {out["path"]: out["md5"] for stage in lock["stages"].values() for out in stage.get("outs", [])}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    if shutil.which("dvc", path=str(BIN)) is None:
        pytest.skip("dvc is not installed in this environment")
    repo = fresh_repo(tmp_path_factory.mktemp("repo"))
    (repo / ".first_lock").write_text((repo / "dvc.lock").read_text())
    return repo


def test_repro_builds_every_output(repo):
    for path in ["data/paragraphs.parquet", "data/manifest.json", "models/topics/meta.json", "data/doc_topics.parquet",
                 "models/stance/meta.json", "data/stance.parquet", "metrics/topics.json", "metrics/stance.json",
                 "reports/report.html"]:
        assert (repo / path).is_file(), path


def test_second_repro_does_nothing(repo):
    proc = sh("dvc", "status", cwd=repo)
    assert "changed" not in proc.stdout, proc.stdout
    proc = sh("dvc", "repro", cwd=repo)
    assert proc.returncode == 0
    assert "Running stage" not in proc.stdout


def test_stance_parameter_change_skips_chunk_and_topics(repo):
    config = repo / "configs" / "default.yaml"
    original = config.read_text()
    try:
        config.write_text(original.replace("C: 4.0", "C: 2.0"))
        proc = sh("dvc", "status", cwd=repo)
        assert "train_stance" in proc.stdout
        assert "chunk:" not in proc.stdout and "topics:" not in proc.stdout
    finally:
        config.write_text(original)


def test_typo_in_config_fails_the_run(repo):
    config = repo / "configs" / "default.yaml"
    original = config.read_text()
    try:
        config.write_text(original.replace("num_topics:", "num_topcs:", 1))
        proc = sh("dvc", "repro", cwd=repo)
        assert proc.returncode != 0
        assert "topics.num_topcs: unknown key" in proc.stdout + proc.stderr
    finally:
        config.write_text(original)


def test_experiment_from_override_file(repo):
    config = repo / "configs" / "default.yaml"
    original = config.read_bytes()
    proc = sh(sys.executable, "-m", "pipeline", "exp", "configs/experiments/more_topics.yaml", cwd=repo)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert config.read_bytes() == original  # the work tree is back at the baseline
    shown = sh("dvc", "exp", "show", "--csv", "--no-pager", cwd=repo)
    assert shown.returncode == 0, shown.stderr
    rows = list(csv.DictReader(io.StringIO(shown.stdout)))
    by_name = {row["Experiment"]: row for row in rows if row["Experiment"]}
    assert "more_topics" in by_name, shown.stdout
    num_topics = [k for k in rows[0] if k.endswith("topics.num_topics")][0]
    assert by_name["more_topics"][num_topics] == "12"
    assert {row[num_topics] for row in rows if not row["Experiment"]} == {"8"}  # the baseline beside it
    assert any(k.endswith("c_npmi") for k in rows[0])  # metrics side by side
    assert "changed" not in sh("dvc", "status", cwd=repo).stdout



def test_two_runs_from_scratch_are_byte_identical(repo, tmp_path_factory):
    """Tables, models, metrics, plots and the report: every output's md5 is the same in a second fresh copy."""
    other = fresh_repo(tmp_path_factory.mktemp("repo2"))
    first = yaml.safe_load((repo / ".first_lock").read_text())
    assert output_hashes(other) == {out["path"]: out["md5"] for stage in first["stages"].values()
                                    for out in stage.get("outs", [])}
    for metrics in sorted((other / "metrics").glob("*.json")):
        assert metrics.read_bytes() == (repo / "metrics" / metrics.name).read_bytes(), metrics.name
