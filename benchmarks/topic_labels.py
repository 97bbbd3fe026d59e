"""How well topic labels tell topics apart, on UN speeches and on the seed articles (issue 17).

Corpora
-------
- ``ungdc``: the speeches of ``--countries`` (default 20 large and middle powers from every
  region) in the tuning sessions 70-75 (2015-2020; never the evaluation sessions 76-78), one
  paragraph per line of 20+ words, as issue 17's trial (a few hundred speeches, K=12).
- ``seeds``: the paragraph table of the five seed articles (``data/paragraphs.parquet`` as
  ``dvc repro`` writes it), K from the config (8).

For each corpus the ``topics`` stage's own code (:func:`pipeline.topics.stage.run_topics`) fits
the model with ``configs/default.yaml`` plus ``--set`` overrides, and the script prints, per
ranking (probability, FREX, relevance): the labels (first ``topics.label_words`` words), the
*distinct share* (topics whose label shares no word with any other label) and the mean
exclusivity of the first 10 words; plus the stage's NPMI (c_npmi on its fixed-seed sample),
the paragraphs left out as procedural and the corpus stop words removed.

Output: one JSON line on stdout; a readable table on stderr.

    .venv/bin/python benchmarks/topic_labels.py
    .venv/bin/python benchmarks/topic_labels.py --set topics.corpus_stopwords=true --corpus ungdc
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _ungdc import DEFAULT_CORPUS, TUNING_SESSIONS, check_sessions, load_speeches, speech_paragraphs  # noqa: E402

#: issue 17's trial used 16 countries over 2013-2020; these 20 cover every region and both camps
COUNTRIES = ("USA", "RUS", "CHN", "GBR", "FRA", "DEU", "IND", "BRA", "ZAF", "NGA", "EGY", "IRN", "JPN", "MEX",
             "IDN", "TUR", "UKR", "CUB", "FJI", "POL")


def ungdc_paragraphs(path: Path, countries: tuple[str, ...]):

    check_sessions(TUNING_SESSIONS)
    speeches = load_speeches(path, TUNING_SESSIONS)
    speeches = speeches[speeches["country"].isin(countries)].reset_index(drop=True)
    frame = speech_paragraphs(speeches)[["doc_id", "para_id", "text"]]
    return frame, int(speeches.shape[0])


def measure(frame, settings) -> dict:
    from pipeline.topics.stage import run_topics

    result = run_topics(frame, settings)
    model, m = result.model, result.metrics
    out = {"c_npmi": m.get("c_npmi"), "c_v": m.get("c_v"), "topic_diversity": m.get("topic_diversity"),
           "paragraphs": int(len(frame)), "documents_used": m.get("documents_used"),
           "paragraphs_procedural": m.get("paragraphs_procedural"),
           "corpus_stopwords": m.get("corpus_stopwords_removed"), "rankings": {}}
    prevalence = result.table["prevalence"].tolist()
    # the stage's own label metrics (distinct share, exclusivity of the first 10 words) for every ranking
    for ranking, figures in m["labels_by_ranking"].items():
        names = model.ranked_words(settings.label_words, ranking, settings.frex_weight, settings.relevance_lambda)
        out["rankings"][ranking] = {
            "distinct_share": figures["distinct_share"],
            "exclusivity_top10": figures["exclusivity_top10"],
            "labels": [f"{', '.join(n)} ({100 * p:.1f}%)" for n, p in zip(names, prevalence, strict=True)],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    from pipeline.config import load_config

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=str(REPO_ROOT / "configs" / "default.yaml"))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override (repeatable)")
    ap.add_argument("--corpus", choices=("ungdc", "seeds", "both"), default="both")
    ap.add_argument("--ungdc", type=Path, default=DEFAULT_CORPUS, help="the UNGDC csv.gz")
    ap.add_argument("--k", type=int, default=12, help="topics for the UN corpus (seeds: the config's)")
    ap.add_argument("--countries", nargs="+", default=list(COUNTRIES))
    ap.add_argument("--seeds-table", type=Path, default=REPO_ROOT / "data" / "paragraphs.parquet")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    results: dict = {"set": args.set}
    if args.corpus in ("ungdc", "both"):
        frame, speeches = ungdc_paragraphs(args.ungdc, tuple(args.countries))
        config = load_config(args.config, [*args.set, f"topics.num_topics={args.k}"])
        results["ungdc"] = {"speeches": speeches, "k": args.k, **measure(frame, config.topics)}
    if args.corpus in ("seeds", "both"):
        frame = pd.read_parquet(args.seeds_table)
        config = load_config(args.config, args.set)
        results["seeds"] = {"k": config.topics.num_topics, **measure(frame, config.topics)}
    for name in ("ungdc", "seeds"):
        if name not in results:
            continue
        r = results[name]
        print(f"== {name}: {r['paragraphs']} paragraphs, K={r['k']}, c_npmi {r['c_npmi']}, procedural "
              f"{r['paragraphs_procedural']}, stop words removed {r['corpus_stopwords']}", file=sys.stderr)
        for ranking, v in r["rankings"].items():
            print(f"  {ranking}: distinct {v['distinct_share']}, exclusivity {v['exclusivity_top10']}",
                  file=sys.stderr)
            for label in v["labels"]:
                print(f"    {label}", file=sys.stderr)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
