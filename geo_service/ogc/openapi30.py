"""The service's OpenAPI document, written as OpenAPI 3.0 for ``/api`` (the OGC API "OpenAPI 3.0" conformance class
and GDAL's OAPIF driver, which reads the ``limit`` maximum there, both expect 3.0).

FastAPI writes OpenAPI 3.1, whose schemas are JSON Schema 2020-12. The differences that matter are all in
schemas, and each has a 3.0 spelling: ``{"type": "null"}`` alternatives and type lists become ``nullable``,
``const`` an ``enum`` of one, numeric ``exclusiveMinimum``/``exclusiveMaximum`` the boolean flags, an
``examples`` list one ``example``, ``prefixItems`` plain ``items``; a ``$ref`` with siblings is wrapped in
``allOf`` (3.0 ignores a reference's siblings); keywords 3.0 lacks are dropped. ``/openapi.json`` stays 3.1 for
Swagger UI, ReDoc and the schema tests. The conversion is a pure function of the document, done once per app.
"""

from __future__ import annotations

import copy
from typing import Any

SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
DROPPED = (
    "$schema", "$id", "$defs", "$comment", "contentMediaType", "contentEncoding", "patternProperties",
    "propertyNames", "unevaluatedProperties", "unevaluatedItems", "dependentSchemas", "dependentRequired", "if",
    "then", "else", "contains", "minContains", "maxContains",
)  # fmt: skip


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null" and len(schema) == 1


def convert_schema(schema: Any) -> Any:
    """One JSON Schema 2020-12 object (and everything below it) as an OpenAPI 3.0 Schema Object."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    nullable = False
    for key, value in schema.items():
        if key in ("properties",) and isinstance(value, dict):
            out[key] = {name: convert_schema(sub) for name, sub in value.items()}
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = convert_schema(value)
        elif key in SCHEMA_LISTS and isinstance(value, list):
            kept = [convert_schema(sub) for sub in value if not _is_null(sub)]
            nullable = nullable or len(kept) < len(value)
            if len(kept) == 1 and key != "allOf":
                single = kept[0]
                if "$ref" in single:
                    out.setdefault("allOf", []).append(single)
                else:
                    out.update({k: v for k, v in single.items() if k not in out})
            elif kept:
                out[key] = kept
        elif key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            nullable = nullable or len(types) < len(value)
            if len(types) == 1:
                out["type"] = types[0]
            elif types:
                out["anyOf"] = [{"type": t} for t in types]
        elif key == "type" and value == "null":
            nullable = True
        elif key == "examples" and isinstance(value, list):
            if value:
                out["example"] = value[0]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            out[bound] = value
            out[key] = True
        elif key == "prefixItems" and isinstance(value, list):
            parts = [convert_schema(sub) for sub in value]
            out.setdefault("items", parts[0] if len({repr(p) for p in parts}) == 1 else {"anyOf": parts})
        elif key == "const":
            out["enum"] = [value]
        elif key in DROPPED:
            continue
        else:
            out[key] = value
    if schema.get("type") == "null" and len(schema) == 1:
        out = {"enum": [None]}
    if nullable:
        out["nullable"] = True
    if "$ref" in out and len(out) > 1:
        reference = {"$ref": out.pop("$ref")}
        out["allOf"] = [reference, *out.get("allOf", [])]
    if "enum" in out and "type" not in out:
        kinds = {type(v).__name__ for v in out["enum"] if v is not None}
        names = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
        if len(kinds) == 1 and next(iter(kinds)) in names:
            out["type"] = names[next(iter(kinds))]
    return out


def _media(content: dict[str, Any]) -> dict[str, Any]:
    return {
        media: {**body, "schema": convert_schema(body["schema"])} if isinstance(body, dict) and "schema" in body
        else body
        for media, body in content.items()
    }  # fmt: skip


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    out = dict(parameter)
    if "schema" in out:
        out["schema"] = convert_schema(out["schema"])
    if "content" in out:
        out["content"] = _media(out["content"])
    return out


def _response(response: dict[str, Any]) -> dict[str, Any]:
    out = dict(response)
    if "content" in out:
        out["content"] = _media(out["content"])
    if "headers" in out:
        out["headers"] = {name: _parameter(header) for name, header in out["headers"].items()}
    return out


def _operation(operation: dict[str, Any]) -> dict[str, Any]:
    out = dict(operation)
    if "parameters" in out:
        out["parameters"] = [_parameter(p) if "$ref" not in p else p for p in out["parameters"]]
    if "requestBody" in out and "content" in out["requestBody"]:
        out["requestBody"] = {**out["requestBody"], "content": _media(out["requestBody"]["content"])}
    if "responses" in out:
        out["responses"] = {code: _response(r) if "$ref" not in r else r for code, r in out["responses"].items()}
    return out


METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (OpenAPI 3.1, as FastAPI writes it) as an OpenAPI 3.0.3 document; the input is not changed."""
    source = copy.deepcopy(document)
    out: dict[str, Any] = {"openapi": "3.0.3"}
    info = dict(source.get("info", {}))
    summary = info.pop("summary", None)
    if summary and not info.get("description"):
        info["description"] = summary
    if isinstance(info.get("license"), dict):
        info["license"] = {k: v for k, v in info["license"].items() if k != "identifier"}
    out["info"] = info
    for key in ("servers", "tags", "security", "externalDocs"):
        if key in source:
            out[key] = source[key]
    out["paths"] = {
        path: {
            key: _operation(value) if key in METHODS else [_parameter(p) for p in value] if key == "parameters"
            else value
            for key, value in item.items()
        }
        for path, item in source.get("paths", {}).items()
    }  # fmt: skip
    components = source.get("components", {})
    if components:
        converted: dict[str, Any] = {}
        for kind, entries in components.items():
            if kind == "schemas":
                converted[kind] = {name: convert_schema(s) for name, s in entries.items()}
            elif kind == "parameters":
                converted[kind] = {name: _parameter(p) for name, p in entries.items()}
            elif kind == "responses":
                converted[kind] = {name: _response(r) for name, r in entries.items()}
            elif kind == "pathItems":
                continue
            else:
                converted[kind] = entries
        out["components"] = converted
    return out
