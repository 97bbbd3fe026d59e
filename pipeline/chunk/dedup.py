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
"""

from __future__ import annotations

import logging
import re

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
_VERIFY_BATCH = 200_000
#: paragraphs with fewer content words are never flagged: a handful of shared words is chance
MIN_TOKENS = 10


def content_tokens(text: str) -> set[str]:
    """The content-word set used for similarity (see module docstring)."""
    return {w[:_PREFIX] for w in _WORD.findall(text.lower()) if w not in ENGLISH_STOP_WORDS}


def _token_matrix(token_sets: list[set[str]]) -> tuple[sp.csr_matrix, np.ndarray]:
    vocab: dict[str, int] = {}
    indptr = [0]
    indices: list[int] = []
    for tokens in token_sets:
        # Sorted so that token ids do not depend on the per-process string hash seed.
        ids = [vocab.setdefault(tok, len(vocab)) for tok in sorted(tokens)]
        ids.sort()
        indices.extend(ids)
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float32)
    matrix = sp.csr_matrix((data, np.asarray(indices, dtype=np.int64), np.asarray(indptr)), shape=(len(token_sets), max(len(vocab), 1)))
    sizes = np.diff(matrix.indptr)
    return matrix, sizes


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
    inter = (matrix @ matrix.T).tocoo()
    i, j, shared = inter.row, inter.col, inter.data
    mask = (j < i) & (groups[i] != groups[j])
    i, j, shared = i[mask], j[mask], shared[mask]
    union = sizes[i] + sizes[j] - shared
    ok = shared >= threshold * union - 1e-9
    return i[ok].astype(np.int64), j[ok].astype(np.int64)


def _minhash(matrix: sp.csr_matrix, num_perm: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, int(_PRIME) - 1, size=num_perm, dtype=np.uint64)
    b = rng.integers(0, int(_PRIME) - 1, size=num_perm, dtype=np.uint64)
    n = matrix.shape[0]
    sig = np.full((n, num_perm), np.iinfo(np.uint64).max, dtype=np.uint64)
    nonempty = np.diff(matrix.indptr) > 0
    starts = matrix.indptr[:-1][nonempty]
    # Token ids hashed first so that ids are spread before the linear permutations.
    tokens = (matrix.indices.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(4)
    for k in range(num_perm):
        hashed = (a[k] * tokens + b[k]) % _PRIME
        sig[nonempty, k] = np.minimum.reduceat(hashed, starts)
    return sig


def _lsh_pairs(matrix, sizes, groups, threshold, cfg: DedupConfig):
    sig = _minhash(matrix, cfg.num_perm, cfg.seed)
    rows = cfg.num_perm // cfg.bands
    n = matrix.shape[0]
    found: list[np.ndarray] = []  # candidate pairs as i * n + j, i > j
    for band in range(cfg.bands):
        block = np.ascontiguousarray(sig[:, band * rows : (band + 1) * rows])
        band_keys = block.view(np.dtype((np.void, block.dtype.itemsize * rows))).ravel()
        _, inverse, counts = np.unique(band_keys, return_inverse=True, return_counts=True)
        members = np.flatnonzero(counts[inverse] > 1)
        if not len(members):
            continue
        order = members[np.argsort(inverse[members], kind="stable")]  # by bucket, then index
        bucket = inverse[order]
        # Each member is paired with up to _MAX_BUCKET_COMPARE earlier members of its bucket.
        for d in range(1, min(_MAX_BUCKET_COMPARE, len(order) - 1) + 1):
            same = bucket[d:] == bucket[:-d]
            if not same.any():
                break
            pair_i, pair_j = order[d:][same], order[:-d][same]
            other = groups[pair_i] != groups[pair_j]
            found.append(pair_i[other].astype(np.int64) * n + pair_j[other])
    if not found:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    keys = np.unique(np.concatenate(found))
    del found
    ci, cj = keys // n, keys % n
    del keys
    # Exact verification of every candidate, in batches to keep memory bounded.
    ok = np.zeros(len(ci), dtype=bool)
    for lo in range(0, len(ci), _VERIFY_BATCH):
        bi, bj = ci[lo : lo + _VERIFY_BATCH], cj[lo : lo + _VERIFY_BATCH]
        shared = np.asarray(matrix[bi].multiply(matrix[bj]).sum(axis=1)).ravel()
        union = sizes[bi] + sizes[bj] - shared
        ok[lo : lo + _VERIFY_BATCH] = shared >= threshold * union - 1e-9
    log.debug("dedup: %d candidate pairs from LSH over %d paragraphs, %d verified", len(ci), n, ok.sum())
    return ci[ok].astype(np.int64), cj[ok].astype(np.int64)


def find_near_duplicates(texts: list[str], groups: list[str] | np.ndarray, cfg: DedupConfig) -> np.ndarray:
    """Index of the first earlier near-duplicate in another group, or -1, per text.

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
    result = np.full(n, -1, dtype=np.int64)
    if not cfg.enabled or n < 2:
        return result
    sets = [content_tokens(t) if len(t) >= cfg.min_chars else set() for t in texts]
    idx = np.flatnonzero([len(s) >= MIN_TOKENS for s in sets])
    if len(idx) < 2:
        return result
    _, group_codes = np.unique(np.asarray(groups, dtype=object)[idx].astype(str), return_inverse=True)
    matrix, sizes = _token_matrix([sets[i] for i in idx])
    keep = sizes > 0
    if len(idx) <= EXACT_MAX:
        pi, pj = _exact_pairs(matrix, sizes, group_codes, cfg.threshold)
    else:
        pi, pj = _lsh_pairs(matrix, sizes, group_codes, cfg.threshold, cfg)
    valid = keep[pi] & keep[pj]
    first = _first_duplicate(pi[valid], pj[valid], len(idx))
    hit = first >= 0
    result[idx[hit]] = idx[first[hit]]
    return result
