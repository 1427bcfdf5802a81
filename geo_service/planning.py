"""Planning the next call for projects: what a hypothetical action would change, and where one would help most.

Two questions programme officers ask, answered from the coverage of the served data (``geo_service.coverage``)
under the same rule and parameters as the map:

* **simulate**: "if we fund this action (on these territories, or where this text points), which communes and how
  many people leave the zones blanches?" Nothing is stored: the actions are laid over the current coverage.
* **opportunities**: "where would one more direct action take the most people out of zones blanches?" Each
  candidate territory (a commune, an EPCI or an arrondissement) is scored by the people of the zone-blanche
  communes it would bring within ``max_km`` (or reach itself); then a greedy sequence picks the best one, counts
  its communes as no longer white, and picks again, k times.

The method is the greedy heuristic for the *maximal covering location problem*: each step takes the candidate
covering the most people not covered yet. Its total is at least 1 − 1/e (63 %) of the best possible set of k
actions, and usually close to it; it is not an optimum. Its limits, which the README repeats: distances are
straight lines between town halls (or to a commune's outline), not roads or public transport; a commune counts
with its whole population, wherever its people live in it; an action on an EPCI or an arrondissement is assumed to
reach every one of its communes, which a single shop or van does not; and nothing weighs need (poverty rates,
people without a car), only where people live.

A hypothetical action is counted like a funded project: it reaches its communes when its reach is direct (or
when the parameters count every reach), and when it is local (communes, EPCI, arrondissements), or
département-wide with ``count_departmental``. Adding reached communes can only shorten distances, so a simulation
never adds a zone blanche and gains are never negative.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from shapely.geometry import mapping

from geo_service.coverage import Coverage
from geo_service.errors import CostLimitError, InvalidInputError
from geo_service.formatting import fr_number
from geo_service.geocoding.geocoder import Geocoder
from geo_service.geojson import oriented
from geo_service.parameters import CoverageParams
from geo_service.projects.catalogue import project_scope
from geo_service.spreadsheet import safe_cell
from geo_service.territories import Boundaries, check_code

ACTION_LEVELS = ("commune", "epci", "arrondissement", "departement", "region")
RANKING_LEVELS = ("commune", "epci", "arrondissement")
ACTION_REACHES = ("direct", "support")
MAX_ACTIONS = 50  # per simulation: enough for a call for projects, bounded for a request anyone may send
MAX_K = 20  # greedy steps per ranking
# Pairs of (zone-blanche commune, commune within max_km) a ranking may compare: about 3 s and 200 MB at worst on
# this 2-core machine (bench/redteam.py). The région's whole default ranking is about 40 000 pairs; France's at
# max_km=10 about 300 000; France at 60 km some 10 million, beyond what one anonymous request may cost.
MAX_PAIRS = 5_000_000
METHOD = (
    "Greedy maximal covering: each step takes the territory whose communes, once reached by a direct local action, "
    "take the most people out of zones blanches not taken out by the steps before (at least 63 % of the best "
    "possible k actions). Straight-line distances between town halls (or to outlines); whole commune populations; "
    "an action on an EPCI or arrondissement assumed to reach all its communes."
)
_REFERENCE = re.compile(r"\s*([a-z]+)\s*:\s*(\S+)\s*")


@dataclass(frozen=True)
class ActionSpec:
    """A hypothetical action as people give it: territories as ``level:code`` (``epci:200069409``), and/or a place
    text read by the geocoder, its reach, and for a mobile action the communes it stops in (INSEE codes), which are
    then what it reaches."""

    territories: tuple[str, ...] = ()
    place_text: str | None = None
    reach: str = "direct"
    communes_served: tuple[str, ...] = ()
    label: str | None = None


@dataclass(frozen=True)
class PlannedAction:
    """An action resolved against the loaded data: its territories, the communes it reaches, and how it counts."""

    label: str
    territories: tuple[tuple[str, str, str], ...]  # (level, code, name)
    communes: tuple[str, ...]
    scope: str
    reach: str
    mobile: bool
    notes: tuple[str, ...] = ()
    title: str = ""  # for people (a picture's title): the label given, else the territories' names alone

    def counted(self, params: CoverageParams) -> bool:
        """Whether these parameters count it as reaching its communes (the rule of ``geo_service.coverage``)."""
        reach_counts = params.reach == "all" or self.reach == "direct"
        scope_counts = self.scope == "local" or (self.scope == "departement" and params.count_departmental)
        return reach_counts and scope_counts


def parse_reference(text: str) -> tuple[str, str]:
    """``"epci:200069409"`` -> ``("epci", "200069409")``, with errors naming what was received."""
    found = _REFERENCE.fullmatch(text or "")
    if found is None:
        raise InvalidInputError(
            f"territory {text!r}: expected 'level:code' with a level among {', '.join(ACTION_LEVELS)} "
            "(e.g. 'epci:200069409' or 'commune:80021')"
        )
    level, code = found.groups()
    if level not in ACTION_LEVELS:
        raise InvalidInputError(
            f"territory {text!r}: unknown level {level!r}, expected one of {', '.join(ACTION_LEVELS)}"
        )
    check_code(level, code)
    return level, code


def resolve(spec: ActionSpec, boundaries: Boundaries, geocoder: Geocoder) -> PlannedAction:
    """The action's territories and communes in the loaded data; errors name the part that does not resolve."""
    if spec.reach not in ACTION_REACHES:
        raise InvalidInputError(f"reach must be one of {', '.join(ACTION_REACHES)}, got {spec.reach!r}")
    units = geocoder.gazetteer.units
    territories: dict[tuple[str, str], str] = {}
    communes: set[str] = set()
    notes: list[str] = []
    for text in spec.territories:
        level, code = parse_reference(text)
        unit = units.get((level, code))
        if unit is None:
            raise InvalidInputError(f"territory {text!r}: no such {level} in the loaded data")
        territories[level, code] = unit.name
        communes |= unit.communes
    if spec.place_text is not None and spec.place_text.strip():
        answer = geocoder.geocode(spec.place_text)
        if not answer.units:
            raise InvalidInputError(
                f"place_text {spec.place_text!r} resolves to no territory of the loaded data"
                + (f" (unresolved: {', '.join(answer.unresolved)})" if answer.unresolved else "")
            )
        for unit in answer.units:
            territories[unit.level, unit.code] = unit.name
        communes |= set(answer.communes)
        notes.extend(answer.notes)
    served = set()
    for code in spec.communes_served:
        check_code("commune", code)
        if ("commune", code) not in units:
            raise InvalidInputError(f"communes_served: no commune {code!r} in the loaded data")
        served.add(code)
    if not territories and not served:
        raise InvalidInputError("an action needs territories ('level:code'), a place_text or communes_served")
    if served:
        # a van or a mobile shop reaches its stops, not every commune of the territory it is funded for
        outside = served - communes if territories else set()
        if outside:
            notes.append(f"communes desservies hors des territoires de l'action : {', '.join(sorted(outside))}")
        communes = served
    # a mobile action counts where it stops, whatever territory funds it: its scope is that of its communes
    scope = "local" if served else project_scope([level for level, _ in territories])
    described = [f"{name} ({level} {code})" for (level, code), name in territories.items()]
    label = spec.label or ", ".join(described) or ", ".join(sorted(served))
    title = spec.label or ", ".join(territories.values()) or ", ".join(units["commune", c].name for c in sorted(served))
    return PlannedAction(
        label=label,
        territories=tuple((level, code, name) for (level, code), name in territories.items()),
        communes=tuple(sorted(communes)),
        scope=scope,
        reach=spec.reach,
        mobile=bool(served),
        notes=tuple(notes),
        title=title,
    )


@dataclass(frozen=True)
class Totals:
    communes_zone_blanche: int
    population_zone_blanche: int
    communes_reached: int
    population_reached: int


@dataclass(frozen=True)
class Simulation:
    params: CoverageParams
    actions: list[PlannedAction]
    before: Totals
    after: Totals
    leaving: pd.DataFrame  # the communes leaving the zones blanches, by code
    by_departement: list[dict]
    by_epci: list[dict]
    reached: list[str] = field(default_factory=list)  # communes the actions newly reach


def simulate(coverage: Coverage, params: CoverageParams, actions: list[PlannedAction]) -> Simulation:
    """The coverage once these actions are funded, and what changes: communes and people leaving the zones
    blanches, per département and EPCI."""
    if len(actions) > MAX_ACTIONS:
        raise InvalidInputError(f"at most {MAX_ACTIONS} actions per simulation, got {len(actions)}")
    figures = coverage.figures(params)
    reached_before = coverage.reached(params)
    added = np.zeros(len(figures), dtype=bool)
    for action in actions:
        if action.counted(params):
            added[coverage.rows(action.communes)] = True
    reached_after = reached_before | added
    newly = added & ~reached_before
    white_before = figures["zone_blanche"].to_numpy()
    # the distances once the new communes are reached, searched from the zones blanches only: no other commune
    # can become one, or stop being one (a simulation is not kept: nothing of it goes into the coverage's caches)
    km_after = np.array(coverage.distances(params))
    km_after[reached_after] = 0.0
    coverage.lower(km_after, newly, white_before, params.distance_to)
    still_white = white_before & ~reached_after & ~(km_after <= params.max_km)
    leaving_rows = np.flatnonzero(white_before & ~still_white)
    km_before = figures["distance_km"].to_numpy()
    leaving = pd.DataFrame(
        {
            "code": figures["code"].to_numpy()[leaving_rows],
            "name": figures["name"].to_numpy()[leaving_rows],
            "departement": figures["departement"].to_numpy()[leaving_rows],
            "epci": figures["epci"].to_numpy()[leaving_rows],
            "population": figures["population"].to_numpy()[leaving_rows],
            "distance_km_before": km_before[leaving_rows],
            "distance_km_after": np.round(km_after[leaving_rows], 2),
            "reached": reached_after[leaving_rows],
        }
    )
    population = figures["population"].to_numpy()
    return Simulation(
        params=params,
        actions=actions,
        before=_totals(white_before, reached_before, population),
        after=_totals(still_white, reached_after, population),
        leaving=leaving,
        by_departement=_by(leaving, "departement", coverage),
        by_epci=_by(leaving, "epci", coverage),
        reached=sorted(figures["code"].to_numpy()[newly].tolist()),
    )


def _totals(white: np.ndarray, reached: np.ndarray, population: np.ndarray) -> Totals:
    return Totals(
        communes_zone_blanche=int(white.sum()),
        population_zone_blanche=int(population[white].sum()),
        communes_reached=int(reached.sum()),
        population_reached=int(population[reached].sum()),
    )


def _by(leaving: pd.DataFrame, level: str, coverage: Coverage) -> list[dict]:
    groups = leaving.groupby(level, sort=True)["population"].agg(["count", "sum"])
    return [
        {
            "code": code,
            "name": coverage.name_of(level, code),
            "communes": int(row["count"]),
            "population": int(row["sum"]),
        }
        for code, row in groups.iterrows()
    ]


@dataclass(frozen=True)
class Candidate:
    level: str
    code: str
    name: str
    population: int  # people taken out of zones blanches
    communes: tuple[str, ...]  # the zone-blanche communes taken out
    cumulative_population: int = 0  # in a greedy sequence: with the steps before


@dataclass(frozen=True)
class Ranking:
    params: CoverageParams
    level: str
    before: Totals
    best: list[Candidate]  # the k best single actions, each counted alone
    sequence: list[Candidate]  # k actions, each counted after the previous ones
    candidates: int


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct integers of ``values``, sorted: a sort and a comparison of neighbours (numpy's ``unique``
    hashes first, several times slower on millions of pairs)."""
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def opportunities(
    coverage: Coverage,
    boundaries: Boundaries,
    params: CoverageParams,
    level: str = "epci",
    k: int = 5,
    departement: str | None = None,
    funded: list[PlannedAction] | None = None,
) -> Ranking:
    """The territories of ``level`` where one new direct, local action would take the most people out of zones
    blanches, and a greedy sequence of ``k`` such actions. ``departement`` keeps the candidates of one
    département (the people they take out are counted wherever they live). ``funded``: hypothetical actions
    counted as funded first (a simulation's), so that the ranking says where to act next, after them."""
    if level not in RANKING_LEVELS:
        raise InvalidInputError(f"level={level!r}: expected one of {', '.join(RANKING_LEVELS)}")
    if not 1 <= k <= MAX_K:
        raise InvalidInputError(f"k must be between 1 and {MAX_K}, got {k}")
    figures = coverage.figures(params)
    white = figures["zone_blanche"].to_numpy()
    population = figures["population"].to_numpy().astype(np.int64)
    before = _totals(white, coverage.reached(params), population)
    if funded:
        # a commune's leaving the zones blanches does not depend on which reached commune brings it within
        # max_km: the communes the funded actions take out are simply no longer to be taken out
        simulated = simulate(coverage, params, funded)
        white = white & ~figures["code"].isin(simulated.leaving["code"]).to_numpy()
        before = simulated.after
    # which candidate communes would take each zone-blanche commune out: itself, and those within max_km; how
    # many pairs that is decides the cost, so it is estimated (from a sample) before any is searched
    estimate = coverage.estimate_pairs(white, params.max_km, params.distance_to)
    if estimate > MAX_PAIRS:
        raise CostLimitError(
            f"max_km={params.max_km:g}: ranking would compare about {estimate:,} pairs of communes, more than the "
            f"{MAX_PAIRS:,} one request may; lower max_km or choose a département"
        )
    # candidate territories: each commune's unit of the level (communes without one, e.g. outside any EPCI, none)
    units = figures["code"].to_numpy() if level == "commune" else coverage.communes[level].to_numpy()
    names = boundaries.level(level)["name"]
    valid = pd.Series(units).isin(names.index).to_numpy()
    codes = np.array(sorted(set(units[valid])), dtype=object)
    if departement is not None:
        # candidates with a commune in the département; an EPCI across its border still reaches all its communes
        boundaries.require("departement", departement, parameter="departement")
        inside = valid & (figures["departement"].to_numpy() == departement)
        codes = np.array(sorted(set(units[inside])), dtype=object)
        valid = valid & pd.Series(units).isin(codes).to_numpy()
    if len(codes) == 0:
        return Ranking(params, level, before, [], [], 0)
    number = pd.Index(codes)
    unit_of_row = np.full(len(figures), -1, dtype=np.int64)
    unit_of_row[valid] = number.get_indexer(units[valid])
    # one pair per (zone-blanche commune, unit): an EPCI counts each of its white neighbours once; reduced chunk by
    # chunk, so that only these pairs are held, not every pair of communes (a chunk's sources are its own)
    # (each pair as one integer: unique over one int64 column is many times faster than over pairs of columns)
    span = len(codes)
    reduced = [np.zeros(0, dtype=np.int64)]
    for white_rows, commune_rows in coverage.within_chunks(white, params.max_km, params.distance_to):
        pair_units = unit_of_row[commune_rows]
        keep = pair_units >= 0
        reduced.append(_distinct(white_rows[keep].astype(np.int64) * span + pair_units[keep]))
    pairs = _distinct(np.concatenate(reduced))
    white_of, unit_of = pairs // span, pairs % span
    remaining = population.copy()
    remaining[~white] = 0

    def gains() -> np.ndarray:
        return np.bincount(unit_of, weights=remaining[white_of], minlength=len(codes)).astype(np.int64)

    def candidate(unit: int, gained: np.ndarray, cumulative: int = 0) -> Candidate:
        rows = white_of[(unit_of == unit) & (remaining[white_of] > 0)]
        code = str(codes[unit])
        return Candidate(
            level=level,
            code=code,
            name=str(names[code]),
            population=int(gained[unit]),
            communes=tuple(sorted(figures["code"].to_numpy()[rows].tolist())),
            cumulative_population=cumulative,
        )

    single = gains()
    covered_communes = np.bincount(unit_of, weights=(remaining[white_of] > 0), minlength=len(codes))
    # most people first; then most communes; then the code, so that equal scores come in a stable order
    order = np.lexsort((np.arange(len(codes)), -covered_communes, -single))
    best = [candidate(int(u), single, int(single[u])) for u in order[:k] if single[u] > 0]
    sequence: list[Candidate] = []
    total = 0
    for _ in range(k):
        step = gains()
        if len(step) == 0 or step.max() <= 0:
            break
        counts = np.bincount(unit_of, weights=(remaining[white_of] > 0), minlength=len(codes))
        unit = int(np.lexsort((np.arange(len(codes)), -counts, -step))[0])
        total += int(step[unit])
        chosen = candidate(unit, step, total)
        sequence.append(chosen)
        remaining[white_of[unit_of == unit]] = 0
    return Ranking(params, level, before, best, sequence, len(codes))


# "N habitants …, dont M hors de l'intercommunalité": how the sentence names the area of one action territory
OUTSIDE_WORDS = {
    "commune": "de la commune",
    "epci": "de l'intercommunalité",
    "arrondissement": "de l'arrondissement",
    "departement": "du département",
    "region": "de la région",
}


def outside_of(leaving: pd.DataFrame, communes: Collection[str]) -> dict[str, int]:
    """The communes leaving the zones blanches that lie outside ``communes`` (an action's territory), and their
    people: a commune counts with all its people, and those of the neighbours brought within ``max_km`` of the
    action count too, which is what "N people leave" would otherwise hide."""
    out = leaving[~leaving["code"].isin(list(communes))]
    return {"communes": len(out), "population": int(out["population"].sum())}


def action_area(action: PlannedAction, units: Mapping[tuple[str, str], Any]) -> frozenset[str]:
    """The communes of the territories an action names (``units``: the gazetteer's units by (level, code)), or of
    its stops when it names none."""
    found = [units[level, code].communes for level, code, _ in action.territories if (level, code) in units]
    return frozenset().union(*found) if found else frozenset(action.communes)


def outside_communes(simulation: Simulation, units: Mapping[tuple[str, str], Any]) -> set[str]:
    """The communes leaving the zones blanches that lie outside the area of every action."""
    inside = frozenset().union(*(action_area(a, units) for a in simulation.actions))
    return set(simulation.leaving["code"]) - inside


def leaving_sentence(simulation: Simulation, units: Mapping[tuple[str, str], Any]) -> str:
    """What the simulation counts, in a French sentence: « 1 234 habitants des communes qui sortiraient des zones
    blanches, dont 567 hors de l'intercommunalité » (the area of the action, or of all of them)."""
    leaving = simulation.leaving
    total = int(leaving["population"].sum())
    if leaving.empty:
        return "Aucune commune ne sortirait des zones blanches"
    territories = {(level, code) for a in simulation.actions for level, code, _ in a.territories}
    if not territories:
        where = "des communes desservies"
    elif len(territories) == 1 and all(a.territories for a in simulation.actions):
        where = OUTSIDE_WORDS[next(iter(territories))[0]]
    else:
        where = "des territoires de l'action" if len(simulation.actions) == 1 else "des territoires des actions"
    outside = leaving[leaving["code"].isin(outside_communes(simulation, units))]
    people = int(outside["population"].sum())
    return (
        f"{fr_number(total)} habitant{'s' if total > 1 else ''} des communes qui sortiraient des zones blanches, "
        f"dont {fr_number(people)} hors {where}"
    )


def simulation_csv(simulation: Simulation) -> str:
    """The communes leaving the zones blanches, as CSV (decimal point, booleans as true/false, text cells safe)."""
    out = simulation.leaving.copy()
    out["reached"] = out["reached"].map({True: "true", False: "false"})
    for column in ("code", "name", "departement", "epci"):
        out[column] = out[column].map(safe_cell)
    return out.to_csv(index=False, lineterminator="\n")


def simulation_geojson(simulation: Simulation, boundaries: Boundaries) -> bytes:
    """The communes a map overlay draws for a simulation, as a GeoJSON FeatureCollection (RFC 7946 winding): those
    the counted actions reach and those leaving the zones blanches, each with ``in_action`` and ``leaving``. The
    communes' stored outlines, unsimplified: small enough (an action on a whole département, 780 communes with
    those leaving around them, is about 0.6 MB)."""
    reached = {code for action in simulation.actions if action.counted(simulation.params) for code in action.communes}
    leaving = set(simulation.leaving["code"])
    communes = boundaries.level("commune")
    codes = sorted(code for code in reached | leaving if code in communes.index)
    rows = communes.loc[codes]
    features = [
        {
            "type": "Feature",
            "id": code,
            "properties": {
                "code": code,
                "name": str(name),
                "population": int(population),
                "in_action": code in reached,
                "leaving": code in leaving,
            },
            "geometry": None if geometry is None else mapping(geometry),
        }
        for code, name, population, geometry in zip(
            codes, rows["name"], rows["population"], oriented(rows.geometry.to_numpy()), strict=True
        )
    ]
    document = {"type": "FeatureCollection", "features": features}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def ranking_rows(ranking: Ranking, joiner: str = ";") -> list[dict]:
    """The greedy sequence as table rows: step, territory, people and communes taken out, cumulative people."""
    return [
        {
            "step": number,
            "level": c.level,
            "code": c.code,
            "name": c.name,
            "population": c.population,
            "communes": len(c.communes),
            "cumulative_population": c.cumulative_population,
            "commune_codes": joiner.join(c.communes),
        }
        for number, c in enumerate(ranking.sequence, start=1)
    ]


def ranking_csv(ranking: Ranking) -> str:
    """The greedy sequence as CSV: step, territory, people and communes taken out, cumulative people."""
    rows = [{**row, "code": safe_cell(row["code"]), "name": safe_cell(row["name"])} for row in ranking_rows(ranking)]
    columns = ["step", "level", "code", "name", "population", "communes", "cumulative_population", "commune_codes"]
    return pd.DataFrame(rows, columns=columns).to_csv(index=False, lineterminator="\n")
