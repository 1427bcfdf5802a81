"""The tables of docs/benchmarks.md, rendered from the results kept as data in docs/benchmarks/results.yaml.

Usage: python bench/report.py [--check] [--results FILE] [--document FILE]

Without --check it rewrites, in the document, what lies between each `<!-- report: ID -->` and the next
`<!-- /report -->` (a benchmark's heading, command and goals for ID = the benchmark's id; its N-th table for
ID = id/N; the machines and data sets for ID = intro), and leaves the prose around them alone. With --check it
writes nothing and exits 1, naming the blocks, when the document differs from what the data give, or when a
block is missing or unknown; tests/test_bench_report.py runs the same comparison, so the tables cannot drift.

Decisions:
- Figures are rendered as they were noted, never recomputed or rounded: the YAML's decimals are read as
  `Decimal` from their text, so 0.10 stays "0.10" and 10.0 stays "10.0"; ratios and speed-ups measured from
  unrounded figures are data too. Integers of four digits or more are grouped with a space ("7 108"), as the
  manual always wrote them.
- A figure's unit comes from its field's declaration (`unit`), or from the figure itself when it was noted in
  another one ({value: 27, unit: s} in a field of milliseconds); `{field:n}` leaves the unit to the header.
- The template language is tiny on purpose ({field}, {field:n}, {field.0}, [[optional part]], a list of parts
  joined by "; ") so that the data file stays readable and a table's look lives beside its figures. A template
  naming a field a row lacks, outside [[...]], is an error that names the benchmark, the table and the field.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
import textwrap
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "docs" / "benchmarks" / "results.yaml"
DOCUMENT = REPO / "docs" / "benchmarks.md"

# How each unit is written after a figure; "count", "ratio", "text" and "bytes" are written bare (the header names
# them), rates keep only "/s" ("8 877/s") as the manual always did.
UNIT_SUFFIX = {
    "ms": " ms",
    "s": " s",
    "µs": " µs",
    "KB": " KB",
    "MB": " MB",
    "GB": " GB",
    "requests/s": "/s",
    "queries/s": "/s",
    "×": "×",
    "count": "",
    "ratio": "",
    "bytes": "",
    "text": "",
}
KINDS = {"value", "change", "range", "runs", "by_status"}
# What every row may carry besides its benchmark's fields (the YAML's header comment says what each means).
ROW_KEYS = {"date", "data", "machine", "load", "commit", "baseline", "recorded_in", "label", "command"}
WIDTH = 120  # the manual's line length; Markdown joins the wrapped lines again
MARKDOWN_START = re.compile(r"([-+*>#|=]|\d+[.)])(\s|$)")
BLOCK = re.compile(r"<!-- report: (?P<id>[\w/-]+) -->\n(?P<body>.*?)<!-- /report -->", re.DOTALL)
PLACEHOLDER = re.compile(r"\{(?P<name>\w+)(?:\.(?P<index>\d))?(?P<bare>:n)?\}")
OPTIONAL = re.compile(r"\[\[(.*?)\]\]")


class _ResultsLoader(yaml.SafeLoader):
    """YAML as written: decimals as Decimal from their own text, so that no figure loses a trailing zero."""


def _decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))


_ResultsLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def load(path: Path = RESULTS) -> dict[str, Any]:
    with path.open(encoding="utf-8") as file:
        return yaml.load(file, Loader=_ResultsLoader)  # a SafeLoader, with decimals kept as written


def table_rows(table: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each row with what its table's rows share (`run`) under it: the row's own keys win."""
    return [{**table.get("run", {}), **row} for row in table["rows"]]


def number(value: Any) -> str:
    """A figure as noted: None is "—" (not measured), integers from 1 000 are grouped by thousands."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"a figure must be a number or null, got value={value!r}")
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, dot, fraction = text.partition(".")
    if len(whole) > 3:
        whole = f"{int(whole):,}".replace(",", " ")
    return f"{sign}{whole}{dot}{fraction}"


def _scalar(value: Any, unit: str) -> tuple[str, str | None]:
    """A figure's number and unit, the unit being the figure's own when it carries one; "—" has none."""
    if isinstance(value, Mapping):
        return number(value["value"]), value["unit"]
    return number(value), None if value is None else unit


def _with_unit(parts: list[tuple[str, str | None]], joiner: str, bare: bool) -> str:
    """Figures joined, the unit written once at the end when they share it, after each when they do not."""
    units = {unit for _, unit in parts if unit is not None}
    if bare or len(units) <= 1:
        return joiner.join(text for text, _ in parts) + ("" if bare or not units else UNIT_SUFFIX[units.pop()])
    return joiner.join(text + ("" if unit is None else UNIT_SUFFIX[unit]) for text, unit in parts)


def render_value(field: Mapping[str, Any], value: Any, index: int | None = None, bare: bool = False) -> str:
    """One figure (or pair, range, runs, answers by status) as the tables write it; `index` picks one of a list."""
    unit, kind = field["unit"], field.get("kind", "value")
    if unit == "text" or isinstance(value, str | datetime.date):
        return str(value)
    if index is not None:
        if not isinstance(value, list):
            raise TypeError(f"{{…{index}}} names one figure of a list, got value={value!r}")
        return _with_unit([_scalar(value[index], unit)], "", bare)
    if kind == "by_status":
        if not value:
            return "none"
        return ", ".join(f"{number(count)} × {status}" for status, count in value.items())
    if kind in ("change", "range", "runs") and isinstance(value, list):
        parts = [_scalar(item, unit) for item in value]
        if kind == "change":
            return _with_unit(parts, " → ", bare)
        if kind == "range":
            return _with_unit(parts, "–", bare)
        figures = _with_unit(parts, "\0", bare).split("\0")
        return ", ".join(figures[:-1]) + " and " + figures[-1]
    return _with_unit([_scalar(value, unit)], "", bare)


def fill(template: str, row: Mapping[str, Any], fields: Mapping[str, Any], where: str) -> str:
    """A template filled from one row; a [[...]] part is dropped when the row lacks a field it names."""

    def part(text: str, optional: bool) -> str:
        names = [match["name"] for match in PLACEHOLDER.finditer(text)]
        if optional and any(name not in row for name in names):
            return ""
        missing = [name for name in names if name not in row]
        if missing:
            raise KeyError(f"{where}: the row {dict(row)} has no {missing[0]!r}, which {template!r} needs")

        def value(match: re.Match[str]) -> str:
            name = match["name"]
            if name not in fields and name not in ROW_KEYS:
                raise KeyError(f"{where}: {template!r} names {name!r}, which is neither a field nor one of {ROW_KEYS}")
            declared = fields.get(name, {"unit": "text"})
            index = None if match["index"] is None else int(match["index"])
            return render_value(declared, row[name], index, bool(match["bare"]))

        return PLACEHOLDER.sub(value, text)

    pieces, last = [], 0
    for match in OPTIONAL.finditer(template):
        pieces += [part(template[last : match.start()], False), part(match[1], True)]
        last = match.end()
    return "".join([*pieces, part(template[last:], False)])


def _cell(template: str | list[str], row: Mapping[str, Any], fields: Mapping[str, Any], where: str) -> str:
    if isinstance(template, list):  # parts joined by "; ", each there only when the row has its fields
        filled = [fill(f"[[{part}]]", row, fields, where) for part in template]
        return "; ".join(text for text in filled if text)
    return fill(template, row, fields, where)


def wrap(text: str, indent: str = "") -> str:
    """Prose wrapped at the manual's width, never inside a word (a line break in a `code span` is a space). A line
    that would start with what Markdown reads as a list item, a quote, a heading or a table row stays on the line
    before it, however long that makes it."""
    lines = textwrap.wrap(
        " ".join(text.split()), WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    )
    kept: list[str] = []
    for line in lines:
        if kept and MARKDOWN_START.match(line.strip()):
            kept[-1] += " " + line.strip()
        else:
            kept.append(line)
    return "\n".join(kept)


def _markdown(header: list[str], aligns: list[str], lines: list[list[str]]) -> str:
    def line(cells: list[str]) -> str:
        return "|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|"

    rule = "|" + "|".join("---:" if align == "right" else "---" for align in aligns) + "|"
    return "\n".join([line(header), rule, *(line(cells) for cells in lines)])


def render_table(benchmark: Mapping[str, Any], number_: int) -> str:
    """The N-th table of a benchmark (counted from 1): its caption, then the Markdown table."""
    table = benchmark["tables"][number_ - 1]
    fields, rows = benchmark["fields"], table_rows(table)
    where = f"{benchmark['id']}/{number_}"
    if "columns" in table:  # one line per row
        specs = table["columns"]
        header = [spec[0] for spec in specs]
        aligns = [spec[2] if len(spec) > 2 else ("left" if i == 0 else "right") for i, spec in enumerate(specs)]
        body = [[_cell(spec[1], row, fields, where) for spec in specs] for row in rows]
    else:  # one column per row, one line per measure
        specs = table["lines"]
        header = ["", *(fill(table["header"], row, fields, where) for row in rows)]
        aligns = ["left", *(["right"] * len(rows))]
        body = [[spec[0], *(_cell(spec[1], row, fields, where) for row in rows)] for spec in specs]
    parts = [wrap(fill(table["caption"], table.get("run", {}), fields, where))] if "caption" in table else []
    return "\n\n".join([*parts, _markdown(header, aligns, body)])


def render_goal(benchmark: Mapping[str, Any], goal: Mapping[str, Any]) -> str:
    if "text" in goal:
        return goal["text"]
    field = benchmark["fields"][goal["field"]]
    unit = goal.get("unit", field["unit"])
    text = f"{field['label']} {goal['op']} {number(goal['value'])}{UNIT_SUFFIX[unit]}"
    return " ".join(
        [text, *([f"({goal['data']})"] if "data" in goal else []), *([goal["note"]] if "note" in goal else [])]
    )


def render_header(benchmark: Mapping[str, Any]) -> str:
    parts = [f"## {benchmark['title']}", wrap(f"Run: `{benchmark['command']}`: {benchmark['setup']}.")]
    if benchmark["goals"]:
        parts.append(wrap("Goals: " + "; ".join(render_goal(benchmark, goal) for goal in benchmark["goals"]) + "."))
    return "\n\n".join(parts)


def render_intro(results: Mapping[str, Any]) -> str:
    def entries(kind: str) -> list[str]:
        return [wrap(f"- **{name}**: {text}", indent="  ") for name, text in results[kind].items()]

    return "\n".join(["Machines:", "", *entries("machines"), "", "Data sets:", "", *entries("data")])


def render_blocks(results: Mapping[str, Any]) -> dict[str, str]:
    """Every block the document holds, by its id, in the order of the data file."""
    blocks = {"intro": render_intro(results)}
    for benchmark in results["benchmarks"]:
        blocks[benchmark["id"]] = render_header(benchmark)
        for number_ in range(1, len(benchmark["tables"]) + 1):
            blocks[f"{benchmark['id']}/{number_}"] = render_table(benchmark, number_)
    return blocks


def document_blocks(text: str) -> dict[str, str]:
    """The blocks of a document as they stand, by id (an id given twice is an error)."""
    found: dict[str, str] = {}
    for match in BLOCK.finditer(text):
        if match["id"] in found:
            raise ValueError(f"the block id={match['id']!r} appears twice in the document")
        found[match["id"]] = match["body"].strip("\n")
    return found


def differences(text: str, blocks: Mapping[str, str]) -> list[str]:
    present = document_blocks(text)
    return (
        [f"{block}: missing from the document" for block in blocks if block not in present]
        + [f"{block}: not in the data" for block in present if block not in blocks]
        + [
            f"{block}: differs from the data"
            for block in blocks
            if block in present and present[block] != blocks[block]
        ]
    )


def rewrite(text: str, blocks: Mapping[str, str]) -> str:
    def body(match: re.Match[str]) -> str:
        if match["id"] not in blocks:
            raise KeyError(f"the document has a block id={match['id']!r} that the data do not give")
        return f"<!-- report: {match['id']} -->\n\n{blocks[match['id']]}\n\n<!-- /report -->"

    return BLOCK.sub(body, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the document differs")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--document", type=Path, default=DOCUMENT)
    args = parser.parse_args(argv)
    blocks = render_blocks(load(args.results))
    text = args.document.read_text(encoding="utf-8")
    if args.check:
        found = differences(text, blocks)
        for line in found:
            print(f"{args.document}: {line}", file=sys.stderr)
        return 1 if found else 0
    missing = [block for block in blocks if block not in document_blocks(text)]
    if missing:
        print(f"{args.document}: add a <!-- report: ID --> <!-- /report --> pair for {missing}", file=sys.stderr)
        return 1
    updated = rewrite(text, blocks)
    if updated != text:
        args.document.write_text(updated, encoding="utf-8")
        print(f"{args.document}: tables rewritten from {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
