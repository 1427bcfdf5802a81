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
from geo_service.projects.models import ProjectRecord, describe_validation_error

LIST_FIELDS = ("actions", "beneficiaries", "indicators", "partners", "objectives")
SEPARATOR = " | "
FORMATS = ("yaml", "json", "csv", "geojson")


def format_of(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    kind = {"yml": "yaml", "yaml": "yaml", "json": "json", "csv": "csv", "geojson": "geojson"}.get(suffix)
    if kind is None:
        raise InvalidInputError(f"{path}: expected a .yaml, .yml, .json, .csv or .geojson file")
    return kind


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The raw rows of a file, before validation (a broken file is an error naming it)."""
    kind = format_of(path)
    try:
        text = path.read_text("utf-8")
        if kind == "yaml":
            loaded = yaml.safe_load(text)
        elif kind == "csv":
            return [_from_csv(row) for row in csv.DictReader(io.StringIO(text))]
        else:
            loaded = json.loads(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, json.JSONDecodeError, csv.Error) as exc:
        raise InvalidInputError(f"{path}: cannot be read as {kind}: {exc}") from exc
    if kind == "geojson" or (isinstance(loaded, dict) and loaded.get("type") == "FeatureCollection"):
        return [feature.get("properties") or {} for feature in loaded.get("features", [])]
    rows = loaded if isinstance(loaded, list) else [loaded]
    if not all(isinstance(row, dict) for row in rows):
        raise InvalidInputError(f"{path}: expected one record or a list of records")
    return rows


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in LIST_FIELDS:
            out[key] = [item.strip() for item in value.split(SEPARATOR) if item.strip()] if value else []
        elif key == "curation":
            out[key] = json.loads(value) if value else {}
        elif value != "":
            out[key] = value
    return out


def validate_rows(rows: list[dict[str, Any]]) -> tuple[list[ProjectRecord], list[str]]:
    """Valid records, and one line per rejected row (row number, id, what is wrong)."""
    records, rejected = [], []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        try:
            record = ProjectRecord.model_validate(row)
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
                    k: SEPARATOR.join(v)
                    if k in LIST_FIELDS
                    else json.dumps(v, ensure_ascii=False)
                    if k == "curation"
                    else v
                    for k, v in row.items()
                }
            )
        return buffer.getvalue()
    raise InvalidInputError(f"format {kind!r}: expected one of {', '.join(FORMATS)}")
