"""The names the geocoder knows: every unit of the loaded boundaries, EPCI name variants, and pays aliases.

Keys are folded names (see ``text.normalize``). One key may name several units: homonym communes (Senlis in the
Oise and in the Pas-de-Calais), or a commune and the arrondissement and EPCI named after it (Lens). The geocoder
decides between them; the gazetteer only lists them, with how each name was obtained.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from geo_service.errors import DataError
from geo_service.geocoding.text import normalize
from geo_service.territories import Boundaries

ARTICLES = frozenset({"de", "du", "des", "d", "la", "le", "les", "l"})
EPCI_PREFIXES = frozenset({"cc", "ca", "cu"})


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
    kind: str  # "name", "epci_core" or "alias"
    alias: str | None = None
    source: str | None = None


def _epci_keys(name: str, full_name: str) -> set[str]:
    """'CA de Béthune-Bruay, Artois-Lys Romane' -> full forms, 'bethune bruay artois lys romane', 'bethune bruay'."""
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
    return keys


class Gazetteer:
    """Folded name -> entries, built once from the boundaries and the pays alias file."""

    def __init__(self, units: dict[tuple[str, str], Unit], names: dict[str, list[Entry]]) -> None:
        self.units = units
        self.names = names
        self.max_words = max(len(key.split()) for key in names)

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
        return cls(units, {key: _unique(entries) for key, entries in names.items()})

    def lookup(self, key: str) -> list[Entry]:
        return self.names.get(key, [])


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
