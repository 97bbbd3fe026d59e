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
                 "reports/report.html", "reports/topics.html"]:
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


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=repo,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def remote(repo, tmp_path_factory) -> Path:
    """The reproduced repository with its outputs committed and pushed to a local DVC remote."""
    storage = tmp_path_factory.mktemp("dvc-storage")
    proc = sh("dvc", "remote", "add", "--default", "storage", str(storage), cwd=repo)
    assert proc.returncode == 0, proc.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "outputs and a DVC remote")
    proc = sh("dvc", "push", cwd=repo)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert any(storage.rglob("*")), "nothing was pushed"
    return storage


def test_pull_into_a_fresh_clone_needs_no_rebuild(repo, remote, tmp_path_factory):
    """A colleague's two commands, `git clone` and `dvc pull`, give every artifact without recomputing."""
    clone = tmp_path_factory.mktemp("colleague") / "project"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True, capture_output=True)
    assert not (clone / "models" / "stance").exists()
    proc = sh("dvc", "pull", cwd=clone)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert output_hashes(clone) == output_hashes(repo)
    status = sh("dvc", "status", cwd=clone)
    assert status.returncode == 0 and "up to date" in status.stdout, status.stdout
    proc = sh("dvc", "repro", cwd=clone)
    assert proc.returncode == 0 and "Running stage" not in proc.stdout, proc.stdout  # nothing retrained
    load = sh(sys.executable, "-c", "import pipeline; b = pipeline.load('models'); "
              "print(b.topic_model.num_topics, len(b.stance(['NATO ignored our warnings.'], ['NATO'])))", cwd=clone)
    assert load.returncode == 0, load.stderr
    assert load.stdout.split() == ["8", "1"]
    assert git(clone, "status", "--porcelain") == ""


def test_load_models_of_two_revisions_in_one_process(repo, remote, tmp_path_factory, monkeypatch):
    """Tag a release, change K, commit; then load both revisions from the git URL (data from the remote)."""
    import pipeline

    git(repo, "tag", "v0.1.0")
    git(repo, "tag", "-a", "topic-model@v0.1.0", "-m", "v0.1.0")  # a model version (GTO: an annotated tag)
    config = repo / "configs" / "default.yaml"
    config.write_text(config.read_text().replace("num_topics: 8", "num_topics: 5", 1))
    proc = sh("dvc", "repro", "topics", cwd=repo)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "five topics")
    assert sh("dvc", "push", cwd=repo).returncode == 0
    head = git(repo, "rev-parse", "HEAD")

    monkeypatch.setenv("NEWSSTANCE_CACHE", str(tmp_path_factory.mktemp("model-cache")))
    url = repo.as_uri()  # a URL: DVC clones it and reads the data from the DVC remote, not from repo's cache
    old = pipeline.load_topics(repo=url, rev="v0.1.0")
    new = pipeline.load_topics(repo=url, rev=head)
    assert (old.num_topics, new.num_topics) == (8, 5)
    bundle = pipeline.load(repo=url, rev="v0.1.0")
    assert bundle.topic_model.num_topics == 8 and bundle.targets

    out = tmp_path_factory.mktemp("artifact") / "topics"
    proc = sh("dvc", "artifacts", "get", url, "topic-model", "--rev", "v0.1.0", "-o", str(out), cwd=repo)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert pipeline.load_topics(out).num_topics == 8

    with pytest.raises(pipeline.ArtifactError, match="no such commit, tag or branch"):
        pipeline.load_topics(repo=url, rev="v9.9")
