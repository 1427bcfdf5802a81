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
* a five-digit postcode names every commune that uses it (the COG's postcodes).

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

from geo_service.errors import DataError
from geo_service.geocoding.text import normalize
from geo_service.territories import Boundaries

ARTICLES = frozenset({"de", "du", "des", "d", "la", "le", "les", "l"})
EPCI_PREFIXES = frozenset({"cc", "ca", "cu"})
EPCI_SUFFIXES = frozenset({"agglo", "agglomeration"})
ACRONYM_MIN_LETTERS = 3
# Suggestion order within a tier: what the text names itself before aliases, and a commune before the
# arrondissement or EPCI named after it (people typing "Amiens" mostly mean the town).
SUGGEST_KINDS = ("name", "epci_core", "acronym", "postcode", "alias")
SUGGEST_LEVELS = ("departement", "region", "commune", "epci", "arrondissement")


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
    """A name pointing at a unit. ``alias`` is the pays name and ``source`` its source when it is an alias."""

    unit: Unit
    kind: str  # "name", "epci_core", "acronym", "alias" or "postcode"
    alias: str | None = None  # the pays name, the acronym or the postcode as written
    source: str | None = None


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
        if aliases_path is not None:
            for alias in _read_aliases(aliases_path, units):
                names[normalize(alias.alias or "")].append(alias)
        acronyms: dict[str, list[Unit]] = defaultdict(list)
        for code, name in zip(epci["code"], epci["name"], strict=True):
            if (letters := _acronym(name)) is not None:
                acronyms[letters].append(units["epci", code])
        for letters, owners in acronyms.items():
            # an acronym that is already a name is not taken; one two EPCI share (CCSA: Sud Artois, Sud Avesnois)
            # is a homonym, which the geocoder decides by the département named nearby, as for communes
            if letters not in names:
                names[letters].extend(Entry(owner, "acronym", alias=letters.upper()) for owner in owners)
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
        """Units whose name (or alias, initials, postcode) has a word starting with ``text``, for a search box.

        Whole-name matches first, then names starting with the text, then names with a later word starting with it;
        within each, larger units and more populous places first. One entry per unit."""
        prefix = normalize(text)
        if not prefix:
            return []
        suffixes = self._suffix_index()
        found: dict[tuple[str, str], tuple[tuple, Entry]] = {}
        start = bisect.bisect_left(suffixes, (prefix, ""))
        for suffix, key in suffixes[start:]:
            if not suffix.startswith(prefix):
                break
            rank = 0 if key == prefix else 1 if key.startswith(prefix) else 2
            for entry in self.names[key]:
                unit = entry.unit
                order = (
                    rank,
                    SUGGEST_KINDS.index(entry.kind),
                    SUGGEST_LEVELS.index(unit.level),
                    -unit.population,
                    unit.name,
                )
                marker = (unit.level, unit.code)
                if marker not in found or order < found[marker][0]:
                    found[marker] = (order, entry)
        return [entry for _, entry in sorted(found.values(), key=lambda item: item[0])[:limit]]

    def _suffix_index(self) -> list[tuple[str, str]]:
        with self._suffixes_lock:
            if self._suffixes is None:
                pairs = []
                for key in self.names:
                    words = key.split()
                    pairs.extend((" ".join(words[i:]), key) for i in range(len(words)) if words[i] not in ARTICLES)
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
