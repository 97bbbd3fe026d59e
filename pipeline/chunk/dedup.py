"""Flag near-duplicate paragraphs across documents.

Two paragraphs are near-duplicates when the Jaccard similarity of their *content-word
sets* reaches ``threshold``. Content words are lower-cased words of three or more letters
that are not English stop words, cut to their first five letters, so that spelling and
inflection variants ("defence"/"defense", "emphasise"/"emphasize") match; two English
translations of one speech share most of them (about 0.35-0.8 on the seed articles, against
about 0.1 for unrelated paragraphs).

Each paragraph gets the index of the *first* earlier paragraph of another document that
it duplicates, or ``-1``. Small corpora are compared exactly (a sparse set-intersection
product); large ones use MinHash signatures with banded locality-sensitive hashing to
find candidate pairs, which are then verified exactly, so no pair is flagged below the
threshold, and a pair above it is found with high probability (see the README).

Memory: the sets are held as compact arrays (:class:`TokenSets`: 4 bytes per distinct word
of a paragraph, ids of a vocabulary of word prefixes), built batch by batch as documents
are segmented, never as Python strings or sets of the whole corpus. MinHash signatures are
computed one band at a time, and candidate pairs are screened with an exact upper bound on
their overlap before the exact check, so only a few per cent of them reach it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from itertools import filterfalse
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from ..config import DedupConfig

log = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z]{3,}")
_PREFIX = 5
#: paragraphs compared exactly (all pairs) up to this many candidates
EXACT_MAX = 20_000
_PRIME = np.uint64((1 << 61) - 1)
_MAX_BUCKET_COMPARE = 50
#: rows per block of the exact comparison (bounds its memory to about this x 20,000 pairs)
_EXACT_BLOCK = 256
_VERIFY_BATCH = 200_000
#: paragraphs with fewer content words are never flagged: a handful of shared words is chance
MIN_TOKENS = 10
#: word classes of the overlap upper bound used to screen LSH candidates
_SCREEN_CLASSES = 64
#: token ids per block when computing MinHash signatures (bounds the temporary arrays)
_MINHASH_BLOCK = 1 << 22
_ID = np.int32


def content_tokens(text: str) -> set[str]:
    """The content-word set used for similarity (see module docstring)."""
    return {w[:_PREFIX] for w in _WORD.findall(text.lower()) if w not in ENGLISH_STOP_WORDS}


def local_token_sets(texts: Iterable[str], cfg: DedupConfig) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """Content-word sets of a batch of paragraphs, with ids local to the batch.

    Parameters
    ----------
    texts : iterable of str
        The batch's paragraphs, in corpus order.
    cfg : DedupConfig
        ``min_chars``: shorter paragraphs get no set.

    Returns
    -------
    rows : ndarray of int64
        Positions (within ``texts``) of the paragraphs that can be flagged (enough content words).
    vocab : list of str
        The batch's words, in order of first use (paragraph by paragraph, each paragraph's
        words sorted), which is the order :meth:`TokenSets.add` gives new words their ids in.
    ids : ndarray of int32
        Local word ids of every kept paragraph, one after the other.
    indptr : ndarray of int64
        ``ids[indptr[r]:indptr[r + 1]]`` belong to ``rows[r]``.
    """
    local: dict[str, int] = {}
    rows: list[int] = []
    ids: list[int] = []
    indptr = [0]
    for i, text in enumerate(texts):
        if len(text) < cfg.min_chars:
            continue
        tokens = content_tokens(text)
        if len(tokens) < MIN_TOKENS:
            continue
        # New words get ids in sorted order, so that ids do not depend on the string hash seed.
        for tok in sorted(filterfalse(local.__contains__, tokens)):
            local[tok] = len(local)
        ids.extend(map(local.__getitem__, tokens))
        indptr.append(len(ids))
        rows.append(i)
    return (np.asarray(rows, dtype=np.int64), list(local), np.asarray(ids, dtype=_ID),
            np.asarray(indptr, dtype=np.int64))


class TokenSets:
    """Content-word sets of the flaggable paragraphs of a corpus, as compact arrays.

    Built batch by batch with :meth:`add` (in corpus order), then :meth:`finish`. Word ids are
    given in order of first use, paragraph by paragraph, so they do not depend on how the
    corpus was cut into batches.

    Attributes (after :meth:`finish`)
    ---------------------------------
    rows : ndarray of int64
        Corpus positions of the paragraphs that have a set.
    groups : ndarray of int64
        Group (document) code of each of them; pairs in one group are never flagged.
    indices, indptr : ndarray
        Sorted word ids of set ``r`` are ``indices[indptr[r]:indptr[r + 1]]``.
    """

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self._rows: list[np.ndarray] = []
        self._groups: list[np.ndarray] = []
        self._ids: list[np.ndarray] = []
        self._lengths: list[np.ndarray] = []
        self.rows = np.zeros(0, dtype=np.int64)
        self.groups = np.zeros(0, dtype=np.int64)
        self.indices = np.zeros(0, dtype=_ID)
        self.indptr = np.zeros(1, dtype=np.int64)

    def add(self, rows: np.ndarray, groups: np.ndarray, vocab: Sequence[str], ids: np.ndarray,
            indptr: np.ndarray) -> None:
        """Append sets from :func:`local_token_sets` (``rows`` already made corpus positions)."""
        if not len(rows):
            return
        mapping = np.fromiter((self.vocab.setdefault(tok, len(self.vocab)) for tok in vocab), dtype=_ID,
                              count=len(vocab))
        lengths = np.diff(indptr)
        owner = np.repeat(np.arange(len(rows)), lengths)
        # Each set's ids sorted (owner is non-decreasing, so one sort of owner * V + id does it).
        width = np.int64(len(self.vocab))
        keys = owner * width + mapping[ids]
        keys.sort()
        global_ids = (keys - owner * width).astype(_ID)
        self._rows.append(np.asarray(rows, dtype=np.int64))
        self._groups.append(np.asarray(groups, dtype=np.int64))
        self._ids.append(global_ids)
        self._lengths.append(lengths)

    def finish(self) -> TokenSets:
        """Stop adding; concatenate the batches. Returns ``self``."""
        if self._rows:
            self.rows = np.concatenate(self._rows)
            self.groups = np.concatenate(self._groups)
            self.indices = np.concatenate(self._ids)
            self.indptr = np.concatenate([[0], np.cumsum(np.concatenate(self._lengths))]).astype(np.int64)
        self._rows, self._groups, self._ids, self._lengths = [], [], [], []
        return self

    def __len__(self) -> int:
        return len(self.rows)

    def matrix(self) -> sp.csr_matrix:
        """The sets as a 0/1 sparse matrix (one row per set)."""
        data = np.ones(len(self.indices), dtype=np.float32)
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(len(self), max(len(self.vocab), 1)))


def _first_duplicate(pairs_i: np.ndarray, pairs_j: np.ndarray, n: int) -> np.ndarray:
    """For each i, the smallest j among verified pairs (j < i), else -1."""
    first = np.full(n, -1, dtype=np.int64)
    if len(pairs_i):
        order = np.lexsort((pairs_j, pairs_i))
        pi, pj = pairs_i[order], pairs_j[order]
        keep = np.ones(len(pi), dtype=bool)
        keep[1:] = pi[1:] != pi[:-1]
        first[pi[keep]] = pj[keep]
    return first


def _exact_pairs(matrix: sp.csr_matrix, sizes: np.ndarray, groups: np.ndarray, threshold: float):
    # Rows in blocks, each against the rows before it: the full product would hold every pair
    # that shares a single word (almost all of them: "nation", "unite" ...).
    found_i: list[np.ndarray] = []
    found_j: list[np.ndarray] = []
    n = matrix.shape[0]
    for lo in range(0, n, _EXACT_BLOCK):
        hi = min(lo + _EXACT_BLOCK, n)
        inter = (matrix[lo:hi] @ matrix[:hi].T).tocoo()
        i, j, shared = inter.row.astype(np.int64) + lo, inter.col.astype(np.int64), inter.data
        del inter
        mask = (j < i) & (groups[i] != groups[j])
        i, j, shared = i[mask], j[mask], shared[mask]
        union = sizes[i] + sizes[j] - shared
        ok = shared >= threshold * union - 1e-9
        found_i.append(i[ok])
        found_j.append(j[ok])
    if not found_i:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(found_i), np.concatenate(found_j)


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, int(_PRIME) - 1, size=num_perm, dtype=np.uint64)
    b = rng.integers(0, int(_PRIME) - 1, size=num_perm, dtype=np.uint64)
    return a, b


def _minhash_band(sets: TokenSets, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """MinHash values of every set under the permutations ``(a[k], b[k])``: shape (n, len(a)).

    The hash of a word depends only on its id, so it is computed once per vocabulary entry and
    gathered; the minimum per set is taken block by block to bound the temporaries.
    """
    n, vocab_size = len(sets), max(len(sets.vocab), 1)
    # Token ids hashed first so that ids are spread before the linear permutations.
    spread = (np.arange(vocab_size, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(4)
    tables = [(a[k] * spread + b[k]) % _PRIME for k in range(len(a))]
    sig = np.full((n, len(a)), np.iinfo(np.uint64).max, dtype=np.uint64)
    indptr = sets.indptr
    lo = 0
    while lo < n:
        # Rows lo..hi hold at most about _MINHASH_BLOCK ids (at least one row).
        hi = max(int(np.searchsorted(indptr, indptr[lo] + _MINHASH_BLOCK, side="right")) - 1, lo + 1)
        hi = min(hi, n)
        ids = sets.indices[indptr[lo]:indptr[hi]]
        lengths = np.diff(indptr[lo:hi + 1])
        nonempty = lengths > 0
        starts = (indptr[lo:hi] - indptr[lo])[nonempty]
        if len(starts):
            for k, table in enumerate(tables):
                sig[lo:hi][nonempty, k] = np.minimum.reduceat(table[ids], starts)
        lo = hi
    return sig


def _unique_sorted(values: np.ndarray) -> np.ndarray:
    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if len(values) else values


def _band_buckets(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a band's signature block that share their values with another row, grouped.

    Returns ``(order, bucket)``: those rows sorted by bucket, then by index, and the bucket
    number of each (rows with equal values share a bucket; the numbering is arbitrary, only
    membership and the order within a bucket matter).
    """
    order = np.lexsort(block.T[::-1])  # stable: equal rows stay in index order
    ordered = block[order]
    starts = np.concatenate([[True], (ordered[1:] != ordered[:-1]).any(axis=1)])
    bucket = np.cumsum(starts) - 1
    sizes = np.bincount(bucket)
    shared = sizes[bucket] > 1
    return order[shared], bucket[shared]


def _band_pairs(sets: TokenSets, a: np.ndarray, b: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Candidate pairs of one band as ``i * n + j`` (i > j, different groups), unique."""
    n = len(sets)
    order, bucket = _band_buckets(_minhash_band(sets, a, b))
    if not len(order):
        return np.empty(0, np.int64)
    found: list[np.ndarray] = []
    # Each member is paired with up to _MAX_BUCKET_COMPARE earlier members of its bucket.
    for d in range(1, min(_MAX_BUCKET_COMPARE, len(order) - 1) + 1):
        same = bucket[d:] == bucket[:-d]
        if not same.any():
            break
        pair_i, pair_j = order[d:][same], order[:-d][same]
        other = groups[pair_i] != groups[pair_j]
        found.append(pair_i[other].astype(np.int64) * n + pair_j[other])
    return _unique_sorted(np.concatenate(found)) if found else np.empty(0, np.int64)


def _class_counts(sets: TokenSets, classes: int) -> np.ndarray:
    """Per set, how many of its words fall in each of ``classes`` hash classes of the vocabulary."""
    vocab_size = max(len(sets.vocab), 1)
    word_class = ((np.arange(vocab_size, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40))
    word_class = (word_class % np.uint64(classes)).astype(np.int64)
    n = len(sets)
    lengths = np.diff(sets.indptr)
    # A count never exceeds its set's size, so one byte holds it when every set is small enough.
    dtype = np.uint8 if lengths.max(initial=0) <= np.iinfo(np.uint8).max else np.uint16
    counts = np.zeros((n, classes), dtype=dtype)
    step = max(1, _MINHASH_BLOCK // classes)
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        owner = np.repeat(np.arange(hi - lo, dtype=np.int64), lengths[lo:hi])
        ids = sets.indices[sets.indptr[lo]:sets.indptr[hi]]
        block = np.bincount(owner * classes + word_class[ids], minlength=(hi - lo) * classes)
        counts[lo:hi] = block.reshape(hi - lo, classes)
    return counts


def _verify(sets: TokenSets, sizes: np.ndarray, ci: np.ndarray, cj: np.ndarray, threshold: float) -> np.ndarray:
    """Which candidate pairs reach ``threshold`` (exact Jaccard of their sets)."""
    # Screen: the words two sets share are at most sum over classes of min(count_i, count_j).
    # A pair passes when shared >= t * (|i| + |j| - shared), i.e. shared >= t (|i| + |j|) / (1 + t);
    # pairs whose bound is below that (with a margin for rounding) cannot pass and are dropped.
    counts = _class_counts(sets, _SCREEN_CLASSES)
    possible = np.zeros(len(ci), dtype=bool)
    for lo in range(0, len(ci), _VERIFY_BATCH):
        bi, bj = ci[lo:lo + _VERIFY_BATCH], cj[lo:lo + _VERIFY_BATCH]
        bound = np.minimum(counts[bi], counts[bj]).sum(axis=1, dtype=np.int64)
        need = threshold * (sizes[bi] + sizes[bj]) / (1.0 + threshold)
        possible[lo:lo + _VERIFY_BATCH] = bound >= need - 1e-6
    del counts
    matrix = sets.matrix()
    ok = np.zeros(len(ci), dtype=bool)
    survivors = np.flatnonzero(possible)
    for lo in range(0, len(survivors), _VERIFY_BATCH):
        at = survivors[lo:lo + _VERIFY_BATCH]
        bi, bj = ci[at], cj[at]
        shared = np.asarray(matrix[bi].multiply(matrix[bj]).sum(axis=1)).ravel()
        union = sizes[bi] + sizes[bj] - shared
        ok[at] = shared >= threshold * union - 1e-9
    log.debug("dedup: %d candidate pairs, %d past the overlap bound, %d verified", len(ci), len(survivors), ok.sum())
    return ok


def _lsh_pairs(sets: TokenSets, sizes: np.ndarray, groups: np.ndarray, cfg: DedupConfig, n_jobs: int = 1):
    a, b = _permutations(cfg.num_perm, cfg.seed)
    rows = cfg.num_perm // cfg.bands
    n = len(sets)
    bands = [(a[k * rows:(k + 1) * rows], b[k * rows:(k + 1) * rows]) for k in range(cfg.bands)]
    if n_jobs == 1:
        found = [_band_pairs(sets, ba, bb, groups) for ba, bb in bands]
    else:
        from joblib import Parallel, delayed

        # numpy releases the GIL in the gathers, reductions and sorts that make up a band.
        found = Parallel(n_jobs=n_jobs, prefer="threads")(delayed(_band_pairs)(sets, ba, bb, groups) for ba, bb in bands)
    found = [f for f in found if len(f)]
    if not found:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    keys = _unique_sorted(np.concatenate(found))
    del found
    ci, cj = keys // n, keys % n
    del keys
    ok = _verify(sets, sizes, ci, cj, cfg.threshold)
    return ci[ok].astype(np.int64), cj[ok].astype(np.int64)


def near_duplicates(sets: TokenSets, n: int, cfg: DedupConfig, n_jobs: int = 1) -> np.ndarray:
    """Index of the first earlier near-duplicate in another group, or -1, per paragraph.

    Parameters
    ----------
    sets : TokenSets
        Finished content-word sets of the flaggable paragraphs (:meth:`TokenSets.finish`).
    n : int
        Number of paragraphs in the corpus (``sets.rows`` index into them).
    cfg : DedupConfig
        ``threshold`` and the MinHash settings.
    n_jobs : int
        Threads for the MinHash bands (joblib semantics); the result does not depend on it.
    """
    result = np.full(n, -1, dtype=np.int64)
    if not cfg.enabled or n < 2 or len(sets) < 2:
        return result
    idx = sets.rows
    sizes = np.diff(sets.indptr)
    keep = sizes > 0
    if len(idx) <= EXACT_MAX:
        pi, pj = _exact_pairs(sets.matrix(), sizes, sets.groups, cfg.threshold)
    else:
        pi, pj = _lsh_pairs(sets, sizes, sets.groups, cfg, n_jobs)
    valid = keep[pi] & keep[pj]
    first = _first_duplicate(pi[valid], pj[valid], len(idx))
    hit = first >= 0
    result[idx[hit]] = idx[first[hit]]
    return result


def find_near_duplicates(texts: list[str], groups: list[str] | np.ndarray | Any, cfg: DedupConfig) -> np.ndarray:
    """Index of the first earlier near-duplicate in another group, or -1, per text.

    The in-memory form of :func:`near_duplicates`, for a list of texts.

    Parameters
    ----------
    texts : list of str
        Paragraph texts in corpus order.
    groups : sequence
        Document id of each text; pairs within one document are never flagged.
    cfg : DedupConfig
        ``threshold``, ``min_chars`` and the MinHash settings.
    """
    n = len(texts)
    if not cfg.enabled or n < 2:
        return np.full(n, -1, dtype=np.int64)
    rows, vocab, ids, indptr = local_token_sets(texts, cfg)
    _, codes = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    sets = TokenSets()
    sets.add(rows, codes.ravel()[rows], vocab, ids, indptr)
    return near_duplicates(sets.finish(), n, cfg)
