"""The stance classifier on SemEval-2016 Task 6A (TweetEval split): F_avg on the official test set.

Data
----
``--data`` is the TweetEval redistribution of SemEval-2016 Task 6 subtask A (see its
``README.md``): ``{abortion,atheism,climate,feminist,hillary}/{train,val,test}_{text,labels}.txt``,
one tweet / one integer label per line, ``0`` none, ``1`` against, ``2`` favor. The folder
names the target: abortion = "Legalization of Abortion", atheism = "Atheism", climate =
"Climate Change is a Real Concern", feminist = "Feminist Movement", hillary = "Hillary
Clinton". Labels map to the pipeline's ``favor`` / ``against`` / ``neutral`` (none ->
neutral). The model is trained on train + val (2,914 tweets) and scored once on test
(1,249 tweets).

Classifier
----------
The pipeline's design unchanged: ``build_model(load_config(--config).stance)`` (the
``stance`` section of ``configs/default.yaml``: C, window, n-grams, class weights,
calibration, seed), with its ``targets`` parameter replaced by the five SemEval targets
(a ``StanceClassifier`` only accepts targets it was built with). Each target's aliases are
the keywords of its name, fixed beforehand and never tuned: ``abortions?``,
``atheis(m|ts?)``, ``climate change`` / ``global warming`` / ``climate``, ``feminis(m|ts?)``,
``hillary`` / ``clinton`` (``#HillaryClinton`` included). About four tweets in five do not
contain them; ``predict_proba`` scores such a text from its whole-text n-grams alone (no
mention sentence or window features), so every test tweet gets a label (the stage's
``none`` label is not used here).

Tweet options
-------------
Tweets are short and four in five never name their target, so on top of the config the
benchmark sets, as ``stance.*`` overrides (``TWEET_OPTIONS``; ``--no-tweet-options`` leaves
them out, ``--set stance.KEY=VALUE`` adds more): character n-grams 2-5 of the whole text
(``char_ngram_max: 5``, ``char_scope: doc``), ``target_features: true`` (the target asked
about as a feature) and ``per_target: true`` (one model per target inside the classifier).
They were chosen by 5-fold cross-validation on train + val (strata target x label) among a
handful of settings, never on test: F_avg 0.562 for the config alone, 0.621 with
``target_features``, 0.646 with character n-grams added, 0.688 with ``per_target`` as well
(0.689 in the benchmark's ``per_target`` mode).

Two ways to train that design are reported:

``joint`` (the headline figures)
    one classifier over all five targets, as the pipeline trains one model for its targets;
``per_target``
    one classifier per target, each built with that single target and trained on its
    tweets (as the SemEval baselines were). The model sees the target's identity only
    through mention placeholders, so for the four in five tweets without a keyword a
    joint model cannot tell which target it is asked about.

Tuning
------
When the default-parameter ``joint`` F_avg is below the goal 0.69 (and unless
``--no-tune``), documented constructor parameters are chosen by stratified 5-fold
cross-validation on train + val only (strata: target x label; the test set is never
looked at): ``C`` in {0.5, 2, 8, 32}, ``ngram_range`` (1, 1..3), ``window`` in {4, 12},
``calibration`` in {auto, none}, ``class_weight`` in {balanced, None}, separately for
``joint`` and ``per_target`` (one shared setting for the five per-target models). The best
setting by cross-validated F_avg is refitted on train + val and scored on test.

Metric
------
``f_avg``: the mean of F1(favor) and F1(against) over all test items pooled (the official
SemEval-2016 / TweetEval metric; neutral predictions count only as misses or false
alarms of the other two); ``macro_f1`` over the three labels; both also per target.

Output
------
One JSON line on stdout; progress on stderr. Keys:

``benchmark`` (``"semeval2016"``), ``data``, ``overrides`` (the ``stance.*`` settings applied
on top of ``--config``), ``train_size``, ``test_size``,
``train_label_counts``, ``test_label_counts``, ``targets`` (name -> aliases),
``test_mention_rate`` (share of test tweets that contain a keyword of their target);
``f_avg``, ``macro_f1``, ``f1_favor``, ``f1_against``, ``per_target`` (name -> ``f_avg``,
``macro_f1``, ``n``, ``counts`` of gold labels) for the default-parameter ``joint`` model;
``variants``: ``default_joint``, ``default_per_target`` and, when tuned, ``tuned_joint``,
``tuned_per_target``, each with the keys above plus ``params``, ``fit_seconds`` and, for the
tuned ones, ``cv_f_avg`` (its cross-validated F_avg on train + val) and ``cv_default_f_avg``
(the default's, on the same folds); ``tuning``: ``grid_size``, ``cv_folds``, ``seconds``,
``top`` (best settings by CV per mode) or ``skipped`` (why); ``best_by_cv`` (name of the
tuned variant with the higher CV F_avg) and ``best_by_cv_f_avg`` (its test F_avg);
``majority_f_avg`` (each test tweet labelled with its target's most frequent train + val
label, recomputed here), ``anchors`` (published test F_avg: majority 0.6522, SVM n-grams 0.6898, MITRE 0.6782,
BERTweet 0.712), ``target_f_avg`` (0.69), ``meets_target`` (default joint F_avg at or above
the goal), ``seconds`` (whole run).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

log = logging.getLogger("semeval2016")

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "stance" / "semeval2016-tweeteval"
#: folder -> (target name, alias regexes: the keywords of the target's name, fixed before any run)
TARGETS: dict[str, tuple[str, list[str]]] = {
    "abortion": ("Legalization of Abortion", [r"abortions?"]),
    "atheism": ("Atheism", [r"atheis(?:m|ts?)"]),
    "climate": ("Climate Change is a Real Concern", [r"climate change", r"global warming", r"climate"]),
    "feminist": ("Feminist Movement", [r"feminis(?:m|ts?)", r"feminist movement"]),
    "hillary": ("Hillary Clinton", [r"hillary ?clinton", r"hillary", r"clinton"]),
}
LABEL_MAP = {"none": "neutral", "against": "against", "favor": "favor"}
ANCHORS = {"majority": 0.6522, "svm_ngrams": 0.6898, "mitre": 0.6782, "bertweet": 0.712}
TARGET_F_AVG = 0.69
#: ``stance`` options for tweets, chosen by cross-validation on train + val (see the docstring)
TWEET_OPTIONS = ("stance.char_ngram_min=2", "stance.char_ngram_max=5", "stance.char_scope=doc",
                 "stance.target_features=true", "stance.per_target=true")
GRID = {
    "C": [0.5, 2.0, 8.0, 32.0],
    "ngram_range": [(1, 1), (1, 2), (1, 3)],
    "window": [4, 12],
    "calibration": ["auto", "none"],
    "class_weight": ["balanced", None],
}

Pairs = list[tuple[str, str]]


def read_mapping(data: Path) -> dict[str, str]:
    """``mapping.txt``: integer label -> pipeline label (tab-separated ``0 none`` lines)."""
    mapping = {}
    for line in (data / "mapping.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            number, name = line.split("\t") if "\t" in line else line.split()
            mapping[number.strip()] = LABEL_MAP[name.strip()]
    return mapping


def load_split(data: Path, split: str, mapping: dict[str, str]) -> tuple[Pairs, np.ndarray]:
    """(tweet, target name) pairs and pipeline labels of one split, all five targets."""
    pairs: Pairs = []
    labels: list[str] = []
    for folder, (name, _) in TARGETS.items():
        texts = (data / folder / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
        raw = [x for x in (data / folder / f"{split}_labels.txt").read_text(encoding="utf-8").split() if x]
        if len(texts) != len(raw):
            raise ValueError(f"{data / folder}: {split} has {len(texts)} texts and {len(raw)} labels")
        pairs.extend((text, name) for text in texts)
        labels.extend(mapping[x] for x in raw)
    return pairs, np.asarray(labels, dtype=object)


def target_specs(names: list[str] | None = None) -> list[dict[str, Any]]:
    return [{"name": name, "aliases": aliases, "case_sensitive_aliases": []}
            for name, aliases in TARGETS.values() if names is None or name in names]


def f_avg(y_true: Any, y_pred: Any) -> float:
    """Mean of F1(favor) and F1(against), all items pooled (SemEval-2016 Task 6)."""
    from sklearn.metrics import f1_score

    return float(f1_score(list(y_true), list(y_pred), labels=["favor", "against"], average="macro", zero_division=0))


def scores(y_true: np.ndarray, y_pred: np.ndarray, names: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import f1_score

    def block(t: np.ndarray, p: np.ndarray) -> dict[str, Any]:
        favor, against = f1_score(list(t), list(p), labels=["favor", "against"], average=None, zero_division=0)
        macro = f1_score(list(t), list(p), labels=["favor", "against", "neutral"], average="macro", zero_division=0)
        return {"f_avg": round(float(favor + against) / 2, 4), "macro_f1": round(float(macro), 4),
                "f1_favor": round(float(favor), 4), "f1_against": round(float(against), 4)}

    out = block(y_true, y_pred)
    out["predicted_counts"] = dict(sorted(Counter(y_pred.tolist()).items()))
    per_target = {}
    for name, _ in TARGETS.values():
        mask = names == name
        row = block(y_true[mask], y_pred[mask])
        per_target[name] = {"f_avg": row["f_avg"], "macro_f1": row["macro_f1"], "n": int(mask.sum()),
                            "counts": dict(sorted(Counter(y_true[mask].tolist()).items()))}
    out["per_target"] = per_target
    return out


def fit_predict(base: Any, params: dict[str, Any], mode: str, train: Pairs, y: np.ndarray, test: Pairs) -> np.ndarray:
    """Fit ``base`` with ``params`` (one joint model, or one model per target) and predict ``test``."""
    from sklearn.base import clone

    if mode == "joint":
        model = clone(base).set_params(targets=target_specs(), **params).fit(train, y)
        return model.predict(test)
    train_names = np.asarray([t for _, t in train], dtype=object)
    test_names = np.asarray([t for _, t in test], dtype=object)
    predicted = np.empty(len(test), dtype=object)
    for name, _ in TARGETS.values():
        tr = np.flatnonzero(train_names == name)
        te = np.flatnonzero(test_names == name)
        if len(te) == 0:
            continue
        model = clone(base).set_params(targets=target_specs([name]), **params).fit([train[i] for i in tr], y[tr])
        predicted[te] = model.predict([test[i] for i in te])
    return predicted


def cv_f_avg(base: Any, params: dict[str, Any], mode: str, pairs: Pairs, y: np.ndarray,
             folds: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Out-of-fold F_avg of a setting on train + val."""
    warnings.filterwarnings("ignore")
    predicted = np.empty(len(y), dtype=object)
    for tr, te in folds:
        predicted[te] = fit_predict(base, params, mode, [pairs[i] for i in tr], y[tr], [pairs[i] for i in te])
    return f_avg(y, predicted)


def plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def evaluate(name: str, base: Any, params: dict[str, Any], mode: str, train: Pairs, y_train: np.ndarray,
             test: Pairs, y_test: np.ndarray) -> dict[str, Any]:
    start = time.perf_counter()
    predicted = fit_predict(base, params, mode, train, y_train, test)
    seconds = time.perf_counter() - start
    names = np.asarray([t for _, t in test], dtype=object)
    result = {"mode": mode, "params": plain(params), **scores(y_test, predicted, names), "fit_seconds": round(seconds, 2)}
    log.info("%-20s test F_avg %.4f  macro-F1 %.4f  (%.1f s)", name, result["f_avg"], result["macro_f1"], seconds)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="TweetEval stance folder (default: ../shared/data/stance/semeval2016-tweeteval "
                             "relative to the repo root)")
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "configs" / "default.yaml",
                        help="pipeline config whose stance section builds the classifier (default: %(default)s)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override, after the tweet options (e.g. stance.C=2)")
    parser.add_argument("--no-tweet-options", action="store_true", help="do not apply TWEET_OPTIONS")
    parser.add_argument("--no-tune", action="store_true", help="skip the cross-validated parameter search")
    parser.add_argument("--force-tune", action="store_true", help="tune even when the default reaches the goal")
    parser.add_argument("--cv-folds", type=int, default=5, help="folds of the parameter search (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel processes of the search (default: %(default)s)")
    parser.add_argument("--top", type=int, default=5, help="best settings per mode reported (default: %(default)s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    warnings.filterwarnings("ignore", category=UserWarning)
    t_all = time.perf_counter()

    from pipeline.config import load_config
    from pipeline.stance.targets import compile_targets
    from pipeline.stance.train import build_model

    data = args.data.resolve()
    mapping = read_mapping(data)
    train, y_train = load_split(data, "train", mapping)
    val, y_val = load_split(data, "val", mapping)
    test, y_test = load_split(data, "test", mapping)
    train, y_train = train + val, np.concatenate([y_train, y_val])
    log.info("train+val %d tweets, test %d tweets", len(train), len(test))

    overrides = [*([] if args.no_tweet_options else TWEET_OPTIONS), *args.set]
    base = build_model(load_config(args.config.resolve(), overrides).stance)
    log.info("stance overrides: %s", ", ".join(overrides) or "none")
    matchers = compile_targets(target_specs())
    mention_rate = float(np.mean([matchers[t].mentions(x) for x, t in test]))
    log.info("%.1f%% of test tweets contain a keyword of their target", 100 * mention_rate)

    variants: dict[str, Any] = {}
    variants["default_joint"] = evaluate("default_joint", base, {}, "joint", train, y_train, test, y_test)
    variants["default_per_target"] = evaluate("default_per_target", base, {}, "per_target", train, y_train, test, y_test)
    headline = variants["default_joint"]

    tuning: dict[str, Any]
    best_by_cv = None
    if args.no_tune:
        tuning = {"skipped": "--no-tune"}
    elif headline["f_avg"] >= TARGET_F_AVG and not args.force_tune:
        tuning = {"skipped": f"default F_avg {headline['f_avg']} reaches the goal {TARGET_F_AVG}"}
    else:
        from joblib import Parallel, delayed
        from sklearn.model_selection import StratifiedKFold

        start = time.perf_counter()
        strata = np.asarray([f"{t}|{label}" for (_, t), label in zip(train, y_train, strict=True)], dtype=object)
        splitter = StratifiedKFold(n_splits=args.cv_folds, shuffle=True, random_state=42)
        folds = list(splitter.split(np.zeros(len(y_train)), strata))
        keys = list(GRID)
        settings = [dict(zip(keys, values, strict=True)) for values in itertools.product(*GRID.values())]
        jobs = [(mode, params) for mode in ("joint", "per_target") for params in [{}, *settings]]
        log.info("tuning: %d settings x 2 modes, %d-fold CV on train+val, %d processes", len(settings),
                 args.cv_folds, args.jobs)
        results = Parallel(n_jobs=args.jobs, verbose=0)(
            delayed(cv_f_avg)(base, params, mode, train, y_train, folds) for mode, params in jobs)
        tuning = {"grid": {k: [list(v) if isinstance(v, tuple) else v for v in vals] for k, vals in GRID.items()},
                  "grid_size": len(settings), "cv_folds": args.cv_folds, "top": {}}
        cv_best = {}
        for mode in ("joint", "per_target"):
            rows = [(score, params) for (m, params), score in zip(jobs, results, strict=True) if m == mode]
            default_score = next(score for score, params in rows if not params)
            ranked = sorted((r for r in rows if r[1]), key=lambda r: -r[0])
            tuning["top"][mode] = [{"cv_f_avg": round(s, 4), "params": plain(p)} for s, p in ranked[: args.top]]
            score, params = ranked[0]
            log.info("tuning %s: best CV F_avg %.4f with %s (default %.4f)", mode, score, params, default_score)
            name = f"tuned_{mode}"
            variants[name] = evaluate(name, base, params, mode, train, y_train, test, y_test)
            variants[name]["cv_f_avg"] = round(score, 4)
            variants[name]["cv_default_f_avg"] = round(default_score, 4)
            cv_best[name] = score
        tuning["seconds"] = round(time.perf_counter() - start, 1)
        best_by_cv = max(cv_best, key=cv_best.get)

    # per-target majority label of train+val, the SemEval-2016 "majority class" baseline
    test_names = np.asarray([t for _, t in test], dtype=object)
    train_names = np.asarray([t for _, t in train], dtype=object)
    majority = np.empty(len(test), dtype=object)
    for name, _ in TARGETS.values():
        majority[test_names == name] = Counter(y_train[train_names == name].tolist()).most_common(1)[0][0]
    majority_f_avg = round(f_avg(y_test, majority), 4)
    log.info("per-target majority baseline: test F_avg %.4f", majority_f_avg)

    label_counts = {"train": dict(sorted(Counter(y_train.tolist()).items())),
                    "test": dict(sorted(Counter(y_test.tolist()).items()))}
    result = {
        "benchmark": "semeval2016",
        "data": str(args.data),
        "train_size": len(train),
        "test_size": len(test),
        "train_label_counts": label_counts["train"],
        "test_label_counts": label_counts["test"],
        "targets": {name: aliases for name, aliases in TARGETS.values()},
        "overrides": overrides,
        "test_mention_rate": round(mention_rate, 4),
        "f_avg": headline["f_avg"],
        "macro_f1": headline["macro_f1"],
        "f1_favor": headline["f1_favor"],
        "f1_against": headline["f1_against"],
        "per_target": headline["per_target"],
        "variants": variants,
        "tuning": tuning,
        "best_by_cv": best_by_cv,
        "best_by_cv_f_avg": variants[best_by_cv]["f_avg"] if best_by_cv else None,
        "majority_f_avg": majority_f_avg,
        "anchors": ANCHORS,
        "target_f_avg": TARGET_F_AVG,
        "meets_target": bool(headline["f_avg"] >= TARGET_F_AVG),
        "seconds": round(time.perf_counter() - t_all, 1),
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
