"""Interrupted and resource-starved runs: previous outputs survive, nothing half-written is accepted."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.io import atomic_path, ensure_free_space
from tests.conftest import ROOT

SEEDS = sorted((ROOT / "seeds").glob("*.txt"))


def digest(path: Path) -> str:
    if path.is_dir():
        return hashlib.sha256(b"".join(digest(p).encode() for p in sorted(path.rglob("*")) if p.is_file())).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pipeline_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", *args]


def env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT))


@pytest.fixture
def corpus(workspace: Path) -> Path:
    """About 10,000 paragraphs: the seeds copied under many names (dedup off so all are kept)."""
    folder = workspace / "corpus"
    folder.mkdir()
    for i in range(60):
        for seed in SEEDS:
            shutil.copy(seed, folder / f"{i:03d}_{seed.name}")
    return folder


TOPICS = ["--set", "topics.input=data/p.parquet", "--set", "topics.output=data/doc_topics.parquet",
          "--set", "topics.model=models/topics", "--set", "topics.table=data/t.parquet",
          "--set", "topics.metrics=data/m.json", "--set", "topics.tomotopy_iterations=30",
          "--set", "topics.metrics_sample=200"]


@pytest.mark.slow
def test_sigkill_during_a_write_keeps_the_previous_outputs(workspace, corpus):
    chunk = pipeline_cmd("chunk", "--set", "chunk.input=corpus", "--set", "chunk.output=data/p.parquet",
                         "--set", "chunk.manifest=data/manifest.json", "--set", "chunk.dedup.enabled=false")
    subprocess.run(chunk, cwd=workspace, env=env(), check=True, capture_output=True)
    first = subprocess.run(pipeline_cmd("topics", *TOPICS, "--set", "topics.num_topics=3"), cwd=workspace, env=env(),
                           capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    outputs = [workspace / "data/doc_topics.parquet", workspace / "models/topics", workspace / "data/t.parquet"]
    before = {p: digest(p) for p in outputs}

    # A second run with another K writes different outputs; kill it once its streaming write has begun.
    proc = subprocess.Popen(pipeline_cmd("topics", *TOPICS, "--set", "topics.num_topics=4"), cwd=workspace,
                            env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    partial: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        partial = [p for p in (workspace / "data").glob(".doc_topics.parquet.*.tmp") if p.stat().st_size > 0]
        if partial:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait()
    assert partial, "the run ended before its write could be interrupted"
    assert proc.returncode == -signal.SIGKILL

    assert {p: digest(p) for p in outputs} == before  # the previous outputs are intact
    # The half-written file is hidden (dot name, .tmp) and the stages read only their own paths ...
    assert all(p.exists() for p in partial)
    import pipeline

    assert pipeline.load_topics(workspace / "models/topics").num_topics == 3
    # ... and the next write of the same file removes what the killed run left.
    again = subprocess.run(pipeline_cmd("topics", *TOPICS, "--set", "topics.num_topics=4"), cwd=workspace,
                           env=env(), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert not any(p.exists() for p in partial)
    assert pipeline.load_topics(workspace / "models/topics").num_topics == 4


def test_failed_block_leaves_the_old_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_stale_temporary_of_a_live_process_is_kept(tmp_path):
    live = tmp_path / f".out.txt.{os.getpid()}.abc.tmp"
    dead = tmp_path / ".out.txt.999999999.abc.tmp"
    live.write_text("in progress")
    dead.write_text("left by a killed run")
    with atomic_path(tmp_path / "out.txt") as tmp:
        tmp.write_text("new")
    assert live.exists() and not dead.exists()


def test_disk_space_is_checked_before_writing(workspace, capsys, monkeypatch):
    usage = shutil.disk_usage(workspace)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=10 << 20))
    (workspace / "corpus").mkdir()
    shutil.copy(SEEDS[0], workspace / "corpus" / "a.txt")
    code = main(["chunk", "--set", "chunk.input=corpus", "--set", "chunk.output=out/p.parquet",
                 "--set", "chunk.manifest=out/m.json"])
    err = capsys.readouterr().err
    assert code == 2
    line = [x for x in err.splitlines() if x.startswith("Error: ")][0]
    assert "out/p.parquet: not enough disk space for chunk.output" in line
    assert "needed" in line and "10.0 MB free" in line
    assert not (workspace / "out" / "p.parquet").exists()


def test_enough_disk_space_passes(tmp_path):
    ensure_free_space(tmp_path / "x" / "y.parquet", 1 << 20, "chunk.output")  # no error


def test_stance_stage_checks_disk_space(workspace, capsys, monkeypatch):
    from pipeline.stance import predict

    monkeypatch.setattr(predict, "load_stance_artifact", lambda path: (None, {}))
    monkeypatch.setattr(predict, "_check_targets", lambda config, model: [])
    (workspace / "p.parquet").write_bytes(b"x" * 4096)
    usage = shutil.disk_usage(workspace)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=1 << 20))
    code = main(["stance", "--set", "stance.input=p.parquet", "--set", "stance.output=out/s.parquet"])
    line = [x for x in capsys.readouterr().err.splitlines() if x.startswith("Error: ")][0]
    assert code == 2 and "out/s.parquet: not enough disk space for stance.output" in line
