"""Issue 17: distinctive topic labels (FREX, relevance), procedural paragraphs and corpus stop words."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pipeline
from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.topics import labels, main, run_topics
from pipeline.topics.procedural import PROCEDURAL_PATTERNS, ProceduralFilter
from pipeline.topics.stopwords import topic_entropy
from tests.test_topics import FILLER, THEMES, make_paragraphs, write_config

# three topics over five words: "common" is likely everywhere, each other word belongs to one topic
VOCAB = ["common", "tariff", "missile", "carbon", "rare"]
PHI = np.array([
    [0.40, 0.35, 0.05, 0.05, 0.15],
    [0.40, 0.05, 0.40, 0.05, 0.10],
    [0.40, 0.05, 0.05, 0.45, 0.05],
])


def test_frex_puts_exclusive_words_before_shared_ones() -> None:
    by_prob = labels.ranked(labels.ranking_scores(PHI, "probability"), 2)
    by_frex = labels.ranked(labels.ranking_scores(PHI, "frex"), 2)
    assert [VOCAB[i] for i in by_prob[0]] == ["common", "tariff"]
    # topic 0: exclusivity ECDF of common/rare 0.6/0.8, frequency ECDF 1.0/0.6 -> FREX 0.75/0.686
    assert [VOCAB[i] for i in by_frex[0]] == ["tariff", "common"]
    assert [VOCAB[row[0]] for row in by_frex] == ["tariff", "missile", "carbon"]
    # more weight on frequency brings the shared word back up
    assert VOCAB[labels.ranked(labels.frex(PHI, weight=0.05), 1)[0, 0]] == "common"
    with pytest.raises(ValueError, match="weight"):
        labels.frex(PHI, weight=1.0)


def test_relevance_spans_probability_to_lift() -> None:
    share = PHI.mean(axis=0)
    prob = labels.ranked(PHI, 5)
    assert (labels.ranked(labels.relevance(PHI, share, 1.0), 5) == prob).all()
    lift = labels.ranked(PHI / share, 5)
    assert (labels.ranked(labels.relevance(PHI, share, 0.0), 5) == lift).all()
    assert VOCAB[labels.ranked(labels.relevance(PHI, share, 0.6), 1)[0, 0]] == "tariff"
    with pytest.raises(ValueError, match="lambda"):
        labels.relevance(PHI, share, 1.5)
    with pytest.raises(ValueError, match="ranking"):
        labels.ranking_scores(PHI, "tfidf")


def test_label_measures() -> None:
    assert labels.distinct_label_share([["a", "b"], ["c", "d"], ["b", "e"]]) == pytest.approx(1 / 3)
    assert labels.distinct_label_share([["a"], ["b"]]) == 1.0
    ex = labels.exclusivity(PHI)
    np.testing.assert_allclose(ex.sum(axis=0), 1.0)
    assert labels.mean_exclusivity(PHI, np.array([[0], [0], [0]])) == pytest.approx(1 / 3)
    assert labels.mean_exclusivity(PHI, np.array([[1], [2], [3]])) > 0.7


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("labels")
    make_paragraphs().to_parquet(tmp / "paragraphs.parquet")
    config = load_config(write_config(tmp, label_ranking="relevance", relevance_lambda=0.4, label_words=2))
    main(config)
    return config


def test_table_metrics_and_api_share_the_configured_labels(staged) -> None:
    table = pd.read_parquet(staged.topics.table)
    model = pipeline.load_topics(staged.topics.model)
    relevance = model.ranked_words(10, "relevance", relevance_lambda=0.4)
    assert [list(w) for w in table["relevance_words"]] == relevance
    assert [list(w) for w in table["frex_words"]] == model.ranked_words(10, "frex")
    assert table["label"].tolist() == [", ".join(words[:2]) for words in relevance]
    bundle = pipeline.load(Path(staged.topics.model).parent)
    assert bundle.topic_labels == table["label"].tolist()
    metrics = json.loads(staged.topics.metrics.read_text())
    assert metrics["label_ranking"] == "relevance"
    assert set(metrics["labels_by_ranking"]) == {"probability", "frex", "relevance"}
    assert metrics["label_distinct_share"] == metrics["labels_by_ranking"]["relevance"]["distinct_share"]
    # the filler words every theme shares lead no distinctive label
    assert not any(w in FILLER for label in table["label"] for w in label.split(", "))
    by = metrics["labels_by_ranking"]
    assert by["frex"]["exclusivity_top10"] >= by["probability"]["exclusivity_top10"]


PURE = ("I congratulate you, Mr. President, on your election to preside over the General Assembly at its "
        "seventieth session. I also thank your predecessor for his skilful leadership.")
MIXED = ("Let me congratulate you on your election. The war in our region has driven two million people from "
         "their homes, destroyed schools and hospitals, and the ceasefire agreed in June has been broken every "
         "week since; we call on the Security Council to send monitors and to hold those responsible to account.")
SUBSTANCE = "We thank the donors who funded the new water plant, which now serves a million people in the north."


def test_procedural_filter_needs_most_of_the_paragraph() -> None:
    found = ProceduralFilter(PROCEDURAL_PATTERNS, 0.5)
    assert found(PURE)
    assert not found(MIXED)
    assert not found(SUBSTANCE)
    assert ProceduralFilter(PROCEDURAL_PATTERNS, 0.1)(MIXED)
    assert not ProceduralFilter([], 0.5)(PURE)


def test_procedural_paragraphs_are_left_out_of_the_fit_but_scored(tmp_path: Path) -> None:
    frame = make_paragraphs()
    extra = pd.DataFrame({"doc_id": "speech", "para_id": range(4), "text": [PURE] * 4, "duplicate_of": None,
                          "theme": "protocol", "start": 0, "end": len(PURE)})
    frame = pd.concat([frame, extra], ignore_index=True)
    on = run_topics(frame, load_config(write_config(tmp_path, passes=2, exclude_procedural=True)).topics)
    off = run_topics(frame, load_config(write_config(tmp_path, passes=2)).topics)  # the default: off
    assert on.metrics["paragraphs_procedural"] == 4
    assert off.metrics["paragraphs_procedural"] is None
    assert off.metrics["documents_used"] - on.metrics["documents_used"] == 4
    assert on.metrics["paragraphs_scored"] == off.metrics["paragraphs_scored"] == len(frame)
    sampled = run_topics(frame, load_config(write_config(tmp_path, passes=2, fit_sample=1000,
                                                          exclude_procedural=True)).topics)
    assert sampled.metrics["paragraphs_procedural"] == 4
    assert sampled.metrics["documents_used"] == on.metrics["documents_used"]


@pytest.mark.parametrize("override, message", [
    ("topics.procedural_patterns=['(unclosed']", "invalid regular expression"),
    ("topics.procedural_share=0", "greater than 0"),
    ("topics.label_ranking=tfidf", "label_ranking"),
    ("topics.frex_weight=1", "less than 1"),
    ("topics.corpus_stopwords_min_entropy=1.5", "less than or equal to 1"),
])
def test_bad_label_settings_are_config_errors(override: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(tmp_path), [override])


def test_topic_entropy() -> None:
    counts = np.array([[5.0, 9.0, 1.0], [5.0, 1.0, 1.0]])
    h = topic_entropy(counts)
    assert h[0] == pytest.approx(1.0) and h[2] == pytest.approx(1.0)
    assert 0 < h[1] < 0.6


def test_corpus_stopwords_are_found_removed_and_reported(tmp_path: Path) -> None:
    frame = make_paragraphs()
    settings = load_config(write_config(tmp_path, corpus_stopwords=True, corpus_stopwords_min_entropy=0.8,
                                        no_above=1.0)).topics
    result = run_topics(frame, settings)
    removed = result.metrics["corpus_stopwords_removed"]
    theme_words = {w for words in THEMES.values() for w in words}
    assert removed and set(removed) <= set(FILLER)
    assert not set(removed) & theme_words
    assert not set(removed) & set(result.model.vocabulary_)
    assert set(removed) <= set(result.model.stopwords_extra)
    plain = run_topics(frame, settings.model_copy(update={"corpus_stopwords": False}))
    assert plain.metrics["corpus_stopwords_removed"] is None
    assert set(removed) <= set(plain.model.vocabulary_)
