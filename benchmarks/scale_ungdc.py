"""How the pipeline's stages scale on the UN General Debate corpus: time and peak memory.

For each fraction of the corpus (default 10 %, 30 % and 100 % of the 10,952 speeches, a
fixed-seed random sample kept in corpus order), each engine in ``--engines`` (``local``:
``compute.n_jobs``; ``dask``: a LocalCluster of ``compute.dask_workers`` processes) and each
number of workers in ``--jobs`` (default 1 and 2), every stage in ``--stages`` runs as its own
subprocess, ``python -m pipeline STAGE --config configs/default.yaml --set ...`` with its inputs
and outputs in a temporary directory; later stages read what earlier ones wrote for the same
fraction, engine and workers. With more than one stage, a ``chain`` row adds up their seconds
and takes the largest peak (the issue's target: chunk + topics + stance in under 10 minutes,
each stage's processes under 2 GB). The topics stage runs with ``--topics-k`` topics (50). Beside each
chain, a ``reference_tomotopy_fit`` row times a bare tomotopy fit (K = ``--topics-k``, 300 iterations, 2
threads, plain tokens) on the same paragraphs, as a yardstick: machine speed varies from day to day, so
compare the chain with the reference of the same run (``--no-reference`` skips it).

Measured per run: wall ``seconds``; ``peak_rss_mb``, the largest resident size of any single
process of the run (the stage's process or one of its workers: the kernel's ``ru_maxrss`` of
the stage's process and its reaped workers, and a 20 ms poll of the process tree, whichever is
larger); ``peak_tree_rss_mb``, the largest sum over the process tree seen by the poll; and what
the stage reports (paragraphs, duplicates ...). The samples are written by a separate process,
and the parent imports nothing heavy, so no measured child inherits the parent's memory.

The whole corpus is read, sessions 76-78 included: this benchmark measures speed and memory,
nothing is tuned, fitted or labelled on it, and nothing from it is kept.

Adding a stage: write a function ``run_STAGE(ctx) -> list[str]`` that returns the ``--set``
overrides (paths inside ``ctx.workdir``, inputs from earlier stages' outputs) and register it
in :data:`STAGES`; ``collect_STAGE`` may add figures read from the stage's outputs.

Output: one JSON line on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = (
    REPO_ROOT.parent / "shared" / "data" / "corpora" / "un-general-debates" / "un-general-debates-1946-2024.csv.gz"
)
log = logging.getLogger("scale_ungdc")

#: the chunk stage before streaming (commit of issue "scale"), full corpus, n_jobs 1
REFERENCE = {"chunk": {"fraction": 1.0, "seconds": 60.0, "peak_rss_mb": 3300.0}}
TARGET_PEAK_RSS_MB = 2048
#: the issue's target for the whole chain (chunk + topics + stance) on the full corpus
TARGET_CHAIN_SECONDS = 600


# ----------------------------------------------------------------------------- samples


def write_sample(corpus: Path, fraction: float, seed: int, out: Path) -> dict[str, Any]:
    """Write a fixed-seed sample of speeches (in corpus order) as CSV.gz; runs in a child process."""
    import pandas as pd

    frame = pd.read_csv(corpus, dtype=str, keep_default_na=False)
    sample = frame.sample(frac=fraction, random_state=seed).sort_index() if fraction < 1 else frame
    sample.to_csv(out, index=False, compression={"method": "gzip", "compresslevel": 1})
    return {"speeches": len(sample), "characters": int(sample["text"].str.len().sum())}


def prepare_samples(corpus: Path, fractions: list[float], seed: int, directory: Path) -> dict[float, dict[str, Any]]:
    """Write every sample in a separate process (the parent stays small)."""
    samples = {}
    for fraction in fractions:
        path = directory / f"ungdc-{fraction:g}.csv.gz"
        started = time.monotonic()
        cmd = [sys.executable, __file__, "--corpus", str(corpus), "--seed", str(seed),
               "--write-sample", str(fraction), str(path)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            raise SystemExit(f"sample {fraction:g}: {proc.stderr.strip().splitlines()[-1]}")
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        info["path"] = path
        samples[fraction] = info
        log.info("sample %g: %d speeches, %.0f M characters (%.1fs)", fraction, info["speeches"],
                 info["characters"] / 1e6, time.monotonic() - started)
    return samples


# ----------------------------------------------------------------------------- measuring


def _tree_rss(parent: Any) -> tuple[int, int]:
    """(largest, total) resident bytes of ``parent`` and its descendants; (0, 0) if it is gone."""
    import psutil

    sizes = []
    with contextlib.suppress(psutil.Error):
        for process in [parent, *parent.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                sizes.append(process.memory_info().rss)
    return (max(sizes), sum(sizes)) if sizes else (0, 0)


def run_measured(cmd: list[str], log_path: Path, timeout: float) -> dict[str, Any]:
    """Run ``cmd``; wall time and peak resident memory of its process tree.

    Without psutil (not a dependency of the project) only the kernel's figure is reported
    and ``peak_tree_rss_mb`` is null.
    """
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with the dev tools
        psutil = None
    started = time.monotonic()
    peak_single = peak_tree = 0
    with open(log_path, "w", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=err)
        parent = psutil.Process(proc.pid) if psutil is not None else None
        while True:
            if parent is not None:
                single, tree = _tree_rss(parent)
                peak_single, peak_tree = max(peak_single, single), max(peak_tree, tree)
            if time.monotonic() - started > timeout:
                proc.kill()
            pid, status_code, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.02)
    seconds = time.monotonic() - started
    status = os.waitstatus_to_exitcode(status_code)
    proc.returncode = status
    kernel_peak = usage.ru_maxrss * 1024  # KiB on Linux: the child and its reaped workers
    return {
        "status": "ok" if status == 0 else f"exit {status}",
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(max(peak_single, kernel_peak) / 2**20, 1),
        "peak_tree_rss_mb": round(peak_tree / 2**20, 1) if parent is not None else None,
    }


# ----------------------------------------------------------------------------- stages


@dataclass
class Context:
    """One fraction, engine and number of workers: where the sample is and where stages write."""

    sample: Path
    workdir: Path
    n_jobs: int
    engine: str = "local"
    topics_k: int = 50

    def compute_overrides(self) -> list[str]:
        """``n_jobs`` processes (local engine) or a LocalCluster of that many workers (dask)."""
        if self.engine == "dask":
            return ["compute.engine=dask", "compute.n_jobs=1", f"compute.dask_workers={self.n_jobs}"]
        return ["compute.engine=local", f"compute.n_jobs={self.n_jobs}"]


def run_chunk(ctx: Context) -> list[str]:
    return [
        f"chunk.input={ctx.sample}", "chunk.format=csv", "chunk.id_field=null", "chunk.id_template={country}_{year}",
        f"chunk.output={ctx.workdir / 'paragraphs.parquet'}", f"chunk.manifest={ctx.workdir / 'manifest.json'}",
    ]


def collect_chunk(ctx: Context) -> dict[str, Any]:
    counts = json.loads((ctx.workdir / "manifest.json").read_text(encoding="utf-8"))["counts"]
    return {key: counts[key] for key in ("documents_ok", "paragraphs", "duplicates", "characters")}


def run_topics(ctx: Context) -> list[str]:
    out = ctx.workdir
    return [
        f"topics.input={out / 'paragraphs.parquet'}", f"topics.model={out / 'topics'}",
        f"topics.output={out / 'doc_topics.parquet'}", f"topics.table={out / 'topic_table.parquet'}",
        f"topics.metrics={out / 'topics.json'}", f"topics.num_topics={ctx.topics_k}",
    ]


def collect_topics(ctx: Context) -> dict[str, Any]:
    metrics = json.loads((ctx.workdir / "topics.json").read_text(encoding="utf-8"))
    return {key: metrics.get(key) for key in ("num_topics", "paragraphs_scored", "documents_used", "vocab_size",
                                               "c_npmi")}


#: the stance model of the repository (``train_stance`` is not part of the scaling chain)
STANCE_MODEL = REPO_ROOT / "models" / "stance"


def run_stance(ctx: Context) -> list[str]:
    out = ctx.workdir
    return [
        f"stance.input={out / 'paragraphs.parquet'}", f"stance.model={STANCE_MODEL}",
        f"stance.output={out / 'stance.parquet'}", f"stance.summary={out / 'stance_summary.parquet'}",
    ]


def collect_stance(ctx: Context) -> dict[str, Any]:
    """Rows and label counts from the stage's last log line (the parent reads no Parquet)."""
    import re

    text = (ctx.workdir / "stance.log").read_text(encoding="utf-8", errors="replace")
    found = re.findall(r"stance: wrote (\d+) rows to .*? \((.*?)\) and (\d+) summary rows", text)
    if not found:
        return {}
    rows, labels, summary = found[-1]
    counts = {f"label_{label}": int(n) for label, n in (item.rsplit(" ", 1) for item in labels.split(", "))}
    return {"stance_rows": int(rows), "summary_rows": int(summary), **counts}


#: stage name -> (overrides for the run, figures collected afterwards), in pipeline order.
#: ``stance`` reads the chunk output in ``ctx.workdir`` with the repository's trained model
#: (:data:`STANCE_MODEL`).
STAGES: dict[str, tuple[Callable[[Context], list[str]], Callable[[Context], dict[str, Any]]]] = {
    "chunk": (run_chunk, collect_chunk),
    "topics": (run_topics, collect_topics),
    "stance": (run_stance, collect_stance),
}


def run_stage(name: str, ctx: Context, config: Path, timeout: float, extra: list[str] | None = None) -> dict[str, Any]:
    overrides, collect = STAGES[name]
    cmd = [sys.executable, "-m", "pipeline", name, "--config", str(config)]
    for item in [*ctx.compute_overrides(), *overrides(ctx), *(extra or [])]:
        cmd += ["--set", item]
    log_path = ctx.workdir / f"{name}.log"
    result = run_measured(cmd, log_path, timeout)
    if result["status"] == "ok":
        result.update(collect(ctx))
    else:
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        log.error("%s failed:\n%s", name, "\n".join(tail))
    return result


def reference_fit(paragraphs: Path, k: int, iterations: int = 300, workers: int = 2) -> dict[str, Any]:
    """A bare tomotopy LDA fit on the chunk stage's paragraphs: the yardstick for the chain's times.

    Plain tokens (lower-case alphabetic words of 3+ letters minus gensim's stop words), ``LDAModel(k=k,
    seed=1)``, ``iterations`` Gibbs iterations on ``workers`` threads: no reading in batches, no scoring,
    no metrics, nothing written.
    """
    import re

    import pipeline  # noqa: F401  (first: the chain's instruction sets, pipeline/cpu.py)

    # isort: split
    import pyarrow.parquet as pq
    import tomotopy as tp
    from gensim.parsing.preprocessing import STOPWORDS

    word = re.compile(r"[a-z]{3,}")
    model = tp.LDAModel(k=k, seed=1)
    table = pq.ParquetFile(paragraphs)
    docs = 0
    for batch in table.iter_batches(columns=["text"], batch_size=8192):
        for text in batch.column(0).to_pylist():
            tokens = [t for t in word.findall(text.lower()) if t not in STOPWORDS]
            if tokens:
                model.add_doc(tokens)
                docs += 1
    model.train(iterations, workers=workers)
    return {"documents": docs, "k": k, "iterations": iterations, "workers": workers}


def run_reference(ctx: Context, timeout: float) -> dict[str, Any]:
    """:func:`reference_fit` in a measured subprocess, on the paragraphs the chunk stage wrote for ``ctx``."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--reference-fit", str(ctx.workdir / "paragraphs.parquet"),
           str(ctx.topics_k)]
    log_path = ctx.workdir / "reference.log"
    result = run_measured(cmd, log_path, timeout)
    return result


def chain_row(chain: list[dict[str, Any]], stages: list[str]) -> dict[str, Any]:
    """The stages of one fraction, engine and workers together: total seconds, largest peak."""
    first = chain[0]
    ok = len(chain) == len(stages) and all(r["status"] == "ok" for r in chain)
    return {"stage": "chain", "stages": [r["stage"] for r in chain], "fraction": first["fraction"],
            "engine": first["engine"], "n_jobs": first["n_jobs"], "speeches": first["speeches"],
            "status": "ok" if ok else "incomplete", "seconds": round(sum(r["seconds"] for r in chain), 2),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in chain),
            "peak_tree_rss_mb": max((r["peak_tree_rss_mb"] or 0) for r in chain)}


def meets_target(results: list[dict[str, Any]]) -> bool:
    """Every run ok and under the memory target; every whole-corpus chain of all stages under the time target."""
    results = [r for r in results if r["stage"] != "reference_tomotopy_fit"]
    if not all(r["status"] == "ok" and r["peak_rss_mb"] < TARGET_PEAK_RSS_MB for r in results):
        return False
    whole = [r for r in results if r["stage"] == "chain" and r["fraction"] == 1.0 and len(r["stages"]) == len(STAGES)]
    return all(r["seconds"] < TARGET_CHAIN_SECONDS for r in whole)


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.3, 1.0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2],
                        help="workers: compute.n_jobs (local engine) or compute.dask_workers (dask engine)")
    parser.add_argument("--engines", nargs="+", default=["local"], choices=["local", "dask"])
    parser.add_argument("--stages", nargs="+", default=list(STAGES), choices=list(STAGES))
    parser.add_argument("--topics-k", type=int, default=50, help="topics.num_topics of the topics stage")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="an extra override for every stage run, e.g. topics.fit_sample=50000 (repeatable)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "configs" / "default.yaml")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per stage run")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the bare tomotopy fit (K=--topics-k, 300 iterations) timed beside each chain")
    parser.add_argument("--write-sample", nargs=2, metavar=("FRACTION", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--reference-fit", nargs=2, metavar=("PARQUET", "K"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reference_fit:  # the child that times a bare tomotopy fit
        print(json.dumps(reference_fit(Path(args.reference_fit[0]), int(args.reference_fit[1]))))
        return 0
    if args.write_sample:  # the child that writes one sample
        print(json.dumps(write_sample(args.corpus, float(args.write_sample[0]), args.seed, Path(args.write_sample[1]))))
        return 0
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    if not args.corpus.exists():
        raise SystemExit(f"{args.corpus}: corpus not found")
    if any(not 0 < f <= 1 for f in args.fractions):
        raise SystemExit("--fractions: each must be in (0, 1]")
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="scale-ungdc-") as tmp:
        samples = prepare_samples(args.corpus, args.fractions, args.seed, Path(tmp))
        for fraction in args.fractions:
            for engine in args.engines:
                for n_jobs in args.jobs:
                    workdir = Path(tmp) / f"f{fraction:g}-{engine}-j{n_jobs}"
                    workdir.mkdir()
                    ctx = Context(samples[fraction]["path"], workdir, n_jobs, engine, args.topics_k)
                    chain = []
                    for stage in args.stages:
                        result = {"stage": stage, "fraction": fraction, "engine": engine, "n_jobs": n_jobs,
                                  "speeches": samples[fraction]["speeches"],
                                  **run_stage(stage, ctx, args.config, args.timeout, args.overrides)}
                        log.info("%s", json.dumps(result))
                        results.append(result)
                        chain.append(result)
                        if result["status"] != "ok":
                            break
                    if len(args.stages) > 1:
                        results.append(chain_row(chain, args.stages))
                        log.info("%s", json.dumps(results[-1]))
                    if not args.no_reference and "chunk" in args.stages and chain[0]["status"] == "ok":
                        reference = {"stage": "reference_tomotopy_fit", "fraction": fraction, "engine": engine,
                                     "n_jobs": n_jobs, "speeches": samples[fraction]["speeches"],
                                     **run_reference(ctx, args.timeout)}
                        log.info("%s", json.dumps(reference))
                        results.append(reference)
    out = {
        "results": results,
        "reference": REFERENCE,
        "target_peak_rss_mb": TARGET_PEAK_RSS_MB,
        "target_chain_seconds": TARGET_CHAIN_SECONDS,
        "meets_target": meets_target(results),
        "overrides": args.overrides,
        "corpus": str(args.corpus),
        "seed": args.seed,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
