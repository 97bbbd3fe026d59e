"""Throughput of stance prediction on UN General Debate paragraphs.

Method
------
The default classifier is trained as the ``train_stance`` stage would train it:
``fit_model(config.stance, ...)`` on ``stance.train`` (``data/labels/train/``,
read with ``read_training``), without the cross-validation. Its targets are the seven default
targets of ``configs/default.yaml``.

Paragraphs are the lines of 20 or more words of the UN General Debate speeches of sessions
70-75 (2015-2020), loaded with ``_ungdc.load_speeches``, which refuses the evaluation
sessions 76-78. ``--paragraphs`` of them (default 20,000) are sampled with a fixed seed,
and every paragraph is paired with every target (20,000 x 7 = 140,000 pairs).

Timings, in this order, each the best of ``--repeats`` runs (the model is warm: one small
call precedes them), the first two for every ``--jobs`` value (``n_jobs``, worker processes as
``compute.n_jobs``; the results must be identical for every value, which is checked):

``classify_paragraphs``
    ``pipeline.stance.predict.classify_paragraphs``, the ``stance`` stage's function (in
    batches of ``stance.batch_size`` paragraphs, shared by ``n_jobs`` workers): it finds
    mentions, scores the mentioned pairs, picks the evidence sentence and builds the output
    table; its rate counts every pair (mentioned or not), as the stage does;
``predict_proba_mentioned``
    ``StanceClassifier.predict_proba(..., n_jobs=n_jobs)`` in one call on the pairs whose
    paragraph mentions the target (the only pairs the ``stance`` stage sends to the
    classifier); below ``_PARALLEL_MIN_PAIRS`` pairs it does not start workers;
``predict_proba_all``
    ``predict_proba`` (``n_jobs=1``) in one call on every pair, mentioned or not (a text
    without a mention is scored from its words alone).

The paragraphs are read in a spawned child process, so the CSV does not count in this
process's peak RSS; the peak is recorded after each step, as it only grows.

Then ``classify_paragraphs`` runs once more under ``cProfile`` on the first
``--profile-paragraphs`` paragraphs, and ``predict_proba`` on all the mentioned pairs; the
functions with the largest own time are logged to stderr and the top ones reported. Thread pools of numpy/BLAS are limited to two threads (set before numpy is
imported) and the process is pinned to at most two CPUs when the platform allows it.

Output
------
One JSON line on stdout; progress on stderr. Keys:

``benchmark`` (``"stance_speed"``), ``paragraphs``, ``targets``, ``n_pairs`` (paragraphs x
targets), ``n_pairs_mentioned`` (pairs whose paragraph mentions the target),
``mention_rate``, ``train_examples``, ``train_seconds``;
``predict_proba_mentioned``, ``predict_proba_all``, ``classify_paragraphs``: each with
``n_pairs``, ``seconds`` and ``pairs_per_s`` (``classify_paragraphs`` also
``mentioned_pairs_per_s``, mentioned pairs per second of the whole call, and ``batch_size``),
with ``n_jobs=1``; ``predict_proba_mentioned_by_jobs`` and ``classify_paragraphs_by_jobs``:
the same for each ``--jobs`` value (keyed by it), ``parallel_min_pairs`` (the size from which
``predict_proba`` starts workers) and ``identical_across_jobs`` (always true, or the run fails);
``profile``: ``classify_paragraphs`` (``paragraphs``) and ``predict_proba_mentioned``
(``n_pairs``), each with ``seconds`` (under the profiler, so slower than above) and ``top``
(``function``, ``own_s``, ``cum_s``, ``calls``, by own time); ``peak_rss_mb`` (of this process),
``peak_rss_mb_after`` (``after_setup``, ``after_classify_paragraphs``,
``after_predict_proba_mentioned``, ``after_predict_proba_all``), ``threads`` (the thread limit), ``seconds`` (whole run), ``target_pairs_per_s`` (10,000)
and ``meets_target`` (``classify_paragraphs`` and ``predict_proba_mentioned``, with
``n_jobs=1``, both at or above it).
"""

from __future__ import annotations

import os

THREADS = "2"
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, THREADS)

import argparse  # noqa: E402
import cProfile  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import pstats  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _ungdc import DEFAULT_CORPUS, TUNING_SESSIONS, check_sessions, load_speeches, speech_paragraphs  # noqa: E402

log = logging.getLogger("stance_speed")

MIN_WORDS = 20
TARGET_PAIRS_PER_S = 10_000


def load_paragraphs(path: Path, n: int, seed: int) -> Any:
    """``n`` paragraphs (lines of ``MIN_WORDS``+ words) of sessions 70-75, sampled with ``seed``."""
    frame = speech_paragraphs(load_speeches(path, TUNING_SESSIONS), MIN_WORDS)
    check_sessions(set(frame["session"].unique().tolist()))
    log.info("%d paragraphs of %d+ words in sessions %s", len(frame), MIN_WORDS, sorted(TUNING_SESSIONS))
    if n < len(frame):
        frame = frame.sample(n=n, random_state=seed).sort_index().reset_index(drop=True)
    return frame


def _prepare(corpus: Path, n: int, seed: int, out: Path) -> None:
    load_paragraphs(corpus, n, seed).to_parquet(out, index=False)


def load_in_child(corpus: Path, n: int, seed: int) -> Any:
    """:func:`load_paragraphs` in a spawned process, so reading the 200 MB CSV does not count in our peak RSS."""
    import multiprocessing
    import tempfile

    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="stance_speed_") as tmp:
        out = Path(tmp) / "paragraphs.parquet"
        child = multiprocessing.get_context("spawn").Process(target=_prepare, args=(corpus, n, seed, out))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise RuntimeError(f"loading paragraphs from {corpus} failed (exit code {child.exitcode})")
        frame = pd.read_parquet(out)
    check_sessions(set(frame["session"].unique().tolist()))
    return frame


def best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """The shortest wall time of ``repeats`` calls of ``fn``, and the last result."""
    best = float("inf")
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024, 1)


def rate(n: int, seconds: float) -> dict[str, Any]:
    return {"n_pairs": n, "seconds": round(seconds, 3), "pairs_per_s": round(n / seconds, 1) if seconds > 0 else None}


def profile_top(what: str, fn: Callable[[], Any], top: int) -> tuple[float, list[dict[str, Any]]]:
    """Run ``fn`` under cProfile; log the table and return (seconds, the ``top`` functions by own time)."""
    import io

    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(fn)
    seconds = time.perf_counter() - start
    stats = pstats.Stats(profiler)
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(25)
    log.info("profile of %s, by own time:\n%s", what, buffer.getvalue())
    rows = []
    for (filename, line, name), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        short = filename.replace(str(REPO_ROOT) + os.sep, "")
        if "site-packages" in short:
            short = short.split("site-packages" + os.sep, 1)[1]
        rows.append({"function": f"{short}:{line}({name})", "own_s": round(tottime, 3), "cum_s": round(cumtime, 3),
                     "calls": calls})
    rows.sort(key=lambda r: -r["own_s"])
    return seconds, rows[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="UN General Debate CSV (default: %(default)s)")
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "configs" / "default.yaml",
                        help="pipeline config whose stance section builds the model (default: %(default)s)")
    parser.add_argument("--train", type=Path, default=None,
                        help="labelled JSONL (default: stance.train of the config, relative to the repo root)")
    parser.add_argument("--paragraphs", type=int, default=20_000, help="paragraphs sampled (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=13, help="sampling seed (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per measurement, best kept (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="classify_paragraphs batch size (default: stance.batch_size of the config)")
    parser.add_argument("--profile-paragraphs", type=int, default=2000,
                        help="paragraphs classified under cProfile; 0 skips profiling (default: %(default)s)")
    parser.add_argument("--profile-top", type=int, default=12, help="functions reported from the profile (default: %(default)s)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2],
                        help="n_jobs values timed; 1 is always included (default: %(default)s)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))[: int(THREADS)]
        os.sched_setaffinity(0, cpus)
        log.info("pinned to CPUs %s", cpus)
    t_all = time.perf_counter()

    from pipeline.config import load_config
    from pipeline.stance import model as model_module
    from pipeline.stance.data import read_training
    from pipeline.stance.predict import classify_paragraphs
    from pipeline.stance.train import fit_model

    config_path, corpus = args.config.resolve(), args.corpus.resolve()
    train_arg = args.train.resolve() if args.train else None
    os.chdir(REPO_ROOT)  # config paths are relative to the repository root
    config = load_config(config_path)
    settings = config.stance
    target_names = [t.name for t in settings.targets]
    batch_size = args.batch_size or settings.batch_size
    train_path = train_arg or Path(settings.train)
    examples = read_training(train_path, target_names)
    start = time.perf_counter()
    model = fit_model(settings, examples)
    train_seconds = time.perf_counter() - start
    log.info("trained on %d examples from %s in %.1f s (calibration %s)", len(examples), train_path, train_seconds,
             model.calibration_)

    paragraphs = load_in_child(corpus, args.paragraphs, args.seed)
    texts = paragraphs["text"].tolist()
    pair_texts = [t for t in texts for _ in target_names]
    pair_targets = target_names * len(texts)
    n_pairs = len(pair_texts)

    model.predict_proba(pair_texts[:50], pair_targets[:50])  # warm up
    mentions = model.mentions(pair_texts, pair_targets)
    mentioned = [i for i, m in enumerate(mentions) if m > 0]
    m_texts = [pair_texts[i] for i in mentioned]
    m_targets = [pair_targets[i] for i in mentioned]
    log.info("%d pairs, %d (%.1f%%) mention their target", n_pairs, len(mentioned), 100 * len(mentioned) / n_pairs)

    rss = {"after_setup": peak_rss_mb()}
    frame = paragraphs[["doc_id", "para_id", "text"]]
    jobs_values = sorted(set(args.jobs) | {1})
    classify_by_jobs: dict[str, dict[str, Any]] = {}
    first_rows = None
    for jobs in jobs_values:
        seconds, rows = best_time(lambda: classify_paragraphs(model, frame, target_names, batch_size, jobs),  # noqa: B023
                                  args.repeats)
        classify = rate(n_pairs, seconds)
        classify["mentioned_pairs_per_s"] = round(len(mentioned) / seconds, 1)
        classify["batch_size"] = batch_size
        if len(rows) != n_pairs or int((rows["label"] != "none").sum()) != len(mentioned):
            raise AssertionError("classify_paragraphs returned an unexpected number of rows or mentioned pairs")
        if first_rows is None:
            first_rows = rows
        elif not rows.equals(first_rows):
            raise AssertionError(f"classify_paragraphs with n_jobs={jobs} differs from n_jobs=1")
        del rows
        classify_by_jobs[str(jobs)] = classify
        log.info("classify_paragraphs, n_jobs=%d: %s", jobs, classify)
    del first_rows
    classify = classify_by_jobs["1"]
    rss["after_classify_paragraphs"] = peak_rss_mb()
    mentioned_by_jobs: dict[str, dict[str, Any]] = {}
    first_proba = None
    for jobs in jobs_values:
        seconds, proba = best_time(lambda: model.predict_proba(m_texts, m_targets, n_jobs=jobs),  # noqa: B023
                                   args.repeats)
        if first_proba is None:
            first_proba = proba
        elif proba.tobytes() != first_proba.tobytes():
            raise AssertionError(f"predict_proba with n_jobs={jobs} differs from n_jobs=1")
        mentioned_by_jobs[str(jobs)] = rate(len(mentioned), seconds)
        log.info("predict_proba, mentioned pairs, n_jobs=%d: %s", jobs, mentioned_by_jobs[str(jobs)])
    proba_mentioned = mentioned_by_jobs["1"]
    rss["after_predict_proba_mentioned"] = peak_rss_mb()
    seconds, _ = best_time(lambda: model.predict_proba(pair_texts, pair_targets), args.repeats)
    proba_all = rate(n_pairs, seconds)
    rss["after_predict_proba_all"] = peak_rss_mb()
    log.info("predict_proba, all pairs: %s", proba_all)
    log.info("peak RSS MB after each step: %s", rss)

    profile: dict[str, Any] = {}
    if args.profile_paragraphs > 0:
        sub = frame.iloc[: args.profile_paragraphs]
        p_seconds, top = profile_top("classify_paragraphs",
                                     lambda: classify_paragraphs(model, sub, target_names, batch_size), args.profile_top)
        profile["classify_paragraphs"] = {"paragraphs": len(sub), "seconds": round(p_seconds, 3), "top": top}
        p_seconds, top = profile_top("predict_proba on mentioned pairs",
                                     lambda: model.predict_proba(m_texts, m_targets), args.profile_top)
        profile["predict_proba_mentioned"] = {"n_pairs": len(m_texts), "seconds": round(p_seconds, 3), "top": top}

    meets = all(r["pairs_per_s"] is not None and r["pairs_per_s"] >= TARGET_PAIRS_PER_S for r in (classify, proba_mentioned))
    result = {
        "benchmark": "stance_speed",
        "paragraphs": len(texts),
        "targets": target_names,
        "n_pairs": n_pairs,
        "n_pairs_mentioned": len(mentioned),
        "mention_rate": round(len(mentioned) / n_pairs, 4),
        "train_examples": len(examples),
        "train_seconds": round(train_seconds, 2),
        "predict_proba_mentioned": proba_mentioned,
        "predict_proba_all": proba_all,
        "classify_paragraphs": classify,
        "predict_proba_mentioned_by_jobs": mentioned_by_jobs,
        "classify_paragraphs_by_jobs": classify_by_jobs,
        "parallel_min_pairs": model_module._PARALLEL_MIN_PAIRS,
        "identical_across_jobs": True,
        "profile": profile,
        "peak_rss_mb": peak_rss_mb(),
        "peak_rss_mb_after": rss,
        "threads": int(THREADS),
        "seconds": round(time.perf_counter() - t_all, 2),
        "target_pairs_per_s": TARGET_PAIRS_PER_S,
        "meets_target": meets,
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
