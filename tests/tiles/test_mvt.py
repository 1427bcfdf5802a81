"""The vector tile encoder, read back by an independent decoder (mapbox-vector-tile)."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import shapely

from geo_service.tiles import mvt

BOUNDS = (0.0, 0.0, 4096.0, 4096.0)  # one Mercator metre per tile unit: coordinates read back as written


def _squares(count: int) -> np.ndarray:
    return np.array([shapely.box(100 + 300 * i, 100, 300 + 300 * i, 300) for i in range(count)], dtype=object)


def _decoded(body: bytes) -> list[dict]:
    return mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})["layer"]["features"]


def test_properties_from_dicts_and_from_columns_read_back_the_same() -> None:
    properties = [
        {"name": "Amiens", "population": 133_755, "density": 2676.5, "rural": False},
        {"name": "Saint-Quentin", "density": 2392.0, "rural": False},  # no population
        {"name": "Longueau", "population": 5_563, "density": 1013.1, "rural": True},
    ]
    columns = {
        "name": np.array(["Amiens", "Saint-Quentin", "Longueau"], dtype=object),
        "population": np.array([133_755.0, np.nan, 5_563.0]),
        "density": np.array([2676.5, 2392.0, 1013.1]),
        "rural": np.array([False, False, True]),
    }
    from_dicts = _decoded(
        mvt.encode_tile([("layer", _squares(3), mvt.RowTags.of(properties), "polygon", None)], BOUNDS)
    )
    from_columns = _decoded(
        mvt.encode_tile([("layer", _squares(3), mvt.RowTags.from_columns(columns, 3), "polygon", None)], BOUNDS)
    )
    expected = [{**p, **({"population": float(p["population"])} if "population" in p else {})} for p in properties]
    assert [f["properties"] for f in from_columns] == expected
    assert [f["properties"] for f in from_dicts] == properties
    assert [f["geometry"] for f in from_columns] == [f["geometry"] for f in from_dicts]


def test_prepared_columns_give_the_same_tile_as_columns_worked_out_each_time() -> None:
    static = {"code": np.array(["80021", "02691", "80489", "80021"], dtype=object), "population": np.arange(4) * 10}
    changing = {"local_projects": np.array([0, 10, 2, 0]), "zone_blanche": np.array([True, False, True, True])}
    prepared = mvt.PreparedColumns.of(static, 4)
    plain = mvt.RowTags.from_columns({**static, **changing}, 4)
    reused = mvt.RowTags.from_columns({**static, **changing}, 4, prepared)
    for rows in (np.arange(4), np.array([3, 1])):
        squares = _squares(4)[rows]
        a = mvt.encode_tile([("layer", squares, plain.take(rows), "polygon", None)], BOUNDS)
        b = mvt.encode_tile([("layer", squares, reused.take(rows), "polygon", None)], BOUNDS)
        assert a == b
        decoded = [f["properties"] for f in _decoded(b)]
        # a value shared by two columns (10: a population and a count) is one entry, each column keeps its own
        assert decoded[0]["code"] == str(static["code"][rows[0]])
        assert [d["local_projects"] for d in decoded] == changing["local_projects"][rows].tolist()
        assert [d["population"] for d in decoded] == static["population"][rows].tolist()
