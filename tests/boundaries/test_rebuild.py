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
    # the former communes' table (names people still use), kept in the manifest: 60 déléguées and 36 associées of
    # the COG 2026 whose name differs from their current commune's
    assert manifest["former_communes"] == committed["former_communes"] and len(manifest["former_communes"]) == 96
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
    # COG 2026: 124 + 236 communes in 19 EPCI, 5 arrondissements and the 2 départements
    assert corsica.counts() == {"commune": 360, "epci": 19, "arrondissement": 5, "departement": 2, "region": 1}
    assert corsica.get("departement", "2A").name == "Corse-du-Sud"
    ajaccio = corsica.get("commune", "2A004")
    assert ajaccio.name == "Ajaccio" and ajaccio.parents["departement"]["code"] == "2A"


def test_unknown_region_is_refused_by_name(source_files: SourceFiles) -> None:
    cog = read_cog(source_files.decoupage)
    with pytest.raises(BuildError, match=r"unknown région code '99'.*32.*'all'"):
        select_communes(cog, "99")
    assert len(select_communes(cog, "all")) > 34_000


def test_national_build_fills_the_gaps_it_can_and_names_the_others(source_files: SourceFiles, tmp_path: Path) -> None:
    manifest = build_boundaries(source_files, tmp_path, region="all", progress=lambda _: None, keep_gaps=True)
    filled = manifest["reconciliation"]["filled_gaps"]
    kept = [line for line in manifest["reconciliation"]["warnings"] if line.endswith("kept as a hole")]
    # the four communes nouvelles of Hauts-de-France, as in the région build, among the others filled
    for code in ("62447", "80155", "02589", "59006"):
        assert any(f"given to {code} " in line for line in filled), code
    assert len(filled) > 4 and all("no single commune nouvelle" in line for line in kept)
    communes = {f["properties"]["code"]: f["properties"] for f in _features(tmp_path / "commune.geojson")}
    # published areas (km²) of the communes nouvelles: the sum of their former communes'
    for code, area in {"62447": 21.26, "80155": 15.19, "02589": 9.79, "59006": 6.83}.items():
        assert communes[code]["area_km2"] == pytest.approx(area, rel=0.05), code
