"""Reading and writing project records as YAML, JSON, CSV or GeoJSON, for imports and exports.

CSV has one row per project with the record's fields as columns; list fields hold their items separated by
`` | ``, and ``curation`` is a JSON cell. GeoJSON is a FeatureCollection whose properties are the record's
fields (the geometry is ignored on import: places come from ``place_text`` or the curation).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from geo_service.errors import InvalidInputError
from geo_service.projects.models import TEXT_CELLS, ProjectRecord, describe_validation_error
from geo_service.spreadsheet import read_cell, safe_cell

LIST_FIELDS = ("actions", "beneficiaries", "indicators", "partners", "objectives", "funding_years")
SEPARATOR = " | "
FORMATS = ("yaml", "json", "csv", "geojson")


def format_of(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    kind = {"yml": "yaml", "yaml": "yaml", "json": "json", "csv": "csv", "geojson": "geojson"}.get(suffix)
    if kind is None:
        raise InvalidInputError(f"{path}: expected a .yaml, .yml, .json, .csv or .geojson file")
    return kind


MAX_FILE_BYTES = 20 * 2**20  # far above a call for projects (the brochure's 28 projects: 40 KB of YAML)


MAX_VALUES = 1_000_000  # values in a file once its YAML aliases are expanded (28 projects: about 1 000)


def _expanded_size(value: Any, sizes: dict[int, int] | None = None) -> int:
    """How many values ``value`` holds once every shared part is counted each time it appears (what validating
    it walks), computed once per shared part: a few hundred bytes of nested YAML aliases (a "billion laughs"
    file) load as a small shared structure but expand to billions of values."""
    sizes = {} if sizes is None else sizes
    if not isinstance(value, list | dict):
        return 1
    known = sizes.get(id(value))
    if known is None:
        children = value.values() if isinstance(value, dict) else value
        known = sizes[id(value)] = 1 + sum(_expanded_size(child, sizes) for child in children)
    return known


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The raw rows of a file, before validation (a broken file is an error naming it and what is wrong).

    Text is UTF-8, with or without the byte order mark Excel's "CSV UTF-8" and some editors write."""
    kind = format_of(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InvalidInputError(f"{path}: {size} bytes, over the {MAX_FILE_BYTES // 2**20} MB an import accepts")
        text = path.read_text("utf-8-sig")
        if kind == "yaml":
            loaded = yaml.safe_load(text)
            if _expanded_size(loaded) > MAX_VALUES:
                raise InvalidInputError(
                    f"{path}: its YAML aliases expand to more than {MAX_VALUES:,} values; write the records out"
                )
        elif kind == "csv":
            reader = csv.DictReader(io.StringIO(text), delimiter=_delimiter(text))
            return [_from_csv(path, row, n) for n, row in enumerate(reader, 1)]
        else:
            loaded = json.loads(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, json.JSONDecodeError, csv.Error) as exc:
        raise InvalidInputError(f"{path}: cannot be read as {kind}: {exc}") from exc
    except RecursionError:
        raise InvalidInputError(f"{path}: cannot be read as {kind}: nested too deeply") from None
    if kind == "geojson" or (isinstance(loaded, dict) and loaded.get("type") == "FeatureCollection"):
        return _feature_rows(path, loaded)
    rows = loaded if isinstance(loaded, list) else [loaded]
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise InvalidInputError(
                f"{path}: row {number} is a {_kind(row)}; expected one record (a mapping of fields) or a list of them"
            )
    return rows


def _feature_rows(path: Path, loaded: Any) -> list[dict[str, Any]]:
    """The properties of each Feature of a FeatureCollection."""
    features = loaded.get("features") if isinstance(loaded, dict) else None
    if not isinstance(features, list):
        raise InvalidInputError(f"{path}: expected a FeatureCollection with a list of features")
    rows = []
    for number, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(feature, dict) or not isinstance(properties, dict | None):
            what = (
                _kind(feature)
                if not isinstance(feature, dict)
                else f"Feature whose properties are a {_kind(properties)}"
            )
            raise InvalidInputError(f"{path}: feature {number} is a {what}; expected a Feature with properties")
        rows.append(properties or {})
    return rows


def _kind(value: Any) -> str:
    return {list: "list", str: "text", int: "number", float: "number", bool: "boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _delimiter(text: str) -> str:
    """',' (what ``dump`` writes), or ';' when the header line has semicolons and no comma: what French Excel
    writes, read as such rather than as one column named after the whole header."""
    header = text.split("\n", 1)[0]
    return ";" if ";" in header and "," not in header else ","


def _from_csv(path: Path, row: dict[str | None, Any], number: int) -> dict[str, Any]:
    if None in row:  # csv.DictReader puts a row's cells beyond the header under None
        raise InvalidInputError(f"{path}: row {number} has more cells than the header has columns")
    out: dict[str, Any] = {}
    for key, cell in row.items():
        value = read_cell(cell) if isinstance(cell, str) else cell
        if key in LIST_FIELDS:
            out[key] = [item.strip() for item in value.split(SEPARATOR) if item.strip()] if value else []
        elif key == "curation":
            try:
                out[key] = json.loads(value) if value else {}
            except json.JSONDecodeError as exc:
                raise InvalidInputError(f"{path}: row {number}: curation is not JSON: {exc}") from None
        elif value:
            out[key] = value
    return out


def validate_rows(rows: list[dict[str, Any]]) -> tuple[list[ProjectRecord], list[str]]:
    """Valid records, and one line per rejected row (row number, id, what is wrong)."""
    records, rejected = [], []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        try:
            # numbers may come as text from a file (a CSV cell, a spreadsheet's export), not from the API
            record = ProjectRecord.model_validate(row, context={TEXT_CELLS: True})
        except ValidationError as exc:
            rejected.append(f"row {number} ({row.get('id', 'no id')}): {describe_validation_error(exc)}")
            continue
        if record.id in seen:
            rejected.append(f"row {number} ({record.id}): the id appears twice in the file")
            continue
        seen.add(record.id)
        records.append(record)
    return records, rejected


def dump(records: list[ProjectRecord], kind: str, features: list[dict] | None = None) -> str:
    data = [record.model_dump(mode="json") for record in records]
    if kind == "yaml":
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    if kind == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if kind == "geojson":
        return json.dumps({"type": "FeatureCollection", "features": features or []}, ensure_ascii=False) + "\n"
    if kind == "csv":
        buffer = io.StringIO()
        columns = list(ProjectRecord.model_fields)
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in data:
            writer.writerow(
                {
                    k: safe_cell(
                        SEPARATOR.join(map(str, v))
                        if k in LIST_FIELDS
                        else json.dumps(v, ensure_ascii=False)
                        if k == "curation"
                        else v
                    )
                    for k, v in row.items()
                }
            )
        return buffer.getvalue()
    raise InvalidInputError(f"format {kind!r}: expected one of {', '.join(FORMATS)}")
