"""Tile archives for static hosting: what the CLI writes can be read back by the usual readers."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from pmtiles.reader import MmapSource, Reader

from geo_service.cli import main


def test_mbtiles_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "communes.mbtiles"
    assert main(["export-tiles", "--layer", "communes", "--minzoom", "6", "--maxzoom", "8", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    with sqlite3.connect(out) as db:
        count, low, high = db.execute("SELECT count(*), min(zoom_level), max(zoom_level) FROM tiles").fetchone()
        metadata = dict(db.execute("SELECT name, value FROM metadata"))
        data = db.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level=6 AND tile_column=32 AND tile_row=42"
        ).fetchone()
    assert (low, high) == (6, 8) and count == 2 + 5 + 10
    assert metadata["format"] == "pbf" and (metadata["minzoom"], metadata["maxzoom"]) == ("6", "8")
    layers = json.loads(metadata["json"])["vector_layers"]
    assert [(layer["minzoom"], layer["maxzoom"]) for layer in layers] == [(6, 8)]  # as built, not the live 0-14
    assert len(mapbox_vector_tile.decode(gzip.decompress(data[0]))["communes"]["features"]) > 3700  # TMS row 42 = y 21


def test_pmtiles_export_matches_the_served_tile(tmp_path: Path, client: TestClient) -> None:
    out = tmp_path / "couverture.pmtiles"
    assert main(["export-tiles", "--layer", "coverage", "--minzoom", "9", "--maxzoom", "9", "--out", str(out)]) == 0
    served = client.get("/tiles/coverage/9/260/175.mvt").content
    with out.open("rb") as fh:
        reader = Reader(MmapSource(fh))
        assert reader.header()["min_zoom"] == 9 and reader.header()["max_zoom"] == 9
        assert gzip.decompress(reader.get(9, 260, 175)) == served


def test_bad_archive_requests_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export-tiles", "--layer", "communes", "--out", str(tmp_path / "x.zip")]) == 2
    assert "mbtiles or .pmtiles" in capsys.readouterr().err
    assert main(["export-tiles", "--layer", "rivieres", "--out", str(tmp_path / "x.pmtiles")]) == 2
    assert "unknown layer" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
