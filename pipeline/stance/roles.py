"""Who does what to whom: role features of a target in its mention sentences.

Hostility *near* a target is not hostility *toward* it: "We condemn Russia's aggression against
Ukraine" is hostile to Russia and sympathetic to Ukraine, although both stand next to the same
words. :func:`role_features` reads the few tokens either side of each mention of the target
(:data:`~pipeline.stance.features.TARGET_TOKEN`, with other targets as
:data:`~pipeline.stance.features.OTHER_TOKEN`) and names the target's role in short patterns:

``R:agent:hostile``
    the target does a hostile act: "xxtarget s aggression", "xxtarget invaded", "attacks by xxtarget";
``R:patient:hostile``
    a hostile act is done to the target: "aggression against xxtarget", "sanctions on xxtarget",
    "invaded xxtarget"; ``R:patient:hostile:other`` when another target is named as the doer
    ("xxother s occupation of xxtarget");
``R:object:attitude``
    the speaker condemns, blames or accuses the target directly: "condemn xxtarget";
``R:claim`` / ``R:claim:rejected``
    the target is the subject of a claim or accusation, and whether the sentence dismisses it
    ("the baseless accusations against xxtarget", "the so called threat from xxtarget");
``R:agent:coop`` / ``R:patient:coop``
    the target gives help or support ("xxtarget s assistance", "xxtarget provided") or receives
    it ("solidarity with xxtarget", "support for xxtarget", "grateful to xxtarget").

The patterns are word lists written for this project from general knowledge of diplomatic
English (no data set was copied). The classifier learns from the labelled data how much each
role weighs; the patterns only say which role a hostile or friendly word gives the target.
"""

from __future__ import annotations

from collections.abc import Sequence

#: prefixes of words naming a hostile act (something done to someone)
ACTS = (
    "aggress", "invasion", "invade", "invader", "occupi", "occupy", "occupation", "occupier", "annex", "attack",
    "sanction", "embargo", "blockade", "bomb", "interfer", "interven", "coerc", "pressur", "threat", "siege",
    "kill", "destroy", "destruct", "violat", "impos", "encircl", "expansion", "provocat", "provok", "hostil",
    "subver", "meddl", "sabotag", "disinformation", "propaganda", "shell", "strike", "missile", "war",
    "crime", "atrocit", "massacre", "genocid", "oppress", "persecut", "blackmail", "bully", "intimidat",
    "militari", "troops", "forces", "incursion", "seiz", "seizure", "punish", "isolat", "domination", "dominat",
)
#: words of the speaker's own judgement that take the target as their object
ATTITUDES = ("condemn", "denounc", "deplor", "blame", "accus", "critici", "oppos", "warn", "censur", "reproach")
#: words that make the target the subject of a claim or charge
CLAIMS = ("accusation", "accuse", "allegation", "alleg", "claim", "myth", "narrativ", "charge", "rhetoric",
          "slander", "smear", "demoni", "scapegoat", "label", "portray", "fabricat", "rumour", "rumor")
#: words that dismiss a claim
DISMISSALS = ("reject", "baseless", "unfounded", "groundless", "false", "falsehood", "myth", "pretext",
              "absurd", "fabricat", "lie", "lies", "untrue", "refute", "deny", "denies", "fake", "invent")
#: prefixes of words of help, support and friendship
HELP = (
    "support", "solidarity", "assist", "aid", "help", "thank", "grateful", "gratitude", "appreciat", "contribut",
    "generos", "generous", "donat", "relief", "friend", "partner", "cooperat", "commend", "salute", "sympath",
    "condolen", "stand", "protect", "defend", "welcom", "praise", "admir", "leadership", "invest", "provid",
)
#: prepositions that make what follows the undergoer of a noun or verb before them
PATIENT_PREPS = frozenset({"against", "on", "upon", "of", "in", "to", "toward", "towards", "at", "into", "over",
                           "inside", "across", "onto"})
#: prepositions that make what follows the receiver of help
RECEIVER_PREPS = frozenset({"with", "for", "to", "towards", "toward"})
#: words between a preposition and the target that do not change its role
DETERMINERS = frozenset({"the", "its", "their", "our", "a", "an", "brotherly", "friendly", "people", "of",
                         "sovereign", "neighbouring", "neighboring", "fellow", "sisterly"})
#: how far from the mention a pattern may reach, in tokens
REACH = 4


def _starts(token: str, prefixes: tuple[str, ...]) -> bool:
    return len(token) >= 3 and token.startswith(prefixes)


def _skip_determiners(tokens: Sequence[str], end: int) -> int:
    """Index of the token before ``end`` after stepping back over determiners (at most two)."""
    k = end - 1
    steps = 0
    while k >= 0 and steps < 2 and tokens[k] in DETERMINERS:
        k -= 1
        steps += 1
    return k


def role_features(sentence: Sequence[str], target_token: str, other_token: str, out: list[str]) -> None:
    """Append the role features of every mention of ``target_token`` in ``sentence`` to ``out``.

    ``sentence`` is a lower-cased token sequence in which the target's mentions are
    ``target_token`` and other targets' mentions ``other_token`` (possessive ``'s`` is the token
    ``s``). Each feature is appended once per mention that shows it.
    """
    n = len(sentence)
    dismissed = (any(_starts(t, DISMISSALS) for t in sentence)
                 or any(sentence[k] == "so" and sentence[k + 1] == "called" for k in range(n - 1)))
    for i, token in enumerate(sentence):
        if token != target_token:
            continue
        found: set[str] = set()
        right = sentence[i + 1:i + 1 + REACH]
        # the target as doer: "xxtarget s aggression", "xxtarget has invaded", "xxtarget provided"
        rest = right[1:] if right[:1] == ["s"] else right
        for t in rest[:3]:
            if t in (other_token, target_token) or t in PATIENT_PREPS:
                break
            if _starts(t, ACTS):
                found.add("R:agent:hostile")
                break
            if _starts(t, HELP):
                found.add("R:agent:coop")
                break
        # "attacks launched by xxtarget", "assistance provided by xxtarget"
        k = _skip_determiners(sentence, i)
        if k >= 0 and sentence[k] == "by":
            before = sentence[max(0, k - REACH):k]
            if any(_starts(t, ACTS) for t in before):
                found.add("R:agent:hostile")
            elif any(_starts(t, HELP) for t in before):
                found.add("R:agent:coop")
        # the target as undergoer: "aggression against xxtarget", "occupation of xxtarget", "invaded xxtarget"
        if k >= 0:
            head = sentence[k]
            before = sentence[max(0, k - REACH):k]
            if head in PATIENT_PREPS and any(_starts(t, ACTS) for t in before):
                found.add("R:patient:hostile")
                if other_token in sentence[max(0, k - REACH - 3):k]:
                    found.add("R:patient:hostile:other")
            elif _starts(head, ATTITUDES):
                found.add("R:object:attitude")
            elif _starts(head, ACTS):
                found.add("R:patient:hostile")
                if other_token in sentence[max(0, k - 3):k]:
                    found.add("R:patient:hostile:other")
            if head in RECEIVER_PREPS and any(_starts(t, HELP) for t in before):
                found.add("R:patient:coop")
            elif _starts(head, HELP) and head not in ("stand", "protect", "defend"):
                found.add("R:patient:coop")
            if head in PATIENT_PREPS or head == "from":
                window = sentence[max(0, k - REACH - 2):k]
                if any(_starts(t, CLAIMS) for t in window) or ("so" in window and "called" in window) or (
                        head == "from" and any(_starts(t, ("threat", "danger", "menace")) for t in window)):
                    found.add("R:claim:rejected" if dismissed else "R:claim")
        out.extend(sorted(found))
