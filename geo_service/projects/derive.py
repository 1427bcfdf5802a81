"""What we derive from a project's own words: indicator figures, action types, mobility, reach and programme axes.

Every rule reads the brochure's text with the patterns below, so a new project gets the same treatment, and each
derived value records the words that triggered it. Action types and mobility read what the project does (name,
actions, objectives); axes also read the beneficiaries, and a PAT among the partners counts for axis 2. The
patterns are deliberately plain: a person can check a project card against them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Action types: slug -> (French label shown on pages, pattern over the project's text).
ACTION_TYPES: dict[str, tuple[str, str]] = {
    "epicerie_solidaire": ("Épicerie solidaire", r"épiceries? (solidaires?|sociales?|fixes?|mobiles?|itinérantes?)"),
    # a shop or a food-aid stop that comes to people: the brochure's "Croix-Rouge sur roues" is a mobile unit
    # handing out food, not only the training its actions list
    "epicerie_mobile": (
        "Épicerie ou distribution mobile",
        r"épiceries?[^.;]{0,40}\b(mobiles?|itinérantes?)|\b(mobiles?|itinérantes?)[^.;]{0,20}épicerie|sur roues|"
        r"distributions? (mobiles?|itinérantes?)|unités? mobiles?|camion[- ]épicerie",
    ),
    "cheques_bons": (
        "Chèques ou bons alimentaires",
        r"chèques? alimentaires?|bons? d'achats?|carte prépayée|monnaie (locale|systémique)",
    ),
    "paniers": ("Paniers", r"\bpaniers?\b"),
    "ateliers_cuisine_nutrition": (
        "Ateliers cuisine et nutrition",
        r"ateliers?[^.;]{0,60}(cuisin|culinaire|nutrition|aliment)|diététicien|cuisiner",
    ),
    "jardins": ("Jardins", r"jardin|autoproduction|espaces? nourriciers?"),
    "coordination": (
        "Coordination des acteurs",
        r"coordin|coordonn|fédérer|mutualis|alliances?|concertation|pilotage|écosystème|interconnaissance|coopér",
    ),
    "lieu_alimentation": ("Tiers-lieu ou espace alimentaire", r"tiers-lieux?|espace de promotion|lieu dédié"),
    "logistique_transformation": (
        "Logistique et transformation",
        r"logisti|transformation des denrées|unités? de (conditionnement|transformation)|acheminement|transport|"
        r"stockage|glanage|approvisionnement",
    ),
    "formation": ("Formation", r"\bformations?\b|\bformer\b"),
    "plateforme_numerique": ("Plateforme numérique", r"plateforme (digitale|numérique)|base de données|numérique"),
}
PAT_AXIS = 2
MOBILE_PATTERN = r"\bmobiles?\b|itinéran|sur roues|aller vers"

# Reach. A project is ``direct`` when people get food, vouchers or a shop/van stop where it acts; ``support`` when it
# helps other actors (coordination, training, logistics, studies, platforms). What counts as direct, read in the
# project's name and actions (what it does, not what it hopes): each pattern names the kind of action, shown in
# reasons. Supplying other associations ("livraisons dans les associations ou épiceries", "distribution des produits
# aux structures d'aide alimentaire") is deliberately not matched: that is logistics for others.
DIRECT_ACTIONS: dict[str, str] = {
    "épicerie solidaire": (
        r"épiceries? (solidaires?|sociales?|fixes?|mobiles?|itinérantes?)|\bl'épicerie propose|création d'une épicerie"
    ),
    "paniers": (
        r"(distributions?|livraisons?|ventes?) (de |des )?(\d[\d  ]* )?paniers|paniers? (solidaires?|alimentaires?|"
        r"de (fruits|légumes))|accéder à des paniers"
    ),
    "chèques ou bons": r"chèques? alimentaires?|bons? d'achats?|carte prépayée|monnaie (locale|systémique)",
    "repas ou lieu d'alimentation": (
        r"(préparation|distribution|service) de repas|restaurants? (solidaires?|sociaux|social)|"
        r"restauration collective|lieu dédié à l'alimentation"
    ),
    "distribution": (
        r"distributions? (alimentaires?|de colis|de denrées)|colis alimentaires?|sur roues|frigos? partagés?"
    ),
    "groupement d'achats": r"groupements? d'achats?",
    # people buy food below shop prices: the CA de Béthune-Bruay's "accès à des produits durables en circuits courts
    # et à bas prix"
    "produits à bas prix": r"(accès|accéder) à des produits[^.;]{0,60}(bas prix|prix (réduits?|solidaires?|coûtant))",
    # food grown for and by the inhabitants: "plusieurs espaces nourriciers ... autoconsommation"
    "espaces nourriciers": r"espaces? nourriciers?|autoconsommation",
}
SUPPORT_ACTIONS = (
    r"coordin|coordonn|pilotage|concertation|\bformations?\b|\bformer\b|logisti|approvisionn|acheminement|transport|"
    r"diagnostic|étude|cartographie|plateforme|base de données|accompagnement|ateliers?|animation|fédérer|alliances?"
)

# Programme axes (brochure, "Les axes d'intervention opérationnelle"): number -> (label, pattern).
AXES: dict[int, tuple[str, str]] = {
    1: (
        "Alliances locales de solidarité",
        r"alliances? locales?|coordin|coordonn|mutualis|fédérer|réseau|partenariats?|interconnaissance|"
        r"concertation|gouvernance|co-?constru|collecti(f|ve)",
    ),
    2: ("Actions au sein des PAT", r"\bPAT\b|projets? alimentaires? (de |du )?territ"),
    3: (
        "Expérimentations qui transforment l'aide alimentaire",
        r"expériment|innovant|tiers-lieu|monnaie|carte prépayée|plateforme digitale|groupements? d'achats?|"
        r"autoproduction|ambassadeurs",
    ),
    4: ("Couverture des zones blanches", r"zones? blanches?|\bmobiles?\b|itinéran|sur roues|rural|isolé|aller vers"),
}

_NUMBER = r"\d{1,3}(?:[  \u202f]\d{3})+|\d+(?:[.,]\d+)?"
_PERCENT = re.compile(rf"({_NUMBER})\s*%")
_EUROS = re.compile(rf"({_NUMBER})\s*(?:€|euros?)", re.IGNORECASE)
_SMALL = {
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
}
_SMALL_OR_DIGITS = r"\d+|" + "|".join(_SMALL)
_ONE_IN = re.compile(
    rf"\b({_SMALL_OR_DIGITS})\s+(?:habitants?|personnes?)\s+sur\s+({_SMALL_OR_DIGITS})\b", re.IGNORECASE
)
_LEADING_COUNT = re.compile(rf"^({_NUMBER})\s+[a-zà-ÿ]", re.IGNORECASE)
_COUNT = re.compile(rf"({_NUMBER})\s+[a-zà-ÿ]", re.IGNORECASE)
INDICATOR_KINDS = (
    ("unemployment_rate", r"chômage"),
    ("median_income", r"revenu médian"),
    ("median_living_standard", r"niveau de vie médian"),
    ("poverty_rate", r"pauvreté|pauvres"),
    ("food_insecurity_rate", r"précarité alimentaire|alimentation en qualité"),
)


@dataclass(frozen=True)
class Indicator:
    """One indicator line: the brochure's words verbatim, and the figure read from them when there is one."""

    text: str
    value: float | None
    unit: str | None  # "%", "€" or None (a count)
    kind: str  # see INDICATOR_KINDS; "count" for a plain number, "other" when there is no figure


def _number(raw: str) -> float:
    word = _SMALL.get(raw.lower())
    return float(word) if word is not None else float(re.sub(r"[  \u202f]", "", raw).replace(",", "."))


def parse_indicator(text: str) -> Indicator:
    kind = next((name for name, pattern in INDICATOR_KINDS if re.search(pattern, text, re.IGNORECASE)), None)
    if match := _PERCENT.search(text):
        return Indicator(text, _number(match.group(1)), "%", kind or "share")
    if match := _ONE_IN.search(text):
        share = 100 * _number(match.group(1)) / _number(match.group(2))
        return Indicator(text, round(share, 1), "%", kind or "share")
    if match := _LEADING_COUNT.search(text):
        return Indicator(text, _number(match.group(1)), None, "count")
    if match := _EUROS.search(text):
        return Indicator(text, _number(match.group(1)), "€", kind or "amount")
    if match := _COUNT.search(text):
        return Indicator(text, _number(match.group(1)), None, "count")
    return Indicator(text, None, None, kind or "other")


def _hits(pattern: str, texts: Iterable[str]) -> list[str]:
    regex = re.compile(pattern, re.IGNORECASE)
    return sorted({m.group(0).strip().lower() for text in texts for m in regex.finditer(text)})


def derive_action_types(texts: list[str]) -> dict[str, list[str]]:
    """Action type slug -> the words that gave it away."""
    found = {slug: _hits(pattern, texts) for slug, (_, pattern) in ACTION_TYPES.items()}
    return {slug: words for slug, words in found.items() if words}


def derive_axes(texts: list[str], partners: list[str]) -> dict[int, list[str]]:
    """Axes from what the project does and for whom; a PAT among the partners also counts for axis 2."""
    found = {
        axis: _hits(pattern, [*texts, *partners] if axis == PAT_AXIS else texts) for axis, (_, pattern) in AXES.items()
    }
    return {axis: words for axis, words in found.items() if words}


def derive_mobile(texts: list[str]) -> list[str]:
    return _hits(MOBILE_PATTERN, texts)


def derive_reach(texts: list[str]) -> tuple[str, list[str]]:
    """``direct`` with the kinds of direct action found (and their words), else ``support`` with what it does."""
    found = [f"{kind} ({', '.join(words)})" for kind, p in DIRECT_ACTIONS.items() if (words := _hits(p, texts))]
    if found:
        return "direct", found
    return "support", _hits(SUPPORT_ACTIONS, texts)


@dataclass(frozen=True)
class ReachReading:
    """The reach the words give, and whether a person must still decide it.

    ``to_classify`` ("à classer"): no direct-access rule matched, so ``support`` is a default, not a finding; the
    coverage keeps counting it as support until a person decides (curation), and ``why`` says so in French with the
    words that were found (or that none were)."""

    reach: str
    words: list[str]
    to_classify: bool
    why: str


def read_reach(texts: list[str]) -> ReachReading:
    """``derive_reach`` with its doubt made explicit: a project no direct-access rule recognises is « à classer »."""
    reach, words = derive_reach(texts)
    if reach == "direct":
        return ReachReading(reach, words, False, f"accès direct : {'; '.join(words)}")
    if words:
        why = f"à classer : aucune action d'accès direct reconnue ; aide à d'autres acteurs ({', '.join(words)})"
    else:
        why = "à classer : aucune action d'accès direct ni d'appui reconnue dans le nom et les actions"
    return ReachReading(reach, words, True, why)
