"""docs/benchmarks.md and docs/benchmarks/results.yaml cannot drift apart: every table of the document is what
bench/report.py renders from the data, and every row of the data has the fields its benchmark declares.

The document is read here with a regular expression of its own and the data with plain `yaml.safe_load`, not with
the script's parser, so that the expected side of each comparison comes from the files rather than from the code
under test. The rendering rules (units, grouping, decimals as written, before → now, ranges, optional parts) are
checked on a small benchmark written here, against Markdown written by hand.
"""

from __future__ import annotations

import datetime
import importlib.util
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from geo_service.settings import REPO_DIR

DOCUMENT = REPO_DIR / "docs" / "benchmarks.md"
RESULTS = REPO_DIR / "docs" / "benchmarks" / "results.yaml"
SCRIPT = REPO_DIR / "bench" / "report.py"
BLOCK = re.compile(r"<!-- report: ([\w/-]+) -->\n(.*?)<!-- /report -->", re.DOTALL)
COMMIT = re.compile(r"[0-9a-f]{7,40}")
ROW_KEYS = {"date", "data", "machine", "load", "commit", "baseline", "recorded_in", "label", "command"}
KIND_SHAPES = {
    "change": lambda value: isinstance(value, list) and len(value) == 2,
    "range": lambda value: (isinstance(value, list) and len(value) == 2) or isinstance(value, int | float),
    "runs": lambda value: isinstance(value, list) and len(value) >= 2,
    "by_status": lambda value: isinstance(value, dict) and all(isinstance(k, int) for k in value),
}


@pytest.fixture(scope="module")
def report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_report", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def blocks_of(text: str) -> dict[str, str]:
    found = {}
    for block_id, body in BLOCK.findall(text):
        assert block_id not in found, f"block {block_id} twice in the document"
        found[block_id] = body.strip("\n")
    return found


def all_rows() -> list[tuple[str, dict, dict, dict]]:
    """(where, benchmark, table, row with its table's `run` under it) for every row of the data file."""
    data = yaml.safe_load(RESULTS.read_text(encoding="utf-8"))
    return [
        (f"{benchmark['id']}/{number} row {index}", benchmark, table, {**table.get("run", {}), **row})
        for benchmark in data["benchmarks"]
        for number, table in enumerate(benchmark["tables"], start=1)
        for index, row in enumerate(table["rows"], start=1)
    ]


def test_the_document_holds_the_tables_rendered_from_the_data(report: ModuleType) -> None:
    in_document = blocks_of(DOCUMENT.read_text(encoding="utf-8"))
    rendered = report.render_blocks(report.load(RESULTS))
    assert sorted(in_document) == sorted(rendered), "blocks missing from the document or unknown to the data"
    stale = [block for block in rendered if in_document[block] != rendered[block]]
    assert not stale, f"run `python bench/report.py`: these blocks of {DOCUMENT.name} differ from the data: {stale}"


def test_every_benchmark_has_a_table_and_its_heading() -> None:
    text = DOCUMENT.read_text(encoding="utf-8")
    data = yaml.safe_load(RESULTS.read_text(encoding="utf-8"))
    for benchmark in data["benchmarks"]:
        assert benchmark["tables"], benchmark["id"]
        assert f"\n## {benchmark['title']}\n" in text
        assert benchmark["command"].startswith("python bench/")


def test_every_row_has_the_fields_its_benchmark_declares() -> None:
    data = yaml.safe_load(RESULTS.read_text(encoding="utf-8"))
    problems = []
    for where, benchmark, table, row in all_rows():
        declared = benchmark["fields"]
        required = table.get("fields") or [name for name, field in declared.items() if not field.get("optional")]
        problems += [f"{where}: no {name!r}" for name in required if name not in row]
        problems += [
            f"{where}: {name!r} is not declared" for name in row if name not in declared | dict.fromkeys(ROW_KEYS)
        ]
        problems += [f"{where}: no {name!r}" for name in ("date", "data", "machine", "recorded_in") if name not in row]
        if not isinstance(row.get("date"), datetime.date):
            problems.append(f"{where}: date={row.get('date')!r} is not a date")
        problems += [
            f"{where}: {key}={row[key]!r} is not a commit"
            for key in ("commit", "baseline", "recorded_in")
            if key in row and not (isinstance(row[key], str) and COMMIT.fullmatch(row[key]))
        ]
        if row.get("data") not in data["data"] or row.get("machine") not in data["machines"]:
            problems.append(f"{where}: data={row.get('data')!r} or machine={row.get('machine')!r} is not described")
        for name, value in row.items():
            field = declared.get(name)
            if field is None or value is None:
                continue
            kind = field.get("kind", "value")
            if kind in KIND_SHAPES and not KIND_SHAPES[kind](value):
                problems.append(f"{where}: {name}={value!r} is not a {kind}")
            if kind == "value" and field["unit"] != "text" and not isinstance(value, int | float | dict):
                problems.append(f"{where}: {name}={value!r} is not a figure")
    assert not problems, problems


def test_fields_goals_and_units_are_declared(report: ModuleType) -> None:
    data = yaml.safe_load(RESULTS.read_text(encoding="utf-8"))
    for benchmark in data["benchmarks"]:
        for name, field in benchmark["fields"].items():
            assert field["unit"] in report.UNIT_SUFFIX, (benchmark["id"], name, field)
            assert field.get("kind", "value") in report.KINDS, (benchmark["id"], name, field)
            assert field.get("label"), (benchmark["id"], name)
        for goal in benchmark["goals"]:
            if "text" in goal:
                continue
            assert goal["field"] in benchmark["fields"], (benchmark["id"], goal)
            assert goal["op"] in {"<", "≤", ">", "≥"}, (benchmark["id"], goal)
            assert goal.get("data", "région") in data["data"], (benchmark["id"], goal)
        for table in benchmark["tables"]:
            assert set(table.get("fields", [])) <= set(benchmark["fields"]), (benchmark["id"], table.get("fields"))


def test_a_figure_noted_in_another_unit_is_of_the_same_kind() -> None:
    same = [{"ms", "s", "µs"}, {"KB", "MB", "GB"}]
    for where, benchmark, _, row in all_rows():
        for name, value in row.items():
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict) and "unit" in item:
                    unit = benchmark["fields"][name]["unit"]
                    assert any({unit, item["unit"]} <= units for units in same), (where, name, item)


BENCHMARK_YAML = """
id: sample
title: Sample
command: python bench/sample.py
setup: two trees, one run
goals:
  - {field: p50, op: ≤, value: 100}
  - {field: total, op: <, value: 2, unit: s, data: région}
  - {text: nothing left running}
fields:
  name: {label: name, unit: text}
  p50: {label: p50, unit: ms, kind: change}
  total: {label: total, unit: s}
  rate: {label: rate, unit: queries/s}
  span: {label: span, unit: ms, kind: range}
  runs: {label: runs, unit: ms, kind: runs}
  answers: {label: answers, unit: count, kind: by_status}
  extra: {label: extra, unit: count, optional: true}
tables:
  - run: {date: 2026-12-05, data: région, machine: m, recorded_in: "abcdef0"}
    caption: "{date}, {data}:"
    columns:
      - ["", "{name}[[ (`{commit}`)]]"]
      - [p50, "{p50}"]
      - [p50 before, "{p50.0:n}"]
      - [total, "{total}"]
      - [rate, "{rate}"]
      - [span, "{span}"]
      - [runs, "{runs}"]
      - [and, ["{answers} now", "{extra} more"], left]
    rows:
      - {name: a, commit: "1234abc", p50: [2087, 42.10], total: 0.10, rate: 18392, span: [2.3, 3.0], runs: [1.5, 2],
         answers: {200: 5, 429: 14136}}
      - {name: b, p50: [null, {value: 27, unit: s}], total: 10.0, rate: 999, span: 199, runs: [1, 2, 3], answers: {},
         extra: 1000}
  - run: {date: 2026-12-05, machine: m, recorded_in: "abcdef0"}
    header: "{data}"
    lines:
      - [total, "{total}"]
      - [extra, "[[{extra}]]"]
    rows:
      - {data: région, name: a, p50: [1, 2], total: 1.50, rate: 1, span: 1, runs: [1, 1], answers: {}}
      - {data: France, name: b, p50: [1, 2], total: 0.5, rate: 1, span: 1, runs: [1, 1], answers: {}, extra: 3}
"""

EXPECTED_HEADER = """## Sample

Run: `python bench/sample.py`: two trees, one run.

Goals: p50 ≤ 100 ms; total < 2 s (région); nothing left running."""

EXPECTED_ROWS = """2026-12-05, région:

| | p50 | p50 before | total | rate | span | runs | and |
|---|---:|---:|---:|---:|---:|---:|---|
| a (`1234abc`) | 2 087 → 42.10 ms | 2 087 | 0.10 s | 18 392/s | 2.3–3.0 ms | 1.5 and 2 ms | 5 × 200, 14 136 × 429 now |
| b | — → 27 s | — | 10.0 s | 999/s | 199 ms | 1, 2 and 3 ms | none now; 1 000 more |"""

EXPECTED_LINES = """| | région | France |
|---|---:|---:|
| total | 1.50 s | 0.5 s |
| extra | | 3 |"""


def test_rendering_keeps_figures_as_noted(report: ModuleType, tmp_path: Path) -> None:
    sample = tmp_path / "sample.yaml"
    sample.write_text(BENCHMARK_YAML, encoding="utf-8")
    benchmark = report.load(sample)
    assert benchmark["tables"][0]["rows"][0]["total"] == Decimal("0.10")  # read as written, not as a float
    assert report.render_header(benchmark) == EXPECTED_HEADER
    assert report.render_table(benchmark, 1) == EXPECTED_ROWS
    assert report.render_table(benchmark, 2) == EXPECTED_LINES


def test_a_row_without_a_field_its_table_shows_is_named(report: ModuleType, tmp_path: Path) -> None:
    sample = tmp_path / "sample.yaml"
    sample.write_text(BENCHMARK_YAML.replace("total: 10.0, ", ""), encoding="utf-8")
    with pytest.raises(KeyError, match=r"sample/1: the row .* has no 'total'"):
        report.render_table(report.load(sample), 1)


def test_the_script_finds_a_stale_table_and_rewrites_it(tmp_path: Path) -> None:
    document, results = tmp_path / "benchmarks.md", tmp_path / "results.yaml"
    shutil.copy(DOCUMENT, document)
    shutil.copy(RESULTS, results)
    paths = ["--document", str(document), "--results", str(results)]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(SCRIPT), *args, *paths]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)

    assert run("--check").returncode == 0
    results.write_text(results.read_text(encoding="utf-8").replace("tile_p99: 593,", "tile_p99: 594,"), "utf-8")
    stale = run("--check")
    assert stale.returncode == 1
    assert "writes-under-load/1: differs from the data" in stale.stderr
    assert "| 594 ms |" not in document.read_text(encoding="utf-8")
    assert run().returncode == 0
    assert "| 594 ms |" in document.read_text(encoding="utf-8")
    assert run("--check").returncode == 0
