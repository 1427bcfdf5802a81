"""Gaps between communes go to the commune nouvelle the COG says absorbed the missing communes.

The expectations come from outside the code: which former communes each commune nouvelle absorbed (COG 2026) and
their published areas (INSEE superficies of the communes déléguées, as listed on each commune's encyclopaedia page).
"""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import box

from boundaries.gaps import GapError, fill_gaps
from boundaries.geometry import GRID, geodesic_area_m2
from boundaries.readers import Cog, CogCommune, CogUnit, DataFrance, DataFranceCommune
from geo_service.territories import Boundaries

# commune nouvelle -> (its former communes in the COG, the published areas of all its parts in km²)
COMMUNES_NOUVELLES = {
    "62447": ({"62461", "62549", "62743"}, [0.93, 12.44, 4.18, 3.71]),  # Hesdin, Huby-Saint-Leu, Marconne, Ste-A.
    "80155": ({"80830"}, [8.16, 7.03]),  # Bussus-Bussuel, Yaucourt-Bussus
    "02589": ({"02311"}, [5.01, 4.78]),  # Pargny-Filain, Filain
    "59006": ({"59070"}, [1.54, 5.29]),  # Amfroipret, Bermeries
}


def _interior_rings_m2(geometry) -> list[float]:
    return [
        geodesic_area_m2(shapely.Polygon(ring))
        for polygon in getattr(geometry, "geoms", [geometry])
        for ring in polygon.interiors
    ]


def test_the_region_has_no_hole_and_a_departement_only_enclaves(boundaries: Boundaries) -> None:
    region = boundaries.level("region").geometry.iloc[0]
    assert _interior_rings_m2(region) == []
    communes = boundaries.level("commune")
    for code, geometry in boundaries.level("departement").geometry.items():
        others = shapely.union_all(communes.loc[communes["departement"] != code].geometry.values, grid_size=GRID)
        for polygon in geometry.geoms:
            for ring in polygon.interiors:
                # a hole in a département is an enclave of another one (Coyolles, Boursies...), never empty land;
                # an enclave may hold a piece of the first département again, hence the union with it
                hole = shapely.Polygon(ring)
                empty = shapely.difference(hole, shapely.union(others, geometry))
                assert empty.area < 1e-6 * hole.area, (code, hole.representative_point())


def test_no_land_between_communes(boundaries: Boundaries) -> None:
    union = shapely.coverage_union_all(boundaries.level("commune").geometry.values)
    # only specks of a few m² where three communes meet, which the coverage cleaning leaves and no map can show
    assert all(area < 10 for area in _interior_rings_m2(union))


@pytest.mark.parametrize("code", sorted(COMMUNES_NOUVELLES))
def test_communes_nouvelles_are_whole(boundaries: Boundaries, code: str) -> None:
    _, parts = COMMUNES_NOUVELLES[code]
    commune = boundaries.level("commune").loc[code]
    assert commune["area_km2"] == pytest.approx(sum(parts), rel=0.05)
    # the density, and so the rural/urban class at the default 150 hab/km², follow the whole area
    published_density = commune["population"] / sum(parts)
    assert commune["population"] / commune["area_km2"] == pytest.approx(published_density, rel=0.05)


def test_the_manifest_names_each_filled_gap_and_its_former_communes(boundaries: Boundaries) -> None:
    filled = boundaries.manifest["reconciliation"]["filled_gaps"]
    assert len(filled) == len(COMMUNES_NOUVELLES)
    for code, (former, _) in COMMUNES_NOUVELLES.items():
        line = next(line for line in filled if f"given to {code} " in line)
        assert all(f in line for f in former), line


# --- the rule, on synthetic communes -------------------------------------------------------------------------------


def _commune(code: str, former: tuple[str, ...] = (), siren: str | None = None) -> CogCommune:
    return CogCommune(code, f"Commune {code}", 100, "801", "80", "32", (), former, siren or f"21800{code[2:]}0")


def _cog(*communes: CogCommune) -> Cog:
    region = {"32": CogUnit("32", "Hauts-de-France")}
    return Cog({c.code: c for c in communes}, {}, {}, {}, region, {"80999": "Ancienne"})


def _df(extra: dict[str, shapely.Geometry] | None = None) -> DataFrance:
    rows = {
        code: DataFranceCommune(code, code, 1, "80", None, shapely.to_wkb(g, hex=True), None)
        for code, g in (extra or {}).items()
    }
    return DataFrance(rows, {}, {})


def _ring_of_communes() -> dict[str, shapely.Geometry]:
    """Eight unit squares around an empty middle square (1 km² ~ 0.01° here, far above the sliver size)."""
    size = 0.01
    squares = {}
    for i, (x, y) in enumerate([(x, y) for y in range(3) for x in range(3) if (x, y) != (1, 1)]):
        squares[f"80{i + 1:03d}"] = shapely.MultiPolygon([box(x * size, y * size, (x + 1) * size, (y + 1) * size)])
    return {code: shapely.set_precision(g, GRID) for code, g in squares.items()}


def test_a_gap_goes_to_the_only_neighbour_listing_former_communes() -> None:
    polygons = _ring_of_communes()
    cog = _cog(*(_commune(c, ("80999",) if c == "80005" else ()) for c in polygons))
    filled, gaps = fill_gaps(polygons, cog, _df())
    assert [g.commune for g in gaps] == ["80005"]
    assert filled["80005"].area == pytest.approx(2 * polygons["80001"].area)
    assert shapely.coverage_is_valid(list(filled.values()))
    assert "Ancienne" in gaps[0].describe(cog)


def test_a_recent_commune_nouvelle_wins_over_an_old_fusion() -> None:
    polygons = _ring_of_communes()
    old = _commune("80002", ("80998",))  # kept its historical 21… SIREN
    new = _commune("80007", ("80999",), siren="938000001")
    cog = _cog(*(c for c in (_commune(code) for code in polygons) if c.code not in {"80002", "80007"}), old, new)
    _, gaps = fill_gaps(polygons, cog, _df())
    assert [g.commune for g in gaps] == ["80007"]


def test_an_ambiguous_gap_stops_the_build_naming_it_unless_kept() -> None:
    polygons = _ring_of_communes()
    news = [_commune(c, ("80999",), siren=f"93800000{i}") for i, c in enumerate(["80002", "80007"])]
    cog = _cog(*(_commune(c) for c in polygons if c not in {"80002", "80007"}), *news)
    with pytest.raises(GapError, match=r"1 gaps.*gap of 1\.2\d km².*80002 Commune 80002, 80007 Commune 80007"):
        fill_gaps(polygons, cog, _df())
    kept, gaps = fill_gaps(polygons, cog, _df(), keep_unassigned=True)
    assert kept == polygons and gaps[0].commune is None


def test_a_gap_with_no_commune_nouvelle_around_is_refused() -> None:
    polygons = _ring_of_communes()
    with pytest.raises(GapError, match="candidates: none"):
        fill_gaps(polygons, _cog(*(_commune(c) for c in polygons)), _df())


def test_an_enclave_of_communes_outside_the_selection_is_not_a_gap() -> None:
    polygons = _ring_of_communes()
    enclave = box(0.01, 0.01, 0.02, 0.02)  # a commune of another région fills the middle
    filled, gaps = fill_gaps(polygons, _cog(*(_commune(c) for c in polygons)), _df({"01001": enclave}))
    assert gaps == [] and filled == polygons
