"""The names the geocoder knows: every unit of the loaded boundaries, EPCI name variants, pays aliases, postcodes.

Keys are folded names (see ``text.normalize``). One key may name several units: homonym communes (Senlis in the
Oise and in the Pas-de-Calais), or a commune and the arrondissement and EPCI named after it (Lens). The geocoder
decides between them; the gazetteer only lists them, with how each name was obtained.

Names as people write them, beyond the official ones:

* EPCI: the name without its "CC/CA/CU" and articles ("Sud Artois"), without "Agglo"/"Agglomération" ("Douaisis",
  "GrandSoissons"), and its initials ("CAPH", "CCSA", "CAHC", "CUD") unless they are already a name, as the
  brochure itself writes "PAT CAPH" and "la CCSA";
* every key also in its *compact* form, without spaces, so joined or split words meet ("Grand Soissons" and
  "GrandSoissons", "Coeurd'Ostrevent");
* a five-digit postcode names every commune that uses it (the COG's postcodes);
* former communes (COG communes déléguées and associées, carried by the boundaries' manifest) name their current
  commune: "Lomme" is Lille; one whose name ends with its current commune's ("Hellemmes-Lille") is also known without
  that ending ("Hellemmes"), unless that is already a name;
* short forms: an official name cut before a linking word or a second part ("Boulogne" for Boulogne-sur-Mer,
  "Bruay" for Bruay-la-Buissière, "Le Touquet" for Le Touquet-Paris-Plage, "Saint-Pol" for Saint-Pol-sur-Ternoise
  and Saint-Pol-sur-Mer), decided over every current and former commune of the loaded data (see ``_short_forms``);
* EPCI usual names derived from the official ones: "Grand Calais" for a core that starts with "Grand" and a commune's
  name, "<core> Agglo" for a communauté d'agglomération, initials with numbers as digits ("CA2BM", "CC7V").

It also knows which communes touch which (shared border, not a single point), for "X et communes limitrophes".
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
import yaml
from rapidfuzz import fuzz, process

from geo_service.errors import DataError
from geo_service.geocoding.text import normalize
from geo_service.territories import Boundaries

ARTICLES = frozenset({"de", "du", "des", "d", "la", "le", "les", "l"})
EPCI_PREFIXES = frozenset({"cc", "ca", "cu"})
EPCI_SUFFIXES = frozenset({"agglo", "agglomeration"})
ACRONYM_MIN_LETTERS = 3
# Skipped when making initials, besides articles: people write CA2BM for 'CA des Deux Baies en Montreuillois'.
ACRONYM_SKIPPED = frozenset({"en", "et", "sur", "sous", "les", "lez"})
NUMBER_WORDS = {"deux": "2", "trois": "3", "quatre": "4", "cinq": "5", "six": "6", "sept": "7", "huit": "8"}
# Short forms: where an official name may be cut ("Boulogne|-sur-Mer", "Bruay|-la-Buissière"), besides after its
# first hyphenated part ("Le Touquet|-Paris-Plage", "Hénin|-Beaumont").
LINK_WORDS = frozenset(
    {"sur", "sous", "en", "les", "lez", "la", "le", "lo", "de", "du", "des", "d", "l", "aux", "au", "a", "et"}
)
# A short form must keep a word that names something on its own: "Saint", "Notre-Dame", "Grand" do not.
GENERIC_WORDS = ARTICLES | frozenset(
    {"saint", "sainte", "saints", "saintes", "notre", "dame", "grand", "grande", "petit", "petite", "vieux", "vieille"}
)
# Nor one that is a common word of French texts: "maison de santé", "au bourg", "le port", "trois communes".
COMMON_WORDS = frozenset(
    [
        "aire",
        "assis",
        "belle",
        "bois",
        "bourg",
        "camps",
        "celles",
        "chateau",
        "colline",
        "fere",
        "forest",
        "fort",
        "haut",
        "haute",
        "lieu",
        "maison",
        "marche",
        "mers",
        "moulin",
        "neuf",
        "neuve",
        "oeuf",
        "pleine",
        "port",
        "puits",
        "rang",
        "rejet",
        "sons",
        "tours",
        "trois",
        "vaux",
        "vers",
        "west",
    ]
) | frozenset({"la rue", "le mont", "l epine"})
SHORT_MIN_LETTERS = 4
# A short form shared by several places is the name of the largest only when it has this many times the inhabitants
# of the next: people who say "Boulogne" in the région (Boulogne-sur-Mer, 40 000 inhabitants) do not mean
# Boulogne-la-Grasse (500); between Bruay-la-Buissière (21 000) and Bruay-sur-l'Escaut (11 000) nobody can tell, so
# the geocoder asks. Ten is an order of magnitude: a town that much larger is what the short name calls to mind.
SHORT_DOMINANCE = 10
# A short form shared by more places than this is a common word of names ("Villers", "Fontaine"), not a name in use.
SHORT_MAX_OWNERS = 5
FORMER_KINDS = {"deleguee": "commune déléguée", "associee": "commune associée"}
# Suggestion order within a tier: what the text names itself before aliases, and a commune before the
# arrondissement or EPCI named after it (people typing "Amiens" mostly mean the town).
SUGGEST_KINDS = ("name", "former", "epci_core", "acronym", "short", "postcode", "alias")
SUGGEST_LEVELS = ("departement", "region", "commune", "epci", "arrondissement")
# Suggestions that forgive: a name within this similarity (rapidfuzz ratio, 0-100) of what was typed, once its articles
# and level words are left out ("abbevile", "CC Ternois"), from this many letters typed.
SUGGEST_FUZZY_SCORE = 80
SUGGEST_FUZZY_MIN_LETTERS = 4
# Level words left out of what is typed before the forgiving comparison: "CC Ternois" is the Ternois.
SUGGEST_LEVEL_WORDS = frozenset({"cc", "ca", "cu", "communaute", "communes", "agglomeration", "agglo", "urbaine"})


@dataclass(frozen=True, slots=True)
class Unit:
    level: str
    code: str
    name: str
    departement: str | None
    population: int
    communes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Entry:
    """A name pointing at a unit. ``alias`` is the name as written when it is not the unit's own (a pays, initials, a
    postcode, a former commune, the official name a short form comes from); ``source`` says where it comes from."""

    unit: Unit
    kind: str  # "name", "former", "short", "epci_core", "acronym", "alias" or "postcode"
    alias: str | None = None
    source: str | None = None
    population: int | None = None  # of the place named, when not the unit itself (a former commune's own)

    @property
    def named_population(self) -> int:
        """Inhabitants of the place the name names: a former commune's own, else its unit's (for homonyms)."""
        return self.unit.population if self.population is None else self.population


def _epci_keys(name: str, full_name: str) -> set[str]:
    """'CA de Béthune-Bruay, Artois-Lys Romane' -> full forms, 'bethune bruay artois lys romane', 'bethune bruay';
    'CA Douaisis Agglo' -> 'douaisis agglo', 'douaisis'."""
    keys = {normalize(name), normalize(full_name)}
    without_brackets = re.sub(r"\(.*?\)", " ", name)
    for variant in (without_brackets, without_brackets.split(",")[0]):
        words = normalize(variant).split()
        if words and words[0] in EPCI_PREFIXES:
            words = words[1:]
        while words and words[0] in ARTICLES:
            words = words[1:]
        if words:
            keys.add(" ".join(words))
        core = [w for w in words if w not in EPCI_SUFFIXES]
        if core and core != words:
            keys.add(" ".join(core))
    return keys


def _acronym(name: str) -> str | None:
    """'CA de la Porte du Hainaut' -> 'caph'; 'CC du Sud Artois' -> 'ccsa' (initials of the words but articles)."""
    words = normalize(re.sub(r"\(.*?\)", " ", name)).split()
    if not words or words[0] not in EPCI_PREFIXES:
        return None  # 'Métropole Européenne de Lille': its 'MEL' is in the pays table
    letters = words[0] + "".join(w[0] for w in words[1:] if w not in ARTICLES and not w.isdigit())
    return letters if len(letters) >= ACRONYM_MIN_LETTERS else None


def _acronym_variants(name: str) -> set[str]:
    """Initials as the EPCI write them on their own documents: numbers as digits, 'en'/'et' skipped, and without a
    final 'Agglo': 'CA des Deux Baies en Montreuillois' -> 'ca2bm', 'CC des 7 Vallées' -> 'cc7v', 'CA Douaisis
    Agglo' -> 'cad'."""
    words = normalize(re.sub(r"\(.*?\)", " ", name)).split()
    if not words or words[0] not in EPCI_PREFIXES:
        return set()
    rest = [NUMBER_WORDS.get(w, w) for w in words[1:] if w not in ARTICLES | ACRONYM_SKIPPED]
    variants = set()
    for kept in (rest, [w for w in rest if w not in EPCI_SUFFIXES]):
        letters = words[0] + "".join(w if w.isdigit() else w[0] for w in kept)
        if len(letters) >= ACRONYM_MIN_LETTERS and kept:
            variants.add(letters)
    return variants


def _usual_epci_keys(core: str, commune_keys: set[str], is_agglomeration: bool) -> set[str]:
    """Usual names read off an EPCI's core: 'grand calais terres et mers' -> 'grand calais' (Grand + a commune's
    name, as the CA calls itself); for a communauté d'agglomération, '<core> agglo' ('Boulonnais Agglo')."""
    words = core.split()
    keys = set()
    if words and words[0] == "grand":
        for end in range(2, len(words)):
            if " ".join(words[1:end]) in commune_keys:
                keys.add(" ".join(words[:end]))
    if is_agglomeration and words and words[-1] not in EPCI_SUFFIXES:
        keys |= {f"{core} agglo", f"{core} agglomeration"}
    return keys


def _short_forms(name: str) -> set[str]:
    """Where people cut an official name: before a linking word ('Boulogne-sur-Mer' -> 'Boulogne', 'Saint-Pol-sur-
    Ternoise' -> 'Saint-Pol') and after its first hyphenated part ('Le Touquet-Paris-Plage' -> 'Le Touquet'), as
    folded keys; a cut that leaves only generic words ('Saint', 'Notre-Dame') or under four letters is none."""
    parts = name.split("-")
    forms = set()
    for i in range(1, len(parts)):
        if i > 1 and normalize(parts[i]).split()[:1] not in ([w] for w in LINK_WORDS):
            continue
        head = normalize("-".join(parts[:i]))
        words = head.split()
        if (
            len(head.replace(" ", "")) >= SHORT_MIN_LETTERS
            and any(w not in GENERIC_WORDS for w in words)
            and head not in COMMON_WORDS
        ):
            forms.add(head)
    return forms


class Gazetteer:
    """Folded name -> entries, built once from the boundaries and the pays alias file."""

    def __init__(
        self,
        units: dict[tuple[str, str], Unit],
        names: dict[str, list[Entry]],
        communes: tuple[list[str], np.ndarray] | None = None,
    ) -> None:
        self.units = units
        self.names = names
        self.max_words = max(len(key.split()) for key in names)
        # compact form (no spaces) -> the keys with spaces that fold to it (a key without spaces is its own
        # compact form, found in ``names``: not listed again, 100 000 keys for France)
        compact: dict[str, list[str]] = defaultdict(list)
        for key in names:
            if " " in key:
                compact[key.replace(" ", "")].append(key)
        self._compact = dict(compact)
        codes, geometries = communes if communes is not None else ([], np.empty(0, dtype=object))
        self._commune_codes = codes
        self._commune_row = {code: i for i, code in enumerate(codes)}
        self._commune_geometries = geometries
        self._commune_tree = shapely.STRtree(geometries)
        self._adjacency: dict[str, frozenset[str]] = {}
        self._suffixes: list[tuple[str, str]] | None = None  # (key from one of its words on, key), sorted
        self._bare: dict[str, list[str]] = {}  # key without articles and level words -> the keys
        self._bare_keys: list[str] = []
        self._suffixes_lock = threading.Lock()

    @classmethod
    def build(cls, boundaries: Boundaries, aliases_path: Path | None = None) -> Gazetteer:
        units = _units(boundaries)
        names: dict[str, list[Entry]] = defaultdict(list)
        for unit in units.values():
            names[normalize(unit.name)].append(Entry(unit, "name"))
        epci = boundaries.level("epci")
        for code, name, full_name in zip(epci["code"], epci["name"], epci["full_name"], strict=True):
            for key in _epci_keys(name, full_name) - {normalize(name)}:
                names[key].append(Entry(units["epci", code], "epci_core"))
        former = _former_rows(boundaries, units)
        for row, unit in former:
            names[normalize(row["name"])].append(
                Entry(unit, "former", row["name"], _former_source(row, unit), row.get("population") or 0)
            )
        if aliases_path is not None:
            for alias in _read_aliases(aliases_path, units):
                names[normalize(alias.alias or "")].append(alias)
        # Derived names below are taken only where no name above is: an exact name always wins.
        derived: dict[str, list[Entry]] = defaultdict(list)
        commune_keys = {normalize(u.name) for u in units.values() if u.level == "commune"}
        for code, name, kind in zip(epci["code"], epci["name"], epci["kind"], strict=True):
            core = " ".join(w for w in normalize(name.split(",")[0]).split()[1:] if w not in ARTICLES)
            for key in _usual_epci_keys(core, commune_keys, kind == "CA"):
                derived[key].append(Entry(units["epci", code], "epci_core"))
        acronyms: dict[str, list[Unit]] = defaultdict(list)
        for code, name in zip(epci["code"], epci["name"], strict=True):
            for letters in {_acronym(name), *_acronym_variants(name)} - {None}:
                acronyms[letters].append(units["epci", code])
        for letters, owners in acronyms.items():
            # an acronym that is already a name is not taken; one two EPCI share (CCSA: Sud Artois, Sud Avesnois)
            # is a homonym, which the geocoder decides by the département named nearby, as for communes
            derived[letters].extend(Entry(owner, "acronym", alias=letters.upper()) for owner in owners)
        for key, entries in _short_entries(units, former).items():
            derived[key].extend(entries)
        for key, entries in derived.items():
            if key not in names:
                names[key] = entries
        communes = boundaries.level("commune")
        for code, postcodes in zip(communes["code"], communes["postal_codes"], strict=True):
            for postcode in postcodes or ():
                names[postcode].append(Entry(units["commune", code], "postcode", alias=postcode))
        return cls(
            units,
            {key: _unique(entries) for key, entries in names.items()},
            (list(communes["code"]), np.asarray(communes.geometry.values, dtype=object)),
        )

    def lookup(self, key: str) -> list[Entry]:
        return self.names.get(key, [])

    def lookup_compact(self, key: str) -> list[Entry]:
        """Entries whose name, written without spaces, is ``key`` without spaces ('grand soissons')."""
        folded = key.replace(" ", "")
        keys = ([folded] if folded in self.names else []) + self._compact.get(folded, [])
        return [entry for k in keys for entry in self.names[k]]

    def suggest(self, text: str, limit: int = 10) -> list[Entry]:
        """Units whose name (or alias, initials, postcode) has a word starting with ``text``, for a search box, and,
        forgiving, those whose name is that text give or take articles, level words and a typo.

        Ranked by closeness: whole-name matches, names starting with the text, names with a later word starting
        with it, names equal or starting with it once articles and level words are left out ("CC Ternois"), then
        names within a typo ("abbevile"), the closest first; within each, larger units and more populous places
        first. One entry per unit."""
        prefix = normalize(text)
        if not prefix:
            return []
        suffixes = self._suffix_index()
        found: dict[tuple[str, str], tuple[tuple, Entry]] = {}

        def add(key: str, rank: tuple) -> None:
            for entry in self.names[key]:
                unit = entry.unit
                order = (*rank, SUGGEST_KINDS.index(entry.kind), SUGGEST_LEVELS.index(unit.level), -unit.population)
                marker = (unit.level, unit.code)
                if marker not in found or order < found[marker][0]:
                    found[marker] = ((*order, unit.name), entry)

        start = bisect.bisect_left(suffixes, (prefix, ""))
        for suffix, key in suffixes[start:]:
            if not suffix.startswith(prefix):
                break
            add(key, (0 if key == prefix else 1 if key.startswith(prefix) else 2, 0))
        bare = _bare(prefix)
        if len(found) < limit and len(bare.replace(" ", "")) >= SUGGEST_FUZZY_MIN_LETTERS:
            for key in self._bare_keys[bisect.bisect_left(self._bare_keys, bare) :]:
                if not key.startswith(bare):
                    break
                for name in self._bare[key]:
                    add(name, (3, 0))
            hits = process.extract(
                bare, self._bare_keys, scorer=fuzz.ratio, score_cutoff=SUGGEST_FUZZY_SCORE, limit=3 * limit
            )
            for key, score, _ in hits:
                for name in self._bare[key]:
                    add(name, (4, -round(score)))
        return [entry for _, entry in sorted(found.values(), key=lambda item: item[0])[:limit]]

    def _suffix_index(self) -> list[tuple[str, str]]:
        with self._suffixes_lock:
            if self._suffixes is None:
                pairs = []
                bare: dict[str, list[str]] = defaultdict(list)
                for key in self.names:
                    words = key.split()
                    # from the first word, article or not ("le touq"), and from every later word but articles
                    pairs.extend(
                        (" ".join(words[i:]), key) for i in range(len(words)) if i == 0 or words[i] not in ARTICLES
                    )
                    if not key.isdigit():
                        bare[_bare(key)].append(key)
                self._bare = dict(bare)
                self._bare_keys = sorted(k for k in bare if k)
                self._suffixes = sorted(pairs)
            return self._suffixes

    def neighbours(self, communes: frozenset[str] | set[str]) -> set[str]:
        """Communes outside ``communes`` sharing a border (a line, not a single point) with one of them."""
        touching: set[str] = set()
        for code in communes:
            touching |= self._touching(code)
        return touching - set(communes)

    def _touching(self, code: str) -> frozenset[str]:
        """One commune's neighbours, worked out on first use and kept (a dict write is atomic under the GIL)."""
        known = self._adjacency.get(code)
        if known is not None:
            return known
        row = self._commune_row.get(code)
        if row is None:
            return frozenset()
        geometry = self._commune_geometries[row]
        others = self._commune_tree.query(geometry, predicate="intersects")
        others = others[others != row]
        shared = shapely.intersection(shapely.boundary(geometry), shapely.boundary(self._commune_geometries[others]))
        found = frozenset(self._commune_codes[j] for j in others[shapely.get_dimensions(shared) >= 1])
        self._adjacency[code] = found
        return found


def _bare(key: str) -> str:
    """A folded name without its articles and level words: 'cc du ternois' -> 'ternois'."""
    return " ".join(w for w in key.split() if w not in ARTICLES and w not in SUGGEST_LEVEL_WORDS)


def _former_rows(boundaries: Boundaries, units: dict[tuple[str, str], Unit]) -> list[tuple[dict, Unit]]:
    """The manifest's former communes (none in a build made before it listed them), with their current commune."""
    rows = []
    for row in boundaries.manifest.get("former_communes", []):
        unit = units.get(("commune", row["commune"]))
        if unit is not None:
            rows.append((row, unit))
    return rows


def _former_source(row: dict, unit: Unit) -> str:
    """French, for the notes: 'commune associée de Lille' (COG 2026)."""
    return f"{FORMER_KINDS.get(row['kind'], 'ancienne commune')} {of(unit.name)}"


def of(name: str) -> str:
    """French 'de' before a name: 'de Lille', "d'Étinehem-Méricourt", 'du Touquet-Paris-Plage', 'des Septvallons'."""
    for article, contracted in (("Le ", "du "), ("Les ", "des ")):
        if name.startswith(article):
            return contracted + name.removeprefix(article)
    return f"d'{name}" if normalize(name[:1])[:1] in set("aeiouy") else f"de {name}"


def _short_entries(units: dict[tuple[str, str], Unit], former: list[tuple[dict, Unit]]) -> dict[str, list[Entry]]:
    """Short forms of every current and former commune's name, each given to its one owner, to the one far larger
    than the others (``SHORT_DOMINANCE``), or to all of them (up to ``SHORT_MAX_OWNERS``) for the geocoder to ask.

    A former commune whose name ends with its current commune's ('Hellemmes-Lille', associée de Lille) is known by
    the rest of it ('Hellemmes') too: that form is its own, as a former name."""
    # (unit, official name it comes from, that place's own population, French source for the notes)
    owners: dict[str, list[tuple[Unit, str, int, str]]] = defaultdict(list)
    places = [(u, u.name, u.population) for u in units.values() if u.level == "commune"]
    for row, unit in former:
        places.append((unit, row["name"], row.get("population") or 0))
        folded, current = normalize(row["name"]), normalize(unit.name)
        if folded.endswith(" " + current) and folded != current:
            owners[folded.removesuffix(" " + current)].append(
                (unit, row["name"], row.get("population") or 0, _former_source(row, unit))
            )
    for unit, name, population in places:
        for key in _short_forms(name):
            owners[key].append((unit, name, population, f"forme courte {of(name)}"))
    entries: dict[str, list[Entry]] = {}
    for key, found in owners.items():
        by_unit: dict[Unit, tuple[Unit, str, int, str]] = {}
        for owner in sorted(found, key=lambda o: -o[2]):
            by_unit.setdefault(owner[0], owner)
        ranked = sorted(by_unit.values(), key=lambda o: (-o[2], o[0].code))
        if len(ranked) > SHORT_MAX_OWNERS:
            continue
        if len(ranked) > 1 and ranked[0][2] >= SHORT_DOMINANCE * max(ranked[1][2], 1):
            ranked = ranked[:1]
        entries[key] = [
            Entry(unit, "short" if source.startswith("forme courte") else "former", name, source, population)
            for unit, name, population, source in ranked
        ]
    return entries


def _unique(entries: list[Entry]) -> list[Entry]:
    """Drop repeated units under one key, keeping the first (most direct) way of reaching each."""
    seen: set[tuple[str, str, str | None]] = set()
    kept = []
    for entry in entries:
        marker = (entry.unit.level, entry.unit.code, entry.alias)
        if marker not in seen:
            seen.add(marker)
            kept.append(entry)
    return kept


def _units(boundaries: Boundaries) -> dict[tuple[str, str], Unit]:
    communes = boundaries.level("commune")
    members: dict[tuple[str, str], set[str]] = defaultdict(set)
    for parent in ("epci", "arrondissement", "departement", "region"):
        for code, parent_code in zip(communes["code"], communes[parent], strict=True):
            members[parent, parent_code].add(code)
    units = {}
    for level, frame in boundaries.frames.items():
        departements = frame["departement"] if "departement" in frame else [None] * len(frame)
        for code, name, population, departement in zip(
            frame["code"], frame["name"], frame["population"], departements, strict=True
        ):
            communes_of = frozenset({code}) if level == "commune" else frozenset(members[level, code])
            units[level, code] = Unit(level, code, name, departement, int(population), communes_of)
    return units


def _read_aliases(path: Path, units: dict[tuple[str, str], Unit]) -> list[Entry]:
    try:
        rows = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"cannot read the pays alias table {path}: {exc}") from exc
    entries = []
    for row in rows:
        for ref in row["units"]:
            unit = units.get((ref["level"], ref["code"]))
            if unit is None:
                # An alias for another région's data: skip it rather than refuse to start.
                continue
            for name in [row["name"], *row.get("also", [])]:
                entries.append(Entry(unit, "alias", alias=name, source=row["source"]))
    return entries
