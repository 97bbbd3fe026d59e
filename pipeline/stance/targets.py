"""Find where a text mentions a stance target.

Each :class:`~pipeline.config.TargetConfig` is compiled into one regular expression:
its ``aliases`` match case-insensitively, its ``case_sensitive_aliases`` exactly (so the
alias ``US`` finds "the US" but never "us"), and the whole alternation must stand as a
word of its own (no letter, digit or underscore on either side). Because an apostrophe or
hyphen is not a word character, ``Russia's`` and ``anti-Russian`` mention Russia, while
``Russians`` does not match the alias ``Russian?`` (add ``Russians?`` to cover it).

Curly apostrophes are read as straight ones (``People’s Republic of China``) without
changing character offsets.

:func:`all_mentions` straightens the apostrophes once per text and scans it once with a
combined pattern (cached per tuple of matchers) that only finds the positions where some
target matches; each target's own pattern then runs at those few positions, which gives
exactly what every target's ``finditer`` would give.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..config import TargetConfig
from ..errors import ConfigError

#: one-to-one replacements, so offsets in the normalised text are offsets in the original
_CURLY = ("\u2019", "\u2018", "\u02bc", "\u2032")
_GLOBAL_FLAGS = re.compile(r"^\(\?([imsx]+)\)")
#: the lookbehind that opens every pattern of :func:`compile_target`
_WORD_START = r"(?<!\w)"
#: constructs whose meaning depends on group numbers, which change when patterns are combined
_GROUP_NUMBERS = re.compile(r"\\[1-9]|\(\?\(")

Span = tuple[int, int]


@dataclass(frozen=True)
class TargetMatcher:
    r"""A target's name and the compiled pattern that finds its mentions.

    ``word_bounded`` is True when the pattern is ``(?<!\w)(?:...)(?!\w)`` as :func:`compile_target`
    builds it: every match must pass the leading lookbehind, so several such patterns can share it
    (see :func:`_candidate_pattern`). Hand-made matchers leave it False and are never combined that way.
    """

    name: str
    pattern: re.Pattern[str]
    word_bounded: bool = False

    def find_mentions(self, text: str) -> list[Span]:
        """Character spans ``(start, end)`` of every mention, left to right, not overlapping."""
        if not text:
            return []
        return [m.span() for m in self.pattern.finditer(_straighten(text)) if m.end() > m.start()]

    def mentions(self, text: str) -> bool:
        """Whether ``text`` mentions the target at all."""
        return bool(text) and self.pattern.search(_straighten(text)) is not None


def _straighten(text: str) -> str:
    """``text`` with curly apostrophes made straight (same length, same offsets)."""
    # every character replaced is non-ASCII, and ``isascii`` costs nothing; ``str.replace`` of
    # the few characters present is much faster than ``str.translate`` on non-ASCII text, and the
    # same, as the replacements are one-to-one and never replaced again
    if text.isascii():
        return text
    for curly in _CURLY:
        if curly in text:
            text = text.replace(curly, "'")
    return text


def target_spec(target: TargetConfig | Mapping[str, Any]) -> dict[str, Any]:
    """Plain-dict form of a target (``name``, ``aliases``, ``case_sensitive_aliases``)."""
    if isinstance(target, TargetConfig):
        target = target.model_dump()
    if not isinstance(target, Mapping) or not isinstance(target.get("name"), str):
        raise ConfigError(f"a stance target must have a name and aliases, got {target!r}")
    return {
        "name": target["name"],
        "aliases": [str(a) for a in target.get("aliases") or []],
        "case_sensitive_aliases": [str(a) for a in target.get("case_sensitive_aliases") or []],
    }


def _scoped(alias: str, insensitive: bool) -> str:
    # a leading global flag such as "(?i)" is only legal at the very start of a pattern,
    # so turn it into a scoped group that can sit inside the alternation
    flags = "i" if insensitive else ""
    match = _GLOBAL_FLAGS.match(alias)
    if match:
        flags += match.group(1).replace("i", "") if insensitive else match.group(1)
        alias = alias[match.end():]
    return f"(?{flags}:{alias})" if flags else f"(?:{alias})"


def compile_target(target: TargetConfig | Mapping[str, Any]) -> TargetMatcher:
    """Compile one target's aliases into a single word-bounded pattern.

    Raises
    ------
    ConfigError
        If the target has no alias or an alias is not a valid regular expression.
    """
    spec = target_spec(target)
    parts = [(a, True) for a in spec["aliases"]] + [(a, False) for a in spec["case_sensitive_aliases"]]
    if not parts:
        raise ConfigError(f"stance target {spec['name']!r}: needs at least one alias")
    # longer patterns first, so "Russian Federation" wins over "Russian?" at the same start
    parts.sort(key=lambda item: -len(item[0]))
    body = "|".join(_scoped(alias, insensitive) for alias, insensitive in parts)
    try:
        pattern = re.compile(rf"(?<!\w)(?:{body})(?!\w)")
    except re.error as exc:
        raise ConfigError(f"stance target {spec['name']!r}: invalid alias pattern: {exc}") from None
    return TargetMatcher(spec["name"], pattern, word_bounded=True)


def compile_targets(targets: Iterable[TargetConfig | Mapping[str, Any]]) -> dict[str, TargetMatcher]:
    """Compile several targets, keyed by name in the given order."""
    matchers: dict[str, TargetMatcher] = {}
    for target in targets:
        matcher = compile_target(target)
        if matcher.name in matchers:
            raise ConfigError(f"stance target {matcher.name!r}: defined twice")
        matchers[matcher.name] = matcher
    return matchers


def find_mentions(text: str, target: TargetConfig | Mapping[str, Any] | TargetMatcher) -> list[Span]:
    """Character spans of the mentions of ``target`` in ``text``.

    Examples
    --------
    >>> from pipeline.config import DEFAULT_TARGETS
    >>> find_mentions("Tell us what the US wants.", DEFAULT_TARGETS[1])
    [(17, 19)]
    """
    matcher = target if isinstance(target, TargetMatcher) else compile_target(target)
    return matcher.find_mentions(text)


def _candidate_pattern(matchers: Sequence[TargetMatcher]) -> re.Pattern[str] | None:
    """One pattern matching (empty) exactly where at least one of ``matchers`` matches, if possible.

    ``None`` when the patterns cannot be combined safely: flags other than the default
    (including global inline flags), numbered back-references or conditionals (group
    numbers shift when combined), or a combination that does not compile (e.g. the same
    group name twice).
    """
    if not matchers:
        return None
    for m in matchers:
        if m.pattern.flags != re.UNICODE or _GROUP_NUMBERS.search(m.pattern.pattern):
            return None
    # a lookbehind shared by all patterns is checked once, before the alternatives
    shared = all(m.word_bounded for m in matchers)
    skip = len(_WORD_START) if shared else 0
    body = "|".join(f"(?:{m.pattern.pattern[skip:]})" for m in matchers)
    try:
        return re.compile(f"{_WORD_START if shared else ''}(?={body})")
    except (re.error, RecursionError, OverflowError):
        return None


class _Combined:
    """The matchers of one ``all_mentions`` call and their combined candidate pattern."""

    __slots__ = ("candidates", "matchers", "names", "patterns")

    def __init__(self, matchers: tuple[TargetMatcher, ...]) -> None:
        self.matchers = matchers  # kept alive, so the ids in the cache key stay theirs
        self.patterns = [m.pattern for m in matchers]
        self.names = [m.name for m in matchers]
        self.candidates = _candidate_pattern(matchers)


#: combined patterns by the ids of the matchers (a list is accepted, and hashing ids is cheap)
_COMBINED: dict[tuple[int, ...], _Combined] = {}
_COMBINED_MAX = 64


def _combined(matchers: Sequence[TargetMatcher]) -> _Combined:
    key = tuple(map(id, matchers))
    combined = _COMBINED.get(key)
    if combined is None:
        if len(_COMBINED) >= _COMBINED_MAX:
            _COMBINED.clear()
        combined = _COMBINED[key] = _Combined(tuple(matchers))
    return combined


def _each_target(text: str, combined: _Combined) -> list[tuple[int, int, str]]:
    """Every target's ``find_mentions`` on the straightened ``text``, one target after another."""
    return [(m.start(), m.end(), name) for pattern, name in zip(combined.patterns, combined.names, strict=True)
            for m in pattern.finditer(text) if m.end() > m.start()]


def _at_candidates(text: str, combined: _Combined) -> list[tuple[int, int, str]] | None:
    """What :func:`_each_target` gives, found from the candidate positions; ``None`` on an empty match.

    Each target's ``finditer`` takes, from the end of its previous match, the leftmost
    position where its pattern matches. Every such position is a candidate, so trying the
    pattern at the candidates from that end on, in order, finds the same matches (listed by
    start, then in the order of the targets, which the stable sort after it does not mind).
    """
    assert combined.candidates is not None
    patterns, names = combined.patterns, combined.names
    resume = [0] * len(patterns)
    found = []
    for candidate in combined.candidates.finditer(text):
        start = candidate.start()
        for i, pattern in enumerate(patterns):
            if start >= resume[i]:
                match = pattern.match(text, start)
                if match is not None:
                    end = match.end()
                    if end == start:  # after an empty match finditer has rules of its own: let it run
                        return None
                    found.append((start, end, names[i]))
                    resume[i] = end
    return found


def all_mentions(text: str, matchers: Sequence[TargetMatcher]) -> list[tuple[int, int, str]]:
    """Mentions of every target as ``(start, end, name)``, sorted and without overlaps.

    Where mentions of different targets overlap, the earlier one wins and, at the same
    start, the longer one (at the same start and length, the target listed first).
    """
    if not text or not matchers:
        return []
    combined = _combined(matchers)
    text = _straighten(text)
    found = None if combined.candidates is None else _at_candidates(text, combined)
    if found is None:
        found = _each_target(text, combined)
    found.sort(key=lambda item: (item[0], item[0] - item[1]))
    kept: list[tuple[int, int, str]] = []
    last_end = -1
    for start, end, name in found:
        if start >= last_end:
            kept.append((start, end, name))
            last_end = end
    return kept
