"""Target-relative views of a text, and the n-gram analyzer that turns them into features.

The classifier never sees the target's name. For a pair (text, target) every mention of
the target becomes :data:`TARGET_TOKEN` and every mention of another known target becomes
:data:`OTHER_TOKEN`, so "NATO ignored Russia's concerns" reads
``xxtarget ignored xxother s concerns`` toward NATO and ``xxother ignored xxtarget s
concerns`` toward Russia: the same words, different features. A :class:`TargetView` then
keeps three blocks of lower-cased tokens:

``doc``
    the whole text;
``sentences``
    each sentence that mentions the target;
``windows``
    ``window`` tokens either side of each mention of the target.

:class:`ContextAnalyzer` turns a view into word n-grams prefixed by their block
(``d:``, ``s:``, ``w:``), never joining n-grams across sentences or windows; it is the
``analyzer`` of a scikit-learn ``TfidfVectorizer``. Optional blocks: character n-grams
(``c:``), cues of the hand-written hostility / cooperation lexicon (:data:`HOSTILE`,
:data:`COOPERATIVE`; ``L:``), negation marks (``~word``) and the target's identity
(``t:``, ``x:``). With roles on, the cues of a sentence in which the target only undergoes a hostile
act (:mod:`pipeline.stance.roles`: a victim, accused of nothing there) are also counted as ``L:v:``,
so the model can learn that hostility around a victim is not hostility toward it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress

from ..sentences import Span
from ..sentences import sentence_spans as _sentence_spans
from .roles import role_features, victim_only
from .targets import TargetMatcher, all_mentions

TARGET_TOKEN = "xxtarget"
OTHER_TOKEN = "xxother"

_TOKEN = re.compile(r"[^\W_]+|[!?]")
#: with ``social_tokens``: hashtags and user names keep their ``#`` / ``@``
_SOCIAL_TOKEN = re.compile(r"[#@]?[^\W_]+|[!?]")
#: ``str.translate`` table that leaves ASCII letters and digits, spaces out ``!`` and ``?`` and blanks the rest
_ASCII_SPLIT = str.maketrans({**{chr(i): " " for i in range(128) if not chr(i).isalnum()}, "!": " ! ", "?": " ? "})
#: the same without ``!`` and ``?`` (for text that has none): one character for one
_ASCII_BLANK = str.maketrans({chr(i): " " for i in range(128) if not chr(i).isalnum()})
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
#: the characters whose lower case is not one character of the same class, wherever they stand
_LOWER_UNSAFE = ("\u0130", "\u03a3")


def sentence_spans(text: str) -> list[Span]:
    """Sentences of a paragraph; a line break (an attached heading) also ends one."""
    return _sentence_spans(text, newlines=True)


@dataclass(frozen=True)
class TargetView:
    """One text seen relative to one target (see the module docstring)."""

    doc: tuple[str, ...]
    sentences: tuple[tuple[str, ...], ...]
    windows: tuple[tuple[str, ...], ...]
    #: character spans of the sentences in ``sentences``, for evidence
    sentence_spans: tuple[Span, ...]
    #: how many times the text mentions the target
    mentions: int
    #: the target's name
    target: str = ""


def target_view(text: str, target: str, matchers: Sequence[TargetMatcher], window: int,
                mentions: Sequence[tuple[int, int, str]] | None = None, social_tokens: bool = False) -> TargetView:
    """Build the :class:`TargetView` of ``text`` toward the target named ``target``.

    Parameters
    ----------
    text : str
        The paragraph.
    target : str
        Name of the target; must be one of ``matchers``.
    matchers : sequence of TargetMatcher
        Every known target; mentions of the others become :data:`OTHER_TOKEN`.
    window : int
        Tokens kept on either side of each mention of the target.
    mentions : sequence of (start, end, name), optional
        ``all_mentions(text, matchers)`` when already known (it does not depend on the target).
    social_tokens : bool
        Keep the ``#`` of hashtags and the ``@`` of user names as part of the token.
    """
    text = text or ""
    found = all_mentions(text, matchers) if mentions is None else mentions
    return TokenizedText.of(text, found, social_tokens).view(target, window)


class TokenizedText:
    """A text's tokens with its target mentions marked: the target-independent part of a view.

    Tokenising (and splitting into sentences) once per text and then calling :meth:`view`
    for each target asked about gives the same views as :func:`target_view`, faster.
    """

    __slots__ = ("mention_names", "mention_positions", "sentence_of", "spans", "text", "tokens")

    def __init__(self, text: str, tokens: list[str], mention_positions: list[int], mention_names: list[str],
                 spans: list[Span] | None = None, sentence_of: list[int] | None = None) -> None:
        self.text = text
        self.tokens = tokens
        self.mention_positions = mention_positions
        self.mention_names = mention_names
        #: the text's sentences and the sentence of each token (only when it mentions a target)
        self.spans = spans
        self.sentence_of = sentence_of

    @classmethod
    def of(cls, text: str, mentions: Sequence[tuple[int, int, str]], social_tokens: bool = False) -> TokenizedText:
        """Tokenise ``text`` whose target mentions are ``mentions`` (``all_mentions`` output)."""
        find = (_SOCIAL_TOKEN if social_tokens else _TOKEN).findall
        # lower-casing the text keeps every offset and token boundary (each character lowers to
        # one character of the same class), so the tokens of the lower-cased text are the
        # lower-cased tokens; except for two characters (checked over all of Unicode by a test):
        # U+0130 lowers to two characters, and U+03A3 lowers by its context (final sigma)
        whole = text.isascii() or not (_LOWER_UNSAFE[0] in text or _LOWER_UNSAFE[1] in text)
        source = text.lower() if whole else text
        split = blank = False
        if whole and not social_tokens:
            # ``_TOKEN`` on ASCII text is: runs of letters and digits, and each ``!`` / ``?``, which
            # ``str.translate`` + ``str.split`` find several times faster than the regex; a
            # non-ASCII character that is not a letter or digit separates tokens as a space does
            if not source.isascii():
                for char in set(_NON_ASCII.findall(source)):
                    if not char.isalnum():
                        source = source.replace(char, " ")
            split = source.isascii()
            if split and "!" not in source and "?" not in source:
                # blanking is one character for one, so offsets hold: translate once, split by piece
                source = source.translate(_ASCII_BLANK)
                blank = True
        if not mentions:
            if blank:
                return cls(text, source.split(), [], [])
            if split:
                return cls(text, source.translate(_ASCII_SPLIT).split(), [], [])

        def tokens_of(start: int, end: int) -> list[str]:
            if blank:
                return source[start:end].split()
            if split:
                return source[start:end].translate(_ASCII_SPLIT).split()
            return find(source, start, end) if whole else [t.lower() for t in find(text, start, end)]

        if not mentions:
            return cls(text, tokens_of(0, len(text)), [], [])
        spans = sentence_spans(text)
        # a token of ``sentence_of[i] == k`` starts at or after the start of sentence k (the first
        # sentence also takes what precedes it); white space precedes every sentence start, so
        # cutting the text there never cuts a token
        cuts = [start for start, _ in spans[1:]]
        tokens: list[str] = []
        sentence_of: list[int] = []
        positions: list[int] = []
        names: list[str] = []
        k = 0  # cuts at or before the cursor: the cursor's sentence

        def add(start: int, end: int) -> None:
            nonlocal k
            while start < end:
                while k < len(cuts) and cuts[k] <= start:
                    k += 1
                stop = cuts[k] if k < len(cuts) and cuts[k] < end else end
                piece = tokens_of(start, stop)
                tokens.extend(piece)
                sentence_of.extend([k] * len(piece))
                start = stop

        cursor = 0
        for start, end, name in mentions:
            add(cursor, start)
            while k < len(cuts) and cuts[k] <= start:
                k += 1
            positions.append(len(tokens))
            names.append(name)
            tokens.append(OTHER_TOKEN)
            sentence_of.append(k)
            cursor = end
        add(cursor, len(text))
        return cls(text, tokens, positions, names, spans, sentence_of)

    def view(self, target: str, window: int) -> TargetView:
        """The :class:`TargetView` toward ``target`` (see :func:`target_view`)."""
        target_positions = [p for p, n in zip(self.mention_positions, self.mention_names, strict=True) if n == target]
        if not target_positions:
            return TargetView(tuple(self.tokens), (), (), (), 0, target)
        tokens = list(self.tokens)
        for p in target_positions:
            tokens[p] = TARGET_TOKEN
        spans, sentence_of = self.spans, self.sentence_of
        assert spans is not None and sentence_of is not None  # set whenever there are mentions
        wanted = sorted({sentence_of[i] for i in target_positions})
        # ``sentence_of`` never decreases, so a sentence's tokens are one run of ``tokens``
        sentences = tuple(tuple(tokens[bisect_left(sentence_of, k):bisect_right(sentence_of, k)]) for k in wanted)
        windows = tuple(tuple(tokens[max(0, i - window): i + window + 1]) for i in target_positions)
        return TargetView(tuple(tokens), sentences, windows, tuple(spans[k] for k in wanted),
                          len(target_positions), target)


# ---------------------------------------------------------------------- lexicon
#
# A small hand-written lexicon of hostility and cooperation cues, and negation words.
# Written for this project from general knowledge of diplomatic language (not taken
# from any data set). Each entry is a lower-case word *prefix*: a token is a cue when it
# starts with one of them (``aggress`` covers aggression, aggressive, aggressor).
# ContextAnalyzer(lexicon=True) turns the cues near a target mention into a few dense
# features, so the classifier can generalise from words it rarely saw in training.

#: words of hostility, blame, coercion and harm
HOSTILE = (
    "aggress", "sanction", "hegemon", "imperialis", "colonialis", "neocolonial", "occupier", "occupation",
    "invade", "invasion", "invader", "annex", "interfere", "interference", "meddl", "coerc", "blockade",
    "embargo", "threat", "provocat", "provok", "destabili", "hostil", "unilateral", "bully", "bullie",
    "blackmail", "dominat", "domination", "exploit", "hypocri", "violat", "condemn", "accuse", "accusation",
    "attack", "criminal", "illegal", "illegitimate", "arrogan", "militari", "expansionis", "encircl",
    "confront", "propaganda", "disinformation", "lie", "lies", "lying", "oppress", "genocid", "atrocit",
    "warmonger", "brutal", "cruel", "siege", "plunder", "loot", "betray", "deceit", "deceiv", "manipulat",
    "subver", "undermin", "weaponi", "intimidat", "punish", "pressur", "impose", "imposition", "ultimatum",
    "dictat", "destroy", "destruct", "devastat", "kill", "bomb", "denounc", "deplor", "blame", "irresponsib",
    "reckless", "lawless", "rogue", "enemy", "enemies", "adversar", "arbitrar", "unjust", "injustic",
    "persecut", "repress", "crime", "murder", "massacre", "slaughter", "terroris", "empire", "imperial",
    "arrogance", "greed", "selfish", "interventionis", "aggressor", "revanch", "nazi", "fascis", "regime",
    "puppet", "sabotag", "spy", "espionage", "hack", "cyberattack", "extort", "smear", "slander", "demoni",
    "isolat", "containment", "rival", "tension", "escalat", "hostage", "abuse", "torture", "detain", "detention",
    "unlawful", "illegality", "failure", "failed", "reject", "refus", "obstruct", "veto", "withdrew",
    "withdraw", "abandon", "dangerous", "danger", "menace", "insult", "humiliat", "scourge", "worst",
)

#: words of cooperation, support, gratitude and praise
COOPERATIVE = (
    "partner", "cooperat", "collaborat", "friend", "ally", "allies", "allied", "alliance",
    "support", "thank", "grateful", "gratitude", "appreciat", "welcome", "commend", "prais", "congratulat",
    "solidarity", "assist", "aid", "help", "contribut", "generous", "generosity", "invest", "agreement",
    "accession", "membership", "integrat", "trust", "mutual", "dialogu", "brother", "fraternal", "admir",
    "salute", "champion", "leadership", "benefit", "donat", "pledge", "together", "bilateral", "ties",
    "deepen", "strengthen", "progress", "success", "achiev", "shared", "reliable", "valuable",
    "constructive", "fruitful", "closely", "closer", "warm", "respect", "joint", "jointly", "engage",
    "facilitat", "mediat", "broker", "initiative", "commitment", "committed", "provid", "deliver", "supply",
    "supplied", "relief", "recover", "peaceful", "stabil", "protect", "defend",
    "unity", "solidar", "hope", "encourag", "applaud", "recogni", "honour", "honor", "proud",
    "best", "important", "key", "crucial", "vital", "indispensable", "essential", "positive",
    "good", "excellent", "remarkable", "effective", "inspir", "exemplar", "steadfast", "dedicat",
    "priorit", "associat", "enlarg", "aspir", "joined", "joining", "relations", "exchange", "connectiv",
    "opportunit", "prosper",
)

#: words that reverse the cue after them (``don't`` is tokenised as ``don`` ``t``)
NEGATIONS = frozenset({
    "not", "no", "never", "nor", "neither", "without", "cannot", "t", "nothing", "none", "nobody",
    "hardly", "lack", "lacks", "lacking", "against", "stop", "end", "ending", "ended", "instead",
})

#: tokens after a negation word that it reverses
NEGATION_SCOPE = 3


def _matcher(prefixes: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    by_first: dict[str, list[str]] = {}
    for p in prefixes:
        by_first.setdefault(p[0], []).append(p)
    return {k: tuple(sorted(v, key=len)) for k, v in by_first.items()}


_HOSTILE = _matcher(HOSTILE)
_COOPERATIVE = _matcher(COOPERATIVE)


@lru_cache(maxsize=65536)
def cue(token: str) -> str:
    """``"hostile"``, ``"coop"`` or ``""`` for one lower-case token."""
    if len(token) < 3:
        return ""
    first = token[0]
    for prefix in _HOSTILE.get(first, ()):
        if token.startswith(prefix):
            return "hostile"
    for prefix in _COOPERATIVE.get(first, ()):
        if token.startswith(prefix):
            return "coop"
    return ""


class ContextAnalyzer:
    """Word n-grams of a :class:`TargetView`, prefixed by block; a ``TfidfVectorizer`` analyzer.

    Parameters
    ----------
    ngram_range : tuple of int
        Smallest and largest n-gram length.
    target_features : bool
        Add which target is asked about (``t:``), alone and crossed with the words of its
        sentences (``x:``).
    char_ngram_range : tuple of int
        Character n-grams (``c:``) of the words of ``char_scope``, each word padded with
        spaces (scikit-learn's ``char_wb``); ``(0, 0)`` for none.
    char_scope : {'windows', 'sentences', 'doc'}
        Where character n-grams are taken from: the mention windows, the mention sentences
        or the whole text.
    lexicon : bool
        Cues of hostility and cooperation (:data:`HOSTILE`, :data:`COOPERATIVE`) in the mention
        sentences (``L:s:``) and windows (``L:w:``, also by side of the mention and
        ``L:n:`` within three words of it), marked ``_neg`` after a negation word.
    negation : bool
        Words up to three tokens after a negation word read as ``~word`` in the word n-grams.
    target_scope : {'sentences', 'doc'}
        With ``target_features``, the words crossed with the target: those of its mention
        sentences, or those of the whole text (for short texts that rarely name the target).
    roles : bool
        The target's role in its mention sentences (``R:``; aggressor, victim, accused, helped,
        ...; see :mod:`pipeline.stance.roles`).
    """

    def __init__(self, ngram_range: tuple[int, int] = (1, 2), target_features: bool = False,
                 char_ngram_range: tuple[int, int] = (0, 0), lexicon: bool = False, negation: bool = False,
                 char_scope: str = "windows", target_scope: str = "sentences", roles: bool = False) -> None:
        self.ngram_range = tuple(ngram_range)
        self.target_features = target_features
        self.char_ngram_range = tuple(char_ngram_range)
        self.lexicon = lexicon
        self.negation = negation
        self.char_scope = char_scope
        self.target_scope = target_scope
        self.roles = roles

    def _ngrams(self, prefix: str, tokens: Sequence[str], out: list[str]) -> None:
        low, high = self.ngram_range
        for n in range(low, high + 1):
            for i in range(len(tokens) - n + 1):
                out.append(prefix + " ".join(tokens[i:i + n]))

    def _chars(self, tokens: Sequence[str], out: list[str]) -> None:
        low, high = self.char_ngram_range
        for token in tokens:
            if token in (TARGET_TOKEN, OTHER_TOKEN):
                continue
            padded = f" {token} "
            size = len(padded)
            for n in range(low, min(high, size) + 1):
                for i in range(size - n + 1):
                    out.append("c:" + padded[i:i + n])

    def __call__(self, view: TargetView) -> list[str]:
        out: list[str] = []
        for prefix, tokens in self.word_blocks(view):
            self._ngrams(prefix, tokens, out)
        self.other_features(view, out)
        return out

    def word_blocks(self, view: TargetView) -> list[tuple[str, Sequence[str]]]:
        """The blocks of word n-grams of ``view``: ``(prefix, tokens)``, negation marked, in feature order."""
        mark = _mark_negation if getattr(self, "negation", False) else _same
        return ([("d:", mark(view.doc))] + [("s:", mark(sentence)) for sentence in view.sentences]
                + [("w:", mark(win)) for win in view.windows])

    def other_features(self, view: TargetView, out: list[str]) -> None:
        """Append the features of ``view`` that are not word n-grams (``c:``, ``L:``, ``t:``, ``x:``) to ``out``."""
        if getattr(self, "char_ngram_range", (0, 0))[0] > 0:
            scope = getattr(self, "char_scope", "windows")
            for block in (view.windows if scope == "windows" else view.sentences if scope == "sentences"
                          else (view.doc,)):
                self._chars(block, out)
        roles = getattr(self, "roles", False)
        sentence_roles = []
        if roles:
            for sentence in view.sentences:
                found: list[str] = []
                role_features(sentence, TARGET_TOKEN, OTHER_TOKEN, found)
                sentence_roles.append(found)
        if getattr(self, "lexicon", False):
            for k, sentence in enumerate(view.sentences):
                # the cues of a sentence in which the target only undergoes a hostile act ("the aggression
                # against xxtarget") are sympathy, not hostility toward it: a block of their own
                _cues("L:s:", sentence, out, None)
                if roles and victim_only(sentence_roles[k]):
                    _cues("L:v:", sentence, out, None)
            for win in view.windows:
                _cues("L:w:", win, out, win.index(TARGET_TOKEN) if TARGET_TOKEN in win else None)
        for found in sentence_roles:
            out.extend(found)
        if getattr(self, "target_features", False) and view.target:
            # which target is asked about, alone and crossed with the words of its sentences,
            # so one model can learn target-specific priors and vocabulary
            key = view.target.lower().replace(" ", "_")
            out.append(f"t:{key}")
            crossed = (view.doc,) if getattr(self, "target_scope", "sentences") == "doc" else view.sentences
            out.extend(f"x:{key}:{word}" for sentence in crossed for word in sentence)

    def __repr__(self) -> str:
        return (f"ContextAnalyzer(ngram_range={self.ngram_range}, target_features={self.target_features}, "
                f"char_ngram_range={getattr(self, 'char_ngram_range', (0, 0))}, "
                f"char_scope={getattr(self, 'char_scope', 'windows')!r}, "
                f"target_scope={getattr(self, 'target_scope', 'sentences')!r}, "
                f"lexicon={getattr(self, 'lexicon', False)}, negation={getattr(self, 'negation', False)}, "
                f"roles={getattr(self, 'roles', False)})")


def _same(tokens: Sequence[str]) -> Sequence[str]:
    return tokens


def _mark_negation(tokens: Sequence[str]) -> Sequence[str]:
    """``~word`` for the words up to :data:`NEGATION_SCOPE` tokens after a negation word."""
    out = None
    left = 0
    for i, token in enumerate(tokens):
        if token in NEGATIONS:
            left = NEGATION_SCOPE
        elif left:
            left -= 1
            if out is None:
                out = list(tokens)
            out[i] = "~" + token
    return tokens if out is None else out


def _cues(prefix: str, tokens: Sequence[str], out: list[str], center: int | None) -> None:
    """Lexicon cues of ``tokens``; with ``center`` (the mention in a window) also by side and distance.

    A cue is negated when a negation word stands at most :data:`NEGATION_SCOPE` tokens before it
    (a negation word is never a cue); only the tokens that are cues or negation words are visited.
    """
    kinds = list(map(_TOKEN_KINDS.__getitem__, tokens))
    negation = -NEGATION_SCOPE - 1
    for i in compress(range(len(kinds)), kinds):
        kind = kinds[i]
        if kind is _NEGATION:
            negation = i
            continue
        if i - negation <= NEGATION_SCOPE:
            kind += "_neg"
        out.append(prefix + kind)
        if center is not None:
            out.append(prefix + kind + (":before" if i < center else ":after"))
            if abs(i - center) <= 3:
                out.append("L:n:" + kind)


_NEGATION = "negation"


class _TokenKinds(dict):  # type: ignore[type-arg]
    """Token -> :data:`_NEGATION`, its :func:`cue` (``"hostile"`` / ``"coop"``) or ``""``; filled on demand."""

    def __missing__(self, token: str) -> str:
        if len(self) >= 1 << 17:  # bounded, as a corpus has no end of rare words
            self.clear()
        kind = self[token] = _NEGATION if token in NEGATIONS else cue(token)
        return kind


_TOKEN_KINDS = _TokenKinds()
