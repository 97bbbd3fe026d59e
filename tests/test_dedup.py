"""Near-duplicate detection: exact and MinHash-LSH paths agree, and results are stable."""

import numpy as np

from pipeline.chunk import dedup
from pipeline.config import DedupConfig
from tests.test_chunk_segment import PARAS

VARIANTS = [
    p.replace("the", "this").replace("and", "as well as") for p in PARAS
]


def corpus():
    texts = PARAS + VARIANTS + [p[::-1] for p in PARAS]
    groups = ["a"] * 4 + ["b"] * 4 + ["c"] * 4
    return texts, groups


def test_lsh_path_matches_exact_path(monkeypatch):
    texts, groups = corpus()
    cfg = DedupConfig()
    exact = dedup.find_near_duplicates(texts, groups, cfg)
    monkeypatch.setattr(dedup, "EXACT_MAX", 0)
    approx = dedup.find_near_duplicates(texts, groups, cfg)
    assert list(exact[4:8]) == [0, 1, 2, 3]
    assert (exact[:4] == -1).all() and (exact[8:] == -1).all()
    np.testing.assert_array_equal(exact, approx)


def test_same_document_and_short_paragraphs_never_flagged():
    texts, _ = corpus()
    assert (dedup.find_near_duplicates(texts, ["one"] * len(texts), DedupConfig()) == -1).all()
    assert (dedup.find_near_duplicates(["War is bad.", "War is bad."], ["a", "b"], DedupConfig()) == -1).all()


def test_disabled():
    texts, groups = corpus()
    assert (dedup.find_near_duplicates(texts, groups, DedupConfig(enabled=False)) == -1).all()
