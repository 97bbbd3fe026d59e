"""pipeline.remote.fetch: DVC-tracked paths of other revisions and repositories (fast cases).

The end-to-end path (a reproduced project pushed to a DVC remote, pulled into a fresh clone, and
two model revisions loaded from its git URL) is in tests/test_dvc_pipeline.py.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import pipeline
from pipeline.config import load_config
from pipeline.remote import fetch
from tests.conftest import ROOT

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(shutil.which("dvc", path=str(BIN)) is None, reason="dvc is not installed")


def run(repo: Path, *args: str) -> str:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(list(args), cwd=repo, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip()


def commit(repo: Path, message: str) -> str:
    run(repo, "git", "add", "-A")
    run(repo, "git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", message)
    return run(repo, "git", "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, str, str]:
    """A git + DVC repository whose DVC-tracked directory has two committed versions."""
    repo = tmp_path_factory.mktemp("project")
    run(repo, "git", "init", "-q")
    run(repo, "dvc", "init", "-q")
    run(repo, "dvc", "config", "core.analytics", "false")
    (repo / "models" / "m").mkdir(parents=True)
    (repo / "models" / "m" / "weights.txt").write_text("first\n")
    run(repo, "dvc", "add", "-q", "models/m")
    first = commit(repo, "first")
    (repo / "models" / "m" / "weights.txt").write_text("second\n")
    run(repo, "dvc", "add", "-q", "models/m")
    second = commit(repo, "second")
    return repo, first, second


def test_two_revisions_give_two_copies_cached_by_commit(project, tmp_path):
    repo, first, second = project
    old = fetch("models/m", repo=repo, rev=first, cache_dir=tmp_path)
    new = fetch("models/m", repo=repo, rev=second, cache_dir=tmp_path)
    assert (old / "weights.txt").read_text() == "first\n"
    assert (new / "weights.txt").read_text() == "second\n"
    assert fetch("models/m", repo=repo, rev=first[:8], cache_dir=tmp_path) == old  # same commit, same copy
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([old.parent.name, new.parent.name])


def test_the_repository_around_the_working_directory(project, tmp_path, monkeypatch):
    repo, first, _ = project
    monkeypatch.chdir(repo)
    copy = fetch("models/m", rev=first, cache_dir=tmp_path)
    assert (copy / "weights.txt").read_text() == "first\n"


@pytest.mark.parametrize("kwargs, message", [
    ({"rev": "v9.9"}, "unknown Git revision 'v9.9' (no such commit, tag or branch)"),
    ({"path": "models/nothing"}, "models/nothing is not in that revision"),
    ({"repo": "/no/such/repository"}, "/no/such/repository is neither a git URL nor an existing directory"),
])
def test_errors_are_one_line_artifact_errors(project, tmp_path, kwargs, message):
    repo, _, _ = project
    kwargs = {"path": "models/m", "repo": repo, **kwargs}
    with pytest.raises(pipeline.ArtifactError, match="cannot (open|fetch)") as info:
        fetch(kwargs.pop("path"), cache_dir=tmp_path, **kwargs)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_data_that_was_never_pushed(project, tmp_path):
    """A clone from a URL has no cache: without a remote the message says to push."""
    repo, first, _ = project
    with pytest.raises(pipeline.ArtifactError, match="dvc push"):
        fetch("models/m", repo=repo.as_uri(), rev=first, cache_dir=tmp_path)


def test_loaders_take_repo_and_rev(project, tmp_path, monkeypatch):
    """The public loaders fetch first: a directory that is not a model is refused by the usual checks."""
    repo, first, _ = project
    monkeypatch.setenv("NEWSSTANCE_CACHE", str(tmp_path))
    with pytest.raises(pipeline.ArtifactError, match="meta.json"):
        pipeline.load_topics("models/m", repo=repo, rev=first)


def test_registry_artifacts_are_the_configured_model_directories():
    """dvc.yaml's `artifacts:` (DVC's model registry) names the directories the stages write."""
    artifacts = yaml.safe_load((ROOT / "dvc.yaml").read_text())["artifacts"]
    config = load_config(ROOT / "configs" / "default.yaml")
    assert artifacts["topic-model"]["path"] == config.topics.model.as_posix()
    assert artifacts["stance-model"]["path"] == config.stance.model.as_posix()
    assert {a["type"] for a in artifacts.values()} == {"model"}
