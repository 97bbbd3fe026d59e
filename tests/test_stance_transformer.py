"""``stance.engine: transformer`` on a tiny BERT made here (no download): fine-tuning, blending and
routing, the model directory (safetensors, hashes, no pickle), bit-identical retraining, worker
processes, the stage, and clear errors."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch", reason="the transformer extra is not installed (pip install -e '.[transformer]')")
pytest.importorskip("transformers", reason="the transformer extra is not installed")

from pipeline.config import DEFAULT_TARGETS, Config, TransformerConfig  # noqa: E402
from pipeline.errors import ArtifactError  # noqa: E402
from pipeline.io import sha256_file  # noqa: E402
from pipeline.stance.data import read_labels  # noqa: E402
from pipeline.stance.predict import classify_paragraphs  # noqa: E402
from pipeline.stance.storage import load_stance, load_stance_artifact, save_stance  # noqa: E402
from pipeline.stance.train import train  # noqa: E402
from pipeline.stance.transformer import FILES, mark  # noqa: E402
from tests.conftest import run_cli  # noqa: E402
from tests.test_stance import LABELLED, TARGET_NAMES  # noqa: E402


def make_tiny_base(directory: Path, texts: list[str]) -> Path:
    """A randomly initialised one-layer BERT and a word-piece tokenizer whose vocabulary covers ``texts``."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", t.lower())})
    chars = sorted({c for w in words for c in w})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *("##" + c for c in chars),
             *(w for w in words if len(w) > 1)]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(str(directory / "vocab.txt"))
    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1,
                                 num_attention_heads=2, intermediate_size=32, max_position_embeddings=128))
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def small():
    """Every sixth written example: all targets and labels, about 420 pairs."""
    return read_labels(LABELLED, TARGET_NAMES)[::6]


@pytest.fixture(scope="module")
def base(small, tmp_path_factory):
    return make_tiny_base(tmp_path_factory.mktemp("base"),
                          [e.text for e in small] + TARGET_NAMES + ["[T] [/T]"])


def settings(base: Path, **transformer):
    options = {"base": str(base), "epochs": 0.3, "batch_size": 8, "max_length": 64, "threads": 1, "route_below": 1.0,
               **transformer}
    return Config().stance.model_copy(update={"engine": "transformer", "cv_folds": 2,
                                              "transformer": TransformerConfig(**options)})


@pytest.fixture(scope="module")
def fitted(small, base):
    return train(settings(base), small)


def pairs(examples):
    return [e.text for e in examples], [e.target for e in examples]


def test_fine_tune_gives_a_model_that_blends_both_engines(fitted, small):
    model, metrics = fitted
    assert metrics["engine"] == "transformer" and metrics["cv_model"] == "sklearn"
    assert metrics["checklist"]["overall"] is not None
    texts, targets = pairs(small[:40])
    blended = model.predict_proba(texts, targets)
    refiner = model.__dict__.pop("refiner_")
    try:
        tfidf = model.predict_proba(texts, targets)
    finally:
        model.refiner_ = refiner
    matchers = {m.name: m for m in model.matchers_}
    own = refiner.proba(texts, targets, matchers)
    assert np.allclose(blended, 0.5 * tfidf + 0.5 * own)
    assert np.allclose(blended.sum(axis=1), 1.0)
    assert not np.allclose(blended, tfidf)  # the transformer really takes part


def test_route_below_sends_only_uncertain_pairs(fitted, small):
    model, _ = fitted
    texts, targets = pairs(small[:60])
    refiner = model.refiner_
    model.__dict__.pop("refiner_")
    try:
        tfidf = model.predict_proba(texts, targets)
    finally:
        model.refiner_ = refiner
    threshold = float(np.median(tfidf.max(axis=1)))
    refiner.route_below = threshold
    try:
        routed = model.predict_proba(texts, targets)
        refiner.route_below = 0.0
        none_routed = model.predict_proba(texts, targets)
    finally:
        refiner.route_below = 1.0
    confident = tfidf.max(axis=1) >= threshold
    assert np.array_equal(routed[confident], tfidf[confident])
    assert not np.allclose(routed[~confident], tfidf[~confident])
    assert np.array_equal(none_routed, tfidf)


def test_model_directory_round_trip(fitted, small, tmp_path):
    model, _ = fitted
    path = save_stance(model, tmp_path / "stance")
    meta = json.loads((path / "meta.json").read_text())
    assert meta["engine"] == "transformer"
    assert set(FILES) | {"model.skops"} == set(meta["files"])
    assert {"torch", "transformers"} <= set(meta["libraries"])
    assert not [p for p in path.iterdir() if p.suffix in (".bin", ".pt", ".pkl", ".joblib")]
    loaded = load_stance(path)
    texts, targets = pairs(small[:40])
    assert np.allclose(loaded.predict_proba(texts, targets), model.predict_proba(texts, targets), atol=1e-5)
    analysis = loaded.analyze(["NATO attacked Russia.", "It rained."], ["Russia", "Russia"])
    assert analysis.labels[1] == "none" and analysis.evidence[0] == "NATO attacked Russia."


def test_tampered_weights_are_refused(fitted, tmp_path):
    path = save_stance(fitted[0], tmp_path / "stance")
    weights = path / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="hash differs"):
        load_stance(path)


def test_a_listed_but_incomplete_transformer_is_refused(fitted, tmp_path):
    path = save_stance(fitted[0], tmp_path / "stance")
    meta = json.loads((path / "meta.json").read_text())
    del meta["files"]["refiner.json"]
    (path / "refiner.json").unlink()
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="refiner.json"):
        load_stance_artifact(path)


def test_fine_tuning_is_bit_identical_for_the_same_seed(small, base, tmp_path):
    subset = small[:120]
    first = save_stance(train(settings(base, epochs=0.5), subset)[0], tmp_path / "a")
    second = save_stance(train(settings(base, epochs=0.5), subset)[0], tmp_path / "b")
    for name in FILES:
        assert sha256_file(first / name) == sha256_file(second / name), name
    other = save_stance(train(settings(base, epochs=0.5).model_copy(update={"seed": 7}), subset)[0], tmp_path / "c")
    assert sha256_file(other / "model.safetensors") != sha256_file(first / "model.safetensors")


def test_workers_score_like_this_process(fitted, small):
    model, _ = fitted
    restored = pickle.loads(pickle.dumps(model))
    texts, targets = pairs(small[:30])
    assert np.allclose(restored.predict_proba(texts, targets), model.predict_proba(texts, targets), atol=1e-6)
    paragraphs = pd.DataFrame({"doc_id": ["d"] * 30, "para_id": range(30), "text": [e.text for e in small[:30]]})
    one = classify_paragraphs(model, paragraphs, TARGET_NAMES, batch_size=10, n_jobs=1)
    two = classify_paragraphs(model, paragraphs, TARGET_NAMES, batch_size=10, n_jobs=2)
    assert one["label"].tolist() == two["label"].tolist()
    assert np.allclose(one[["p_favor", "p_against", "p_neutral"]].fillna(-1),
                       two[["p_favor", "p_against", "p_neutral"]].fillna(-1), atol=1e-6)


def test_marks_every_mention_and_cuts_long_paragraphs():
    from pipeline.stance.targets import compile_targets

    matcher = compile_targets(DEFAULT_TARGETS)["NATO"]
    assert mark("NATO met. The Alliance agreed.", matcher) == "[T] NATO [/T] met. [T] The Alliance [/T] agreed."
    filler = " ".join(["Nothing happened here today."] * 40)
    marked = mark(f"{filler} NATO expanded. {filler}", matcher)
    assert "[T] NATO [/T] expanded." in marked and len(marked.split()) < 20


def test_missing_base_model_is_one_clear_line(workspace):
    result = run_cli("train_stance", "--set", "stance.engine=transformer",
                     "--set", "stance.transformer.base=/nonexistent/model", "--set", "stance.train=/dev/null")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "stance.transformer.base" in result.stderr and "/nonexistent/model" in result.stderr


def test_bad_transformer_values_are_config_errors():
    with pytest.raises(ValueError, match="blend"):
        TransformerConfig(blend=0.0)
    with pytest.raises(ValueError, match="route_below"):
        TransformerConfig(route_below=1.5)
    with pytest.raises(ValueError, match="engine"):
        Config().stance.model_validate({"engine": "bert"})


def test_train_and_stance_stages_run_with_the_transformer_engine(workspace, small, base):
    (workspace / "train.jsonl").write_text("".join(
        json.dumps({"text": e.text, "target": e.target, "label": e.label}) + "\n" for e in small[:150]))
    (workspace / "docs").mkdir()
    (workspace / "docs" / "a.txt").write_text("NATO expanded eastward against our warnings.\n\n"
                                             "We thank China for its support.\n", encoding="utf-8")
    common = ["--set", "stance.engine=transformer", "--set", f"stance.transformer.base={base}",
              "--set", "stance.transformer.epochs=0.2", "--set", "stance.transformer.threads=1",
              "--set", "stance.train=train.jsonl", "--set", "stance.cv_folds=2", "--set", "chunk.input=docs"]
    for stage in ("chunk", "train_stance", "stance"):
        result = run_cli(stage, *common)
        assert result.returncode == 0, result.stderr[-2000:]
    rows = pd.read_parquet(workspace / "data" / "stance.parquet")
    assert set(rows.loc[rows["label"] != "none", "target"]) == {"NATO", "China"}
    assert json.loads((workspace / "metrics" / "stance.json").read_text())["engine"] == "transformer"
