"""geo-service import and export: every format round-trips; a file with one bad row imports nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from geo_service.cli import main
from geo_service.settings import get_settings
from geo_service.store import SqliteStore

NEW = {
    "id": "paniers-du-ternois",
    "organisation": "Association Test Ternois",
    "name": "Paniers solidaires du Ternois",
    "duration_years": 1,
    "place_text": "Ternois",
    "actions": ["Distribution de paniers de légumes"],
    "indicators": ["Taux de pauvreté de 16 %"],
    "partners": ["Producteurs locaux"],
    "objectives": ["Atteindre 100 familles"],
}


@pytest.fixture
def fresh_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "store.sqlite3"
    monkeypatch.setenv("GEO_SERVICE_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    return path


@pytest.mark.parametrize("fmt", ["yaml", "json", "csv", "geojson"])
def test_export_then_import_round_trips(fresh_store: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"projets.{fmt}"
    assert main(["export", "--format", fmt, "--out", str(out)]) == 0
    assert main(["import", str(out), "--by", "test"]) == 0
    store = SqliteStore(fresh_store)
    records = store.records()
    assert len(records) == 28
    nutri = next(r for r in records if r.id == "nutri-cheques")
    assert nutri.place_text == "Département de l'Aisne" and len(nutri.actions) == 3
    assert [c.action for c in store.history("nutri-cheques")] == ["seed", "import"]


def test_one_bad_row_imports_nothing(fresh_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [NEW, NEW | {"id": "sans-lieu", "place_text": "Quelque part"}, NEW | {"id": "x", "duration_years": 0}]
    path = tmp_path / "appel.yaml"
    path.write_text(yaml.safe_dump(rows, allow_unicode=True), "utf-8")
    assert main(["import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "sans-lieu" in err and "row 3 (x): duration_years" in err and "nothing imported: 2 rejected" in err
    assert len(SqliteStore(fresh_store).records()) == 28
    path.write_text(yaml.safe_dump([NEW], allow_unicode=True), "utf-8")
    assert main(["import", str(path)]) == 0
    assert "1 created, 0 updated" in capsys.readouterr().out
    assert len(SqliteStore(fresh_store).records()) == 29


def test_unreadable_files_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "projets.json"
    broken.write_text("{not json", "utf-8")
    assert main(["import", str(broken)]) == 2
    assert "projets.json: cannot be read as json" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "projets.xlsx")]) == 2
