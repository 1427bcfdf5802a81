"""geo-service import and export: every format round-trips; a file with one bad row imports nothing; CSV cells
never run as formulas; malformed or hostile files get a clear error; an export reads one snapshot."""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import pytest
import yaml

from geo_service import service
from geo_service.cli import main
from geo_service.coverage import to_csv
from geo_service.parameters import CoverageParams
from geo_service.projects.models import ProjectRecord
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
    # the same records again: no new version (re-importing 3 000 unchanged rows added 3 000 versions)
    assert [c.action for c in store.history("nutri-cheques")] == ["seed"]


def test_grant_facts_round_trip_and_changes_make_versions(fresh_store: Path, tmp_path: Path) -> None:
    facts = {"funding_years": [2023, 2024], "amount_eur": 12500.5, "status": "active", "end_date": "2025-06-30"}
    facts |= {
        "website": "https://exemple.fr/paniers",
        "contact": "Mme Test, 03 22 00 00 00",
        "last_checked": "2026-01-15",
    }
    path = tmp_path / "appel.yaml"
    path.write_text(yaml.safe_dump([NEW | facts], allow_unicode=True), "utf-8")
    assert main(["import", str(path), "--by", "test"]) == 0
    out = tmp_path / "projets.csv"
    assert main(["export", "--format", "csv", "--out", str(out)]) == 0
    assert main(["import", str(out), "--by", "test"]) == 0
    store = SqliteStore(fresh_store)
    back = next(r for r in store.records() if r.id == NEW["id"]).model_dump(mode="json")
    assert {key: back[key] for key in facts} == facts
    assert [c.action for c in store.history(NEW["id"])] == ["create"]
    path.write_text(yaml.safe_dump([NEW | facts | {"status": "ended"}], allow_unicode=True), "utf-8")
    assert main(["import", str(path), "--by", "test"]) == 0
    assert [c.action for c in SqliteStore(fresh_store).history(NEW["id"])] == ["create", "import"]


def test_a_semicolon_csv_is_read_as_such(fresh_store: Path, tmp_path: Path) -> None:
    """What French Excel writes: the header and cells separated by ';' (it said only "id: Field required")."""
    path = tmp_path / "appel.csv"
    header = ["id", "organisation", "name", "duration_years", "place_text", "actions"]
    values = [NEW["id"], NEW["organisation"], NEW["name"], "1", "Ternois", "Distribution de paniers ; de légumes"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows([header, values])
    assert main(["import", str(path), "--by", "test"]) == 0
    record = next(r for r in SqliteStore(fresh_store).records() if r.id == NEW["id"])
    assert record.duration_years == 1 and record.actions == ["Distribution de paniers ; de légumes"]


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


FORMULAS = ['=HYPERLINK("http://evil.example","x")', "@SUM(A1:A9)", "+33 6 12 34 56 78", "-1+2", "=1+1"]


def test_csv_export_neutralises_formulas_and_imports_back(fresh_store: Path, tmp_path: Path) -> None:
    """OWASP's CSV injection rule: a cell starting with = + - @ is written with a leading apostrophe, which
    spreadsheets show as text; the import removes it again."""
    rows = [NEW | {"id": f"formule-{n}", "name": text} for n, text in enumerate(FORMULAS)]
    source = tmp_path / "appel.yaml"
    source.write_text(yaml.safe_dump(rows, allow_unicode=True), "utf-8")
    assert main(["import", str(source), "--by", "test"]) == 0
    out = tmp_path / "projets.csv"
    assert main(["export", "--format", "csv", "--out", str(out)]) == 0
    cells = [cell for row in csv.reader(out.read_text("utf-8").splitlines()) for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert {f"'{text}" for text in FORMULAS} <= set(cells)
    get_settings.cache_clear()
    again = tmp_path / "autre.sqlite3"
    os.environ["GEO_SERVICE_DATABASE_URL"] = f"sqlite:///{again}"
    assert main(["import", str(out), "--by", "test"]) == 0
    names = {r.id: r.name for r in SqliteStore(again).records()}
    assert [names[f"formule-{n}"] for n in range(len(FORMULAS))] == FORMULAS


def test_coverage_csv_neutralises_formulas(service_data) -> None:
    frame = service_data.coverage.compute(CoverageParams()).head(3).copy()
    frame["name"] = ["=1+1", "@x", "Amiens"]
    lines = to_csv(frame).splitlines()
    assert lines[1].split(",")[1] == "'=1+1" and lines[2].split(",")[1] == "'@x" and lines[3].split(",")[1] == "Amiens"


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A "billion laughs" file: nine levels of nine aliases, a few hundred bytes, 9^9 strings once expanded."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 9)]
    bomb = tmp_path / "bombe.yaml"
    bomb.write_text("\n".join(lines) + "\n", "utf-8")
    assert bomb.stat().st_size < 1000
    started = time.perf_counter()
    assert main(["import", str(bomb)]) == 2
    assert time.perf_counter() - started < 5
    assert "YAML aliases expand to more than 1,000,000 values" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("features.geojson", '{"type": "FeatureCollection", "features": [1, "x"]}', "feature 1 is a number"),
        (
            "properties.geojson",
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": [1]}]}',
            "feature 1 is a Feature whose properties are a list",
        ),
        ("sans-features.geojson", '{"type": "FeatureCollection", "features": {}}', "a list of features"),
        ("liste.json", '[{"id": "a"}, 3]', "row 2 is a number"),
        ("profond.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("profond.yaml", "[" * 100_000 + "]" * 100_000, "cannot be read as yaml"),
        ("cellules.csv", "id,name\na,b,c\n", "row 1 has more cells than the header"),
        ("curation.csv", "id,curation\na,{pas du json\n", "row 1: curation is not JSON"),
    ],
)
def test_malformed_files_get_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    assert main(["import", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and name in err and "Traceback" not in err


def test_a_csv_saved_by_excel_with_a_byte_order_mark_imports(fresh_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "projets.csv"
    assert main(["export", "--format", "csv", "--out", str(out)]) == 0
    excel = tmp_path / "excel.csv"
    excel.write_bytes(b"\xef\xbb\xbf" + out.read_bytes())  # what Excel's "CSV UTF-8 (délimité par des virgules)" writes
    assert main(["import", str(excel), "--by", "test"]) == 0
    assert len(SqliteStore(fresh_store).records()) == 28


def test_export_reads_one_snapshot_while_a_write_lands(
    fresh_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write committed between loading the projects and writing the file (another process, a server): the
    file holds the records as they were when loaded, each with its point, and nothing half-way."""
    loaded = service.load_service_data

    def load_then_write(*args, **kwargs):
        data = loaded(*args, **kwargs)
        SqliteStore(fresh_store).create(ProjectRecord.model_validate(NEW), "concurrent")
        return data

    monkeypatch.setattr(service, "load_service_data", load_then_write)
    out = tmp_path / "projets.geojson"
    assert main(["export", "--format", "geojson", "--out", str(out)]) == 0
    features = json.loads(out.read_text("utf-8"))["features"]
    assert len(features) == 28 and all(f["geometry"]["type"] == "Point" for f in features)
    assert NEW["id"] not in {f["id"] for f in features}
