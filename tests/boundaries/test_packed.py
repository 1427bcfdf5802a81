"""The packed files a worker starts from say exactly what the published GeoJSON says, simplified for each zoom."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from boundaries.build import repack
from boundaries.mercator import to_lonlat, to_mercator
from boundaries.packed import (
    SIMPLIFY_MAX_ZOOM,
    PackError,
    ZoomGeometries,
    open_packed,
    pack,
    read_packed,
)
from geo_service.errors import DataError
from geo_service.settings import REPO_DATA_DIR
from geo_service.territories import LEVELS, Boundaries

FOLDER = REPO_DATA_DIR / "boundaries"


def _geojson(level: str) -> list[dict]:
    return json.loads((FOLDER / f"{level}.geojson").read_text("utf-8"))["features"]


@pytest.mark.parametrize("level", LEVELS)
def test_each_packed_level_holds_its_geojson_exactly(level: str) -> None:
    features = _geojson(level)
    packed = open_packed(FOLDER / f"{level}.packed")
    assert packed.properties() == [f["properties"] for f in features]
    expected = np.array([shape(f["geometry"]) for f in features], dtype=object)
    assert shapely.equals_exact(packed.lonlat, expected, tolerance=0).all()
    # the full-detail Mercator level is the same shapes, projected
    back = to_lonlat(packed.mercator.full())
    assert shapely.equals_exact(back, expected, tolerance=1e-9).all()


def test_every_zoom_of_the_communes_is_a_valid_coverage_that_simplifies_as_zoom_decreases() -> None:
    zooms = open_packed(FOLDER / "commune.packed").mercator
    assert zooms.levels == SIMPLIFY_MAX_ZOOM + 2  # zooms 0..12, then full detail
    vertices = []
    for z in range(zooms.levels):
        geometries = zooms.take(z)
        assert shapely.is_valid(geometries).all(), z
        # neighbours share their borders at every zoom: no gap and no overlap appear (GEOS coverage check)
        assert shapely.coverage_is_valid(geometries), z
        vertices.append(int(shapely.get_num_coordinates(geometries).sum()))
    assert vertices == sorted(vertices)
    assert vertices[0] < vertices[-1] / 2


def test_a_round_trip_through_pack_keeps_properties_missing_keys_and_empty_geometries() -> None:
    squares = [shapely.box(x, 50.0, x + 0.01, 50.01) for x in (2.0, 2.01)]
    properties = [{"code": "1", "name": "Un", "chef_lieu": None}, {"code": "2", "name": "Deux «é»"}]
    packed = read_packed(pack(properties, np.array([squares[0], None], dtype=object), "abc"))
    assert packed.properties() == properties
    assert packed.lonlat[1] is None and packed.source_sha256 == "abc"
    assert packed.mercator.take(3)[1] is None
    assert shapely.equals_exact(packed.mercator.full()[0], to_mercator(squares[0]), tolerance=1e-6)


def test_zoom_geometries_subset_follows_rows() -> None:
    points = to_mercator(shapely.points([[2.0, 50.0], [3.0, 50.5], [4.0, 51.0]]))
    zooms = ZoomGeometries.encode([points])
    picked = zooms.subset(np.array([2, 0]))
    assert shapely.equals(picked.take(14), points[[2, 0]]).all()
    assert len(picked) == 2 and picked.bounds.tolist() == zooms.bounds[[2, 0]].tolist()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b"NOTPACK!" + b[8:], "not a packed boundaries file"),
        (lambda b: b[:-10], "truncated"),
        (lambda b: b[:12], "not a packed boundaries file"),
        (lambda b: b + b"x", "truncated or damaged"),
    ],
)
def test_a_damaged_packed_file_is_refused_by_name(damage, message: str) -> None:
    good = pack([{"code": "1"}], np.array([shapely.box(2, 50, 2.1, 50.1)], dtype=object), "")
    with pytest.raises(PackError, match=message):
        read_packed(damage(good), "region.packed")


@pytest.mark.slow  # repacks the région's communes (see MARKERS in tests/conftest.py)
def test_a_geojson_edited_after_packing_must_be_packed_again(data_copy: Path, boundaries: Boundaries) -> None:
    folder = data_copy / "boundaries"
    communes = folder / "commune.geojson"
    communes.write_text(communes.read_text("utf-8").replace('"Amiens"', '"Amiens-Ville"'), "utf-8")
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    manifest["files"]["commune"]["sha256"] = hashlib.sha256(communes.read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(DataError, match=r"commune\.packed was packed from another commune\.geojson.*pack-boundaries"):
        Boundaries.load(folder)
    repack(folder, progress=lambda _: None)
    assert Boundaries.load(folder).get("commune", "80021").name == "Amiens-Ville"


@pytest.mark.slow  # packs every level of the région (see MARKERS in tests/conftest.py)
def test_a_build_without_packed_files_names_the_command_that_packs_it(tmp_path: Path) -> None:
    folder = tmp_path / "boundaries"
    shutil.copytree(FOLDER, folder, ignore=shutil.ignore_patterns("*.packed"))
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    del manifest["packed"]
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(DataError, match=r"no packed files.*geo-service pack-boundaries --dir"):
        Boundaries.load(folder)
    repack(folder, progress=lambda _: None)
    assert Boundaries.load(folder).counts()["commune"] == 3782


def test_zoom_geometries_concat_keeps_each_part_whole() -> None:
    squares = [to_mercator(shapely.box(x, 50.0, x + 0.1, 50.1)) for x in (2.0, 3.0, 4.0)]
    parts = [ZoomGeometries.encode([np.array([s], dtype=object)] * 3) for s in squares]
    joined = ZoomGeometries.concat(parts, 3)
    assert len(joined) == 3
    for z in range(4):
        assert shapely.equals_exact(joined.take(z), np.array(squares, dtype=object), tolerance=0).all()
    assert len(ZoomGeometries.concat([], 3)) == 0
