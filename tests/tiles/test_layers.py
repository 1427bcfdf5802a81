"""The layers after writes: what a layer set finds in the memo it shares with the layer sets before a write
(coverage rows replaced, geometries and tags kept) must be what a layer set built from scratch on the same data, with
a memo of its own, holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo_service.memo import Memo
from geo_service.parameters import CoverageParams
from geo_service.projects.catalogue import read_records
from geo_service.projects.models import ProjectRecord
from geo_service.service import ServiceData
from geo_service.settings import REPO_DATA_DIR
from geo_service.tiles import layers as layers_module
from geo_service.tiles.grid import Tile, mercator_bounds
from geo_service.tiles.layers import (
    COVERAGE_CHANGING,
    COVERAGE_STATIC,
    DETAIL_ZOOM,
    LOW_ZOOM_PROPERTIES,
    LayerData,
    LayerSet,
    _hashed,
)
from geo_service.tiles.mvt import encode_tile

PARAMS = [
    CoverageParams(),
    CoverageParams(distance_to="territory"),
    CoverageParams(reach="all", count_departmental=True, max_km=5.0),
]
# Amiens and its neighbours, and a tile of the Ternois at a low zoom
TILES = [Tile(8, 129, 86), Tile(10, 518, 347), Tile(10, 517, 347), Tile(7, 64, 42)]


def _epicerie(number: int, place: str) -> ProjectRecord:
    return ProjectRecord.model_validate(
        {
            "id": f"epicerie-{number}",
            "organisation": "Association Test",
            "name": f"Épicerie solidaire {number}",
            "duration_years": 1,
            "place_text": place,
            "actions": ["Ouverture d'une épicerie solidaire"],
        }
    )


def _writes(records: list[ProjectRecord]) -> list[list[ProjectRecord]]:
    """The records after each of a series of writes: new places (distances change), the same place again (counts
    change), an edit that moves nothing, a project moved and one deleted (communes no longer reached)."""
    steps = []
    steps.append([*records, _epicerie(1, "CC du Ternois")])
    steps.append([*steps[-1], _epicerie(2, "Ville d'Amiens")])
    steps.append([*steps[-1], _epicerie(3, "Ville d'Amiens")])
    steps.append([r.model_copy(update={"duration_years": 2}) if r.id == "epicerie-3" else r for r in steps[-1]])
    steps.append([*steps[-1], _epicerie(4, "Lille, Amiens et Senlis")])
    steps.append(
        [r.model_copy(update={"place_text": "Ville de Laon"}) if r.id == "epicerie-1" else r for r in steps[-1]]
    )
    steps.append([r for r in steps[-1] if r.id != "epicerie-2"])
    steps.append([*steps[-1], _epicerie(5, "CC des 7 Vallées")])
    return steps


def _rows(layer: LayerData, z: int) -> list[list[tuple[str, bytes]]]:
    """Each row's tags at zoom ``z`` as (key, encoded value): what a tile holds of it."""
    tags = layer.tags_at(z)
    return [
        [(tags.keys[k], tags.value(v)) for k, v in tags.pairs[a:b].tolist()]
        for a, b in zip(tags.starts[:-1].tolist(), tags.starts[1:].tolist(), strict=True)
    ]


def _same_layer(made: LayerData, afresh: LayerData) -> None:
    assert len(made) == len(afresh)
    assert (made.ids is None and afresh.ids is None) or np.array_equal(made.ids, afresh.ids)
    assert made.geometry_tags == afresh.geometry_tags
    if made.info.depends_on_coverage:  # rows of the communes layer: the same geometries
        assert np.array_equal(made.zooms.spans, afresh.zooms.spans) and made.zooms.buffer is afresh.zooms.buffer
    assert made.records(np.arange(len(made))) == afresh.records(np.arange(len(afresh)))
    for z in (DETAIL_ZOOM - 1, DETAIL_ZOOM):
        assert np.array_equal(made.row_hashes(z), afresh.row_hashes(z)), z
        assert _rows(made, z) == _rows(afresh, z), z
    for tile in TILES:
        bounds = mercator_bounds(tile)
        rows = made.query(*bounds)
        assert np.array_equal(rows, afresh.query(*bounds))
        encoded = [
            encode_tile(
                [
                    (
                        layer.info.name,
                        layer.geometries_at(tile.z, rows),
                        layer.tags_at(tile.z).take(rows),
                        layer.info.kind,
                        None,
                    )
                ],
                bounds,
            )
            for layer in (made, afresh)
        ]
        assert encoded[0] == encoded[1], tile


def test_coverage_layers_made_from_the_previous_ones_are_those_built_afresh(
    service_data: ServiceData, monkeypatch: pytest.MonkeyPatch
) -> None:
    replaced = []
    changed = LayerSet._changed_coverage_layers

    def spy(self, params, frame, base):
        made = changed(self, params, frame, base)
        replaced.append(made is not None and made[0] is not base[0])
        return made

    monkeypatch.setattr(LayerSet, "_changed_coverage_layers", spy)
    records = [record for _, record in read_records(REPO_DATA_DIR / "projects")]
    data = service_data
    memo = Memo()  # the snapshot line's, shared by every layer set below but the fresh ones
    layers = LayerSet(data.boundaries, data.projects, data.coverage, memo)
    for params in PARAMS:
        layers.version("coverage", params)
    for step, written in enumerate(_writes(records)):
        data = data.with_records(written, data.revision + 1)
        layers = LayerSet(data.boundaries, data.projects, data.coverage, memo)
        afresh = LayerSet(data.boundaries, data.projects, data.coverage, Memo())
        for params in PARAMS:
            assert layers.version("coverage", params) == afresh.version("coverage", params), (step, params)
            for name in ("coverage", "zones-blanches"):
                _same_layer(layers.get(name, params), afresh.get(name, params))
        for name in ("projects", "project-areas"):
            _same_layer(layers.get(name), afresh.get(name))
    assert sum(replaced) >= len(PARAMS) * 4  # most writes replaced rows rather than building afresh
    # what the memo keeps does not grow with the writes: per parameter set, the layers of the latest figures and
    # of those before; the rows of the projects there are, and the areas of their territories (and a few more)
    sizes = memo.sizes()
    assert sizes["tiles.coverage"] <= 2 * len(PARAMS)
    assert sizes["tiles.project_row"] == len(data.projects.projects)
    assert sizes["tiles.area"] <= len(data.projects.projects) + layers_module.AREAS_SPARE


def test_project_layers_keep_their_rows_tags_across_writes_and_renumber_once_most_are_stale(
    service_data: ServiceData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project layers' rows and tags of an unchanged project are found in the memo; an edited project's are
    made again, and once the values of edits pile up the table starts afresh (every row made again): at every
    step, the tags are those of a layer set built from scratch."""
    monkeypatch.setattr(layers_module, "TAG_TABLE_SLACK", 0)
    monkeypatch.setattr(layers_module, "TAG_TABLE_STALE_SHARE", 0.01)
    made: list[str] = []
    row_of = layers_module._ProjectRow.of.__func__

    def counted(cls, project, table):
        made.append(project.id)
        return row_of(cls, project, table)

    monkeypatch.setattr(layers_module._ProjectRow, "of", classmethod(counted))
    records = [record for _, record in read_records(REPO_DATA_DIR / "projects")]
    data = service_data
    memo = Memo()
    LayerSet(data.boundaries, data.projects, data.coverage, memo)
    written = [*records, _epicerie(1, "Ville d'Amiens")]
    restarts = 0
    for step in range(12):
        written = [r.model_copy(update={"name": f"Épicerie {step}"}) if r.id == "epicerie-1" else r for r in written]
        data = data.with_records(written, data.revision + 1)
        made.clear()
        layers = LayerSet(data.boundaries, data.projects, data.coverage, memo)
        mine = list(made)
        afresh = LayerSet(data.boundaries, data.projects, data.coverage, Memo())
        for name in ("projects", "project-areas"):
            _same_layer(layers.get(name), afresh.get(name))
        if mine == ["epicerie-1"]:
            continue  # only the edited project's rows were made: the others' were in the memo
        # the table started afresh: the edited project's rows made in the old table, then every row in the new
        assert sorted(mine) == sorted(["epicerie-1", *data.projects.projects]), (step, mine)
        restarts += 1
    assert 0 < restarts < 12  # the table was started afresh at least once, and not at every write


def test_rows_are_hashed_as_pandas_hashes_a_frame(service_data: ServiceData) -> None:
    """Row hashes key the tile caches and make the coverage layers' versions: hashing some rows column by
    column must give pandas's hashes of the whole frame, those of every process before and after."""
    frame = service_data.coverage.figures(CoverageParams())
    for columns in (COVERAGE_CHANGING, COVERAGE_STATIC, LOW_ZOOM_PROPERTIES["coverage"]):
        expected = pd.util.hash_pandas_object(frame[list(columns)], index=False).to_numpy()
        assert np.array_equal(_hashed(frame, columns), expected)
        rows = np.array([0, 5, 17, len(frame) - 1])
        assert np.array_equal(_hashed(frame, columns, rows), expected[rows])


def test_a_layer_set_replaces_rows_only_while_few_change(service_data: ServiceData) -> None:
    assert 0 < layers_module.REPLACE_MAX_SHARE < 1
    layers = LayerSet(service_data.boundaries, service_data.projects, service_data.coverage)
    frame = service_data.coverage.figures(CoverageParams())
    previous = layers._coverage_set(CoverageParams())
    everything = frame.copy()
    everything["local_projects"] += 1  # every row changed: building afresh is as quick
    assert layers._changed_coverage_layers(CoverageParams(), everything, previous) is None
    # the same figures made again: the same layers and version
    same = layers._changed_coverage_layers(CoverageParams(), frame.copy(), previous)
    assert same is not None and same[0] is previous[0] and same[1] == previous[1]


def test_layers_build_when_no_project_is_local(service_data: ServiceData) -> None:
    """Every project département- or région-wide (or none left): the projects layer is empty, and a publish after
    a write that leaves it so does not fail (shapely refuses an empty list of points)."""
    records = [record for _, record in read_records(REPO_DATA_DIR / "projects")]
    wide = [r for r in records if service_data.projects.projects[r.id].scope != "local"]
    assert wide, "the brochure has département- and région-wide projects"
    for kept in (wide, []):
        data = service_data.with_records(kept, service_data.revision + 1)
        memo = Memo()
        layers = LayerSet(data.boundaries, data.projects, data.coverage, memo)
        assert len(layers.get("projects").properties) == 0
        assert len(layers.get("project-areas").properties) == len(kept)
        again = LayerSet(data.boundaries, data.projects, data.coverage, memo)
        assert again.version("coverage") == layers.version("coverage")
