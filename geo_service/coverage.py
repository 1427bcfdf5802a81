"""Coverage of the communes by funded projects, and the *zones blanches* rule.

For every commune: the projects that reach it and the broadest scope among them, the number of local projects,
the distance from its town hall to the town hall of the nearest commune reached by a local action, population,
area, density, a rural / urban class, and whether it is a zone blanche, with the reason in words.

The rule, the same for the map, the API and the exports:

* a project's **scope** is ``local`` when all its territories are communes, EPCI or arrondissements; ``departement``
  when its broadest territory is a département; ``region`` when it covers the région. A commune's ``best_scope`` is
  the most local scope among the projects reaching it (``none`` when no project does);
* a commune is **rural** when its density (population / area) is below ``rural_max_density`` inhabitants per km².
  Default 150: here, 78 % of the région's communes and 22 % of its people fall under it. It is a commune-average
  density, simpler than INSEE's 1 km²-cell density grid, and a parameter so it can be set to match another reading;
* a project's **reach** is ``direct`` when people get food, vouchers or a shop/van stop there, ``support`` when it
  helps other actors (``geo_service.projects.derive``). With ``reach=direct`` (the default) only direct projects
  count as reaching their communes; ``reach=all`` counts every project, as the map did before reach existed;
* a commune is **reached** when a counted local project reaches it, or, with ``count_departmental=true``, a
  département-wide one too (region-wide projects never count: they reach everywhere on paper);
* ``distance_km``: from the commune's town hall to the nearest reached commune, in Lambert-93 (EPSG:2154; the
  overseas départements use their own UTM projection), 0 when reached, null when nothing is reached. "Nearest
  reached commune" means its town hall with ``distance_to=townhall`` (the default: where a service usually is, in
  the bourg) or the nearest point of its outline with ``distance_to=territory`` (a lower bound: the action may be
  anywhere in that commune). The README compares both;
* a **zone blanche** is a rural commune, not reached, farther than ``max_km`` from a reached commune. Default
  10 km: about a quarter of an hour by car, beyond walking or cycling for most, which is the point of the axis 4
  of the programme (people without a car).

Raising ``max_km``, lowering ``rural_max_density``, counting département-wide actions, counting every reach or
measuring to the territory can only remove zones blanches, never add one; the tests check it.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from itertools import pairwise

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import mapping

from geo_service.errors import InvalidInputError, NotFoundError
from geo_service.formatting import fr_number
from geo_service.geojson import geometry_dict, oriented
from geo_service.memo import HashedOnce, Memo
from geo_service.parameters import REACH_MODES, CoverageParams
from geo_service.projects.catalogue import ProjectCatalogue, project_scope, selected
from geo_service.projects.derive import DIRECT_ACTIONS
from geo_service.spreadsheet import safe_cell
from geo_service.territories import Boundaries

SCOPES = ("local", "departement", "region", "none")
METROPOLE_CRS = 2154
# Below this many (town hall, target) pairs, a nearest-town-hall search is a numpy product of all pairs: building
# an STRtree and querying it costs a few milliseconds however few the targets are (a new project's communes)
BRUTE_FORCE_PAIRS = 50_000
BOX_MARGIN_M = 1.0  # see Coverage._maybe_closer
CHUNK_PAIRS = 1_000_000  # pairs of communes searched at once by Coverage.within_chunks (tens of MB)
PAIR_SAMPLE = 256  # sources whose pairs are counted exactly to estimate a search's size
OVERSEAS_CRS = {"971": 5490, "972": 5490, "973": 2972, "974": 2975, "976": 4471}
COLUMNS = [
    "code",
    "name",
    "departement",
    "epci",
    "population",
    "area_km2",
    "density",
    "rural",
    "projects",
    "local_projects",
    "best_scope",
    "support_projects",
    "distance_km",
    "zone_blanche",
    "reason",
]


def _direct_kinds(reach: list[str]) -> list[str]:
    """The kinds of direct action a project's reach words name, in a fixed order."""
    return [kind for kind in DIRECT_ACTIONS if any(w.startswith(kind + " (") for w in reach)]


class _Communes:
    """What every coverage of the same boundaries shares: the communes' figures, their town halls projected in
    metres, the names of their EPCI and départements. Made once per boundaries version (in the memo)."""

    def __init__(self, boundaries: Boundaries) -> None:
        communes = boundaries.level("commune")
        self.population = communes["population"].to_numpy(dtype=float)
        self.area = communes["area_km2"].to_numpy(dtype=float)
        self.density = np.divide(self.population, self.area, out=np.zeros_like(self.population), where=self.area > 0)
        self.index = {code: i for i, code in enumerate(communes["code"])}
        self.xy, self.groups = _projected_townhalls(communes)
        self.points = shapely.points(self.xy)  # the town halls as points, in metres
        self.density_text = [fr_number(d, 1) for d in np.round(self.density, 1)]
        self.names = {level: boundaries.level(level)["name"].to_dict() for level in ("epci", "departement")}


class _Counts:
    """Which communes each scope of project reaches, per reach mode, and each commune's projects: what the
    figures depend on, made once per (boundaries, projects' ids, scopes, reaches and communes).

    Counted over all projects' rows at once (one concatenation, then counts per group): per project, this was
    the part of a write that grew with the number of projects."""

    def __init__(self, listed: list, scopes: dict[str, str], rows_of: dict[str, np.ndarray], size: int) -> None:
        self.scope_of_project = {p.id: scopes[p.id] for p in listed}
        self.direct_projects = {p.id for p in listed if p.reach == "direct"}
        lengths = np.array([len(rows_of[p.id]) for p in listed], dtype=np.int64)
        rows = np.concatenate([rows_of[p.id] for p in listed]) if listed else np.zeros(0, dtype=np.int64)
        scope = np.repeat(np.array([SCOPES.index(scopes[p.id]) for p in listed], dtype=np.int8), lengths)
        local = scope == SCOPES.index("local")
        direct = np.repeat(np.array([p.reach == "direct" for p in listed], dtype=bool), lengths)

        def counts(selected: np.ndarray) -> np.ndarray:
            return np.bincount(rows[selected], minlength=size)

        # reach[mode][scope]: the communes a project of that scope reaches, counting the projects of that mode
        self.reach: dict[str, dict[str, np.ndarray]] = {}
        self.local_count: dict[str, np.ndarray] = {}
        for mode in REACH_MODES:
            counted = np.ones(len(rows), dtype=bool) if mode == "all" else direct
            self.reach[mode] = {s: counts(counted & (scope == SCOPES.index(s))) > 0 for s in SCOPES[:3]}
            self.local_count[mode] = counts(counted & local)
        self.support_local = counts(~direct & local)
        # each commune's projects, in the projects' order (a stable sort of the rows keeps it), as lists when asked
        order = np.argsort(rows, kind="stable")
        ids = np.repeat(np.array([p.id for p in listed], dtype=object), lengths)[order]
        self.projects_by_row = (ids, np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=size))]))
        self._projects_of: list[list[str]] | None = None

    def projects_of(self) -> list[list[str]]:
        if self._projects_of is None:
            ids, bounds = self.projects_by_row
            every, edges = ids.tolist(), bounds.tolist()
            self._projects_of = [every[a:b] for a, b in pairwise(edges)]
        return self._projects_of


class Coverage:
    """The coverage rule over one set of boundaries and projects: a pure function of them and of the parameters.

    Whatever two coverages of the same content share (projected town halls, each project's rows, the counts, the
    figures per parameter set, the distances to a set of reached communes) is found in ``memo`` under content
    keys, so the coverage after a write computes only what the write changed, without knowing the coverage
    before it. Without a memo, a coverage keeps its results for itself."""

    def __init__(
        self, boundaries: Boundaries, projects: ProjectCatalogue, memo: Memo | None = None, *, prune: bool = True
    ) -> None:
        """``prune``: drop from the memo the rows no project of ``projects`` uses (the coverage of every project,
        after a write); a selection's coverage, over a subset of them, leaves them."""
        memo = memo if memo is not None else Memo()
        self._memo = memo
        communes = boundaries.level("commune")
        self.communes = communes
        self._boundaries, self._catalogue = boundaries, projects
        self._geometry = communes.geometry
        self._arrondissement = communes["arrondissement"]
        base = memo.get("coverage.projected", boundaries.version, lambda: _Communes(boundaries))
        self.population, self.area, self.density = base.population, base.area, base.density
        self._index, self._xy, self._groups, self._points = base.index, base.xy, base.groups, base.points
        self._density_text, self._names = base.density_text, base.names
        listed = list(projects.projects.values())
        self.kinds_of_project = {p.id: _direct_kinds(p.derivation["reach"]) for p in listed}
        # what the figures depend on: each project's id, scope, reach and communes (not its name or duration)
        scopes = {p.id: project_scope([t.level for t in p.territories]) for p in listed}
        communes_of = {p.id: tuple(p.communes) for p in listed}
        self.key = tuple(sorted((p.id, scopes[p.id], p.reach, communes_of[p.id]) for p in listed))
        # what the memo keys the figures by: ``key`` hashed once (hashing it walks every commune of every project)
        self.content = HashedOnce(self.key)
        # each project's commune rows, by its communes (a région-wide project has thousands)
        index = self._index
        rows_of = {
            pid: memo.get(
                "coverage.rows",
                (boundaries.version, codes),
                lambda codes=codes: np.array([index[c] for c in codes if c in index], dtype=np.int64),
            )
            for pid, codes in communes_of.items()
        }
        if prune:
            memo.retain("coverage.rows", {(boundaries.version, codes) for codes in communes_of.values()}, spare=4096)
        counts = memo.get(
            "coverage.counts", (boundaries.version, self.content), lambda: _Counts(listed, scopes, rows_of, len(index))
        )
        self._counts = counts
        self.reach, self.local_count, self.support_local = counts.reach, counts.local_count, counts.support_local
        self.scope_of_project, self.direct_projects = counts.scope_of_project, counts.direct_projects
        self._project_names = {p.id: p.name for p in listed}
        self._project_reach = {p.id: p.reach for p in listed}

    def _memoised(self, kind: str, key: tuple, make: Callable):
        """``make()``, kept in the memo under this coverage's content and ``key``: the figures depend on the
        projects' reach and communes only (``content``), what is shown in words on the projects' records too."""
        content = self.content if kind == "coverage.figures" else self._catalogue.version
        return self._memo.get(kind, (self._boundaries.version, content, *key), make)

    def figures(self, params: CoverageParams) -> pd.DataFrame:
        """The coverage of every commune, without the reasons in words (what maps and tiles need)."""
        if params.selects:
            return self.selection(params).figures(params.unselected())
        return self._memoised("coverage.figures", (params,), lambda: self._figures(params))

    def compute(self, params: CoverageParams) -> pd.DataFrame:
        """The coverage of every commune with the reason in words (what tables, exports and cards show)."""
        if params.selects:
            return self.selection(params).compute(params.unselected())
        return self._memoised("coverage.table", (params,), lambda: self._compute(params))

    def export(
        self,
        params: CoverageParams,
        fmt: str,
        departement: str | None = None,
        epci: str | None = None,
        arrondissement: str | None = None,
    ) -> bytes:
        """The communes as CSV or GeoJSON bytes: one function for the API, the CLI and the exports."""
        if params.selects:
            return self.selection(params).export(params.unselected(), fmt, departement, epci, arrondissement)
        if fmt not in ("csv", "geojson"):
            raise InvalidInputError(f"format={fmt!r}: expected 'csv' or 'geojson'")

        def make() -> bytes:
            frame = self.communes_frame(params, departement, epci, arrondissement)
            return to_csv(frame).encode("utf-8") if fmt == "csv" else _json_bytes(self.feature_collection(frame))

        return self._memoised("coverage.export", (params, fmt, departement, epci, arrondissement), make)

    def zones_blanches_geojson(self, params: CoverageParams, dissolve: bool) -> bytes:
        if params.selects:
            return self.selection(params).zones_blanches_geojson(params.unselected(), dissolve)
        return self._memoised(
            "coverage.zones_blanches", (params, dissolve), lambda: _json_bytes(self.zones_blanches(params, dissolve))
        )

    def selection(self, params: CoverageParams) -> Coverage:
        """The coverage as if only the projects of ``params``' selection (funding year, status) were funded: the
        same rule, the same boundaries (their projected town halls shared through the memo), fewer projects."""

        def make() -> Coverage:
            ids = [p.id for p in self._catalogue.projects.values() if selected(p, params.year, params.status)]
            return Coverage(self._boundaries, self._catalogue.subset(ids), self._memo, prune=False)

        return self._memoised("coverage.selection", (params.year, params.status), make)

    @property
    def projects_of(self) -> list[list[str]]:
        """Each commune's projects (ids), in the projects' order. Made when a table or an export needs it: région-
        and département-wide projects make it hundreds of thousands of entries, which tiles never show."""
        return self._counts.projects_of()

    def counted(self, project_id: str, params: CoverageParams) -> bool:
        """Whether the project counts as reaching its communes under these parameters' reach mode and selection."""
        if params.selects and not selected(self._catalogue.get(project_id), params.year, params.status):
            return False
        return params.reach == "all" or project_id in self.direct_projects

    def _nearest_km(self, reached: np.ndarray, distance_to: str) -> np.ndarray:
        """Distance from each town hall to the nearest reached town hall (or outline), within one projection zone.

        Kept in the memo by the set of reached communes. When the memo holds the distances to a subset of them
        (those before a write that only adds reached communes: a new project, most often), each distance is the
        smaller of that one and the distance to the added communes: only those are searched."""
        version = self._boundaries.version
        key = (version, hashlib.sha256(reached.tobytes()).hexdigest(), distance_to)

        def make() -> tuple[np.ndarray, np.ndarray]:
            distance, targets_from = np.full(len(reached), np.nan), reached
            for (other, _, to), (was, known) in reversed(self._memo.entries("coverage.distances")):
                if other == version and to == distance_to and len(was) == len(reached) and not (was & ~reached).any():
                    distance, targets_from = known.copy(), reached & ~was
                    break
            distance[reached] = 0.0
            self.lower(distance, targets_from, ~reached, distance_to)
            distance.setflags(write=False)  # shared by later coverages and handed to every figures() call
            kept = reached.copy()
            kept.setflags(write=False)
            return kept, distance

        return self._memo.get("coverage.distances", key, make)[1]

    def lower(self, distance: np.ndarray, targets: np.ndarray, sources: np.ndarray, distance_to: str) -> None:
        """Lower ``distance`` (km per commune row, NaN: nothing reached yet), in place, for the ``sources`` rows
        (a mask) whose town hall is nearer to a ``targets`` row (a mask) than it says, within each projection
        zone: what newly reached communes change, funded (``_nearest_km``) or simulated (``geo_service.planning``).
        Targets are town halls, or outlines with ``distance_to="territory"``."""
        outlines = self._projected_outlines() if distance_to == "territory" else None
        for rows in self._groups:
            target_rows = rows[targets[rows]]
            source_rows = rows[sources[rows]]
            if len(target_rows) == 0 or len(source_rows) == 0:
                continue
            geometries = outlines[target_rows] if outlines is not None else self._points[target_rows]
            source_rows = self._maybe_closer(source_rows, geometries, distance)
            if len(source_rows) == 0:
                continue
            if outlines is None and len(source_rows) * len(target_rows) <= BRUTE_FORCE_PAIRS:
                km = _nearest_point_distance(self._xy[source_rows], self._xy[target_rows])
            else:
                tree = shapely.STRtree(geometries)
                _, km = tree.query_nearest(self._points[source_rows], return_distance=True, all_matches=False)
            distance[source_rows] = np.fmin(distance[source_rows], km / 1000.0)  # fmin: NaN (none before) gives way

    def within(self, sources: np.ndarray, km: float, distance_to: str) -> tuple[np.ndarray, np.ndarray]:
        """(source row, commune row) pairs: every commune whose town hall (or outline, with
        ``distance_to="territory"``) is within ``km`` of the town hall of a ``sources`` row (a mask), in the same
        projection zone; each source with itself included. What reaching that commune would do for the source,
        under the rule: bring it within ``max_km``. All pairs at once: see ``within_chunks`` for bounded memory."""
        parts = list(self.within_chunks(sources, km, distance_to))
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def within_chunks(
        self, sources: np.ndarray, km: float, distance_to: str, chunk_pairs: int | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The pairs of ``within``, a few sources at a time (about ``chunk_pairs`` pairs per chunk, from the
        density ``estimate_pairs`` samples), so that a caller reducing each chunk holds only its reduction: all
        pairs of France within 100 km are hundreds of millions."""
        itself = np.flatnonzero(sources)  # with no town hall, a commune is within reach of itself only
        yield itself, itself
        outlines = self._projected_outlines() if distance_to == "territory" else None
        for rows in self._groups:
            source_rows = rows[sources[rows]]
            if len(source_rows) == 0:
                continue
            geometries = outlines[rows] if outlines is not None else self._points[rows]
            tree = shapely.STRtree(geometries)
            per_source = max(1.0, self._sampled_pairs(tree, source_rows, km) / len(source_rows))
            step = max(1, int((chunk_pairs or CHUNK_PAIRS) / per_source))
            for start in range(0, len(source_rows), step):
                chunk = source_rows[start : start + step]
                # a metre wider, then the rule's own test (kilometres = metres / 1000 <= km): at a distance equal
                # to km, GEOS's metres <= km * 1000 and the rule's division may round apart
                found, commune = tree.query(self._points[chunk], predicate="dwithin", distance=km * 1000.0 + 1.0)
                metres = shapely.distance(self._points[chunk[found]], geometries[commune])
                near = metres / 1000.0 <= km
                yield chunk[found[near]], rows[commune[near]]

    def estimate_pairs(self, sources: np.ndarray, km: float, distance_to: str) -> int:
        """About how many pairs ``within`` would find (what a search within ``km`` costs, in time and memory),
        from the exact count of an even sample of at most ``PAIR_SAMPLE`` sources per projection zone."""
        outlines = self._projected_outlines() if distance_to == "territory" else None
        total = float(np.count_nonzero(sources))
        for rows in self._groups:
            source_rows = rows[sources[rows]]
            if len(source_rows):
                geometries = outlines[rows] if outlines is not None else self._points[rows]
                total += self._sampled_pairs(shapely.STRtree(geometries), source_rows, km)
        return int(total)

    def _sampled_pairs(self, tree: shapely.STRtree, source_rows: np.ndarray, km: float) -> float:
        """Pairs within ``km`` of these sources in ``tree``, counted on an even sample and scaled up."""
        sample = source_rows[np.linspace(0, len(source_rows) - 1, min(PAIR_SAMPLE, len(source_rows))).astype(int)]
        found, _ = tree.query(self._points[sample], predicate="dwithin", distance=km * 1000.0 + 1.0)
        return len(found) * len(source_rows) / len(sample)

    def reached(self, params: CoverageParams) -> np.ndarray:
        """Which communes count as reached under these parameters (a mask in the communes' order)."""
        if params.selects:
            return self.selection(params).reached(params.unselected())
        reach = self.reach[params.reach]
        return reach["local"] | (reach["departement"] if params.count_departmental else False)

    def distances(self, params: CoverageParams) -> np.ndarray:
        """Each commune's distance to the nearest reached one (km, unrounded; NaN: nothing reached), read-only."""
        if params.selects:
            return self.selection(params).distances(params.unselected())
        return self._nearest_km(self.reached(params), params.distance_to)

    def rows(self, codes: Iterable[str]) -> np.ndarray:
        """The rows of these communes (codes not in the loaded data are left out)."""
        return np.array([self._index[c] for c in codes if c in self._index], dtype=np.int64)

    def name_of(self, level: str, code: str) -> str:
        """An EPCI's or a département's name (the code itself if unknown)."""
        return self._names[level].get(code, code)

    def _maybe_closer(self, sources: np.ndarray, targets: np.ndarray, distance: np.ndarray) -> np.ndarray:
        """The sources that may be nearer to one of the targets (geometries in metres) than their ``distance``
        (km; NaN: none yet): those nearer to the targets' bounding box than to what they had.

        After a write, the communes added are one place (a city, an EPCI): most town halls have a reached commune
        nearer than that place's box, and no distance to it can change theirs. The distance to the box is a lower
        bound of the distance to anything in it; the margin (a metre, far more than GEOS's rounding of an outline
        distance) only adds town halls to search, so one left out is one whose distance ``fmin`` would have kept,
        and every distance is the one a search of every town hall gives."""
        minx, miny, maxx, maxy = shapely.total_bounds(targets)
        x, y = self._xy[sources, 0], self._xy[sources, 1]
        dx = np.maximum(np.maximum(minx - x, x - maxx), 0.0)
        dy = np.maximum(np.maximum(miny - y, y - maxy), 0.0)
        to_box_km = (np.sqrt(dx * dx + dy * dy) - BOX_MARGIN_M) / 1000.0
        before = distance[sources]
        return sources[np.isnan(before) | (to_box_km < before)]

    def _projected_outlines(self) -> np.ndarray:
        """The communes' outlines in metres, in the projection of their town hall's zone (see _projected_townhalls),
        made on first use of ``distance_to=territory``, once per boundaries."""

        def make() -> np.ndarray:
            outlines = np.empty(len(self.communes), dtype=object)
            crs = np.array([OVERSEAS_CRS.get(d, METROPOLE_CRS) for d in self.communes["departement"]])
            for epsg in sorted(set(crs)):
                rows = np.flatnonzero(crs == epsg)
                outlines[rows] = self._geometry.iloc[rows].to_crs(int(epsg)).to_numpy()
            return outlines

        return self._memo.get("coverage.outlines", self._boundaries.version, make)

    def _figures(self, params: CoverageParams) -> pd.DataFrame:
        """The coverage of every commune, without the reasons in words (what maps and tiles need)."""
        reach = self.reach[params.reach]
        reached = self.reached(params)
        distance = self._nearest_km(reached, params.distance_to)
        rural = self.density < params.rural_max_density
        far = ~reached & ~(distance <= params.max_km)  # NaN (nothing reached anywhere) counts as far
        zone_blanche = rural & far
        best = np.select(
            [reach["local"], reach["departement"], reach["region"]],
            ["local", "departement", "region"],
            default="none",
        )
        local_count = self.local_count[params.reach]
        frame = pd.DataFrame(
            {
                "code": self.communes["code"].to_numpy(),
                "name": self.communes["name"].to_numpy(),
                "departement": self.communes["departement"].to_numpy(),
                "epci": self.communes["epci"].to_numpy(),
                "population": self.population.astype(int),
                "area_km2": self.area,
                "density": np.round(self.density, 1),
                "rural": rural,
                "local_projects": local_count,
                "best_scope": best,
                "support_projects": self.support_local if params.reach == "direct" else np.zeros_like(local_count),
                "distance_km": np.round(distance, 2),
                "zone_blanche": zone_blanche,
            }
        )
        return frame.set_index(self.communes.index.rename(None))

    def _compute(self, params: CoverageParams) -> pd.DataFrame:
        """The coverage of every commune with the reason in words (what tables, exports and cards show)."""
        frame = self.figures(params).copy()
        frame.insert(COLUMNS.index("projects"), "projects", self.projects_of)
        frame["reason"] = [
            _reason(row, params, self._kinds(projects, params), density)
            for row, projects, density in zip(
                frame[
                    [
                        "rural",
                        "local_projects",
                        "best_scope",
                        "support_projects",
                        "distance_km",
                        "zone_blanche",
                    ]
                ].itertuples(index=False),
                self.projects_of,
                self._density_text,
                strict=True,
            )
        ]
        return frame

    def _kinds(self, project_ids: list[str], params: CoverageParams) -> list[str]:
        """The kinds of direct action among the counted local projects reaching a commune, in a fixed order."""
        found = {
            kind
            for p in project_ids
            if self.scope_of_project[p] == "local" and self.counted(p, params)
            for kind in self.kinds_of_project[p]
        }
        return [kind for kind in DIRECT_ACTIONS if kind in found]

    def communes_frame(
        self,
        params: CoverageParams,
        departement: str | None = None,
        epci: str | None = None,
        arrondissement: str | None = None,
    ) -> pd.DataFrame:
        frame = self.compute(params)
        if departement is not None:
            frame = frame[frame["departement"] == departement]
        if epci is not None:
            frame = frame[frame["epci"] == epci]
        if arrondissement is not None:
            frame = frame[self._arrondissement.loc[frame.index] == arrondissement]
        return frame

    def commune(self, params: CoverageParams, code: str) -> dict:
        """One commune's coverage as plain values, with its EPCI and département named and every project reaching
        it (name, reach, scope, and whether these parameters count it); the nearest reached commune and the actions
        there (``nearest``), and the département- and région-wide actions whose area includes it (``covering``).
        With a selection by year or status, the projects of the selection only."""
        if params.selects:
            return self.selection(params).commune(params.unselected(), code)
        frame = self.compute(params)
        if code not in frame.index:
            raise NotFoundError(f"no commune with code {code!r} in the loaded data")
        record = plain_record(frame.loc[code, COLUMNS].to_dict())
        record["epci_name"] = self._names["epci"].get(record["epci"])
        record["departement_name"] = self._names["departement"].get(record["departement"])
        record["projects"] = [
            {
                "id": p,
                "name": self._project_names[p],
                "reach": self._project_reach[p],
                "scope": self.scope_of_project[p],
                "counted": self.counted(p, params)
                and (
                    self.scope_of_project[p] == "local"
                    or (self.scope_of_project[p] == "departement" and params.count_departmental)
                ),
            }
            for p in record["projects"]
        ]
        record["nearest"] = self.nearest(params, code)
        record["covering"] = [
            {
                "id": p,
                "name": self._project_names[p],
                "scope": self.scope_of_project[p],
                "reach": self._project_reach[p],
                "counted": self.counted(p, params)
                and self.scope_of_project[p] == "departement"
                and params.count_departmental,
            }
            for p in sorted(
                (p for p in self.projects_of[self._index[code]] if self.scope_of_project[p] != "local"),
                key=lambda p: (SCOPES.index(self.scope_of_project[p]), self._project_names[p], p),
            )
        ]
        return record

    def nearest(self, params: CoverageParams, code: str) -> dict | None:
        """The reached commune nearest to this one under the rule (what its ``distance_km`` measures: town hall to
        town hall, or to the outline with ``distance_to=territory``; equal distances go to the smaller code), and
        the counted actions reaching it (local ones, and département-wide ones with ``count_departmental``).
        None when the commune is reached itself, when nothing is reached in its projection zone, or when it has
        no town hall. With a selection by year or status, the selection's coverage answers."""
        if params.selects:
            return self.selection(params).nearest(params.unselected(), code)
        row = self._index[code]
        reached = self.reached(params)
        if reached[row] or np.isnan(self._xy[row, 0]):
            return None
        group = next(rows for rows in self._groups if row in rows)
        targets = group[reached[group]]
        if len(targets) == 0:
            return None
        if params.distance_to == "territory":
            metres = shapely.distance(self._points[row], self._projected_outlines()[targets])
        else:  # as GEOS measures a point to a point, as the rule's search does (see _nearest_point_distance)
            dx, dy = self._xy[targets, 0] - self._xy[row, 0], self._xy[targets, 1] - self._xy[row, 1]
            metres = np.sqrt(dx * dx + dy * dy)
        closest = targets[metres == metres.min()]
        found = min(closest, key=lambda r: self.communes["code"].iat[r])
        found_code = str(self.communes["code"].iat[found])
        counted = [
            p
            for p in self.projects_of[found]
            if self.counted(p, params)
            and (
                self.scope_of_project[p] == "local"
                or (self.scope_of_project[p] == "departement" and params.count_departmental)
            )
        ]
        return {
            "code": found_code,
            "name": str(self.communes["name"].iat[found]),
            "distance_km": round(float(metres.min()) / 1000.0, 2),
            "projects": [
                {
                    "id": p,
                    "name": self._project_names[p],
                    "scope": self.scope_of_project[p],
                    "reach": self._project_reach[p],
                }
                for p in sorted(
                    counted, key=lambda p: (SCOPES.index(self.scope_of_project[p]), self._project_names[p], p)
                )
            ],
        }

    def geodataframe(self, frame: pd.DataFrame) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(frame, geometry=self._geometry.loc[frame.index], crs="EPSG:4326")

    def feature_collection(self, frame: pd.DataFrame) -> dict:
        records = frame[COLUMNS].to_dict(orient="records")
        features = []
        for record, geometry in zip(records, oriented(self._geometry.loc[frame.index].to_numpy()), strict=True):
            if isinstance(record["distance_km"], float) and np.isnan(record["distance_km"]):
                record["distance_km"] = None
            features.append(
                {
                    "type": "Feature",
                    "id": record["code"],
                    "properties": record,
                    "geometry": None if geometry is None else mapping(geometry),
                }
            )
        return {"type": "FeatureCollection", "features": features}

    def zones_blanches(self, params: CoverageParams, dissolve: bool = False) -> dict:
        """The zone-blanche communes, or with ``dissolve`` the areas they form together (one feature each)."""
        if params.selects:
            return self.selection(params).zones_blanches(params.unselected(), dissolve)
        frame = self.compute(params)
        frame = frame[frame["zone_blanche"]]
        if not dissolve:
            return self.feature_collection(frame)
        geometries = self._geometry.loc[frame.index]
        merged = shapely.union_all(geometries.to_numpy(), grid_size=1e-6)
        parts = list(getattr(merged, "geoms", [merged])) if not merged.is_empty else []
        tree = shapely.STRtree(shapely.point_on_surface(geometries.to_numpy()))
        features = []
        for number, part in enumerate(sorted(parts, key=lambda p: -p.area), start=1):
            members = frame.iloc[tree.query(part, predicate="contains")].sort_values("code")
            features.append(
                {
                    "type": "Feature",
                    "id": number,
                    "properties": {
                        "communes": members["code"].tolist(),
                        "communes_count": len(members),
                        "population": int(members["population"].sum()),
                        "departements": sorted(set(members["departement"])),
                    },
                    "geometry": geometry_dict(part),
                }
            )
        return {"type": "FeatureCollection", "features": features}

    def summary(self, params: CoverageParams, level: str) -> pd.DataFrame:
        """Per EPCI or département: communes, population, zones blanches, local actions, share of people reached."""
        if level not in ("epci", "departement"):
            raise InvalidInputError(f"level={level!r}: expected 'epci' or 'departement'")
        if params.selects:
            return self.selection(params).summary(params.unselected(), level)
        frame = self.compute(params).copy()
        frame["reached"] = (frame["best_scope"] == "local") | (
            params.count_departmental & (frame["best_scope"] == "departement")
        )
        names = self._names[level]
        rows = []
        for code, group in frame.groupby(level, sort=True):
            every = {p for ps in group["projects"] for p in ps}
            local = {p for p in every if self.scope_of_project[p] == "local" and self.counted(p, params)}
            population = int(group["population"].sum())
            reached_population = int(group.loc[group["reached"], "population"].sum())
            rows.append(
                {
                    "code": code,
                    "name": names[code],
                    "communes": len(group),
                    "population": population,
                    "communes_zone_blanche": int(group["zone_blanche"].sum()),
                    "population_zone_blanche": int(group.loc[group["zone_blanche"], "population"].sum()),
                    "local_actions": len(local),
                    "actions": len(every),
                    "population_reached": reached_population,
                    "population_reached_share": round(reached_population / population, 4) if population else 0.0,
                }
            )
        return pd.DataFrame(rows)


def _reason(row, params: CoverageParams, kinds: list[str], density: str) -> str:
    rural, local, best, support, distance, zone_blanche = row
    threshold = fr_number(params.rural_max_density)
    kind = (
        f"commune rurale ({density} hab/km² < {threshold})"
        if rural
        else f"commune urbaine ({density} hab/km² ≥ {threshold})"
    )
    if local:
        plural = "s" if local > 1 else ""
        what = f" d'accès direct ({', '.join(kinds)})" if kinds and params.reach == "direct" else ""
        return f"{kind}, atteinte par {local} action{plural} locale{plural}{what}"
    if best == "departement" and params.count_departmental:
        return f"{kind}, atteinte par une action départementale (comptée)"
    reach = {
        "departement": "atteinte seulement par une action départementale (non comptée)",
        "region": "atteinte seulement par une action régionale",
        "none": "aucune action d'accès direct" if params.reach == "direct" else "aucune action",
    }[best]
    if support:
        plural = "s" if support > 1 else ""
        reach += f" ; {support} action{plural} d'appui (coordination, formation, logistique…), non comptée{plural}"
    nearest = (
        "commune atteinte la plus proche"
        if params.distance_to == "townhall"
        else "limite de commune atteinte la plus proche"
    )
    if np.isnan(distance):
        where = "aucune commune atteinte par une action locale"
    else:
        where = f"{nearest} à {fr_number(distance, 1)} km"
    limit = fr_number(params.max_km)
    verdict = (
        f" : zone blanche (> {limit} km)"
        if zone_blanche
        else ""
        if not rural
        else f" : pas zone blanche (≤ {limit} km)"
    )
    return f"{kind}, {reach}, {where}{verdict}"


def _projected_townhalls(communes: gpd.GeoDataFrame) -> tuple[np.ndarray, list[np.ndarray]]:
    """Town halls in metres, each in its zone's projection, and the row groups sharing a projection."""
    lonlat = np.array([p if p is not None else (np.nan, np.nan) for p in communes["townhall"]], dtype=float)
    crs = np.array([OVERSEAS_CRS.get(d, METROPOLE_CRS) for d in communes["departement"]])
    xy = np.full_like(lonlat, np.nan)
    groups = []
    for epsg in sorted(set(crs)):
        rows = np.flatnonzero((crs == epsg) & ~np.isnan(lonlat[:, 0]))
        transformer = Transformer.from_crs(4326, int(epsg), always_xy=True)
        xy[rows, 0], xy[rows, 1] = transformer.transform(lonlat[rows, 0], lonlat[rows, 1])
        groups.append(rows)
    return xy, groups


def _nearest_point_distance(sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For each source point (rows of x, y), the distance to the nearest target point, computed as GEOS computes a
    point-to-point distance (``sqrt(dx * dx + dy * dy)``), so the figures are those STRtree.query_nearest gives:
    sqrt being monotonic and correctly rounded, the square root of the smallest square is the smallest root."""
    dx = sources[:, 0, None] - targets[None, :, 0]
    dy = sources[:, 1, None] - targets[None, :, 1]
    return np.sqrt((dx * dx + dy * dy).min(axis=1))


def plain_record(record: dict) -> dict:
    """numpy scalars as Python values, NaN as None: what JSON can carry."""
    out = {}
    for key, value in record.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and np.isnan(value):
            value = None
        out[key] = value
    return out


def _json_bytes(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def to_csv(frame: pd.DataFrame) -> str:
    """CSV of a communes frame: projects joined by ';', booleans as true/false, decimal point."""
    out = frame[COLUMNS].copy()
    out["projects"] = out["projects"].map(";".join)
    for column in ("rural", "zone_blanche"):
        out[column] = out[column].map({True: "true", False: "false"})
    for column in out.columns:
        if pd.api.types.is_object_dtype(out[column]) or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(safe_cell)  # text cells: names, codes, project ids
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()
