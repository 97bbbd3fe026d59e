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
``R:object:demand``
    the target alone is called on to stop, withdraw, lift, comply ... ("we call on xxtarget to
    withdraw"): the call implies it is doing wrong (a call on several parties, or for help, is not);
``R:claim`` / ``R:claim:rejected``
    the target is the subject of a claim or accusation, and whether the sentence dismisses it
    ("the baseless accusations against xxtarget", "the so called threat from xxtarget");
``R:claimant`` / ``R:claimant:rejected``
    the target makes the claim ("the accusations that xxtarget keeps making", "a myth invented by
    xxtarget"), and whether the sentence dismisses it;
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
    "aggress", "invasion", "invad", "occupi", "occupy", "occupation", "occupier", "annex", "attack",
    "sanction", "embargo", "blockade", "bomb", "interfer", "interven", "coerc", "pressur", "threat", "siege",
    "kill", "destroy", "destruct", "violat", "impos", "encircl", "expansion", "provocat", "provok", "hostil",
    "subver", "meddl", "sabotag", "disinformation", "propaganda", "shell", "strike", "missile", "war",
    "crime", "atrocit", "massacre", "genocid", "oppress", "persecut", "blackmail", "bully", "intimidat",
    "militari", "troops", "forces", "incursion", "seiz", "seizure", "punish", "isolat", "domination", "dominat",
    "hegemon", "destabili", "exploit", "plunder", "loot", "orchestrat", "deport", "abduct", "tortur",
    "boycott", "tariff", "hardship", "misery",
)
#: hostile acts whose "of" names the doer ("the aggression of xxtarget", "the expansion of xxtarget"),
#: where the other acts' "of" names the undergoer ("the invasion of xxtarget")
AGENT_OF = ("aggress", "interfer", "expansion", "provocat", "provok", "pressur", "hostil", "propaganda",
            "disinformation", "meddl", "bully", "coerc", "troops", "forces", "crime", "atrocit", "blackmail",
            "threat", "hegemon", "domination", "intimidat", "subver", "sabotag", "orchestrat")
#: words that make their subject the undergoer of hostility ("xxtarget is the victim of ...")
VICTIM = ("victim",)
#: exact words for the prefixes that would otherwise catch unrelated words ("war" and "warn",
#: "stand" and "standards", "invest" and "investigation", "aid" and "aide")
EXACT = {
    "war": frozenset({"war", "wars", "warfare", "warring", "warmonger", "warmongers", "warmongering"}),
    "stand": frozenset({"stand", "stands", "stood"}),
    "invest": frozenset({"invest", "invests", "invested", "investing", "investment", "investments"}),
    "aid": frozenset({"aid", "aids", "aided", "aiding"}),
    "lie": frozenset({"lie", "lies", "lied", "lying"}),
    "end": frozenset({"end", "ends", "ended", "ending"}),  # not "endorse", "endeavour"
    "respect": frozenset({"respect", "respects", "respected", "respecting"}),  # not "respective"
}
#: verbs that make a mention right before them the maker of a claim ("accusations that xxtarget keeps making")
CLAIM_VERBS = ("make", "making", "made", "level", "repeat", "invent", "fabricat", "peddl", "circulat")
#: words of the speaker's own judgement that take the target as their object
ATTITUDES = ("condemn", "denounc", "deplor", "blame", "accus", "critici", "oppos", "warn", "censur", "reproach")
#: words that make the target the subject of a claim or charge
CLAIMS = ("accusation", "accuse", "allegation", "alleg", "claim", "myth", "narrativ", "charge", "rhetoric",
          "slander", "smear", "demoni", "scapegoat", "label", "portray", "fabricat", "rumour", "rumor", "fable",
          "story", "stories", "fiction", "hoax", "canard", "conspirac", "falsehood", "lie")
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
#: any preposition that makes the mention after it an undergoer or a receiver, not a doer
_PREPOSITIONS = PATIENT_PREPS | RECEIVER_PREPS
#: words between a preposition (or an act) and the target that do not change its role
DETERMINERS = frozenset({"the", "its", "their", "our", "a", "an", "brotherly", "friendly", "people", "of",
                         "sovereign", "neighbouring", "neighboring", "fellow", "sisterly", "eastern", "western",
                         "southern", "northern", "entire", "whole", "independent", "democratic", "peaceful"})
#: words that, just before an act, deny it ("xxtarget has never threatened anyone")
NEGATIONS = frozenset({"never", "not", "no", "nor", "t"})
#: words that address a call or demand to what follows ("we call on xxtarget to ...")
CALLS = frozenset({"call", "calls", "called", "calling", "urge", "urges", "urged", "urging", "demand", "demands",
                   "demanded", "demanding", "ask", "asks", "asked", "appeal", "appeals", "appealed", "exhort",
                   "exhorts", "insist", "insists"})
#: what a call asks for when it implies the addressee is doing wrong ("to withdraw", "to lift the embargo")
DEMANDED = ("withdraw", "end", "lift", "stop", "cease", "halt", "refrain", "comply", "respect", "release",
            "return", "abandon", "revers", "renounc", "desist", "abide", "honour", "honor", "fulfil", "implement",
            "remov", "abolish", "repeal", "pull", "leave", "restor", "compensat", "apologi")
#: forms of "be" that make a subject the undergoer of a passive verb
_PASSIVE = frozenset({"was", "were", "is", "are", "been", "being", "be"})


def _starts(token: str, prefixes: tuple[str, ...]) -> bool:
    if len(token) < 3 or not token.startswith(prefixes):
        return False
    # a prefix of EXACT matches only its listed words ("war", not "warn")
    return any(p not in EXACT or token in EXACT[p] for p in prefixes if token.startswith(p))


def _skip_determiners(tokens: Sequence[str], end: int) -> int:
    """Index of the token before ``end`` after stepping back over determiners (at most two)."""
    k = end - 1
    steps = 0
    while k >= 0 and steps < 2 and tokens[k] in DETERMINERS:
        k -= 1
        steps += 1
    return k


#: how far a subject or possessor may stand before its act, and an undergoer after it, in tokens
SUBJECT_REACH = 6
OBJECT_REACH = 6


def _frames(sentence: Sequence[str], mentions: set[str], words: tuple[str, ...], direct: bool,
            stop: tuple[str, ...] = ()) -> list[tuple[int, int | None, int | None]]:
    """(position of a word of ``words``, its doer, its undergoer) for every such word in ``sentence``.

    The doer is the mention after "by" a few tokens on, else the mention right after "of" when the
    word is one of :data:`AGENT_OF` ("the aggression of xxtarget"), else the nearest mention before
    the word that is not itself the undergoer of a preposition ("xxtarget s aggression", "xxtarget has
    invaded"). The undergoer is the first mention after the word that follows a preposition or,
    when ``direct``, stands right after it ("aggression against xxtarget", "invaded xxtarget").
    The look ahead ends at a word of ``stop``: in "condemn the attack on xxtarget" the target is
    the undergoer of the attack, not the object of the condemnation.
    """
    n = len(sentence)
    out = []
    for j, token in enumerate(sentence):
        if not _starts(token, words):
            continue
        if NEGATIONS & set(sentence[max(0, j - 2):j]) or tuple(sentence[max(0, j - 2):j]) == ("so", "called"):
            continue  # a denied act ("never threatened") or a claimed one ("the so called threat of xxtarget")
        doer = undergoer = None
        agent_of = _starts(token, AGENT_OF)
        for k in range(j + 1, min(n, j + 1 + OBJECT_REACH)):
            t = sentence[k]
            if stop and _starts(t, stop):
                break
            if t in mentions:
                before = _skip_determiners(sentence, k)
                if before >= 0 and sentence[before] == "by":
                    if doer is None:
                        doer = k  # "the war waged by xxother (against xxtarget)": look on for the undergoer
                    continue
                if (agent_of and doer is None and undergoer is None and j + 1 < k and sentence[j + 1] == "of"
                        and all(w in DETERMINERS for w in sentence[j + 2:k])):
                    doer = k  # "the aggression of xxtarget (against xxother)"
                    continue
                if undergoer is None and before >= 0 and (sentence[before] in _PREPOSITIONS
                                                          or (direct and before == j)):
                    undergoer = k
        for k in range(j - 1, max(-1, j - 1 - SUBJECT_REACH), -1):
            t = sentence[k]
            if t.startswith("pretext") or (stop and _starts(t, stop)):
                break  # "xxtarget s threat as a pretext for invading": not the doer of the invasion
            if t in mentions:
                before = _skip_determiners(sentence, k)
                # "the occupation of xxtarget violates": the mention belongs to another act, not the subject
                of_act = _complement_of(sentence, k, words)
                if not (before >= 0 and sentence[before] in _PREPOSITIONS) and not of_act:
                    if _PASSIVE & set(sentence[k + 1:j]) and (doer is not None or token.endswith("ed")):
                        undergoer = k  # "xxtarget was attacked (by xxother)", "xxtarget children are deported"
                    elif doer is None and not (undergoer is not None and undergoer > j and sentence[j + 1] == "of"
                                               and agent_of):
                        doer = k
                break
        out.append((j, doer, undergoer))
    return out


def _complement_of(sentence: Sequence[str], k: int, words: Sequence[str]) -> bool:
    """Whether the mention at ``k`` follows "<act> of" ("the occupation of xxtarget"), determiners between."""
    i = k - 1
    while i >= 1 and sentence[i] in DETERMINERS:
        if sentence[i] == "of" and _starts(sentence[i - 1], words):
            return True
        i -= 1
    return False


def role_features(sentence: Sequence[str], target_token: str, other_token: str, out: list[str]) -> None:
    """Append the role features of ``target_token`` in ``sentence`` to ``out`` (each at most once).

    ``sentence`` is a lower-cased token sequence in which the target's mentions are
    ``target_token`` and other targets' mentions ``other_token`` (possessive ``'s`` is the token
    ``s``).
    """
    if target_token not in sentence:
        return
    n = len(sentence)
    mentions = {target_token, other_token}
    found: set[str] = set()
    dismissed = (any(_starts(t, DISMISSALS) for t in sentence)
                 or any(sentence[k] == "so" and sentence[k + 1] == "called" for k in range(n - 1)))
    for _, doer, undergoer in _frames(sentence, mentions, ACTS, direct=True, stop=CLAIMS):
        if doer is not None and sentence[doer] == target_token:
            found.add("R:agent:hostile")
        elif undergoer is not None and sentence[undergoer] == target_token:
            found.add("R:patient:hostile")
            if doer is not None:
                found.add("R:patient:hostile:other")
    for _, doer, undergoer in _frames(sentence, mentions, HELP, direct=True):
        if doer is not None and sentence[doer] == target_token:
            found.add("R:agent:coop")
        elif undergoer is not None and sentence[undergoer] == target_token:
            found.add("R:patient:coop")
    # a dismissed accusation is a claim about the target, not the speaker's own charge against it
    attitudes = tuple(w for w in ATTITUDES if not (dismissed and w == "accus"))
    for *_, undergoer in _frames(sentence, mentions, attitudes, direct=True, stop=ACTS + CLAIMS):
        if undergoer is not None and sentence[undergoer] == target_token:
            found.add("R:object:attitude")
    for j, doer, undergoer in _frames(sentence, mentions, CLAIMS, direct=False):
        if undergoer is not None and sentence[undergoer] == target_token:
            found.add("R:claim:rejected" if dismissed else "R:claim")
        claimant = doer if doer is not None and doer > j else None  # "a myth invented by xxtarget"
        for k in range(j + 1, min(n - 1, j + 1 + OBJECT_REACH)):  # "the accusations that xxtarget keeps making"
            if sentence[k] in mentions and sentence[k - 1] == "that":
                if any(_starts(t, CLAIM_VERBS) for t in sentence[k + 1:k + 4]):
                    claimant = k
                elif sentence[k] == target_token:  # "the story that xxtarget deported children": the accused
                    found.add("R:claim:rejected" if dismissed else "R:claim")
                break
        if claimant is not None and sentence[claimant] == target_token:
            found.add("R:claimant:rejected" if dismissed else "R:claimant")
    if "R:claim:rejected" in found:  # "we reject the fable that xxtarget meddled": the act is the rejected claim
        found.discard("R:agent:hostile")
    for j, token in enumerate(sentence):  # "xxtarget is the victim of ...", "xxtarget has been a victim"
        if _starts(token, VICTIM):
            for k in range(j - 1, max(-1, j - 5), -1):
                if sentence[k] in mentions:
                    if sentence[k] == target_token:
                        found.add("R:patient:hostile")
                    break
    if _demanded_of(sentence, target_token, mentions):
        found.add("R:object:demand")
    for k in range(n - 3):  # "the so called threat from xxtarget", "threat posed by xxtarget" is a doer
        if sentence[k] == "so" and sentence[k + 1] == "called" and target_token in sentence[k + 2:k + 6]:
            found.add("R:claim:rejected")
    out.extend(sorted(found))


def _demanded_of(sentence: Sequence[str], target_token: str, mentions: set[str]) -> bool:
    """Whether the target alone is called on to stop, withdraw, lift, comply ... ("we call on xxtarget to withdraw").

    A call on several parties alike ("we urge xxtarget and xxother to resolve their differences") and a call
    for help ("we appeal to xxtarget to support our recovery") are not demands.
    """
    n = len(sentence)
    for j, token in enumerate(sentence):
        if token not in CALLS:
            continue
        k = j + 1
        if k < n and sentence[k] in ("on", "upon", "to", "that"):
            k += 1
        while k < n and sentence[k] in DETERMINERS:
            k += 1
        if k >= n or sentence[k] != target_token:
            continue
        rest = sentence[k + 1:k + 5]
        if any(t in mentions for t in rest) or "and" in rest[:1]:
            continue  # another party is called on too
        if sentence[j + 1] == "that" and any(_starts(w, DEMANDED) for w in rest[:3]):
            return True  # "we demand that xxtarget (immediately) withdraw"
        for i, t in enumerate(rest):
            if t == "to" or t in ("must", "should", "shall"):
                nxt = rest[i + 1:i + 3]
                if any(_starts(w, DEMANDED) for w in nxt):
                    return True
                break
    return False


#: roles that make the target a doer, accused or addressee of a demand in its sentence
_ACCUSING = frozenset({"R:agent:hostile", "R:object:attitude", "R:object:demand", "R:claim", "R:claimant"})


def victim_only(roles: Sequence[str]) -> bool:
    """Whether ``roles`` (of one sentence) make the target undergo a hostile act and accuse it of nothing."""
    return "R:patient:hostile" in roles and not _ACCUSING.intersection(roles)
