"""Known-groups validity of the stance model: does it say who is against whom, on held-out speeches?

Political scientists validate a position measure on groups whose position is beyond doubt. The
pairs are in ``benchmarks/data/known_groups.csv``: (country, target, expected direction, a one-line
reason), e.g. Ukraine against Russia, Cuba against the United States, Pakistan in favour of China,
Poland in favour of Ukraine (a victim and a defended party are the cases a "hostile words near
the target" model gets wrong).

Text: the speeches of sessions 69-75 (2014-2020) and 79 (2024) of the UN General Debate corpus.
Paragraphs are lines of sessions 70-75 and 79 and the chunker's paragraphs of session 69 (a
hard-wrapped record). Every paragraph that is in the training data (``stance.train``, matched by
its whitespace-normalised text) is left out, so the model never saw any paragraph it is scored on.
Sessions 76-78 are the evaluation split and are never read (``_ungdc.load_speeches`` refuses them).

For each pair, every remaining paragraph of that country's speeches that mentions the target is
classified; ``net_against`` = (against - favor) / mentions. The sign is right when it is positive
for an expected ``against`` and negative for an expected ``favor``. Pairs with fewer than
``--min-mentions`` mentions are listed but not scored.

Usage::

    .venv/bin/python benchmarks/stance_known_groups.py              # the saved model (models/stance)
    .venv/bin/python benchmarks/stance_known_groups.py --train      # train from the config first
    .venv/bin/python benchmarks/stance_known_groups.py --train --set stance.roles=false

Output: one JSON line: ``sign_right`` (share of scored pairs), ``scored``, ``pairs`` (country,
target, expected, mentions, against, favor, neutral, net_against, right), ``wrong`` (the pairs
whose sign is wrong), ``paragraphs``, ``excluded_training``, ``seconds``, ``target`` 0.95.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stance import add_model_arguments, stance_model  # noqa: E402
from _ungdc import DEFAULT_CORPUS, load_speeches  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
PAIRS = REPO_ROOT / "benchmarks" / "data" / "known_groups.csv"
SESSIONS = frozenset({69, 70, 71, 72, 73, 74, 75, 79})
log = logging.getLogger("stance_known_groups")


def speech_paragraphs(frame, chunk_config) -> list[tuple[str, int, str]]:
    """(country, session, paragraph) for every paragraph of 5+ words of every speech of ``frame``."""
    from pipeline.chunk.segment import SegmentOptions, segment_document

    opts = SegmentOptions.from_config(chunk_config)
    out = []
    for session, country, text in zip(frame["session"], frame["country"], frame["text"], strict=True):
        if session >= 70:
            paragraphs = [" ".join(line.split()) for line in text.split("\n")]
        else:
            paragraphs = [" ".join(p.text.split()) for p in segment_document(text, opts) if not p.heading]
        out.extend((country, int(session), p) for p in paragraphs if len(p.split()) >= 5)
    return out


def score_pairs(predict, matchers, training_texts: set[str], pairs_path: str | Path = PAIRS,
                corpus: str | Path = DEFAULT_CORPUS, min_mentions: int = 3) -> dict:
    """Known-groups result for a ``predict(texts, targets) -> labels`` function (see the module docstring).

    ``matchers`` maps target names to :class:`~pipeline.stance.targets.TargetMatcher` (what counts as a
    mention); paragraphs whose whitespace-normalised text is in ``training_texts`` are left out.
    """
    from pipeline.config import Config

    start = time.perf_counter()
    with open(pairs_path, encoding="utf-8") as handle:
        pairs = list(csv.DictReader(handle))
    countries = {p["country"] for p in pairs}
    frame = load_speeches(Path(corpus), SESSIONS)
    frame = frame[frame["country"].isin(countries)]
    paragraphs = speech_paragraphs(frame, Config().chunk)
    kept = [p for p in paragraphs if p[2] not in training_texts]
    log.info("%d paragraphs of %d speeches; %d left out as training text", len(paragraphs), len(frame),
             len(paragraphs) - len(kept))
    rows = []
    for pair in pairs:
        matcher = matchers[pair["target"]]
        texts = [p for c, _, p in kept if c == pair["country"] and matcher.mentions(p)]
        labels = list(predict(texts, [pair["target"]] * len(texts))) if texts else []
        n = len(labels)
        against, favor = labels.count("against"), labels.count("favor")
        net = (against - favor) / n if n else None
        right = None
        if n >= min_mentions:
            right = bool(net > 0) if pair["expected"] == "against" else bool(net < 0)
        rows.append({"country": pair["country"], "target": pair["target"], "expected": pair["expected"],
                     "mentions": n, "against": against, "favor": favor, "neutral": labels.count("neutral"),
                     "net_against": None if net is None else round(net, 3), "right": right})
    scored = [r for r in rows if r["right"] is not None]
    return {
        "benchmark": "stance_known_groups",
        "sign_right": round(sum(r["right"] for r in scored) / len(scored), 4) if scored else None,
        "scored": len(scored),
        "pairs": rows,
        "wrong": [f"{r['country']}->{r['target']} expected {r['expected']}, net against {r['net_against']} "
                  f"over {r['mentions']}" for r in scored if not r["right"]],
        "paragraphs": len(kept),
        "excluded_training": len(paragraphs) - len(kept),
        "seconds": round(time.perf_counter() - start, 1),
        "target": 0.95,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_arguments(parser)
    parser.add_argument("--pairs", default=str(PAIRS))
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--min-mentions", type=int, default=3)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")

    from pipeline.stance.targets import compile_targets

    _, model, training, _ = stance_model(args)
    matchers = compile_targets(model.target_specs_)
    result = score_pairs(model.predict, matchers, {" ".join(e.text.split()) for e in training}, args.pairs,
                         args.corpus, args.min_mentions)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
