"""The report's provenance footer: git tree of the code, config hash, model hashes; stable from run to run."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.report import main
from pipeline.report.provenance import CODE_DIR, config_sha256, git_blob_id, git_tree_id
from tests.test_report import write_inputs


def git(*args: str, cwd: Path) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t", GIT_CONFIG_NOSYSTEM="1", HOME=str(cwd))
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def write_tree(root: Path) -> Path:
    """A package directory with nested directories, names in git's awkward sort order and files git ignores."""
    pkg = root / "pkg"
    for name, text in {
        "a.b": "dot", "a-b": "dash", "a/x.py": "in a directory named a", "a0": "zero", "ü.txt": "non-ASCII name",
        "__init__.py": "", "sub/deep/z.txt": "nested\n", "sub/deep/__init__.py": "x = 1\n",
        "run.sh": "#!/bin/sh\necho hi\n",
        # left out, as .gitignore keeps them out of git
        "__pycache__/m.cpython-311.pyc": "bytecode", "sub/__pycache__/n.cpython-311.pyc": "bytecode",
        "sub/stray.pyc": "bytecode", "x.egg-info/PKG-INFO": "metadata",
    }.items():
        path = pkg / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (pkg / "run.sh").chmod(0o755)
    (pkg / "empty" / "dir").mkdir(parents=True)  # git holds no empty directory
    (pkg / "link").symlink_to("a.b")
    (root / ".gitignore").write_text("__pycache__/\n*.pyc\n*.egg-info/\n", encoding="utf-8")
    return pkg


@needs_git
def test_tree_id_is_what_git_computes(tmp_path: Path) -> None:
    pkg = write_tree(tmp_path)
    git("init", "-q", cwd=tmp_path)
    git("add", "-A", cwd=tmp_path)
    git("commit", "-qm", "one", cwd=tmp_path)
    assert "__pycache__" not in git("ls-files", cwd=tmp_path) and "run.sh" in git("ls-files", cwd=tmp_path)
    assert git_tree_id(pkg) == git("rev-parse", "HEAD:pkg", cwd=tmp_path)
    assert git_tree_id(pkg / "sub") == git("rev-parse", "HEAD:pkg/sub", cwd=tmp_path)
    assert git_blob_id(b"dot") == git("hash-object", "pkg/a.b", cwd=tmp_path)
    # the executable bit is part of the tree
    (pkg / "run.sh").chmod(0o644)
    assert git_tree_id(pkg) != git("rev-parse", "HEAD:pkg", cwd=tmp_path)


@needs_git
def test_find_object_lists_the_commits_of_a_code_tree(tmp_path: Path) -> None:
    pkg = write_tree(tmp_path)
    git("init", "-q", cwd=tmp_path)
    git("add", "-A", cwd=tmp_path)
    git("commit", "-qm", "one", cwd=tmp_path)
    first, tree = git("rev-parse", "--short", "HEAD", cwd=tmp_path), git_tree_id(pkg)
    (tmp_path / "README").write_text("not in pkg", encoding="utf-8")
    git("add", "-A", cwd=tmp_path)
    git("commit", "-qm", "two: pkg unchanged", cwd=tmp_path)
    (pkg / "a0").write_text("changed", encoding="utf-8")
    git("commit", "-qam", "three: pkg changed", cwd=tmp_path)
    third = git("rev-parse", "--short", "HEAD", cwd=tmp_path)
    command = ["log", "--all", "--format=%h", "-t", f"--find-object={tree}"]
    # the commit that introduced the tree and the one that replaced it, newest first
    assert git(*command, cwd=tmp_path).split() == [third, first]
    assert git("log", "--all", "--format=%h", "-t", f"--find-object={git_tree_id(pkg)}", cwd=tmp_path) == third
    (pkg / "a0").write_text("edited, not committed", encoding="utf-8")
    assert git("log", "--all", "--format=%h", "-t", f"--find-object={git_tree_id(pkg)}", cwd=tmp_path) == ""


def test_footer_names_code_config_and_models(tmp_path: Path) -> None:
    config = load_config(write_inputs(tmp_path))
    main(config)
    page = config.report.output.read_text(encoding="utf-8")
    provenance = json.loads(config.report.metrics.read_text())["provenance"]
    footer = page[page.index('<footer id="provenance"'):page.index("</footer>")]
    topics = hashlib.sha256((tmp_path / "models" / "topics" / "meta.json").read_bytes()).hexdigest()
    stance = hashlib.sha256((tmp_path / "models" / "stance" / "meta.json").read_bytes()).hexdigest()
    tree = git_tree_id(CODE_DIR)
    assert provenance["config_sha256"] == config_sha256(config)
    assert provenance["code_tree"] == tree and provenance["code_dir"] == "pipeline"
    assert provenance["topic_model"]["sha256"] == topics and provenance["topic_model"]["num_topics"] == 3
    assert provenance["stance_model"]["sha256"] == stance and provenance["stance_model"]["engine"] == "sklearn"
    for value in (tree, config_sha256(config), topics, stance):
        assert f">{value[:12]}</code>" in footer and f": {value}\"" in footer  # short on the page, full in the title
    assert "Made by newsstance-pipeline " in footer
    assert "topic model K=3 tomotopy" in footer and "stance model sklearn, 3 targets" in footer
    assert f"git log --all --format=%h -t --find-object={tree}" in footer


def test_report_and_metrics_are_byte_identical_when_rendered_twice(tmp_path: Path) -> None:
    config = load_config(write_inputs(tmp_path))
    main(config)
    page, metrics = config.report.output.read_bytes(), config.report.metrics.read_bytes()
    main(config)
    assert config.report.output.read_bytes() == page and config.report.metrics.read_bytes() == metrics
    assert b'<footer id="provenance"' in page and b'"provenance"' in metrics


def test_any_config_change_changes_the_config_hash(tmp_path: Path) -> None:
    path = write_inputs(tmp_path)
    base = load_config(path)
    assert config_sha256(load_config(path)) == config_sha256(base)
    changed = {config_sha256(load_config(path, [item])) for item in
               ("report.examples_per_topic=3", "topics.num_topics=9", "stance.C=2.0", "compute.n_jobs=1")}
    assert len(changed) == 4 and config_sha256(base) not in changed
    other = load_config(path, ["report.examples_per_topic=3"])
    main(other)
    page = other.report.output.read_text(encoding="utf-8")
    assert config_sha256(other)[:12] in page and config_sha256(base)[:12] not in page


def test_missing_model_is_named_not_hidden(tmp_path: Path) -> None:
    config = load_config(write_inputs(tmp_path))
    shutil.rmtree(tmp_path / "models" / "stance")
    main(config)
    page = config.report.output.read_text(encoding="utf-8")
    assert f"stance model: none found (no <code>{tmp_path / 'models' / 'stance' / 'meta.json'}</code>)" in page
    assert json.loads(config.report.metrics.read_text())["provenance"]["stance_model"]["sha256"] is None
