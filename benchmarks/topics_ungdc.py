"""Benchmark of the ``topics`` stage on UN General Debate paragraphs against peer LDA tools.

Corpus
------
Paragraphs of the speeches of sessions 70-74 and 77-78 (2015-2019, 2022-2023), which are
stored one paragraph per line: every line of 20 or more whitespace words is a paragraph
(about 32,000). Sessions 77-78 belong to the project's evaluation split; issue 3 allows
this benchmark to read them *for measurement only*. The allow-list
:data:`MEASUREMENT_SESSIONS` holds exactly those seven sessions and anything else is
refused. Nothing fitted here is kept: every model lives in a temporary directory that is
deleted at the end, and no setting is tuned on the result.

Contenders (K topics, default 20; each in its own subprocess, run one after another, so
wall time and peak RSS are per process, reading and tokenising included):

- ``ours-tomotopy`` (the default engine) and ``ours-gensim``: ``python -m pipeline topics``
  with ``configs/default.yaml`` and only ``num_topics``/``seed``, ``engine`` and the paths
  overridden; top words from ``pipeline.load_topics(model).top_words(k, n)``.
- ``tomotopy``: ``tomotopy.LDAModel`` on the plain tokens, 500 iterations, 2 workers.
- ``gensim_lda``: ``gensim.models.LdaModel`` with defaults except ``passes=5`` and
  ``random_state``.
- ``gensim_multicore``: ``gensim.models.LdaMulticore`` (2 workers, 5 passes).
- ``sklearn_online``: ``sklearn.decomposition.LatentDirichletAllocation`` (online) on a
  ``CountVectorizer`` of the plain tokens.

Scoring (in the parent, identical for all): the plain tokenisation is lowercase alphabetic
tokens of 3+ characters minus gensim's ``STOPWORDS``. NPMI is gensim's ``CoherenceModel``
(``c_npmi``) on the top-10 words of each topic, with ``texts`` the plain token lists and the
dictionary built from them. Words a contender produces that the scoring dictionary does not
hold (e.g. ``climate_change`` collocations) are dropped from that topic's list and counted
(``npmi_words_dropped``). Topic diversity is the share of unique words among the top 25
words of all topics.

Output: one JSON line on stdout; logs on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("topics_ungdc")

#: the only sessions this benchmark may read (issue 3): 70-74 and, for measurement only, 77-78
MEASUREMENT_SESSIONS = frozenset({70, 71, 72, 73, 74, 77, 78})
#: the evaluation sessions issue 3 lets this benchmark *measure* on (never tune or train on)
_ALLOWED_EVALUATION = frozenset({77, 78})

REPO_ROOT = Path(__file__).resolve().parent.parent
MIN_WORDS = 20
TOP_NPMI = 10
TOP_DIVERSITY = 25
TOMOTOPY_ITERATIONS = 500
WORKERS = 2

CONTENDERS = ("ours-tomotopy", "ours-gensim", "tomotopy", "gensim_lda", "gensim_multicore", "sklearn_online")
REFERENCE = {
    "tomotopy": {"seconds": 34, "npmi": 0.128},
    "gensim_lda": {"seconds": 33, "npmi": 0.091},
    "gensim_multicore": {"seconds": 67, "npmi": 0.092},
    "sklearn_online": {"seconds": 44, "npmi": 0.045},
}


# ----------------------------------------------------------------------------- corpus


def check_measurement_sessions(sessions: set[int] | frozenset[int]) -> None:
    """Raise ``AssertionError`` for any session outside the allow-list (not ``assert``: ``-O`` safe)."""
    outside = set(sessions) - MEASUREMENT_SESSIONS
    if outside:
        raise AssertionError(f"sessions {sorted(outside)} are not allowed in topics_ungdc (only 70-74, 77-78)")


def load_paragraphs(path: Path) -> Any:
    """Paragraphs (lines of ``MIN_WORDS``+ words) of the allowed sessions: doc_id, para_id, session, text."""
    import pandas as pd
    from _ungdc import EVALUATION_SESSIONS, speech_paragraphs

    if MEASUREMENT_SESSIONS & EVALUATION_SESSIONS != _ALLOWED_EVALUATION:  # a guard against editing mistakes
        raise AssertionError("MEASUREMENT_SESSIONS may only use evaluation sessions 77-78")

    frame = pd.read_csv(path, usecols=["session", "year", "country", "text"], dtype={"text": "string"})
    frame = frame[frame["session"].isin(sorted(MEASUREMENT_SESSIONS))].reset_index(drop=True)
    check_measurement_sessions(set(frame["session"].unique().tolist()))
    if not (frame["year"] == frame["session"] + 1945).all():
        raise AssertionError(f"{path}: year != session + 1945 in some rows")
    out = speech_paragraphs(frame, MIN_WORDS)
    check_measurement_sessions(set(out["session"].unique().tolist()))
    return out


def write_paragraph_table(paragraphs: Any, path: Path) -> None:
    """The paragraph table in the layout of ``pipeline chunk`` (no duplicates flagged)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = paragraphs["text"].tolist()
    table = pa.table(
        {
            "doc_id": pa.array(paragraphs["doc_id"].tolist(), pa.string()),
            "para_id": pa.array(paragraphs["para_id"].tolist(), pa.int32()),
            "text": pa.array(texts, pa.string()),
            "start": pa.array([0] * len(texts), pa.int64()),
            "end": pa.array([len(t) for t in texts], pa.int64()),
            "duplicate_of": pa.array([None] * len(texts), pa.string()),
            "session": pa.array(paragraphs["session"].tolist(), pa.int32()),
        }
    )
    pq.write_table(table, path)


_WORD = re.compile(r"[^\W\d_]+")


def plain_tokens(text: str, stopwords: frozenset[str]) -> list[str]:
    """Lowercase alphabetic tokens of 3+ characters, gensim stop words removed."""
    return [w for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in stopwords]


# ----------------------------------------------------------------------------- workers (child processes)


def _read_texts(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=["text"]).column("text").to_pylist()


def _tokenised(path: Path) -> list[list[str]]:
    from gensim.parsing.preprocessing import STOPWORDS

    stop = frozenset(STOPWORDS)
    return [plain_tokens(t, stop) for t in _read_texts(path)]


def worker_tomotopy(path: Path, k: int, seed: int) -> list[list[str]]:
    import tomotopy as tp

    model = tp.LDAModel(k=k, seed=seed)
    for tokens in _tokenised(path):
        if tokens:
            model.add_doc(tokens)
    for done in range(0, TOMOTOPY_ITERATIONS, 100):
        model.train(100, workers=WORKERS)
        log.info("tomotopy: %d iterations, ll/word %.4f", done + 100, model.ll_per_word)
    return [[w for w, _ in model.get_topic_words(t, top_n=TOP_DIVERSITY)] for t in range(k)]


def _gensim_corpus(path: Path) -> tuple[Any, list[Any]]:
    from gensim.corpora import Dictionary

    texts = _tokenised(path)
    dictionary = Dictionary(texts)
    return dictionary, [dictionary.doc2bow(t) for t in texts]


def _gensim_topics(model: Any, k: int) -> list[list[str]]:
    return [[w for w, _ in model.show_topic(t, topn=TOP_DIVERSITY)] for t in range(k)]


def worker_gensim_lda(path: Path, k: int, seed: int) -> list[list[str]]:
    from gensim.models import LdaModel

    dictionary, corpus = _gensim_corpus(path)
    model = LdaModel(corpus, id2word=dictionary, num_topics=k, passes=5, random_state=seed)
    return _gensim_topics(model, k)


def worker_gensim_multicore(path: Path, k: int, seed: int) -> list[list[str]]:
    from gensim.models import LdaMulticore

    dictionary, corpus = _gensim_corpus(path)
    model = LdaMulticore(corpus, id2word=dictionary, num_topics=k, passes=5, random_state=seed, workers=WORKERS)
    return _gensim_topics(model, k)


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def worker_sklearn_online(path: Path, k: int, seed: int) -> list[list[str]]:
    import numpy as np
    from sklearn.decomposition import LatentDirichletAllocation
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(analyzer=_identity)
    counts = vectorizer.fit_transform(_tokenised(path))
    model = LatentDirichletAllocation(n_components=k, learning_method="online", random_state=seed)
    model.fit(counts)
    vocab = vectorizer.get_feature_names_out()
    return [[str(vocab[i]) for i in np.argsort(-row)[:TOP_DIVERSITY]] for row in model.components_]


WORKERS_BY_NAME = {
    "tomotopy": worker_tomotopy,
    "gensim_lda": worker_gensim_lda,
    "gensim_multicore": worker_gensim_multicore,
    "sklearn_online": worker_sklearn_online,
}


# ----------------------------------------------------------------------------- running contenders


def run_measured(cmd: list[str], log_path: Path, timeout: float) -> tuple[int, float, float]:
    """Run ``cmd`` from the repository root; return (exit code, wall seconds, the child's peak RSS in MB).

    Peak RSS is the child's own ``ru_maxrss`` from ``wait4``. On Linux that figure starts from
    the parent's resident size at fork, so the parent imports nothing heavy (no pandas,
    gensim or corpus in memory) until every contender has run.
    """
    log.info("running: %s", " ".join(cmd))
    with open(log_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=err, stderr=subprocess.STDOUT)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > timeout:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.1)
        seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    rss_mb = usage.ru_maxrss / 1024 / 1024 if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return proc.returncode, seconds, rss_mb


def _tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def run_ours(name: str, table: Path, tmp: Path, k: int, seed: int, timeout: float,
             extra: list[str] | None = None) -> dict[str, Any]:
    out = tmp / name
    out.mkdir()
    cmd = [
        sys.executable, "-m", "pipeline", "topics", "--config", "configs/default.yaml",
        "--set", f"topics.input={table}",
        "--set", f"topics.model={out / 'model'}",
        "--set", f"topics.output={out / 'dt.parquet'}",
        "--set", f"topics.table={out / 'table.parquet'}",
        "--set", f"topics.metrics={out / 'm.json'}",
        "--set", f"topics.num_topics={k}",
        "--set", f"topics.seed={seed}",
    ]
    cmd += ["--set", f"topics.engine={name.removeprefix('ours-')}"]
    for override in extra or []:
        cmd += ["--set", override]
    log_path = out / "stderr.log"
    rc, seconds, rss = run_measured(cmd, log_path, timeout)
    if rc != 0:
        tail = _tail(log_path)
        log.info("[%s] failed (exit %d):\n%s", name, rc, tail)
        return {"status": f"failed: exit {rc}", "seconds": round(seconds, 2), "error": tail[-500:]}
    # the model is loaded after every contender has run, so the parent stays small (see run_measured)
    return {"status": "ok", "seconds": round(seconds, 2), "peak_rss_mb": round(rss, 1), "model_dir": out}


def collect_ours(res: dict[str, Any]) -> None:
    """Top words through ``pipeline.load_topics(...).top_words`` and the stage's own metrics."""
    import pipeline

    out = res.pop("model_dir")
    model = pipeline.load_topics(out / "model")
    res["topics"] = [[w for w, _ in model.top_words(t, n=TOP_DIVERSITY)] for t in range(model.num_topics)]
    res["stage_metrics"] = json.loads((out / "m.json").read_text(encoding="utf-8"))


def run_peer(name: str, table: Path, tmp: Path, k: int, seed: int, timeout: float) -> dict[str, Any]:
    out = tmp / f"{name}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--worker-input", str(table),
           "--worker-output", str(out), "--k", str(k), "--seed", str(seed)]
    log_path = tmp / f"{name}.log"
    rc, seconds, rss = run_measured(cmd, log_path, timeout)
    if rc != 0:
        tail = _tail(log_path)
        log.info("[%s] failed (exit %d):\n%s", name, rc, tail)
        return {"status": f"failed: exit {rc}", "seconds": round(seconds, 2), "error": tail[-500:]}
    topics = json.loads(out.read_text(encoding="utf-8"))
    return {"status": "ok", "seconds": round(seconds, 2), "peak_rss_mb": round(rss, 1), "topics": topics}


# ----------------------------------------------------------------------------- scoring


def score(results: dict[str, dict[str, Any]], texts: list[list[str]]) -> None:
    """Add ``npmi``, ``npmi_per_topic``, ``npmi_words_dropped`` and ``diversity`` to each finished contender.

    One ``CoherenceModel`` over the topics of all contenders at once: per-topic NPMI does not
    depend on the other topics, so this equals scoring each contender on its own.
    """
    import numpy as np
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel

    dictionary = Dictionary(texts)
    vocab = set(dictionary.token2id)
    all_topics: list[list[str]] = []
    spans: dict[str, tuple[int, int]] = {}
    for name, res in results.items():
        topics = res.get("topics")
        if not topics:
            continue
        res["diversity"] = round(len({w for t in topics for w in t[:TOP_DIVERSITY]}) / (len(topics) * TOP_DIVERSITY), 4)
        kept = [[w for w in t[:TOP_NPMI] if w in vocab] for t in topics]
        res["npmi_words_dropped"] = sum(min(len(t), TOP_NPMI) for t in topics) - sum(len(t) for t in kept)
        start = len(all_topics)
        all_topics.extend(kept)
        spans[name] = (start, len(all_topics))
    scorable = [i for i, t in enumerate(all_topics) if len(t) >= 2]
    if not scorable:
        return
    log.info("scoring NPMI of %d topics on %d paragraphs (vocabulary %d)", len(scorable), len(texts), len(dictionary))
    t0 = time.perf_counter()
    cm = CoherenceModel(topics=[all_topics[i] for i in scorable], texts=texts, dictionary=dictionary,
                        coherence="c_npmi", topn=TOP_NPMI, processes=WORKERS)
    per = dict(zip(scorable, cm.get_coherence_per_topic(), strict=True))
    log.info("NPMI scored in %.1f s", time.perf_counter() - t0)
    for name, (a, b) in spans.items():
        values = [per.get(i, float("nan")) for i in range(a, b)]
        results[name]["npmi_per_topic"] = [round(float(v), 4) for v in values]
        results[name]["npmi"] = round(float(np.nanmean(values)), 4)


# ----------------------------------------------------------------------------- main


def prepare_main(args: argparse.Namespace) -> int:
    """Child process: read the corpus, write the paragraph table and a JSON summary beside it."""
    from _ungdc import DEFAULT_CORPUS

    corpus = (args.corpus or DEFAULT_CORPUS).resolve()
    if not corpus.exists():
        raise SystemExit(f"{corpus}: corpus not found")
    paragraphs = load_paragraphs(corpus)
    total = len(paragraphs)
    if args.max_paragraphs is not None and args.max_paragraphs < total:
        paragraphs = paragraphs.sample(n=args.max_paragraphs, random_state=args.seed).sort_index()
        paragraphs = paragraphs.reset_index(drop=True)
    sessions = sorted(int(x) for x in paragraphs["session"].unique())
    check_measurement_sessions(set(sessions))
    write_paragraph_table(paragraphs, args.worker_output)
    summary = {"corpus": str(corpus), "paragraphs": len(paragraphs), "paragraphs_total": total,
               "sessions": sessions, "documents": int(paragraphs["doc_id"].nunique())}
    args.worker_output.with_suffix(".json").write_text(json.dumps(summary), encoding="utf-8")
    return 0


def worker_main(args: argparse.Namespace) -> int:
    if args.worker == "prepare":
        return prepare_main(args)
    topics = WORKERS_BY_NAME[args.worker](args.worker_input, args.k, args.seed)
    args.worker_output.write_text(json.dumps(topics), encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=None,
                        help="UNGDC CSV, gzipped or not (default ../shared/data/corpora/un-general-debates/...)")
    parser.add_argument("--k", type=int, default=20, help="number of topics (default 20)")
    parser.add_argument("--seed", type=int, default=42, help="seed of every contender and the sample (default 42)")
    parser.add_argument("--skip", nargs="+", default=[], choices=CONTENDERS, metavar="NAME",
                        help=f"contenders to leave out: {', '.join(CONTENDERS)}")
    parser.add_argument("--max-paragraphs", type=int, default=None,
                        help="quick run: a fixed-seed sample of at most this many paragraphs")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per contender (default 1800)")
    parser.add_argument("--ours-set", action="append", default=[], metavar="KEY=VALUE",
                        help="extra config override for our contenders, e.g. topics.phrases=true (repeatable)")
    parser.add_argument("--worker", choices=["prepare", *sorted(WORKERS_BY_NAME)], help=argparse.SUPPRESS)
    parser.add_argument("--worker-input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.worker:
        return worker_main(args)

    if args.corpus is not None and not args.corpus.exists():
        parser.error(f"{args.corpus}: corpus not found")

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="topics_ungdc_") as tmp_name:
        tmp = Path(tmp_name)
        table = tmp / "paragraphs.parquet"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "prepare", "--worker-output", str(table),
               "--seed", str(args.seed)]
        cmd += ["--corpus", str(args.corpus.resolve())] if args.corpus is not None else []
        cmd += ["--max-paragraphs", str(args.max_paragraphs)] if args.max_paragraphs is not None else []
        rc, seconds, _ = run_measured(cmd, tmp / "prepare.log", args.timeout)
        if rc != 0:
            log.error("preparing the paragraphs failed (exit %d):\n%s", rc, _tail(tmp / "prepare.log"))
            return 1
        prepared = json.loads(table.with_suffix(".json").read_text(encoding="utf-8"))
        check_measurement_sessions(set(prepared["sessions"]))
        log.info("%d paragraphs (of %d) of sessions %s, %d documents, prepared in %.1f s", prepared["paragraphs"],
                 prepared["paragraphs_total"], prepared["sessions"], prepared["documents"], seconds)

        for name in CONTENDERS:
            if name in args.skip:
                results[name] = {"status": "skipped: --skip"}
                continue
            if name.startswith("ours-"):
                results[name] = run_ours(name, table, tmp, args.k, args.seed, args.timeout, args.ours_set)
            else:
                results[name] = run_peer(name, table, tmp, args.k, args.seed, args.timeout)
            log.info("[%s] %s", name, {k: v for k, v in results[name].items() if k not in ("topics", "error")})

        for res in results.values():
            if "model_dir" in res:
                collect_ours(res)
        texts = _tokenised(table)
        score(results, texts)

    for name, res in results.items():
        if res.get("topics"):
            for t, words in enumerate(res["topics"]):
                log.info("[%s] topic %2d (npmi %s): %s", name, t,
                         (res.get("npmi_per_topic") or ["-"] * len(res["topics"]))[t], " ".join(words[:TOP_NPMI]))
    keys = ("seconds", "peak_rss_mb", "npmi", "diversity", "status", "npmi_words_dropped")
    summary = {name: {k: res.get(k) for k in keys} for name, res in results.items()}
    for name, res in results.items():
        if "stage_metrics" in res:
            summary[name]["stage_metrics"] = res["stage_metrics"]
        if "error" in res:
            summary[name]["error"] = res["error"]
    for name, res in summary.items():
        log.info("%-18s %8s s %8s MB  npmi %-7s diversity %-7s %s", name, res["seconds"], res["peak_rss_mb"],
                 res["npmi"], res["diversity"], res["status"])
    print(json.dumps({"benchmark": "topics_ungdc", "paragraphs": prepared["paragraphs"], "k": args.k, "seed": args.seed, "ours_set": args.ours_set,
                      "sessions": sorted(MEASUREMENT_SESSIONS), "results": summary, "reference": REFERENCE}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
