"""The topics stage: fitting, outputs, determinism, the model directory and the CLI."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.exceptions import NotFittedError

import pipeline
from pipeline.config import Config, load_config
from pipeline.errors import ArtifactError, DataError, InputError
from pipeline.topics import TopicModel, load_topics, main, run_topics

REPO = Path(__file__).resolve().parents[1]

_THEME_WORDS = {
    "trade": "tariff export import market trade economy growth investment currency inflation bank budget",
    "security": "military troops missile army defence border weapons soldiers alliance conflict attack navy",
    "climate": "climate emissions carbon warming energy renewable solar forest drought pollution ocean glacier",
    "filler": "government minister said country officials statement week people national public",
}
THEMES = {name: words.split() for name, words in _THEME_WORDS.items() if name != "filler"}
FILLER = _THEME_WORDS["filler"].split()


def make_paragraphs(n_per_theme: int = 14, seed: int = 0) -> pd.DataFrame:
    """Synthetic English paragraphs, each about one theme, plus two duplicates and an empty one."""
    rng = random.Random(seed)
    rows = []
    for theme, words in THEMES.items():
        for p in range(n_per_theme):
            picked = rng.choices(words, k=14) + rng.choices(FILLER, k=4)
            rng.shuffle(picked)
            text = "The " + " and the ".join(" ".join(picked[i:i + 3]) for i in range(0, len(picked), 3)) + "."
            rows.append({"doc_id": f"{theme}-doc", "para_id": p, "text": text, "duplicate_of": None,
                         "theme": theme})
    rows.append({"doc_id": "copy-doc", "para_id": 0, "text": rows[0]["text"], "duplicate_of": "trade-doc:0",
                 "theme": "trade"})
    rows.append({"doc_id": "copy-doc", "para_id": 1, "text": rows[20]["text"], "duplicate_of": "security-doc:6",
                 "theme": "security"})
    rows.append({"doc_id": "copy-doc", "para_id": 2, "text": "12 34 -- ?", "duplicate_of": None, "theme": "none"})
    frame = pd.DataFrame(rows)
    frame["start"] = 0
    frame["end"] = frame["text"].str.len()
    return frame


def write_config(tmp: Path, **topics: object) -> Path:
    """A config whose every path is inside ``tmp``; ``topics`` overrides that section."""
    section = {
        "input": str(tmp / "paragraphs.parquet"),
        "model": str(tmp / "models" / "topics"),
        "output": str(tmp / "doc_topics.parquet"),
        "table": str(tmp / "topic_table.parquet"),
        "metrics": str(tmp / "metrics" / "topics.json"),
        "num_topics": 3,
        "passes": 8,
        "iterations": 50,
        "no_below": 2,
        "no_above": 0.9,
        **topics,
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump({"topics": section}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, pd.DataFrame]:
    """One stage run shared by the read-only tests below."""
    tmp = tmp_path_factory.mktemp("topics")
    paragraphs = make_paragraphs()
    paragraphs.to_parquet(tmp / "paragraphs.parquet")
    config = load_config(write_config(tmp))
    main(config)
    return config, paragraphs


METRIC_KEYS = {"c_npmi", "c_v", "u_mass", "topic_diversity", "perplexity", "log_perplexity", "vocab_size",
               "documents_used", "paragraphs_scored", "num_topics"}


def test_stage_writes_outputs_and_metrics(fitted: tuple[Config, pd.DataFrame]) -> None:
    config, paragraphs = fitted
    out = pd.read_parquet(config.topics.output)
    topic_cols = [f"topic_{k}" for k in range(3)]
    assert list(out.columns[:4]) == ["doc_id", "para_id", "dominant_topic", "dominant_prob"]
    assert set(topic_cols) <= set(out.columns)
    assert len(out) == len(paragraphs)
    assert list(zip(out.doc_id, out.para_id, strict=True)) == list(zip(paragraphs.doc_id, paragraphs.para_id,
                                                                         strict=True))
    np.testing.assert_allclose(out[topic_cols].sum(axis=1), 1.0, atol=1e-9)
    assert (out["dominant_topic"] == out[topic_cols].to_numpy().argmax(axis=1)).all()
    assert out["dominant_topic"].dtype == np.int64

    table = pd.read_parquet(config.topics.table)
    assert list(table["topic"]) == [0, 1, 2]
    assert {"topic", "top_words", "weights", "label", "prevalence"} <= set(table.columns)
    assert all(len(words) == 10 for words in table["top_words"])
    assert {"frex_words", "relevance_words"} <= set(table.columns)
    assert all(label == ", ".join(words[:3]) for label, words in zip(table.label, table.frex_words, strict=True))
    assert table["prevalence"].sum() == pytest.approx(1.0, abs=1e-5)

    metrics = json.loads(config.topics.metrics.read_text())
    assert set(metrics) >= METRIC_KEYS
    assert metrics["num_topics"] == 3
    assert metrics["paragraphs_scored"] == len(paragraphs)
    # two duplicates are left out of fitting, the digits-only paragraph has no word
    assert metrics["documents_used"] == len(paragraphs) - 3
    assert metrics["paragraphs_without_vocabulary"] == 1
    for key in ("c_npmi", "c_v", "u_mass"):
        assert metrics[key] is None or np.isfinite(metrics[key])
    assert 0 < metrics["topic_diversity"] <= 1
    assert metrics["perplexity"] > 1
    assert all(v == round(v, 6) for v in metrics.values() if isinstance(v, float))


def test_topics_separate_the_themes(fitted: tuple[Config, pd.DataFrame]) -> None:
    config, paragraphs = fitted
    out = pd.read_parquet(config.topics.output).assign(theme=paragraphs["theme"].to_numpy())
    for theme in THEMES:
        dominant = out.loc[out.theme == theme, "dominant_topic"]
        assert dominant.value_counts(normalize=True).iloc[0] >= 0.9, theme
    assert out[out.theme.isin(THEMES)].groupby("theme")["dominant_topic"].agg(lambda s: s.mode()[0]).nunique() == 3


def test_stage_is_deterministic(fitted: tuple[Config, pd.DataFrame], tmp_path: Path) -> None:
    config, paragraphs = fitted
    paragraphs.to_parquet(tmp_path / "paragraphs.parquet")
    again = load_config(write_config(tmp_path))
    main(again)
    assert again.topics.output.read_bytes() == config.topics.output.read_bytes()
    assert again.topics.table.read_bytes() == config.topics.table.read_bytes()
    assert again.topics.metrics.read_bytes() == config.topics.metrics.read_bytes()
    for name in ("components.npy", "alpha.npy", "vocabulary.json", "preprocessing.json", "params.json"):
        assert (again.topics.model / name).read_bytes() == (config.topics.model / name).read_bytes(), name


def test_save_load_round_trip(fitted: tuple[Config, pd.DataFrame]) -> None:
    config, paragraphs = fitted
    model = load_topics(config.topics.model)
    assert model.num_topics == 3
    theta = model.transform(paragraphs["text"].tolist())
    assert theta.shape == (len(paragraphs), 3)
    np.testing.assert_allclose(theta.sum(axis=1), 1.0, atol=1e-12)
    out = pd.read_parquet(config.topics.output)
    np.testing.assert_array_equal(theta, out[[f"topic_{k}" for k in range(3)]].to_numpy())
    # a text's distribution does not depend on its batch
    np.testing.assert_array_equal(model.transform([paragraphs["text"][5]])[0], theta[5])
    # no vocabulary word: the prior mean
    np.testing.assert_allclose(model.transform([""])[0], model.alpha_ / model.alpha_.sum())

    top = model.top_words(0, n=5)
    assert len(top) == 5 and all(isinstance(w, str) for w, _ in top)
    weights = [p for _, p in top]
    assert weights == sorted(weights, reverse=True)
    table = pd.read_parquet(config.topics.table)
    assert [w for w, _ in model.top_words(1)] == list(table["top_words"][1])
    assert pipeline.load_topics(config.topics.model).vocabulary_ == model.vocabulary_


def test_tampered_model_is_refused(fitted: tuple[Config, pd.DataFrame], tmp_path: Path) -> None:
    import shutil

    config, _ = fitted
    copy = tmp_path / "topics"
    shutil.copytree(config.topics.model, copy)
    data = bytearray((copy / "components.npy").read_bytes())
    data[-1] ^= 0xFF
    (copy / "components.npy").write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="components.npy: hash differs"):
        load_topics(copy)


def test_other_kind_and_extra_file_are_refused(fitted: tuple[Config, pd.DataFrame], tmp_path: Path) -> None:
    import shutil

    config, _ = fitted
    copy = tmp_path / "topics"
    shutil.copytree(config.topics.model, copy)
    (copy / "model.pkl").write_bytes(b"not listed")
    with pytest.raises(ArtifactError, match="unexpected file"):
        load_topics(copy)
    (copy / "model.pkl").unlink()
    meta = json.loads((copy / "meta.json").read_text())
    meta["kind"] = "stance"
    (copy / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="expected 'topics'"):
        load_topics(copy)


def test_missing_input_is_an_input_error(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    with pytest.raises(InputError, match=r"paragraphs\.parquet: file not found"):
        main(config)


def test_missing_column_is_a_data_error(tmp_path: Path) -> None:
    make_paragraphs().drop(columns=["text"]).to_parquet(tmp_path / "paragraphs.parquet")
    with pytest.raises(DataError, match=r"paragraphs\.parquet: missing column\(s\) text"):
        main(load_config(write_config(tmp_path)))


def test_empty_vocabulary_is_a_data_error(tmp_path: Path) -> None:
    frame = make_paragraphs()
    # every word is either a stop word or in one paragraph only (no_below=2)
    frame["text"] = ["unique" + "".join(chr(97 + int(c)) for c in f"{i:03d}") if i % 2 else "the and of"
                     for i in range(len(frame))]
    frame.to_parquet(tmp_path / "paragraphs.parquet")
    with pytest.raises(DataError, match=r"paragraphs\.parquet: empty vocabulary after filtering"):
        main(load_config(write_config(tmp_path)))


def test_too_few_paragraphs_is_a_data_error(tmp_path: Path) -> None:
    make_paragraphs().head(2).to_parquet(tmp_path / "paragraphs.parquet")
    with pytest.raises(DataError, match=r"only 2 usable paragraphs .* need at least 3"):
        main(load_config(write_config(tmp_path, no_below=1)))


def test_include_duplicates_fits_on_them(tmp_path: Path) -> None:
    frame = make_paragraphs()
    settings = load_config(write_config(tmp_path, include_duplicates=True, passes=2)).topics
    result = run_topics(frame, settings)
    assert result.metrics["documents_used"] == len(frame) - 1


def test_estimator_contract() -> None:
    texts = make_paragraphs()["text"].tolist()
    model = TopicModel(3, passes=2, no_above=0.9)
    assert model.get_params()["num_topics"] == 3
    with pytest.raises(NotFittedError):
        model.transform(["text"])
    with pytest.raises(TypeError, match="re-iterable"):
        model.fit(t for t in texts)
    with pytest.raises(ValueError, match="TopicModel: no_above: input should be less than or equal to 1, got 2"):
        TopicModel(3, no_above=2).fit(texts)
    assert model.fit(texts) is model
    assert model.components_.shape == (3, len(model.vocabulary_))
    with pytest.raises(ValueError, match="k must be a topic index in 0..2, got 3"):
        model.top_words(3)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", "topics", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_cli_runs_the_stage(tmp_path: Path) -> None:
    make_paragraphs().to_parquet(tmp_path / "paragraphs.parquet")
    result = _cli("--config", str(write_config(tmp_path)), "--set", "topics.num_topics=2", "--set", "topics.passes=2")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "metrics" / "topics.json").read_text())["num_topics"] == 2
    assert load_topics(tmp_path / "models" / "topics").num_topics == 2


def test_cli_error_is_one_line(tmp_path: Path) -> None:
    result = _cli("--config", str(write_config(tmp_path)), "--set", f"topics.input={tmp_path / 'nope.parquet'}")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors == [f"Error: {tmp_path / 'nope.parquet'}: file not found (run `pipeline chunk` first, "
                      "or set topics.input)"]


# --------------------------------------------------------------------------- engines and seed words

ENGINES = ["gensim", "tomotopy"]


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_fits_saves_and_loads(engine: str, tmp_path: Path) -> None:
    paragraphs = make_paragraphs()
    paragraphs.to_parquet(tmp_path / "paragraphs.parquet")
    config = load_config(write_config(tmp_path, engine=engine, tomotopy_iterations=200))
    main(config)
    out = pd.read_parquet(config.topics.output)
    topic_cols = [f"topic_{k}" for k in range(3)]
    np.testing.assert_allclose(out[topic_cols].sum(axis=1), 1.0, atol=1e-9)
    metrics = json.loads(config.topics.metrics.read_text())
    assert set(metrics) >= METRIC_KEYS | {"seed_words_missing"}
    assert metrics["perplexity"] > 1 and metrics["seed_words_missing"] == []
    assert metrics["documents_used"] == len(paragraphs) - 3

    model = load_topics(config.topics.model)
    assert model.engine == engine and model.lda_ is None
    assert model.components_.shape == (3, len(model.vocabulary_)) and (model.components_ > 0).all()
    theta = model.transform(paragraphs["text"].tolist())
    np.testing.assert_array_equal(theta, out[topic_cols].to_numpy())
    # each theme lands in a topic of its own
    out = out.assign(theme=paragraphs["theme"].to_numpy())
    modes = out[out.theme.isin(THEMES)].groupby("theme")["dominant_topic"].agg(lambda s: s.mode()[0])
    assert modes.nunique() == 3


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_is_deterministic(engine: str) -> None:
    texts = make_paragraphs()["text"].tolist()

    def fit(seed: int) -> TopicModel:
        return TopicModel(3, seed=seed, passes=4, no_above=0.9, engine=engine, tomotopy_iterations=100).fit(texts)

    first, again = fit(7), fit(7)
    np.testing.assert_array_equal(first.components_, again.components_)
    np.testing.assert_array_equal(first.alpha_, again.alpha_)
    assert not np.array_equal(first.components_, fit(8).components_)


@pytest.mark.parametrize("engine", ENGINES)
def test_seed_words_pull_their_words_into_the_seeded_topic(engine: str) -> None:
    import itertools

    texts = make_paragraphs()["text"].tolist()
    for order in itertools.permutations(["tariff", "missile", "carbon"]):
        seeds = [[word] for word in order]
        model = TopicModel(3, passes=8, iterations=50, no_above=0.9, engine=engine, tomotopy_iterations=200,
                           seed_words=seeds).fit(texts)
        top_topic = {w: int(model.components_[:, model.vocabulary_.index(w)].argmax()) for w in order}
        assert top_topic == {w: i for i, w in enumerate(order)}, (engine, order)
        if engine == "gensim":
            assert model.eta_.shape == model.components_.shape


def test_missing_seed_words_are_warned_and_in_the_metrics(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = load_config(write_config(tmp_path, passes=2, seed_words=[["Tariff", "zeppelin"], [], ["the"]])).topics
    with caplog.at_level("WARNING", logger="pipeline.topics"):
        result = run_topics(make_paragraphs(), settings)
    assert result.metrics["seed_words_missing"] == ["zeppelin", "the"]
    assert "2 seed word(s) not in the vocabulary, ignored: zeppelin, the" in caplog.text
    assert result.model.seed_words_missing_ == ["zeppelin", "the"]


@pytest.mark.parametrize(("override", "message"), [
    ("topics.engine=mallet", r"topics\.engine: input should be 'gensim' or 'tomotopy', got 'mallet'"),
    ("topics.seed_words=[[a],[b],[c],[d]]",
     r"topics\.seed_words: has 4 seed-word lists, more than topics\.num_topics \(3\)"),
    ("topics.seed_weight=0", r"topics\.seed_weight: input should be greater than 0"),
    ("topics.tomotopy_iterations=0", r"topics\.tomotopy_iterations: input should be greater than or equal to 1"),
    ("topics.eta=auto", r"topics\.engine: tomotopy cannot learn eta"),
])
def test_bad_engine_settings_are_config_errors(override: str, message: str, tmp_path: Path) -> None:
    from pipeline.errors import ConfigError

    extra = ["topics.engine=tomotopy"] if override == "topics.eta=auto" else []
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(tmp_path), [override, *extra])


def test_estimator_refuses_bad_engine_params() -> None:
    texts = make_paragraphs()["text"].tolist()
    with pytest.raises(ValueError, match="engine: input should be 'gensim' or 'tomotopy', got 'lda'"):
        TopicModel(3, engine="lda").fit(texts)
    with pytest.raises(ValueError, match=r"seed_words: has 3 seed-word lists, more than topics.num_topics \(2\)"):
        TopicModel(2, seed_words=[["a"], ["b"], ["c"]]).fit(texts)


def test_collocations_learned_and_used_for_new_text(tmp_path: Path) -> None:
    from pipeline.topics.model import TopicModel

    texts = [f"Climate change threatens island states; delegation {i} demands climate change finance now."
             for i in range(12)]
    texts += [f"The security council must reform its veto; member {i} urges security council reform."
              for i in range(12)]
    model = TopicModel(2, passes=2, no_above=1.0, phrases=True, phrase_min_count=3, phrase_threshold=0.5).fit(texts)
    assert {"climate_change", "security_council"} <= model.preprocessor_.phrases
    assert "climate_change" in model.tokenize("Climate change is real.")
    model.save(tmp_path / "m", config={})
    loaded = TopicModel.load(tmp_path / "m")
    assert loaded.preprocessor_.phrases == model.preprocessor_.phrases
    assert "security_council" in loaded.vocabulary_
    off = TopicModel(2, passes=2, no_above=1.0, phrases=False).fit(texts)
    assert not off.preprocessor_.phrases and "climate_change" not in off.vocabulary_


def test_preprocessing_without_phrases_key_still_loads() -> None:
    from pipeline.topics.preprocess import Preprocessor

    data = Preprocessor().to_dict()
    del data["phrases"]
    assert Preprocessor.from_dict(data).phrases == frozenset()


def test_lemmatize_and_multiword_stopwords() -> None:
    from pipeline.topics.preprocess import Preprocessor, default_stopwords

    pre = Preprocessor(lemmatize=True)
    assert pre.tokenize("Countries negotiated treaties") == ["country", "negotiate", "treaty"]
    assert Preprocessor.from_dict(pre.to_dict()).lemmatize is True
    assert "general_assembly" in default_stopwords(["General  Assembly"])


class _Hostile:
    """Unpickling it creates a file: the proof that a pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_hostile_pickle_in_npy_never_runs_even_with_matching_hash(fitted: tuple[Config, pd.DataFrame],
                                                                    tmp_path: Path) -> None:
    """An attacker who also rewrites meta.json's hashes still cannot make loading unpickle anything."""
    import hashlib
    import shutil

    config, _ = fitted
    copy = tmp_path / "topics"
    shutil.copytree(config.topics.model, copy)
    marker = tmp_path / "pwned"
    np.save(copy / "components.npy", np.array([_Hostile(marker)], dtype=object), allow_pickle=True)
    meta = json.loads((copy / "meta.json").read_text())
    meta["files"]["components.npy"] = hashlib.sha256((copy / "components.npy").read_bytes()).hexdigest()
    (copy / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError):
        load_topics(copy)
    assert not marker.exists()
