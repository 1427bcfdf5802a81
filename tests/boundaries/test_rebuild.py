"""Rebuilding from the pinned sources reproduces the committed data, and other régions build too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from boundaries.build import LEVELS, BuildError, build_boundaries, select_communes
from boundaries.readers import read_cog
from boundaries.sources import SourceFiles
from geo_service.settings import REPO_DATA_DIR
from geo_service.territories import Boundaries

pytestmark = pytest.mark.slow


def _features(path: Path) -> list[dict]:
    return json.loads(path.read_text("utf-8"))["features"]


def test_rebuild_matches_committed_data(source_files: SourceFiles, tmp_path: Path) -> None:
    lines: list[str] = []
    manifest = build_boundaries(source_files, tmp_path, region="32", progress=lines.append)
    committed = json.loads((REPO_DATA_DIR / "boundaries" / "manifest.json").read_text("utf-8"))
    assert manifest["counts"] == committed["counts"]
    assert manifest["reconciliation"] == committed["reconciliation"]
    assert lines[-1].startswith(f"wrote {tmp_path}: 3782 commune, 92 epci")
    for level in LEVELS:
        if manifest["files"][level]["sha256"] == committed["files"][level]["sha256"]:
            continue
        # Another GEOS release may order vertices differently: then compare what they describe.
        rebuilt, kept = (
            _features(tmp_path / f"{level}.geojson"),
            _features(REPO_DATA_DIR / "boundaries" / f"{level}.geojson"),
        )
        assert [f["properties"] for f in rebuilt] == [f["properties"] for f in kept], level
        for new, old in zip(rebuilt, kept, strict=True):
            a, b = shapely.geometry.shape(new["geometry"]), shapely.geometry.shape(old["geometry"])
            assert shapely.symmetric_difference(a, b).area <= 1e-9 * max(a.area, 1e-9), new["properties"]["code"]


def test_another_region_builds_and_loads(source_files: SourceFiles, tmp_path: Path) -> None:
    # Corsica: small, and its codes (2A/2B) are the unusual ones
    build_boundaries(source_files, tmp_path / "boundaries", region="94", progress=lambda _: None)
    corsica = Boundaries.load(tmp_path / "boundaries")
    assert corsica.counts() == {"commune": 360, "epci": 19, "arrondissement": 5, "departement": 2, "region": 1}
    assert corsica.get("departement", "2A").name == "Corse-du-Sud"
    ajaccio = corsica.get("commune", "2A004")
    assert ajaccio.name == "Ajaccio" and ajaccio.parents["departement"]["code"] == "2A"


def test_unknown_region_is_refused_by_name(source_files: SourceFiles) -> None:
    cog = read_cog(source_files.decoupage)
    with pytest.raises(BuildError, match=r"unknown région code '99'.*32.*'all'"):
        select_communes(cog, "99")
    assert len(select_communes(cog, "all")) > 34_000
