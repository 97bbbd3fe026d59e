"""Streaming corpora for the topic model: memory stays flat as the paragraph table grows.

The ``topics`` stage reads the paragraph table in Parquet batches (:class:`~pipeline.paragraphs.ParagraphSource`),
tokenises each batch once and appends the tokens, as 32-bit ids of a growing gensim
``Dictionary``, to a :class:`TokenCorpus`: a flat id file on disk plus one offset per
paragraph. Everything after that (filtering the vocabulary, fitting either engine, scoring
every paragraph, the coherence sample) re-reads that file, so no stage ever holds the
paragraphs as Python strings or token lists at once. A :class:`TokenCorpus` is
*re-iterable* (every ``iter`` starts again from the first paragraph), which is what
gensim's multi-pass ``LdaModel`` needs; a generator would be used up by the first pass.

Memory: the dictionary (one entry per distinct word), 8 bytes of offset and 1 byte of flag
per paragraph, and one batch of text at a time. The id file lives in a temporary
directory and is memory-mapped for reading.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..paragraphs import ParagraphSource

log = logging.getLogger(__name__)

_ID = np.dtype("<i4")


def duplicate_flags(batch: Any) -> np.ndarray:
    """True for rows whose ``duplicate_of`` names another paragraph (no such column: all False)."""
    if "duplicate_of" not in batch.columns:
        return np.zeros(len(batch), dtype=bool)
    dup = batch["duplicate_of"]
    return (dup.notna() & (dup.astype("string").fillna("") != "")).to_numpy(dtype=bool)


class TokenCorpus:
    """Paragraphs as sequences of token ids, appended once and re-read any number of times.

    Ids index :attr:`dictionary`, a gensim ``Dictionary`` whose document frequencies count
    only the paragraphs appended with ``fit=True`` (the fitting paragraphs). A word seen
    only in other paragraphs gets an id but a document frequency of 0, so vocabulary
    filtering always drops it; ids are assigned in the same order as
    ``Dictionary(fitting token lists)`` would, so the filtered vocabulary is the same.

    Parameters
    ----------
    directory : path or None
        Where the id file goes; ``None`` keeps the ids in memory (small inputs, the API).
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        from gensim.corpora import Dictionary

        self.dictionary = Dictionary()
        self._offsets: list[int] = [0]
        self._fit: list[bool] = []
        self._memory: list[np.ndarray] | None = [] if directory is None else None
        self._path = None if directory is None else Path(directory) / "token_ids.i4"
        self._fh = None if self._path is None else open(self._path, "wb")  # noqa: SIM115 - closed in finish()
        self._ids: np.ndarray | None = None
        self.offsets = np.zeros(1, dtype=np.int64)
        self.fit_mask = np.zeros(0, dtype=bool)

    # ------------------------------------------------------------------ building

    def append(self, tokens: Sequence[str], fit: bool = True) -> None:
        """Add one paragraph's tokens (in order); ``fit`` paragraphs also update the dictionary."""
        index = self.dictionary.token2id
        if fit:
            self.dictionary.doc2bow(tokens, allow_update=True)
        else:
            for token in sorted(set(tokens) - index.keys()):  # an id, but no document frequency
                index[token] = len(index)
        ids = np.fromiter((index[t] for t in tokens), dtype=_ID, count=len(tokens))
        if self._memory is not None:
            self._memory.append(ids)
        else:
            self._fh.write(ids.tobytes())
        self._offsets.append(self._offsets[-1] + len(ids))
        self._fit.append(fit)

    def finish(self) -> TokenCorpus:
        """Stop appending and make the ids readable; returns ``self``."""
        if self._memory is not None:
            self._ids = np.concatenate(self._memory) if self._memory else np.zeros(0, dtype=_ID)
            self._memory = None
        elif self._fh is not None:
            self._fh.close()
            self._fh = None
            size = os.path.getsize(self._path)
            self._ids = (np.memmap(self._path, dtype=_ID, mode="r") if size else np.zeros(0, dtype=_ID))
        self.offsets = np.asarray(self._offsets, dtype=np.int64)
        self.fit_mask = np.asarray(self._fit, dtype=bool)
        self._offsets, self._fit = [], []
        return self

    @classmethod
    def from_token_lists(cls, token_lists: Sequence[Sequence[str]], fit_mask: Sequence[bool] | None = None,
                         directory: Path | str | None = None) -> TokenCorpus:
        """A finished corpus of in-memory token lists (all fitting paragraphs unless ``fit_mask``)."""
        corpus = cls(directory)
        for i, tokens in enumerate(token_lists):
            corpus.append(tokens, True if fit_mask is None else bool(fit_mask[i]))
        return corpus.finish()

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def ids(self) -> np.ndarray:
        """All ids, paragraph after paragraph (a memory map when on disk)."""
        if self._ids is None:
            raise RuntimeError("TokenCorpus.finish() has not been called")
        return self._ids

    def doc(self, i: int) -> np.ndarray:
        """Token ids of paragraph ``i``."""
        return np.asarray(self.ids[self.offsets[i]:self.offsets[i + 1]])

    def tokens(self, i: int) -> list[str]:
        """Tokens of paragraph ``i`` (as the dictionary spells them)."""
        id2token = self._id2token()
        return [id2token[j] for j in self.doc(i).tolist()]

    def _id2token(self) -> dict[int, str]:
        if len(self.dictionary.id2token) != len(self.dictionary.token2id):
            self.dictionary.id2token = {v: k for k, v in self.dictionary.token2id.items()}
        return self.dictionary.id2token

    def blocks(self, size: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """``(first row, ids, offsets relative to the block)`` for consecutive blocks of ``size`` rows."""
        for start in range(0, len(self), size):
            stop = min(start + size, len(self))
            lo, hi = int(self.offsets[start]), int(self.offsets[stop])
            yield start, np.asarray(self.ids[lo:hi]), self.offsets[start:stop + 1] - lo

    # ------------------------------------------------------------------ vocabulary

    def filtered(self, no_below: int, no_above: float, keep_n: int) -> tuple[Any, np.ndarray]:
        """The filtered vocabulary and the map from corpus ids to its ids (``-1``: dropped).

        Returns
        -------
        dictionary : gensim.corpora.Dictionary
            A filtered copy (``filter_extremes``); :attr:`dictionary` is left as it was.
        mapping : ndarray of int32, shape (len(self.dictionary),)
        """
        vocabulary = copy.deepcopy(self.dictionary)
        vocabulary.filter_extremes(no_below=no_below, no_above=no_above, keep_n=keep_n)
        mapping = np.full(len(self.dictionary), -1, dtype=_ID)
        for token, old in self.dictionary.token2id.items():
            mapping[old] = vocabulary.token2id.get(token, -1)
        return vocabulary, mapping


class BowCorpus:
    """A re-iterable gensim bag-of-words corpus over some rows of a :class:`TokenCorpus`.

    Ids are mapped through ``mapping`` (``-1`` dropped); rows left with no word are skipped,
    as gensim's fitting would ignore them anyway.
    """

    def __init__(self, corpus: TokenCorpus, mapping: np.ndarray, rows: np.ndarray) -> None:
        self.corpus = corpus
        self.mapping = mapping
        self.rows = rows
        self._length: int | None = None

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        for i in self.rows:
            ids = self.mapping[self.corpus.doc(int(i))]
            ids = ids[ids >= 0]
            if ids.size:
                words, counts = np.unique(ids, return_counts=True)
                yield list(zip(words.tolist(), counts.tolist(), strict=True))

    def __len__(self) -> int:
        if self._length is None:
            self._length = sum(1 for _ in self)
        return self._length


def procedural_flags(batch: Any, procedural: Callable[[str], bool] | None) -> np.ndarray:
    """True for rows whose ``text`` is procedural by ``procedural`` (None: all False)."""
    if procedural is None:
        return np.zeros(len(batch), dtype=bool)
    return np.fromiter((procedural(t) for t in batch["text"].tolist()), dtype=bool, count=len(batch))


def tokenize_batch(tokenize: Callable[[str], list[str]], transform_tokens: Callable[[list[str]], list[str]] | None,
                   batch: Any, procedural: Callable[[str], bool] | None = None,
                   ) -> tuple[list[list[str]], np.ndarray, np.ndarray]:
    """Token lists, duplicate flags and procedural flags of a batch of paragraphs (``text``, maybe
    ``duplicate_of``); for workers too. ``procedural`` decides the last (None: none is)."""
    texts = batch["text"].tolist()
    if transform_tokens is None:
        tokens = [tokenize(text) for text in texts]
    else:
        tokens = [transform_tokens(tokenize(text)) for text in texts]
    return tokens, duplicate_flags(batch), procedural_flags(batch, procedural)


def corpus_columns(source: ParagraphSource) -> list[str]:
    """The columns tokenising reads: ``text``, and ``duplicate_of`` when the table has it."""
    return ["text", *(["duplicate_of"] if "duplicate_of" in source.columns else [])]


def build_corpus(source: ParagraphSource, tokenize: Callable[[str], list[str]], include_duplicates: bool,
                 directory: Path | str | None, progress: Callable[..., Iterator[Any]] | None = None,
                 transform_tokens: Callable[[list[str]], list[str]] | None = None,
                 n_jobs: int = 1, tokenised: Iterable[tuple[list[list[str]], np.ndarray, np.ndarray]] | None = None,
                 procedural: Callable[[str], bool] | None = None) -> tuple[TokenCorpus, int, int]:
    """Tokenise the paragraph table batch by batch into a finished :class:`TokenCorpus`.

    With ``n_jobs`` > 1 the batches are tokenised in that many worker processes (``tokenize``
    and ``transform_tokens`` must pickle) while this one appends the tokens in table order,
    so the corpus does not depend on it. ``tokenised`` replaces the reading and tokenising:
    :func:`tokenize_batch` results of the source's paragraphs in table order, computed
    elsewhere (e.g. on Dask workers).

    Returns the corpus, the number of paragraphs flagged as duplicates and the number found
    procedural by ``procedural`` (fitting paragraphs are the others; duplicates fit too with
    ``include_duplicates``).
    """
    from ..errors import DataError
    from ..parallel import ordered_map

    corpus = TokenCorpus(directory)
    duplicates = procedural_count = 0
    if tokenised is None:
        tokenised = ordered_map(functools.partial(tokenize_batch, tokenize, transform_tokens, procedural=procedural),
                                source.batches(corpus_columns(source)), n_jobs)
        if progress is not None:
            tokenised = progress(tokenised, total=-(-source.num_rows // source.batch_size), desc="tokenising",
                                 unit="batch")
    for token_lists, dup, proc in tokenised:
        duplicates += int(dup.sum())
        procedural_count += int(proc.sum())
        fit = ~proc if include_duplicates else ~(dup | proc)
        for tokens, fits in zip(token_lists, fit.tolist(), strict=True):
            corpus.append(tokens, fit=fits)
    corpus.finish()
    if len(corpus) != source.num_rows:
        raise DataError(f"the paragraph table changed while it was being read ({source.num_rows} rows, "
                        f"then {len(corpus)})")
    return corpus, duplicates, procedural_count
