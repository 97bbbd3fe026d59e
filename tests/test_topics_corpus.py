"""The streaming topic corpus, batch-wise Parquet I/O, and a bad value for every ``topics`` key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from gensim.corpora import Dictionary

from pipeline.config import TopicsConfig, load_config
from pipeline.errors import ConfigError
from pipeline.io import ParquetBatchWriter
from pipeline.topics import TopicModel, run_topics
from pipeline.topics.corpus import BowCorpus, ParagraphSource, TokenCorpus
from tests.test_topics import make_paragraphs

REPO = Path(__file__).resolve().parents[1]

TOKENS = [["nato", "summit", "nato"], ["china", "trade"], ["summit", "trade", "port"], ["unseen", "china"]]
FIT = [True, True, True, False]


@pytest.mark.parametrize("on_disk", [False, True])
def test_token_corpus_keeps_order_and_is_re_iterable(on_disk: bool, tmp_path: Path) -> None:
    corpus = TokenCorpus.from_token_lists(TOKENS, FIT, directory=tmp_path if on_disk else None)
    assert len(corpus) == 4
    assert [corpus.tokens(i) for i in range(4)] == TOKENS
    bows = BowCorpus(corpus, np.arange(len(corpus.dictionary), dtype=np.int32), np.arange(4))
    first, second = list(bows), list(bows)
    assert first == second and len(bows) == 4
    assert first[0] == [(corpus.dictionary.token2id["nato"], 2), (corpus.dictionary.token2id["summit"], 1)]
    if on_disk:
        assert (tmp_path / "token_ids.i4").stat().st_size == 4 * sum(map(len, TOKENS))


def test_words_of_non_fitting_paragraphs_never_enter_the_vocabulary() -> None:
    corpus = TokenCorpus.from_token_lists(TOKENS, FIT)
    assert corpus.dictionary.dfs.get(corpus.dictionary.token2id["unseen"], 0) == 0
    vocabulary, mapping = corpus.filtered(no_below=1, no_above=1.0, keep_n=100)
    expected = Dictionary([t for t, f in zip(TOKENS, FIT, strict=True) if f])
    assert vocabulary.token2id == expected.token2id
    assert mapping[corpus.dictionary.token2id["unseen"]] == -1


def test_transform_ids_equals_transform() -> None:
    frame = make_paragraphs()
    model = TopicModel(3, no_above=0.9, tomotopy_iterations=50).fit(frame["text"].tolist())
    texts = frame["text"].tolist()[:12] + ["", "climate climate ocean"]
    tokens = [model.tokenize(t) for t in texts]
    index = {w: i for i, w in enumerate(model.vocabulary_)}
    ids = np.array([index.get(t, -1) for ts in tokens for t in ts], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in tokens])])
    assert np.array_equal(model.transform_ids(ids, offsets), model.transform(texts))


@pytest.mark.parametrize("engine", ["tomotopy", "gensim"])
def test_parquet_batches_give_the_same_result_as_a_frame(engine: str, tmp_path: Path) -> None:
    frame = make_paragraphs()
    frame.to_parquet(tmp_path / "p.parquet")
    settings = TopicsConfig(num_topics=3, no_above=0.9, passes=4, tomotopy_iterations=60, engine=engine)
    whole = run_topics(frame, settings)
    with ParquetBatchWriter(tmp_path / "dt.parquet") as sink:
        streamed = run_topics(ParagraphSource(tmp_path / "p.parquet", batch_size=5), settings, sink=sink,
                              workdir=tmp_path)
    assert streamed.doc_topics is None
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dt.parquet"), whole.doc_topics)
    assert streamed.metrics == whole.metrics
    pd.testing.assert_frame_equal(streamed.table, whole.table)
    assert np.array_equal(streamed.model.components_, whole.model.components_)


def test_batch_writer_is_atomic(tmp_path: Path) -> None:
    out = tmp_path / "t.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(out)
    with pytest.raises(RuntimeError), ParquetBatchWriter(out) as sink:
        sink.write(pd.DataFrame({"a": [2, 3]}))
        raise RuntimeError("killed half-way")
    assert pd.read_parquet(out)["a"].tolist() == [1]  # the previous output is intact
    with pytest.raises(ValueError, match="no rows"), ParquetBatchWriter(tmp_path / "empty.parquet"):
        pass
    assert not (tmp_path / "empty.parquet").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.parquet"]  # no temporary file left
    with ParquetBatchWriter(out) as sink:
        sink.write(pd.DataFrame({"a": [4]}))
        sink.write(pd.DataFrame({"a": [5, 6]}))
    assert pd.read_parquet(out)["a"].tolist() == [4, 5, 6] and sink.rows == 3


#: a wrong value for every key of the ``topics`` section, and words its error must contain
BAD_TOPICS_VALUES: dict[str, tuple[str, str]] = {
    "input": ("[1, 2]", "valid path"),
    "model": ("{a: 1}", "valid path"),
    "output": ("[x]", "valid path"),
    "table": ("[x]", "valid path"),
    "metrics": ("[x]", "valid path"),
    "num_topics": ("1", "greater than or equal to 2"),
    "seed": ("-1", "greater than or equal to 0"),
    "passes": ("0", "greater than or equal to 1"),
    "iterations": ("many", "valid integer"),
    "alpha": ("-0.5", "numeric prior must be > 0"),
    "eta": ("asymmetric", "eta"),
    "no_below": ("0", "greater than or equal to 1"),
    "no_above": ("1.5", "less than or equal to 1"),
    "keep_n": ("5", "greater than or equal to 10"),
    "min_token_chars": ("0", "greater than or equal to 1"),
    "max_token_chars": ("500", "less than or equal to 100"),
    "stopwords_extra": ("session", "valid list"),
    "include_duplicates": ("maybe", "valid boolean"),
    "top_n": ("0", "greater than or equal to 1"),
    "chunksize": ("0", "greater than or equal to 1"),
    "metrics_sample": ("5", "greater than or equal to 10"),
    "engine": ("mallet", "gensim"),
    "tomotopy_iterations": ("0", "greater than or equal to 1"),
    "tomotopy_workers": ("-1", "greater than or equal to 0"),
    "gensim_workers": ("0", "greater than or equal to 1"),
    "seed_words": ("[sanctions]", "valid list"),
    "seed_weight": ("0", "greater than 0"),
    "phrases": ("often", "valid boolean"),
    "lemmatize": ("2", "valid boolean"),
    "phrase_min_count": ("0", "greater than or equal to 1"),
    "phrase_threshold": ("2", "less than or equal to 1"),
    "fit_sample": ("5", "greater than or equal to 10"),
    "label_ranking": ("tfidf", "frex"),
    "label_words": ("0", "greater than or equal to 1"),
    "frex_weight": ("1.0", "less than 1"),
    "relevance_lambda": ("-0.1", "greater than or equal to 0"),
    "exclude_procedural": ("sometimes", "valid boolean"),
    "procedural_patterns": ("['(']", "invalid regular expression"),
    "procedural_share": ("0", "greater than 0"),
    "corpus_stopwords": ("often", "valid boolean"),
    "corpus_stopwords_min_df": ("0", "greater than 0"),
    "corpus_stopwords_min_entropy": ("2", "less than or equal to 1"),
    "corpus_stopwords_max": ("0", "greater than or equal to 1"),
}


def test_every_topics_key_has_a_bad_value_case() -> None:
    assert set(BAD_TOPICS_VALUES) == set(TopicsConfig.model_fields)


@pytest.mark.parametrize("key", sorted(BAD_TOPICS_VALUES))
def test_bad_value_of_each_topics_key_is_one_clear_error(key: str) -> None:
    value, words = BAD_TOPICS_VALUES[key]
    with pytest.raises(ConfigError) as info:
        load_config(REPO / "configs" / "default.yaml", [f"topics.{key}={value}"])
    message = str(info.value)
    assert f"topics.{key}" in message and words in message and "\n" not in message, message


def test_gensim_multicore_fits_and_refuses_learned_priors() -> None:
    frame = make_paragraphs()
    model = TopicModel(3, engine="gensim", gensim_workers=2, alpha="symmetric", no_above=0.9, passes=4)
    theta = model.fit(frame["text"].tolist()).transform(["climate carbon emissions", "troops missile army"])
    assert theta.shape == (2, 3) and np.allclose(theta.sum(axis=1), 1)
    with pytest.raises(ConfigError, match="topics.gensim_workers: .*LdaMulticore"):
        load_config(REPO / "configs" / "default.yaml", ["topics.engine=gensim", "topics.gensim_workers=2"])
