"""Benchmark of the ``chunk`` stage on UN General Debate speeches: accuracy and throughput.

Accuracy (paragraph reconstruction from hard-wrapped text)
----------------------------------------------------------
Speeches of sessions 70-75 (2015-2020) are stored one true paragraph per line. Sessions
76-78 are the project's evaluation split and are never read for this benchmark (checked in
``_ungdc.load_speeches``). Speeches that contain blank lines, or whose median line is
shorter than 120 characters (they look hard-wrapped already), are skipped; ``--docs``
documents are sampled from the rest with a fixed seed. About one speech in seven breaks a
line in mid-sentence (a lower-case continuation, or a line ending in ``the``/``that``...);
such lines are merged into one true paragraph first (:func:`repair_broken_lines`).

Each sampled speech is turned into a synthetic printed page, with the ground truth kept:

- one wrap width ``W`` per document, drawn from [40, 75]; every paragraph is wrapped
  greedily at ``W``;
- where a line break falls before a long, purely alphabetic word (>= 7 letters), the word
  is split with a *soft* hyphen with probability 0.3 (both parts >= 2 letters, the first
  part plus ``-`` fits the room left on the line);
- a word that already holds a hyphen (``well-known``) may be broken after its hyphen,
  which stays (a real compound); a source word that *ends* in a hyphen before a space
  (``long- term``) is never put at a line end, as the space could not be recovered;
- about 30 % of the lines carry a trailing space before ``\\n``;
- every 35-60 wrapped lines a block of page furniture is inserted: a page number, the
  meeting's document symbol (``A/71/PV.9``) and/or a job number (``16-29461 (E)``), in
  random order, possibly with blank lines around and between them.

Three variants are generated: ``wrapped``, with no blank line between paragraphs (the hard
case: only the wrap geometry, punctuation and capitals tell where a paragraph ends),
``blank``, with a blank line between paragraphs (should be near-perfect), and
``lost_indent``, like ``wrapped`` but each paragraph's first line is wrapped at ``W``
minus the typeset indent (one per document, drawn from [2, 8] characters) and then printed
without it, as in text extracted from an indented PDF: the first line of a paragraph is a
few characters short although the next line continues its sentence. The three variants
share the width, soft hyphens and furniture of a document (the indent has its own random
stream, so ``wrapped`` and ``blank`` are generated exactly as before it existed).

Real layouts: ``--gold DIR`` also scores hand-marked excerpts of real hard-wrapped speeches
(sessions 47-69, extracted from PDFs, ``tests/data/paragraph_gold``; see the README there),
reported separately for the ``dev`` and the ``heldout`` fixtures. ``--gold-only`` skips the
synthetic pass.

Each generated text goes through ``segment_document`` with the default settings except
``max_paragraph_chars`` (raised so no paragraph is split). Scores, micro-averaged over
documents:

- boundary precision / recall / F1: the true boundaries are the start offsets of
  paragraphs 2..n, the predicted ones the starts of predicted paragraphs 2..m; a predicted
  start matches a true one when both are equal after skipping whitespace;
- text match: the share of true paragraphs whose expected text (the original paragraph
  with curly quotes straightened, odd spaces unified, invisible characters dropped and
  whitespace collapsed) equals the text of a predicted paragraph of the same document
  (multiset matching, so a repeated paragraph must be produced as often as it occurs);
- ``detectable_boundaries``: the share of true boundaries where the next paragraph's
  first word would have fitted on the previous line. In the ``wrapped`` variant the other
  boundaries leave no trace in the geometry, so this bounds what a width rule can find
  (F1 <= 2r / (1 + r) for r = detectable_boundaries, at perfect precision);
- ``seconds`` (generation, segmentation and scoring) and ``segment_mb_per_s``
  (characters segmented per second of ``segment_document`` alone).

Missed and false boundaries and text mismatches are counted by cause on stderr; with
``--verbose`` examples of each are printed (the lines either side of the boundary and W).

Throughput
----------
Unless ``--skip-throughput``, the whole stage runs as a subprocess on the full corpus CSV
(``python -m pipeline chunk ...``, outputs in a temporary directory). Reported: wall time,
MB/s of uncompressed CSV (streamed through gzip to measure it), the child's peak RSS, and
the manifest's paragraph and document counts.

Output: one JSON line on stdout; logs on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

from _ungdc import DEFAULT_CORPUS, REPO_ROOT, TUNING_SESSIONS, check_sessions, load_speeches, uncompressed_size

log = logging.getLogger("chunk_ungdc")

TARGETS = {"boundary_f1": 0.97, "text_match": 0.97, "full_corpus_seconds": 120}

MIN_MEDIAN_LINE = 120
WIDTH_RANGE = (40, 75)
SOFT_HYPHEN_P = 0.3
SOFT_HYPHEN_MIN_LETTERS = 7
COMPOUND_BREAK_P = 0.5
TRAILING_SPACE_P = 0.3
FURNITURE_GAP = (35, 60)
INDENT_RANGE = (2, 8)  # lost_indent: the typeset first-line indent, in characters
VARIANTS = ("wrapped", "blank", "lost_indent")
GOLD_DIR = REPO_ROOT / "tests" / "data" / "paragraph_gold"
NO_SPLIT = 1_000_000

# ----------------------------------------------------------------------------- normalisation

_CHAR_MAP = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u200b": None, "\u200c": None, "\u200d": None, "\u2060": None, "\ufeff": None, "\u00ad": None,
    }
)
_SPACES = re.compile(r"\s+")  # str patterns: Unicode whitespace (NBSP, em space, tab ...)


def expected_text(paragraph: str) -> str:
    """The normalised text the chunker should produce for an original paragraph.

    Written independently of ``pipeline.chunk.text`` from the stage's specification:
    curly quotes straightened, zero-width characters and soft hyphens removed, every run
    of whitespace (NBSP and other odd spaces, tabs) collapsed to one space, stripped.
    """
    return _SPACES.sub(" ", paragraph.translate(_CHAR_MAP)).strip()


# ----------------------------------------------------------------------------- documents


@dataclass
class Speech:
    doc_id: str
    session: int
    year: int
    paragraphs: list[str]


_LIST_MARKER = re.compile(r"^\(?([a-z]|[ivx]+)[).]\s")
_FUNCTION_WORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "of", "on", "or", "that", "the",
     "to", "which", "who", "whose", "with"}
)


def repair_broken_lines(lines: list[str]) -> list[str] | None:
    """Merge source lines that break a sentence; ``None`` if a break cannot be repaired.

    About one speech in seven of sessions 70-75 has a line break in mid-sentence (left over
    from page breaks of the verbatim record): the next line starts with a lower-case word
    that is not a list marker (``b)``, ``(iv)``) after a line without end punctuation, or
    the line ends with a function word (``the``, ``that`` ...). Such lines are one paragraph.
    A break right after a hyphen is ambiguous (``Portuguese-`` / ``speaking``): the speech is
    skipped.
    """
    out = [lines[0]]
    for line in lines[1:]:
        prev = out[-1]
        last = prev.rsplit(None, 1)[-1]
        lower_next = line[:1].islower() and not _LIST_MARKER.match(line)
        if lower_next and prev.endswith("-"):
            return None
        if (lower_next and (prev[-1:].isalnum() or prev.endswith(","))) or last in _FUNCTION_WORDS:
            out[-1] = f"{prev} {line}"
        else:
            out.append(line)
    return out


def eligible_speeches(path: Path) -> list[Speech]:
    """Speeches of sessions 70-75 laid out one paragraph per line, in a stable order."""
    frame = load_speeches(path, TUNING_SESSIONS)
    out = []
    for row in frame.itertuples(index=False):
        lines = str(row.text).strip().split("\n")
        if len(lines) < 2 or any(not line.strip() for line in lines):
            continue  # blank lines: paragraphs not one per line, or a single paragraph
        if median(len(line) for line in lines) < MIN_MEDIAN_LINE:
            continue  # looks hard-wrapped already
        paragraphs = repair_broken_lines([ln.strip() for ln in lines])
        if paragraphs is None or len(paragraphs) < 2:
            continue
        out.append(Speech(f"{row.country}_{row.year}", int(row.session), int(row.year), paragraphs))
    check_sessions({s.session for s in out})
    out.sort(key=lambda s: (s.year, s.doc_id))
    return out


# ----------------------------------------------------------------------------- generator


@dataclass
class Generated:
    """A synthetic hard-wrapped document and its ground truth."""

    doc_id: str
    text: str
    width: int
    starts: list[int]  # offset of each true paragraph's first character
    expected: list[str]  # expected normalised text of each true paragraph
    furniture_lines: int = 0
    soft_hyphens: int = 0
    compound_breaks: int = 0


def _is_soft_hyphenable(word: str) -> bool:
    return len(word) >= SOFT_HYPHEN_MIN_LETTERS and word.isalpha()


_DANGLING_HYPHEN = re.compile(r"\w-$")


def wrap_units(paragraph: str) -> list[str]:
    """The paragraph's words, with ``word-`` glued to the next word.

    A few source paragraphs hold a hyphen followed by a space (``long- term``, left over
    from an earlier hard wrap, or a real ``pre- and post-war``). Were such a word put at a
    line end, nothing could tell whether the space was there, so it never is.
    """
    units: list[str] = []
    for word in paragraph.split():
        if units and _DANGLING_HYPHEN.search(units[-1]):
            units[-1] = f"{units[-1]} {word}"
        else:
            units.append(word)
    return units


def wrap_paragraph(
    words: Sequence[str], width: int, rng: random.Random, counts: Counter[str], first_width: int | None = None
) -> list[str]:
    """Greedy wrap at ``width`` (the first line at ``first_width``) with occasional soft
    hyphenation and compound breaks."""
    lines: list[str] = []
    cur = ""
    queue = list(reversed(words))
    while queue:
        word = queue.pop()
        line_width = first_width if first_width is not None and not lines else width
        if not cur:
            cur = word
            continue
        if len(cur) + 1 + len(word) <= line_width:
            cur += " " + word
            continue
        room = line_width - len(cur) - 1  # characters left after the separating space
        if _is_soft_hyphenable(word) and rng.random() < SOFT_HYPHEN_P:
            cuts = [k for k in range(2, len(word) - 1) if k + 1 <= room]
            if cuts:
                k = rng.choice(cuts)
                lines.append(f"{cur} {word[:k]}-")
                counts["soft_hyphens"] += 1
                cur = ""
                queue.append(word[k:])
                continue
        elif "-" in word[1:-1] and rng.random() < COMPOUND_BREAK_P:
            cuts = [
                i + 1
                for i, ch in enumerate(word)
                if ch == "-" and i + 1 <= room and any(c.isalpha() for c in word[:i]) and word[i + 1 : i + 2].isalpha()
            ]
            if cuts:
                k = cuts[-1]
                lines.append(f"{cur} {word[:k]}")
                counts["compound_breaks"] += 1
                cur = ""
                queue.append(word[k:])
                continue
        lines.append(cur)
        cur = word
    if cur:
        lines.append(cur)
    return lines


def _furniture_block(rng: random.Random, page: int, symbol: str, job: str) -> list[str]:
    kinds = rng.sample(["page", "symbol", "job"], k=rng.randint(1, 3))
    values = {"page": str(page), "symbol": symbol, "job": job}
    block: list[str] = [""] if rng.random() < 0.5 else []
    for i, kind in enumerate(kinds):
        if i and rng.random() < 0.3:
            block.append("")
        block.append(values[kind])
    if rng.random() < 0.5:
        block.append("")
    return block


def generate(speech: Speech, seed: int, variant: str) -> Generated:
    """Wrap ``speech`` into a printed-page layout and record where each paragraph starts.

    ``variant`` is one of :data:`VARIANTS`.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    blank = variant == "blank"
    rng = random.Random(f"{seed}:{speech.doc_id}")  # same width and choices for every variant
    indent = random.Random(f"{seed}:{speech.doc_id}:indent").randint(*INDENT_RANGE)
    width = rng.randint(*WIDTH_RANGE)
    first_width = width - indent if variant == "lost_indent" else None
    symbol = f"A/{speech.session}/PV.{rng.randint(3, 30)}"
    job = f"{speech.year % 100:02d}-{rng.randint(20000, 39999)} (E)"
    counts: Counter[str] = Counter()
    out: list[str] = []
    pos = 0
    starts: list[int] = []
    page = 1
    gap = rng.randint(*FURNITURE_GAP)
    since = 0

    def emit(line: str) -> None:
        nonlocal pos
        out.append(line)
        pos += len(line) + 1

    wrapped = [wrap_paragraph(wrap_units(p), width, rng, counts, first_width) for p in speech.paragraphs]
    for pi, lines in enumerate(wrapped):
        if blank and pi:
            emit("")
        for li, line in enumerate(lines):
            if since >= gap:
                page += 1
                for extra in _furniture_block(rng, page, symbol, job):
                    counts["furniture_lines"] += bool(extra)
                    emit(extra)
                since, gap = 0, rng.randint(*FURNITURE_GAP)
            if li == 0:
                starts.append(pos)
            emit(line + " " if rng.random() < TRAILING_SPACE_P else line)
            since += 1
    return Generated(
        doc_id=speech.doc_id,
        text="\n".join(out) + "\n",
        width=width,
        starts=starts,
        expected=[expected_text(p) for p in speech.paragraphs],
        furniture_lines=counts["furniture_lines"],
        soft_hyphens=counts["soft_hyphens"],
        compound_breaks=counts["compound_breaks"],
    )


# ----------------------------------------------------------------------------- segmenters


@dataclass
class Predicted:
    start: int
    end: int
    text: str


#: a segmenter returns the predicted paragraphs and the wrap width it detected (0: none)
Segmenter = Callable[[str], tuple[list[Predicted], int]]


def pipeline_segmenter() -> Segmenter:
    """``segment_document`` with default settings except that no paragraph is split."""
    from pipeline.chunk.segment import SegmentOptions, SegmentStats, segment_document
    from pipeline.config import ChunkConfig

    opts = SegmentOptions.from_config(ChunkConfig(max_paragraph_chars=NO_SPLIT))

    def run(text: str) -> tuple[list[Predicted], int]:
        stats = SegmentStats()
        paras = segment_document(text, opts, stats)
        return [Predicted(p.start, p.end, p.text) for p in paras], int(stats.width)

    # Warm-up outside the timings: the word-frequency tables used for line-end hyphens load lazily.
    try:
        from wordfreq import zipf_frequency

        zipf_frequency("international", "en")
    except ImportError:  # pragma: no cover - the segmenter may not use it
        pass
    return run


_FURNITURE = re.compile(r"^\s*(\d{1,4}|A/\d+/PV\.\d+|\d{2}-\d{5} \([A-Z]\))\s*$")


def stand_in_segmenter(text: str) -> tuple[list[Predicted], int]:
    """Debugging stand-in: paragraphs at blank lines, furniture dropped, lines joined.

    Only right for the ``blank`` variant with no furniture block at a paragraph break; it
    exercises the generator and the scorer without the pipeline.
    """
    paras: list[Predicted] = []
    pieces: list[str] = []
    start = end = pos = 0
    for raw in text.split("\n"):
        line = raw.strip()
        if not line or _FURNITURE.match(line):
            if not line and pieces:
                paras.append(Predicted(start, end, expected_text(" ".join(pieces))))
                pieces = []
        else:
            if not pieces:
                start = pos
            if pieces and pieces[-1].endswith("-") and line[:1].islower():
                pieces[-1] = pieces[-1][:-1] + line
            else:
                pieces.append(line)
            end = pos + len(raw.rstrip())
        pos += len(raw) + 1
    if pieces:
        paras.append(Predicted(start, end, expected_text(" ".join(pieces))))
    return paras, 0


# ----------------------------------------------------------------------------- scoring


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _line_at(text: str, pos: int) -> str:
    s = text.rfind("\n", 0, pos) + 1
    e = text.find("\n", pos)
    return text[s : e if e >= 0 else len(text)]


def _prev_content_line(text: str, pos: int) -> tuple[str, bool]:
    """The last non-blank, non-furniture line before ``pos``, and whether furniture was skipped."""
    furniture = False
    e = text.rfind("\n", 0, pos)
    while e > 0:
        s = text.rfind("\n", 0, e) + 1
        line = text[s:e]
        if line.strip():
            if not _FURNITURE.match(line):
                return line, furniture
            furniture = True
        e = s - 1
    return "", furniture


_TERMINAL = ".!?:;…"
_CLOSERS = "\"'”’»)]}*"


def _ends_sentence(line: str) -> bool:
    tail = line.rstrip().rstrip(_CLOSERS)
    return bool(tail) and tail[-1] in _TERMINAL


def _heading_like(paragraph: str, max_words: int = 16) -> bool:
    tail = paragraph.rstrip(_CLOSERS + " ")
    return bool(tail) and tail[-1] not in _TERMINAL + ",-–—" and len(paragraph.split()) <= max_words


def _fits(prev_line: str, next_line: str, width: int) -> bool:
    words = next_line.split()
    first = len(words[0]) if words else 0
    return width - len(prev_line.rstrip()) >= 1 + first


@dataclass
class Example:
    cause: str
    doc_id: str
    width: int
    detected: int
    before: str
    after: str


@dataclass
class Score:
    docs: int = 0
    paragraphs: int = 0
    true_boundaries: int = 0
    pred_boundaries: int = 0
    hits: int = 0
    detectable: int = 0
    text_hits: int = 0
    seconds: float = 0.0
    segment_seconds: float = 0.0
    chars: int = 0
    generated: Counter[str] = field(default_factory=Counter)
    missed: list[Example] = field(default_factory=list)
    false: list[Example] = field(default_factory=list)
    mismatches: list[Example] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        p = self.hits / self.pred_boundaries if self.pred_boundaries else 1.0
        r = self.hits / self.true_boundaries if self.true_boundaries else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return {
            "boundary_precision": round(p, 4),
            "boundary_recall": round(r, 4),
            "boundary_f1": round(f1, 4),
            "text_match": round(self.text_hits / self.paragraphs, 4) if self.paragraphs else 1.0,
            "paragraphs": self.paragraphs,
            "boundaries": self.true_boundaries,
            "predicted_boundaries": self.pred_boundaries,
            "detectable_boundaries": round(self.detectable / self.true_boundaries, 4) if self.true_boundaries else 1.0,
            "seconds": round(self.seconds, 2),
            "segment_mb_per_s": round(self.chars / 1e6 / self.segment_seconds, 2) if self.segment_seconds else None,
        }


def _repeated_lines(text: str, min_count: int = 3, max_chars: int = 80) -> set[str]:
    """Short lines that occur at least ``min_count`` times (candidates for page headers)."""
    counts = Counter(line.strip() for line in text.split("\n"))
    return {line for line, n in counts.items() if n >= min_count and 0 < len(line) <= max_chars}


_REPEATED = "a line repeated >= 3 times in the document (dropped as a page header?)"


def _missed_cause(
    gen: Generated, index: int, prev_line: str, next_line: str, furniture: bool, detected: int, repeated: set[str]
) -> str:
    if prev_line.strip() in repeated or next_line.strip() in repeated:
        return _REPEATED
    if _heading_like(gen.expected[index - 1]):
        return "after heading-like paragraph (short, no end punctuation)"
    if not _fits(prev_line, next_line, gen.width):
        return "no room: next first word would not have fitted (no trace in the geometry)"
    if detected == 0:
        return "document not detected as wrapped"
    if not _fits(prev_line, next_line, detected):
        return f"fits at W but not at the detected width ({'under' if detected < gen.width else 'over'}estimated)"
    if not _ends_sentence(prev_line):
        return "previous line has no end punctuation"
    if not next_line.lstrip()[:1].isupper():
        return "next paragraph does not start with a capital"
    if furniture:
        return "page furniture between the paragraphs"
    return "other"


def _false_cause(gen: Generated, prev_line: str, next_line: str, detected: int, repeated: set[str]) -> str:
    if prev_line.strip() in repeated or next_line.strip() in repeated:
        return _REPEATED
    if detected == 0:
        return "document not detected as wrapped (every line a paragraph)"
    if detected > gen.width:
        return "detected width larger than W"
    if prev_line.rstrip().endswith("-"):
        return "after a line-end hyphen"
    if _ends_sentence(prev_line):
        return "previous line ends a sentence"
    return "other"


def _mismatch_cause(expected: str, got: str | None, aligned: str, repeated: set[str]) -> str:
    """Why a true paragraph's text was not produced: a boundary error, or what differs first."""
    if expected in repeated:
        return _REPEATED
    if got is None:
        return "boundary error: no predicted paragraph starts here"
    if aligned != "aligned":
        return f"boundary error: {aligned}"
    i = 0
    while i < min(len(expected), len(got)) and expected[i] == got[i]:
        i += 1
    want, have = expected[i : i + 1], got[i : i + 1]
    if re.search(r"A/\d+/PV\.\d+|\d{2}-\d{5} \(E\)", got):
        return "page furniture leaked into the text"
    if want == "-" and got[i:].startswith(expected[i + 1 : i + 6]):
        return "compound hyphen dropped (well-known -> wellknown)"
    if have == "-" and expected[i:].startswith(got[i + 1 : i + 6]):
        return "soft hyphen kept (interna-tional)"
    if " " in (want, have) and got.replace(" ", "") == expected.replace(" ", ""):
        return "spacing differs"
    if "\n" in got:
        return "line break in the text (heading attached?)"
    return "other"


def _diff_excerpt(expected: str, got: str, context: int = 40) -> tuple[str, str]:
    i = 0
    while i < min(len(expected), len(got)) and expected[i] == got[i]:
        i += 1
    s = max(0, i - context)
    return expected[s : i + context], got[s : i + context]


def score_document(gen: Generated, predicted: list[Predicted], detected: int, score: Score) -> None:
    text = gen.text
    true_starts = [_skip_ws(text, s) for s in gen.starts]
    pred_starts = [_skip_ws(text, p.start) for p in predicted]
    repeated = _repeated_lines(text)
    true_b = set(true_starts[1:])
    pred_b = set(pred_starts[1:])
    score.docs += 1
    score.paragraphs += len(gen.expected)
    score.true_boundaries += len(true_b)
    score.pred_boundaries += len(pred_b)
    score.hits += len(true_b & pred_b)

    for i, s in enumerate(true_starts[1:], start=1):
        prev_line, furniture = _prev_content_line(text, s)
        next_line = _line_at(text, s)
        score.detectable += _fits(prev_line, next_line, gen.width)
        if s not in pred_b:
            cause = _missed_cause(gen, i, prev_line, next_line, furniture, detected, repeated)
            score.missed.append(Example(cause, gen.doc_id, gen.width, detected, prev_line, next_line))
    for s in sorted(pred_b - true_b):
        prev_line, _ = _prev_content_line(text, s)
        next_line = _line_at(text, s)
        cause = _false_cause(gen, prev_line, next_line, detected, repeated)
        score.false.append(Example(cause, gen.doc_id, gen.width, detected, prev_line, next_line))

    # Text match: a predicted paragraph at the same start first, then any unused one with
    # the same text (multiset: a repeated paragraph must be produced as often as it occurs).
    got = Counter(p.text for p in predicted)
    by_start = {s: p.text for s, p in zip(pred_starts, predicted, strict=True)}
    unmatched = []
    for i, (s, exp) in enumerate(zip(true_starts, gen.expected, strict=True)):
        if by_start.get(s) == exp:
            got[exp] -= 1
            score.text_hits += 1
        else:
            unmatched.append(i)
    next_pred = dict(zip(pred_starts, [*pred_starts[1:], len(text)], strict=True))
    for i in unmatched:
        s, exp = true_starts[i], gen.expected[i]
        if got[exp] > 0:
            got[exp] -= 1
            score.text_hits += 1
            continue
        text_there = by_start.get(s)
        true_next = true_starts[i + 1] if i + 1 < len(true_starts) else len(text)
        pred_next = next_pred.get(s, true_next)
        aligned = (
            "aligned" if pred_next == true_next
            else "merged with the next paragraph" if pred_next > true_next
            else "cut short by a false boundary"
        )
        cause = _mismatch_cause(exp, text_there, aligned, repeated)
        before, after = _diff_excerpt(exp, text_there) if text_there is not None else (exp[:80], "")
        score.mismatches.append(Example(cause, gen.doc_id, gen.width, detected, before, after))


def run_variant(
    speeches: list[Speech], seed: int, variant: str, segment: Segmenter
) -> Score:
    score = Score()
    started = time.perf_counter()
    for speech in speeches:
        gen = generate(speech, seed, variant)
        t0 = time.perf_counter()
        predicted, detected = segment(gen.text)
        score.segment_seconds += time.perf_counter() - t0
        score.chars += len(gen.text)
        score.generated.update(
            soft_hyphens=gen.soft_hyphens, compound_breaks=gen.compound_breaks, furniture_lines=gen.furniture_lines
        )
        score_document(gen, predicted, detected, score)
    score.seconds = time.perf_counter() - started
    return score


# ----------------------------------------------------------------------------- real gold set


def load_gold(folder: Path) -> dict[str, list[Generated]]:
    """The hand-marked fixtures of ``folder`` (one JSON per speech), by split (``dev``, ``heldout``).

    Each becomes a :class:`Generated` holding the real text, the marked paragraph starts and
    the expected paragraph texts; ``width`` is the 95th percentile of its line lengths (only
    used to sort misses by cause).
    """
    splits: dict[str, list[Generated]] = {}
    for path in sorted(folder.glob("*.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        check_sessions({int(rec["session"])})
        lengths = sorted(len(line.strip()) for line in rec["text"].split("\n") if line.strip())
        width = lengths[int(0.95 * (len(lengths) - 1))] if lengths else 0
        gen = Generated(rec["id"], rec["text"], width, list(rec["starts"]), [expected_text(t) for t in rec["paragraphs"]])
        splits.setdefault(rec["split"], []).append(gen)
    if not splits:
        raise FileNotFoundError(f"{folder}: no gold fixtures (*.json)")
    return splits


def run_gold(docs: list[Generated], segment: Segmenter) -> Score:
    score = Score()
    started = time.perf_counter()
    for gen in docs:
        t0 = time.perf_counter()
        predicted, detected = segment(gen.text)
        score.segment_seconds += time.perf_counter() - t0
        score.chars += len(gen.text)
        score_document(gen, predicted, detected, score)
    score.seconds = time.perf_counter() - started
    return score


def report_errors(name: str, score: Score, verbose: bool, examples: int) -> None:
    for label, items in (("missed boundaries", score.missed), ("false boundaries", score.false),
                         ("text mismatches", score.mismatches)):
        causes = Counter(e.cause for e in items)
        log.info("[%s] %s: %d", name, label, len(items))
        for cause, n in causes.most_common():
            log.info("[%s]   %5d  %s", name, n, cause)
            if not verbose:
                continue
            shown = [e for e in items if e.cause == cause][:examples]
            for e in shown:
                if label == "text mismatches":
                    log.info("          %s W=%d detected=%d\n            want: %r\n            got:  %r",
                             e.doc_id, e.width, e.detected, e.before, e.after)
                else:
                    log.info("          %s W=%d detected=%d\n            before: %r\n            after:  %r",
                             e.doc_id, e.width, e.detected, e.before, e.after)


# ----------------------------------------------------------------------------- throughput


def throughput(corpus: Path) -> dict[str, Any]:
    """Run the whole chunk stage on ``corpus`` in a subprocess and measure it."""
    size = uncompressed_size(corpus)
    with tempfile.TemporaryDirectory(prefix="chunk_ungdc_") as tmp:
        out, manifest = Path(tmp) / "paragraphs.parquet", Path(tmp) / "manifest.json"
        cmd = [
            sys.executable, "-m", "pipeline", "chunk", "--config", "configs/default.yaml",
            "--set", f"chunk.input={corpus}",
            "--set", "chunk.format=csv",
            "--set", "chunk.id_field=null",
            "--set", "chunk.id_template={country}_{year}",
            "--set", f"chunk.output={out}",
            "--set", f"chunk.manifest={manifest}",
        ]
        log.info("throughput: %s", " ".join(cmd))
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=REPO_ROOT, check=True)
        seconds = time.perf_counter() - t0
        maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        rss_mb = maxrss / 1024 / 1024 if sys.platform == "darwin" else maxrss / 1024
        counts = json.loads(manifest.read_text(encoding="utf-8"))["counts"]
    return {
        "seconds": round(seconds, 2),
        "mb_per_s": round(size / 1e6 / seconds, 2),
        "bytes": size,
        "peak_rss_mb": round(rss_mb, 1),
        "paragraphs": counts.get("paragraphs"),
        "documents": counts.get("documents_ok"),
        "documents_skipped": counts.get("documents_skipped"),
    }


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=300, help="speeches to sample for the accuracy pass (default 300)")
    parser.add_argument("--seed", type=int, default=13, help="sampling and generation seed (default 13)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="UNGDC CSV (gzipped or not)")
    parser.add_argument("--skip-throughput", action="store_true", help="skip the full-corpus run of the stage")
    parser.add_argument("--verbose", action="store_true", help="print examples of each kind of error")
    parser.add_argument("--examples", type=int, default=3, help="examples per error cause with --verbose")
    parser.add_argument("--stand-in", action="store_true",
                        help="debug: score a trivial blank-line segmenter instead of the pipeline's")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS),
                        help="synthetic layouts to score (default: all)")
    parser.add_argument("--gold", type=Path, nargs="?", const=GOLD_DIR, default=None,
                        help=f"also score the hand-marked real excerpts (default folder {GOLD_DIR.relative_to(REPO_ROOT)})")
    parser.add_argument("--gold-only", action="store_true", help="score only the gold set (implies --gold, no throughput)")
    args = parser.parse_args(argv)
    if args.gold_only:
        args.gold = args.gold or GOLD_DIR
        args.skip_throughput = True
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    corpus = args.corpus.resolve()
    segment: Segmenter = stand_in_segmenter if args.stand_in else pipeline_segmenter()
    result: dict[str, Any] = {"benchmark": "chunk_ungdc", "seed": args.seed}
    if not args.gold_only:
        if not corpus.exists():
            parser.error(f"{corpus}: corpus not found")
        speeches = eligible_speeches(corpus)
        rng = random.Random(args.seed)
        sample = rng.sample(speeches, min(args.docs, len(speeches)))
        check_sessions({s.session for s in sample})
        log.info("accuracy: %d of %d eligible speeches (sessions %d-%d), seed %d",
                 len(sample), len(speeches), min(TUNING_SESSIONS), max(TUNING_SESSIONS), args.seed)
        result["docs"] = len(sample)
        for name in args.variants:
            score = run_variant(sample, args.seed, name, segment)
            result[name] = score.summary()
            log.info("[%s] %s; generated: %s", name, json.dumps(result[name]), dict(score.generated))
            report_errors(name, score, args.verbose, args.examples)

    if args.gold is not None:
        for split, docs in sorted(load_gold(args.gold.resolve()).items()):
            name = f"gold_{split}"
            score = run_gold(docs, segment)
            result[name] = {"docs": len(docs), **score.summary()}
            log.info("[%s] %s", name, json.dumps(result[name]))
            report_errors(name, score, args.verbose, args.examples)

    if not args.skip_throughput:
        result["throughput"] = throughput(corpus)
        log.info("throughput: %s", json.dumps(result["throughput"]))
    result["targets"] = TARGETS
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
