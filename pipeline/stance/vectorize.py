"""A fast ``transform`` of target views for a fitted ``TfidfVectorizer`` of :class:`ContextAnalyzer`.

``TfidfVectorizer.transform`` asks the analyzer for every feature of a view as a string
(``"d:xxtarget ignored"``), looks each one up in ``vocabulary_`` and counts them, one at a time
in Python. :func:`transform_views` gives the same matrix, bit for bit, with the word n-grams
(by far most features) counted in numpy: each word of the vocabulary gets a number, an
n-gram of a block becomes one integer key, and the keys of every block of every view are
looked up at once in sorted arrays built from ``vocabulary_``. The other features (character
n-grams, lexicon cues, target features) still come from the analyzer as strings. The counts
then go through the vectorizer's own TF-IDF step, so the weighting, normalisation and the
order of every floating-point operation are scikit-learn's.

The lookup tables are derived from the fitted vectorizer, never stored in it (the saved model
does not change): they are kept in a cache that forgets a vectorizer when it is garbage
collected, and rebuilt when its ``vocabulary_`` is replaced.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

from .features import ContextAnalyzer, TargetView

#: the block prefixes of word n-grams and their code in a key
_BLOCKS = {"d:": 0, "s:": 1, "w:": 2}
#: keys are ``ngram * len(_BLOCKS) + block``, with ``ngram`` a number in base ``len(words)``; they must fit in int64
_KEY_LIMIT = 2**62


#: words outside the vocabulary remembered (as ``-1``) before :class:`_Words` forgets them again
_MISSES_KEPT = 1 << 17


class _Words(dict):  # type: ignore[type-arg]
    """Word -> number; a word outside the vocabulary is ``-1``, remembered so that the next look-up is fast."""

    def __init__(self) -> None:
        super().__init__()
        self.known = 0

    def freeze(self) -> None:
        """Call once every word of the vocabulary is in: from now on only misses are added."""
        self.known = len(self)

    def __missing__(self, key: str) -> int:
        if len(self) >= self.known + _MISSES_KEPT:
            # drop the remembered misses: the first ``known`` entries are the vocabulary (dicts keep order)
            words = list(self.items())[:self.known]
            self.clear()
            self.update(words)
        self[key] = -1
        return -1


class VocabularyTables:
    """The word n-grams of a fitted vectorizer's ``vocabulary_`` as sorted integer keys.

    Parameters
    ----------
    vectorizer : TfidfVectorizer
        Fitted, with a :class:`ContextAnalyzer` as ``analyzer``.

    Attributes
    ----------
    words : dict
        Every word of a word n-gram of the vocabulary -> its number.
    keys : dict of int -> pandas.Index
        For each n-gram length, the keys of the vocabulary's n-grams (a hash table).
    columns : dict of int -> ndarray
        Their columns, parallel to ``keys``.
    supported : bool
        False when the keys would not fit in int64 (a very long ``ngram_range``).
    """

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        self.vocabulary = vectorizer.vocabulary_
        self.ngram_range = tuple(vectorizer.analyzer.ngram_range)
        low, high = self.ngram_range
        words = _Words()
        grams: dict[int, tuple[list[int], list[int], list[int]]] = {n: ([], [], []) for n in range(low, high + 1)}
        for feature, column in self.vocabulary.items():
            block = _BLOCKS.get(feature[:2])
            if block is None:
                continue
            # a token never holds a space, so the feature's words are the tokens of its n-gram
            parts = feature[2:].split(" ")
            if len(parts) not in grams:
                continue  # never produced by the analyzer, so never counted
            ids, blocks, columns = grams[len(parts)]
            ids.extend(words.setdefault(w, len(words)) for w in parts)
            blocks.append(block)
            columns.append(column)
        words.freeze()
        self.words = words
        self.base = max(len(words), 1)
        self.supported = self.base ** high * len(_BLOCKS) < _KEY_LIMIT
        self.keys: dict[int, pd.Index] = {}
        self.columns: dict[int, np.ndarray] = {}
        if not self.supported:
            return
        for n, (ids, blocks, columns) in grams.items():
            matrix = np.asarray(ids, dtype=np.int64).reshape(-1, n)
            keys = np.asarray(blocks, dtype=np.int64)
            keys = _ngram_keys(matrix.T, self.base) * len(_BLOCKS) + keys
            self.keys[n] = pd.Index(keys)  # unique: one feature per (block, n-gram)
            self.columns[n] = np.asarray(columns, dtype=np.int64)


def _ngram_keys(parts: Sequence[np.ndarray] | np.ndarray, base: int) -> np.ndarray:
    """``sum(parts[j] * base ** (n - 1 - j))``: the number of an n-gram in base ``base``."""
    key = np.array(parts[0], dtype=np.int64)
    for part in parts[1:]:
        key *= base
        key += part
    return key


#: tables by vectorizer, with the ``vocabulary_`` they were checked against; an entry goes with its vectorizer
_TABLES: weakref.WeakKeyDictionary[Any, tuple[dict[str, int], VocabularyTables]] = weakref.WeakKeyDictionary()
#: the tables used last: a copy of the same model (unpickled in a worker for each task) reuses them
_LAST: list[VocabularyTables] = []


def tables_for(vectorizer: TfidfVectorizer) -> VocabularyTables:
    """The (cached) :class:`VocabularyTables` of ``vectorizer``."""
    vocabulary = vectorizer.vocabulary_
    entry = _TABLES.get(vectorizer)
    if entry is not None and entry[0] is vocabulary:
        tables = entry[1]
    else:
        ngram_range = tuple(vectorizer.analyzer.ngram_range)
        if _LAST and _LAST[0].ngram_range == ngram_range and _LAST[0].vocabulary == vocabulary:
            tables = _LAST[0]  # an equal vocabulary: the same tables
        else:
            tables = VocabularyTables(vectorizer)
        _TABLES[vectorizer] = (vocabulary, tables)
    _LAST[:] = [tables]
    return tables


def supports(vectorizer: Any) -> bool:
    """Whether :func:`transform_views` handles ``vectorizer`` (else use its ``transform``)."""
    return (type(vectorizer) is TfidfVectorizer and isinstance(vectorizer.analyzer, ContextAnalyzer)
            and not vectorizer.binary and hasattr(vectorizer, "vocabulary_")
            and (hasattr(vectorizer, "idf_") or not vectorizer.use_idf)
            and tables_for(vectorizer).supported)


def transform_views(vectorizer: TfidfVectorizer, views: Sequence[TargetView]) -> Any:
    """``vectorizer.transform(views)``, the same matrix bit for bit, faster.

    Parameters
    ----------
    vectorizer : TfidfVectorizer
        Fitted, with a :class:`ContextAnalyzer` analyzer (see :func:`supports`).
    views : sequence of TargetView

    Returns
    -------
    sparse matrix of shape (len(views), len(vocabulary_))
    """
    if not supports(vectorizer):
        return vectorizer.transform(views)
    analyzer: ContextAnalyzer = vectorizer.analyzer
    tables = tables_for(vectorizer)
    vocabulary = tables.vocabulary
    word_of = tables.words.__getitem__
    tokens: list[str] = []
    lengths: list[int] = []
    blocks: list[int] = []
    rows: list[int] = []
    other_rows: list[int] = []
    other_columns: list[int] = []
    for row, view in enumerate(views):
        for prefix, block_tokens in analyzer.word_blocks(view):
            tokens.extend(block_tokens)
            lengths.append(len(block_tokens))
            blocks.append(_BLOCKS[prefix])
            rows.append(row)
        extra: list[str] = []
        analyzer.other_features(view, extra)
        for feature in extra:
            column = vocabulary.get(feature)
            if column is not None:
                other_rows.append(row)
                other_columns.append(column)

    ids = np.fromiter(map(word_of, tokens), dtype=np.int64, count=len(tokens))
    length = np.asarray(lengths, dtype=np.int64)
    # for every token: its block, its row, and how many tokens of its block start at it
    token_block = np.repeat(np.asarray(blocks, dtype=np.int64), length)
    token_row = np.repeat(np.asarray(rows, dtype=np.int64), length)
    left = np.repeat(np.cumsum(length), length) - np.arange(len(ids), dtype=np.int64)
    found_rows = [np.asarray(other_rows, dtype=np.int64)]
    found_columns = [np.asarray(other_columns, dtype=np.int64)]
    known = ids >= 0
    for n, table_keys in tables.keys.items():
        m = len(ids) - n + 1
        if m <= 0 or not len(table_keys):
            continue
        valid = left[:m] >= n
        for j in range(n):
            valid &= known[j:j + m]
        where = np.flatnonzero(valid)
        keys = _ngram_keys([ids[where + j] for j in range(n)], tables.base) * len(_BLOCKS) + token_block[where]
        at = table_keys.get_indexer(keys)
        hit = at >= 0
        found_rows.append(token_row[where[hit]])
        found_columns.append(tables.columns[n][at[hit]])

    row_index = np.concatenate(found_rows)
    column_index = np.concatenate(found_columns)
    # counts per (row, column), columns sorted within each row: what CountVectorizer builds
    counts = sp.csr_array((np.ones(len(row_index), dtype=vectorizer.dtype), (row_index, column_index)),
                          shape=(len(views), len(vocabulary)), dtype=vectorizer.dtype)
    counts.sum_duplicates()
    counts.sort_indices()
    if counts.indices.dtype != np.int32 and counts.nnz <= np.iinfo(np.int32).max:
        counts.indices = counts.indices.astype(np.int32)
        counts.indptr = counts.indptr.astype(np.int32)
    return _weighting(vectorizer).transform(counts, copy=False)


#: the TF-IDF weighting of each fitted vectorizer, rebuilt from its public parameters and ``idf_``
_WEIGHTINGS: weakref.WeakKeyDictionary[Any, tuple[Any, TfidfTransformer]] = weakref.WeakKeyDictionary()


def _weighting(vectorizer: TfidfVectorizer) -> TfidfTransformer:
    """A :class:`TfidfTransformer` with ``vectorizer``'s settings and ``idf_``: its ``transform`` is the
    weighting and normalisation that ``vectorizer.transform`` applies to the counts (public API only)."""
    idf = getattr(vectorizer, "idf_", None)
    cached = _WEIGHTINGS.get(vectorizer)
    if cached is not None and cached[0] is idf:
        return cached[1]
    weighting = TfidfTransformer(norm=vectorizer.norm, use_idf=vectorizer.use_idf, smooth_idf=vectorizer.smooth_idf,
                                 sublinear_tf=vectorizer.sublinear_tf)
    with np.errstate(divide="ignore"):  # fitted on an empty matrix for its shape only; idf_ is replaced below
        weighting.fit(sp.csr_array((1, len(vectorizer.vocabulary_)), dtype=vectorizer.dtype))
    if idf is not None:
        weighting.idf_ = idf  # the vectorizer's own document frequencies
    _WEIGHTINGS[vectorizer] = (idf, weighting)
    return weighting
