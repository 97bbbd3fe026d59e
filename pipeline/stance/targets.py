"""Find where a text mentions a stance target.

Each :class:`~pipeline.config.TargetConfig` is compiled into one regular expression:
its ``aliases`` match case-insensitively, its ``case_sensitive_aliases`` exactly (so the
alias ``US`` finds "the US" but never "us"), and the whole alternation must stand as a
word of its own (no letter, digit or underscore on either side). Because an apostrophe or
hyphen is not a word character, ``Russia's`` and ``anti-Russian`` mention Russia, while
``Russians`` does not match the alias ``Russian?`` (add ``Russians?`` to cover it).

Curly apostrophes are read as straight ones (``People’s Republic of China``) without
changing character offsets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..config import TargetConfig
from ..errors import ConfigError

#: one-to-one replacements, so offsets in the normalised text are offsets in the original
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'"})
_GLOBAL_FLAGS = re.compile(r"^\(\?([imsx]+)\)")

Span = tuple[int, int]


@dataclass(frozen=True)
class TargetMatcher:
    """A target's name and the compiled pattern that finds its mentions."""

    name: str
    pattern: re.Pattern[str]

    def find_mentions(self, text: str) -> list[Span]:
        """Character spans ``(start, end)`` of every mention, left to right, not overlapping."""
        if not text:
            return []
        return [m.span() for m in self.pattern.finditer(text.translate(_APOSTROPHES)) if m.end() > m.start()]

    def mentions(self, text: str) -> bool:
        """Whether ``text`` mentions the target at all."""
        return bool(text) and self.pattern.search(text.translate(_APOSTROPHES)) is not None


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
    return TargetMatcher(spec["name"], pattern)


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


def all_mentions(text: str, matchers: Sequence[TargetMatcher]) -> list[tuple[int, int, str]]:
    """Mentions of every target as ``(start, end, name)``, sorted and without overlaps.

    Where mentions of different targets overlap, the earlier one wins and, at the same
    start, the longer one.
    """
    found = [(s, e, m.name) for m in matchers for s, e in m.find_mentions(text)]
    found.sort(key=lambda item: (item[0], -(item[1] - item[0])))
    kept: list[tuple[int, int, str]] = []
    last_end = -1
    for start, end, name in found:
        if start >= last_end:
            kept.append((start, end, name))
            last_end = end
    return kept
