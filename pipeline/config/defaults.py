"""Domain data behind the config defaults: page furniture and web boilerplate patterns, discourse
stop words, protocol sentences of speeches and the default stance targets with their aliases.

Plain data, no code: :mod:`pipeline.config.schema` turns it into defaults. Change a default here
(and in ``configs/default.yaml``, which a test keeps equal to the schema defaults).
"""

from __future__ import annotations

from typing import Any

#: page furniture: dropped wherever the line stands, even inside a wrapped paragraph
DEFAULT_LINE_PATTERNS = [
    r"(?i)^\s*(page\s+)?\d{1,4}\s*$",
    r"^\s*[-–—]\s*\d{1,4}\s*[-–—]\s*$",
    r"(?i)^\s*(page\s+)?\d{1,4}\s*(/|of)\s*\d{1,4}\s*$",
    r"^\s*[A-Z]{1,2}/(?:[A-Z0-9.]+/)*[A-Z0-9.]*\d[A-Z0-9.]*(\s*\([A-Z]\))?\s*$",
    r"^\s*\d{2}-\d{5}\s*(\([A-Z]\))?\s*$",
    r"^\s*(\d{1,4}\s+\d{2}-\d{5}|\d{2}-\d{5}\s+\d{1,4})\s*(\([A-Z]\))?\s*$",  # page and job number on one line
    r"^\s*(\d{1,4}\s+)?General Assembly\s+[-–—]\s+[A-Z][a-z]+(-[a-z]+)?\s+session(\s+\d{1,4})?\s*$",  # UN running header
    r"^\s*[*•·#~_=-]{1,5}\s*$",
]

#: web boilerplate: dropped when it stands as a paragraph of its own
DEFAULT_PARAGRAPH_PATTERNS = [
    r"(?i)^\s*leave a (reply|comment)\s*$",
    r"(?i)^\s*sharing is caring!?\s*$",
    r"(?i)^\s*(re)?published (by|on|in)\b.{0,80}$",
    r"(?i)^\s*(share|tweet|email|print)( (this|on|via|article)\b.{0,60})?\s*$",
    r"(?i)^\s*share (this|on)\b.{0,80}$",
    r"(?i)^.{0,100}\b(please (consider )?subscrib\w*|subscribe (now|today|here|for free|to (our|my|the) (newsletter|channel|substack|mailing list|updates)))\b.{0,200}$",
    r"(?i)^\s*(click|tap) here\b.{0,120}$",
    r"(?i)^\s*follow us\b.{0,120}$",
    r"(?i)^\s*the views expressed in this article are\b.*$",
    r"(?i)^\s*be the first to read breaking news\b.*$",
    r"(?i)^\s*(more|read more) on (the|this) subject\b.*$",
    r"(?i)^\s*(related|read more|see also)\s*:.{0,200}$",
    r"(?i)^\s*(photo|image|credit|source)\s*:.{0,150}$",
    r"(?i)^\s*advertisement\s*$",
    r"(?i)^\s*all rights reserved\.?.{0,80}$",
]


#: default ``topics.stopwords_extra``: generic words of speeches and news that sit in the top words of
#: many topics without telling them apart (chosen on UN General Debate sessions 75 and 79: mean NPMI
#: 0.100 -> 0.115 over three seeds, K=20); multi-word entries would match collocation tokens
DISCOURSE_STOPWORDS = (
    "also", "continue", "countries", "country", "express", "great", "important", "including", "let", "like",
    "need", "new", "people", "said", "time", "today", "way", "wish", "world", "year", "years",
)

#: the default ``topics.procedural_patterns``: the courtesies of diplomatic speeches and statements
PROCEDURAL_PATTERNS = (
    r"\bcongratulat",
    r"\b(have|has) the (honou?r|privilege|pleasure) (to|of)\b",
    r"\b(your|his|her) (election|assumption of|presidency of)\b",
    r"\b(thank|thanks|gratitude|appreciation|tribute|commend)\b.{0,120}\b(President|Secretary[- ]General|"
    r"predecessor|outgoing|Chair)",
    r"\b(President|Secretary[- ]General|predecessor)\b.{0,120}\b(thank|gratitude|appreciation|tribute|commend)",
    r"\bassure you\b.{0,60}\b(support|cooperation)\b",
    r"\b(skil+ful|able|wise|outstanding|exemplary) (leadership|stewardship|guidance)\b",
    r"\bpresiding over\b",
)


#: the default ``stance.targets``: name, aliases (case-insensitive regexes), case-sensitive aliases
TARGETS: tuple[dict[str, Any], ...] = (
    dict(
        name="West",
        aliases=[r"Western (countries|states|nations|partners|powers|governments|allies)",
                 r"collective West", r"Euro-Atlantic(?!\s+(area|space|region)\b)"],
        # "the West" but not the West Bank, West Africa, ... nor "the west of the country"
        case_sensitive_aliases=[r"([Tt]he|THE) W(EST|est)(?!\s+(Bank|Indies|Indian|Africa|African|Asia|Asian|Pacific|Papua|Philippine|Sahara|Saharan|Nile|Coast|Wall|Balkans|Bengal|Java|Kalimantan|Darfur|Timor)\b)"],
    ),
    dict(
        name="United States",
        # not Latin/Central/Inter-American, the Organization of American States, US dollars
        aliases=[r"United States", r"Washington", r"(?<!Latin )(?<!Central )(?<!South )(?<!North )(?<!Inter-)(?<!Pan-)(?<!Ibero-)(?<!Afro-)(?<!Native )Americans?(?!\s+(States|continents?|hemisphere|region)\b)", r"White House"],
        case_sensitive_aliases=[r"U\.S\.A?\.?", r"USA?(?!\s?\$|\s?dollars?\b)"],
    ),
    dict(
        name="NATO",
        aliases=[r"North Atlantic (Treaty Organization|Alliance)",
                 r"the Alliance(?!\s+(of|for|between)\b)"],  # not the Alliance of Small Island States / of Civilizations
        case_sensitive_aliases=[r"NATO", r"OTAN"],
    ),
    dict(
        name="China",
        # not the Republic of China (Taiwan), the South/East China Sea, the Beijing Declaration, Chinese Taipei
        aliases=[r"(?<!Republic of )(?<!South )(?<!East )China(?!\s+(Seas?|Straits?)\b)", r"Beijing(?!\s+(Declaration|Platform|Conference)\b|\s?\+)", r"Chinese(?!\s+Taipei\b)",
                 r"People'?s Republic of China"],
        case_sensitive_aliases=[r"PRC"],
    ),
    dict(
        name="European Union",
        aliases=[r"European Union", r"Brussels"],
        case_sensitive_aliases=[r"EU"],
    ),
    dict(
        name="Russia",
        aliases=[r"Russia", r"Russians?", r"Russian Federation", r"Moscow", r"Kremlin"],
    ),
    dict(
        name="Ukraine",
        aliases=[r"Ukraine", r"Ukrainians?", r"Kyiv", r"Kiev"],
    ),
)
