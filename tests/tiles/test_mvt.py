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


def _table(tags: mvt.RowTags) -> list[list[tuple[str, bytes]]]:
    """Each row's tags as (key, encoded value): what a tile holds of it, whatever the table's numbering."""
    return [
        [(tags.keys[k], tags.value(v)) for k, v in tags.pairs[a:b].tolist()]
        for a, b in zip(tags.starts[:-1].tolist(), tags.starts[1:].tolist(), strict=True)
    ]


def test_rows_replaced_give_the_tiles_of_a_table_made_afresh() -> None:
    """Replacing some rows' values (new ones, ones already in the table under another column, values that
    appear or vanish) must give, row by row and tile by tile, what from_columns of the new columns gives."""
    rng = np.random.default_rng(7)
    count = 40
    static = {
        "code": np.array([f"{80000 + i}" for i in range(count)], dtype=object),
        "population": rng.integers(0, 50, count),
        "density": np.round(rng.random(count) * 5, 1),
    }
    columns = {
        "rural": rng.random(count) < 0.5,
        "best_scope": rng.choice(np.array(["local", "none"], dtype=object), count),
        "local_projects": rng.integers(0, 3, count),
        "distance_km": np.where(rng.random(count) < 0.2, np.nan, np.round(rng.random(count) * 5, 1)),
        "zone_blanche": rng.random(count) < 0.3,
    }
    prepared = mvt.PreparedColumns.of(static, count)
    tags = mvt.RowTags.from_columns({**static, **columns}, count, prepared)
    for step in range(6):
        rows = np.sort(rng.choice(count, size=int(rng.integers(1, 8)), replace=False))
        columns = {name: values.copy() for name, values in columns.items()}
        columns["best_scope"][rows] = rng.choice(np.array(["local", "departement", "region"], dtype=object), len(rows))
        columns["local_projects"][rows] = rng.integers(0, 60, len(rows))  # some equal to populations
        columns["distance_km"][rows] = np.where(
            rng.random(len(rows)) < 0.3,
            np.nan,
            np.round(rng.random(len(rows)) * 5, 1),  # some equal to densities
        )
        columns["zone_blanche"][rows] = ~columns["zone_blanche"][rows]
        tags = tags.replaced(rows, {name: values[rows] for name, values in columns.items()})
        afresh = mvt.RowTags.from_columns({**static, **columns}, count, prepared)
        assert _table(tags) == _table(afresh), step
        wide = (0.0, 0.0, 300.0 * count + 400, 300.0 * count + 400)  # every square in the tile
        for shown in (np.arange(count), np.sort(rng.choice(count, 12, replace=False))):
            squares = _squares(count)[shown]
            tile = mvt.encode_tile([("layer", squares, tags.take(shown), "polygon", None)], wide)
            assert len(_decoded(tile)) == len(shown)
            assert tile == mvt.encode_tile([("layer", squares, afresh.take(shown), "polygon", None)], wide), step
    assert tags.appended > 0  # values the first table lacked were added, not made again from scratch
