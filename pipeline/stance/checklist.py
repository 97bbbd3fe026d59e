"""Behavioural tests of a stance model in the style of CheckList (Ribeiro et al., ACL 2020).

Three kinds of test, generated from templates for the default targets (deterministic: the same
cases in the same order on every run, no randomness):

``mft`` (minimum functionality)
    Short sentences whose roles fix the labels. Each role pattern is filled with every ordered
    pair of distinct targets (A, B): "We condemn {A}'s aggression against {B}." must be
    ``against`` A and ``favor`` B; "We reject the baseless accusations that {A} keeps making
    against {B}." likewise. A case passes for one target when the model's label is the expected
    one; results are kept per pattern and per role (``aggressor``/``victim``, ...). ``basic``
    patterns test one target alone (plain praise, plain condemnation, a neutral report).
``inv`` (invariance)
    Changing a country that is not a target, a number or a year must not change the label.
    A pair passes when the variant gets the base sentence's label (whatever it is).
``dir`` (directional)
    Appending a condemnation of the target ("We condemn {T}'s conduct in this matter.") must not
    raise the probability of ``favor`` by more than :data:`DIR_TOLERANCE`; appending thanks
    ("We are deeply grateful to {T} for its support.") must not raise ``against``.

:func:`run_checklist` scores a fitted model and returns pass rates per test type (and per
pattern); ``train_stance`` writes them into ``stance.metrics`` under ``checklist`` and
``benchmarks/stance_checklist.py`` prints them. Targets outside :data:`SURFACE` (user-added
ones) are skipped: their natural surface form is unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import permutations
from typing import Any

import numpy as np

#: how each default target is written in a sentence: (name, possessive)
SURFACE: dict[str, tuple[str, str]] = {
    "West": ("the West", "the West's"),
    "United States": ("the United States", "the United States'"),
    "NATO": ("NATO", "NATO's"),
    "China": ("China", "China's"),
    "European Union": ("the European Union", "the European Union's"),
    "Russia": ("Russia", "Russia's"),
    "Ukraine": ("Ukraine", "Ukraine's"),
}

#: (pattern name, template, expected label of A, expected label of B, role of A, role of B);
#: ``{A}``/``{B}`` are the names, ``{A_s}``/``{B_s}`` the possessives
PAIR_PATTERNS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("aggression", "We condemn {A_s} aggression against {B}.", "against", "favor", "aggressor", "victim"),
    ("invasion", "{A} invaded {B} in flagrant violation of international law.",
     "against", "favor", "aggressor", "victim"),
    ("solidarity", "Our country stands in full solidarity with {B} in the face of the attacks launched by {A}.",
     "against", "favor", "aggressor", "defended"),
    ("rejected_accusation", "We reject the baseless accusations that {A} keeps making against {B}.",
     "against", "favor", "accuser", "accused"),
    ("sanctions", "{A} imposed illegal unilateral sanctions on {B}, and ordinary people pay the price.",
     "against", "favor", "aggressor", "victim"),
    ("occupation", "We call on {A} to end its occupation of {B_s} territory immediately.",
     "against", "favor", "aggressor", "victim"),
    ("dismissed_threat", "The so-called threat from {B} is a myth invented by {A} to justify its own military build-up.",
     "against", "favor", "accuser", "accused"),
    ("victim_of_disinformation", "{B} is the victim of a campaign of lies orchestrated by {A}.",
     "against", "favor", "aggressor", "victim"),
    ("helper_and_harmer", "We are grateful to {A} for its generous help, while {B} has brought us nothing but hardship.",
     "favor", "against", "helper", "harmer"),
)

#: (pattern name, template, expected label) for one target ``{T}`` / ``{T_s}``
BASIC_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("praise", "We thank {T} for its steadfast support and its generous assistance to our people.", "favor"),
    ("condemnation", "We strongly condemn {T} for its reckless and destructive policies.", "against"),
    ("neutral_report", "The delegation of {T} arrived in Geneva on Monday for the scheduled talks.", "neutral"),
)

#: invariance bases: ``{T}`` a target, ``{C}`` a non-target country, ``{N}`` a number, ``{Y}`` a year
INV_TEMPLATES: tuple[str, ...] = (
    "In {Y}, {T} signed a trade agreement with {C} worth {N} million dollars.",
    "We condemn {T} for its military build-up near the border of {C}, which has grown by {N} per cent since {Y}.",
    "We thank {T} for the {N} tonnes of humanitarian aid it delivered to {C} in {Y}.",
    "{T} has once again tried to interfere in the internal affairs of {C}, as it did in {Y}.",
    "Together with {T} and {C}, we will host a conference on climate finance in {Y} for {N} delegations.",
    "The talks between {C} and {T} in {Y} ended without agreement on the {N} disputed points.",
)
COUNTRIES: tuple[str, ...] = ("France", "Brazil", "India", "Japan", "Nigeria", "Mexico", "Indonesia", "Egypt")
NUMBERS: tuple[str, ...] = ("40", "250", "3,400")
YEARS: tuple[str, ...] = ("2016", "2009", "2019")

#: directional: (name, sentence appended, label whose probability must not rise)
DIR_ADDITIONS: tuple[tuple[str, str, str], ...] = (
    ("add_condemnation", "We condemn {T_s} conduct in this matter.", "favor"),
    ("add_blame", "{T} bears full responsibility for this dangerous escalation.", "favor"),
    ("add_thanks", "We are deeply grateful to {T} for its support.", "against"),
    ("add_praise", "{T} has shown admirable leadership and generosity.", "against"),
)
DIR_BASES: tuple[str, ...] = (
    "{T} hosted the summit on maritime security in 2018.",
    "Our ministers discussed energy and trade with {T} last month.",
    "{T} announced a new programme of infrastructure investment.",
    "The report mentions {T} among the largest producers of steel.",
)
#: how much a probability may move the wrong way before a directional test fails
DIR_TOLERANCE = 0.02


@dataclass(frozen=True)
class Case:
    """One behavioural check of one (text, target) pair."""

    kind: str  # "mft", "inv" or "dir"
    pattern: str
    text: str
    target: str
    expected: str = ""  # mft: the label expected
    role: str = ""  # mft: the target's role in the pattern
    base: str = ""  # inv/dir: the text it is compared with
    watch: str = ""  # dir: the label whose probability must not rise


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fill(template: str, **slots: str) -> str:
    out = template.format(**slots)
    return _capital(out)


def build_cases(targets: Sequence[str]) -> list[Case]:
    """Every behavioural case for the targets of ``targets`` that :data:`SURFACE` knows, in a fixed order."""
    names = [t for t in targets if t in SURFACE]
    cases: list[Case] = []
    for pattern, template, label_a, label_b, role_a, role_b in PAIR_PATTERNS:
        for a, b in permutations(names, 2):
            text = _fill(template, A=SURFACE[a][0], A_s=SURFACE[a][1], B=SURFACE[b][0], B_s=SURFACE[b][1])
            cases.append(Case("mft", pattern, text, a, expected=label_a, role=role_a))
            cases.append(Case("mft", pattern, text, b, expected=label_b, role=role_b))
    for pattern, template, label in BASIC_PATTERNS:
        for t in names:
            text = _fill(template, T=SURFACE[t][0], T_s=SURFACE[t][1])
            cases.append(Case("mft", f"basic_{pattern}", text, t, expected=label, role="single"))
    for template in INV_TEMPLATES:
        for t in names:
            slots = {"T": SURFACE[t][0], "C": COUNTRIES[0], "N": NUMBERS[0], "Y": YEARS[0]}
            base = _fill(template, **slots)
            variants = ([("country", {**slots, "C": c}) for c in COUNTRIES[1:]]
                        + [("number", {**slots, "N": n}) for n in NUMBERS[1:]]
                        + [("year", {**slots, "Y": y}) for y in YEARS[1:]])
            for what, filled in variants:
                if "{" + what[0].upper() + "}" not in template:
                    continue
                cases.append(Case("inv", f"change_{what}", _fill(template, **filled), t, base=base))
    for name, addition, watch in DIR_ADDITIONS:
        for t in names:
            for template in DIR_BASES:
                base = _fill(template, T=SURFACE[t][0], T_s=SURFACE[t][1])
                text = base + " " + _fill(addition, T=SURFACE[t][0], T_s=SURFACE[t][1])
                cases.append(Case("dir", name, text, t, base=base, watch=watch))
    return cases


def _rate(passed: Sequence[bool]) -> float | None:
    return round(float(np.mean(passed)), 4) if len(passed) else None


def score_cases(cases: Sequence[Case], classes: Sequence[str], proba: np.ndarray,
                base_proba: np.ndarray) -> dict[str, Any]:
    """Pass rates from the model's probabilities of ``cases`` (and of each case's ``base`` text).

    Returns ``{"overall": rate, "mft": {...}, "inv": {...}, "dir": {...}, "cases": n,
    "failures": [a few failing cases]}``; each kind holds ``rate``, ``cases`` and ``by_pattern``
    (and, for ``mft``, ``by_role``).
    """
    classes = list(classes)
    labels = [classes[i] for i in np.argmax(proba, axis=1)] if len(proba) else []
    base_labels = [classes[i] for i in np.argmax(base_proba, axis=1)] if len(base_proba) else []
    passed: list[bool] = []
    for i, case in enumerate(cases):
        if case.kind == "mft":
            passed.append(labels[i] == case.expected)
        elif case.kind == "inv":
            passed.append(labels[i] == base_labels[i])
        else:
            col = classes.index(case.watch)
            passed.append(bool(proba[i, col] <= base_proba[i, col] + DIR_TOLERANCE))
    out: dict[str, Any] = {"cases": len(cases)}
    for kind in ("mft", "inv", "dir"):
        idx = [i for i, c in enumerate(cases) if c.kind == kind]
        by_pattern: dict[str, list[bool]] = {}
        for i in idx:
            by_pattern.setdefault(cases[i].pattern, []).append(passed[i])
        block: dict[str, Any] = {"rate": _rate([passed[i] for i in idx]), "cases": len(idx),
                                 "by_pattern": {k: _rate(v) for k, v in by_pattern.items()}}
        if kind == "mft":
            by_role: dict[str, list[bool]] = {}
            for i in idx:
                by_role.setdefault(cases[i].role, []).append(passed[i])
            block["by_role"] = {k: _rate(v) for k, v in sorted(by_role.items())}
        out[kind] = block
    rates = [out[k]["rate"] for k in ("mft", "inv", "dir") if out[k]["rate"] is not None]
    out["overall"] = round(float(np.mean(rates)), 4) if rates else None
    out["failures"] = [
        {"kind": c.kind, "pattern": c.pattern, "target": c.target, "text": c.text,
         "expected": c.expected if c.kind == "mft" else (base_labels[i] if c.kind == "inv" else f"{c.watch} not up"),
         "got": labels[i]}
        for i, c in enumerate(cases) if not passed[i]
    ][:20]
    return out


def run_checklist(model: Any) -> dict[str, Any]:
    """Build the cases for ``model.target_names_`` and score the model on them (see :func:`score_cases`)."""
    cases = build_cases(list(model.target_names_))
    if not cases:
        return {"cases": 0, "overall": None}
    proba = model.predict_proba([c.text for c in cases], [c.target for c in cases])
    bases = [c.base or c.text for c in cases]
    base_proba = model.predict_proba(bases, [c.target for c in cases])
    return score_cases(cases, model.classes_, proba, base_proba)
