"""Topic prevalence by metadata columns."""

import numpy as np
import pandas as pd
import pytest

from pipeline.config import load_config
from pipeline.errors import DataError
from pipeline.io import write_parquet
from pipeline.topics.prevalence import main, prevalence_by


def tables():
    doc_topics = pd.DataFrame({
        "doc_id": ["a", "a", "b", "c"], "para_id": [0, 1, 0, 0],
        "topic_0": [1.0, 0.5, 0.0, 0.2], "topic_1": [0.0, 0.5, 1.0, 0.8],
    })
    meta = pd.DataFrame({
        "doc_id": ["a", "a", "b", "c"], "para_id": [0, 1, 0, 0], "text": ["x"] * 4,
        "year": [2013, 2013, 2015, 2015], "country": ["RUS", "RUS", "USA", "CHN"],
    })
    return doc_topics, meta


def test_mean_share_per_group():
    doc_topics, meta = tables()
    table = prevalence_by(doc_topics, meta, ["sanctions", "nato"], ["year", "country"])
    row = table[(table.column == "year") & (table.value == "2013") & (table.topic == 0)].iloc[0]
    assert row.prevalence == pytest.approx(0.75)
    assert row.paragraphs == 2 and row.label == "sanctions"
    by_year = table[table.column == "year"].groupby("value").prevalence.sum()
    np.testing.assert_allclose(by_year.to_numpy(), 1.0)
    assert set(table[table.column == "country"].value) == {"RUS", "USA", "CHN"}


def test_unknown_column_names_the_key():
    doc_topics, meta = tables()
    with pytest.raises(DataError, match="prevalence.by: no column 'region'.*available: doc_id, year, country"):
        prevalence_by(doc_topics, meta, ["a", "b"], ["region"])


def test_stage_writes_table_and_plots(workspace):
    doc_topics, meta = tables()
    write_parquet(workspace / "dt.parquet", doc_topics)
    write_parquet(workspace / "p.parquet", meta)
    write_parquet(workspace / "tt.parquet", pd.DataFrame({"topic": [0, 1], "label": ["sanctions", "nato"]}))
    config = load_config(workspace / "configs" / "default.yaml", [
        "chunk.output=p.parquet", "topics.output=dt.parquet", "topics.table=tt.parquet",
        "prevalence.by=[year, country]", "prevalence.output=out/prev.parquet", "prevalence.plots=out/plots"])
    main(config)
    assert len(pd.read_parquet(workspace / "out/prev.parquet")) == 2 * 2 + 3 * 2
    for name in ("year", "country"):
        assert (workspace / "out/plots" / f"{name}.png").read_bytes().startswith(b"\x89PNG")
