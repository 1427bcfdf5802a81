"""The OGC API's JSON documents (landing page, conformance, collections, items, queryables), built from a base URL.

Every href is absolute and starts with the base the web layer gives (the configured public URL, never the Host
header). Every link carries ``rel`` and ``type``, and each resource links to itself and to its other media types
(``self``/``alternate``), as /req/core/fc-md-links and /req/core/fc-links ask. Titles and descriptions are French:
QGIS's browser and the HTML pages show them to people.

Each document is Python data, serialised once by ``dumps``: compact UTF-8 JSON. Features are the exception that
keeps the items fast: the collection's table writes each feature's GeoJSON text at once (``Table.feature_json``,
geometries by GEOS), and a page of them is not parsed back to be written again; such text enters a document as
an ``Encoded`` value (or an ``EncodedArray`` of them), which ``dumps`` writes as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from geo_service.legend import LIST_FIELDS, field_enums, field_labels
from geo_service.ogc.collections import PROJECT_KINDS, SPECS, CollectionSpec, FieldInfo, Table
from geo_service.ogc.crs import CRS84, SUPPORTED
from geo_service.ogc.params import ItemsQuery
from geo_service.styles import STYLES
from geo_service.tiles.layers import LAYERS

MAPLIBRE_STYLE = "application/vnd.mapbox.style+json"  # the media type MapLibre and Mapbox styles are given

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
REL = "http://www.opengis.net/def/rel/ogc/1.0/"

FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
CONFORMANCE = [
    FEATURES + "core",
    FEATURES + "geojson",
    FEATURES + "html",
    FEATURES + "oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/png",
]
TITLE = "Mieux manger pour tous — données de l'aide alimentaire en Hauts-de-France"
DESCRIPTION = (
    "Limites administratives, projets financés par le programme « Mieux manger pour tous » et couverture des "
    "communes (zones blanches), en OGC API – Features et Tiles : à ouvrir dans QGIS, GDAL ou tout client OGC."
)
LICENCE = "Licence Ouverte 2.0 (Etalab)"
LICENCE_URL = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"


@dataclass(frozen=True, slots=True)
class Encoded:
    """JSON text already written (a geometry as GEOS wrote it), placed by ``dumps`` as it is. Not a ``str``:
    ``json`` refuses it rather than quoting it, so it cannot be written as a string by mistake."""

    text: str


@dataclass(frozen=True, slots=True)
class EncodedArray:
    """An array whose items are JSON texts already written (the features of a page, as the table wrote them),
    placed by ``dumps`` as they are; one object for the page rather than one per feature."""

    texts: Sequence[str]

    def __len__(self) -> int:
        return len(self.texts)


def dumps(document: Any) -> str:
    """A document as compact UTF-8 JSON: the one serialisation of the OGC API's JSON documents.

    A member of the document whose value is ``Encoded`` or ``EncodedArray`` is written as its text; the others by
    ``json``, each run of them in one call, and a document without such a member in one call. The pieces are
    joined once, so a page's features are copied no more than when they were spliced into the text by hand."""
    if not isinstance(document, dict) or not any(isinstance(v, Encoded | EncodedArray) for v in document.values()):
        return _json(document)
    pieces: list[str] = []
    plain: dict[str, Any] = {}  # the run of members json writes, up to the next encoded one

    def written() -> None:
        if plain:
            pieces.extend((",", _json(plain)[1:-1]))  # the members of {...}, in their order
            plain.clear()

    for key, value in document.items():
        if isinstance(value, Encoded):
            written()
            pieces.extend((",", _json(key), ":", value.text))
        elif isinstance(value, EncodedArray):
            written()
            pieces.extend((",", _json(key), ":[", ",".join(value.texts), "]"))
        else:
            plain[key] = value
    written()
    pieces[0] = "{"  # the first member's comma
    pieces.append("}")
    return "".join(pieces)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def link(href: str, rel: str, media_type: str, title: str, **extra: Any) -> dict[str, Any]:
    return {"href": href, "rel": rel, "type": media_type, "title": title, **extra}


def with_query(url: str, pairs: list[tuple[str, str]]) -> str:
    return f"{url}?{urlencode(pairs, safe=',:/')}" if pairs else url


Pairs = Sequence[tuple[str, str]]


def _self_and_alternate(url: str, fmt: str, json_type: str, what: str, extra: Pairs = ()) -> list[dict[str, Any]]:
    """``self`` in the format served, ``alternate`` in the other; ``f=`` makes each link name its format;
    ``extra``: parameters the resource was asked with (the coverage's), which both keep."""
    as_json = link(with_query(url, [("f", "json"), *extra]), "self", json_type, f"{what} (JSON)")
    as_html = link(with_query(url, [("f", "html"), *extra]), "alternate", HTML, f"{what} (HTML)")
    if fmt == "html":
        as_json["rel"], as_html["rel"] = "alternate", "self"
        return [as_html, as_json]
    return [as_json, as_html]


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def landing(base: str, fmt: str) -> dict[str, Any]:
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "links": [
            *_self_and_alternate(base, fmt, JSON, "Page d'accueil de l'API"),
            link(f"{base}api", "service-desc", OPENAPI_JSON, "Définition de l'API (OpenAPI 3.0, JSON)"),
            link(f"{base}docs", "service-doc", HTML, "Documentation de l'API (Swagger UI)"),
            link(f"{base}conformance", "conformance", JSON, "Classes de conformité OGC"),
            link(f"{base}collections", "data", JSON, "Collections de données"),
            link(f"{base}tileMatrixSets", REL + "tiling-schemes", JSON, "Grilles de tuiles"),
            link(f"{base}carte", "alternate", HTML, "Carte interactive"),
            link(LICENCE_URL, "license", HTML, LICENCE),
        ],
    }


def conformance(base: str, fmt: str) -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE, "links": _self_and_alternate(f"{base}conformance", fmt, JSON, "Conformité")}


def collection(
    base: str, spec: CollectionSpec, table: Table, fmt: str | None = None, extra: Pairs = ()
) -> dict[str, Any]:
    """One collection's metadata; ``fmt`` None inside the list of collections (its own links then); ``extra``:
    the coverage parameters it was computed with, kept by its links to itself and to its items."""
    url = f"{base}collections/{spec.id}"
    items = f"{url}/items"
    links = [
        link(with_query(items, [("f", "json"), *extra]), "items", GEOJSON, f"{spec.title} : objets (GeoJSON)"),
        link(with_query(items, [("f", "html"), *extra]), "items", HTML, f"{spec.title} : objets (HTML)"),
        link(f"{url}/queryables", REL + "queryables", SCHEMA_JSON, f"{spec.title} : champs filtrables"),
        link(f"{url}/schema", REL + "schema", SCHEMA_JSON, f"{spec.title} : schéma des objets"),
        link(f"{url}/tiles", REL + "tilesets-vector", JSON, f"{spec.title} : tuiles vectorielles"),
        link(f"{url}/map/tiles", REL + "tilesets-map", JSON, f"{spec.title} : tuiles raster"),
        link(LICENCE_URL, "license", HTML, LICENCE),
    ]
    if spec.id in STYLES:  # how we draw it: a MapLibre style of its vector tiles
        links.append(
            link(f"{base}styles/{STYLES[spec.id]}.json", "stylesheet", MAPLIBRE_STYLE, f"{spec.title} : style")
        )
    if spec.id in LAYERS:  # and a QGIS style file for the features
        links.append(
            link(f"{base}styles/{spec.id}.qml", "describedby", "application/xml", f"{spec.title} : style QGIS")
        )
    if fmt is None:
        links = [
            link(with_query(url, list(extra)), "self", JSON, spec.title),
            link(with_query(url, [("f", "html"), *extra]), "alternate", HTML, spec.title),
            *links,
        ]
    else:
        links = [*_self_and_alternate(url, fmt, JSON, spec.title, extra), *links]
    document: dict[str, Any] = {
        "id": spec.id,
        "title": spec.title,
        "description": spec.description,
        "itemType": "feature",
        "crs": list(SUPPORTED),
        "storageCrs": CRS84,
        "links": links,
    }
    extent = table.extent()
    if extent is not None:
        document["extent"] = {"spatial": {"bbox": [extent], "crs": CRS84}}
    return document


def collections(base: str, tables: dict[str, Table], fmt: str) -> dict[str, Any]:
    return {
        "links": _self_and_alternate(f"{base}collections", fmt, JSON, "Collections"),
        "collections": [collection(base, SPECS[name], tables[name]) for name in SPECS],
    }


def field_schema(spec: CollectionSpec, info: FieldInfo) -> dict[str, Any]:
    """One property as JSON Schema: its title, type, and the values a coded field takes (``enum``; for a list
    field, the values of its elements, in the description and ``x-ogc-enum-items``)."""
    entry: dict[str, Any] = {"title": info.title, "type": info.json_type}
    values = field_enums(spec.id).get(info.name)
    labels = field_labels(spec.id).get(info.name, {})
    if info.kind == "list":
        entry["description"] = (
            "Liste séparée par des virgules ; un filtre retient les objets dont un élément vaut la valeur "
            "(en CQL2 : =, <>, LIKE et IN)."
        )
        if values is not None:
            listed = " ; ".join(f"{value} : {labels.get(value, value)}" for value in values)
            entry["description"] += f" Valeurs : {listed}."
            entry["x-ogc-enum-items"] = values
    elif values is not None and info.name not in LIST_FIELDS:
        entry["enum"] = values
        entry["description"] = " ; ".join(f"{value} : {labels.get(value, value)}" for value in values)
    return entry


def _geometry_schema(spec: CollectionSpec) -> dict[str, Any]:
    kind = "multipolygon" if spec.geometry == "polygon" else "point"
    return {
        "title": "Géométrie",
        "format": f"geometry-{kind}",
        "x-ogc-role": "primary-geometry",
        "description": "La géométrie de l'objet (CRS84), pour S_INTERSECTS, S_WITHIN… dans un filtre CQL2",
    }


def queryables(base: str, spec: CollectionSpec, table: Table) -> dict[str, Any]:
    """A JSON Schema of the fields a simple filter (``?name=value``) or a CQL2 ``filter`` may name (OGC API –
    Features Part 3): exactly those both accept, with the type a CQL2 literal must have to be compared with,
    and ``geometry`` (the feature's own, for the spatial predicates: not a simple filter)."""
    properties: dict[str, Any] = {info.name: field_schema(spec, info) for info in table.fields.values()}
    properties["geometry"] = _geometry_schema(spec)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}collections/{spec.id}/queryables",
        "type": "object",
        "title": spec.title,
        "description": (
            "Champs utilisables comme filtres simples, ?champ=valeur (égalité, combinés par ET), et dans un "
            "filtre CQL2 : ?filter=population > 10000 AND departement = '80', name LIKE 'Saint-%', "
            "S_INTERSECTS(geometry, POINT(2.3 49.9))."
        ),
        "properties": properties,
        "additionalProperties": False,
    }


def schema(base: str, spec: CollectionSpec, table: Table) -> dict[str, Any]:
    """The features' schema (OGC API – Features Part 5, /req/schemas): every property with its type, values and
    role (``id`` for the feature id, ``primary-geometry`` for the geometry), as GeoJSON's features carry them."""
    properties: dict[str, Any] = {}
    id_type = "string"
    properties["id"] = {"title": "Identifiant de l'objet", "type": id_type, "x-ogc-role": "id", "readOnly": True}
    for info in table.fields.values():
        entry = field_schema(spec, info)
        entry["type"] = [entry["type"], "null"] if _nullable(table, info.name) else entry["type"]
        properties[info.name] = entry
    properties["geometry"] = _geometry_schema(spec)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}collections/{spec.id}/schema",
        "type": "object",
        "title": spec.title,
        "description": spec.description,
        "properties": properties,
        "additionalProperties": False,
    }


def _nullable(table: Table, name: str) -> bool:
    """Whether a property may be null: it is in some feature, or it is a grant fact (often unknown)."""
    return (name in PROJECT_KINDS and name != "to_check") or any(value is None for value in table.columns[name])


def items(base: str, spec: CollectionSpec, query: ItemsQuery, matched: int, features: Sequence[Any]) -> dict[str, Any]:
    """A page of features (a FeatureCollection): links, counts, time, then ``features`` (an ``EncodedArray`` for
    JSON, the texts the table wrote; an HTML page passes the rows it shows, never serialised)."""
    url = f"{base}collections/{spec.id}/items"
    returned = len(features)
    own = "html" if query.format == "html" else "json"
    other = "json" if own == "html" else "html"
    types = {"json": GEOJSON, "html": HTML}
    links = [
        link(with_query(url, query.link_parameters(fmt=own)), "self", types[own], f"{spec.title} : cette page"),
        link(with_query(url, query.link_parameters(fmt=other)), "alternate", types[other], f"{spec.title} ({other})"),
        link(with_query(f"{base}collections/{spec.id}", list(query.extra)), "collection", JSON, spec.title),
    ]
    if query.offset + returned < matched:
        following = query.link_parameters(offset=query.offset + query.limit, fmt=own)
        links.append(link(with_query(url, following), "next", types[own], "Page suivante"))
    if query.offset > 0:
        previous = query.link_parameters(offset=max(0, query.offset - query.limit), fmt=own)
        links.append(link(with_query(url, previous), "prev", types[own], "Page précédente"))
    return {
        "type": "FeatureCollection",
        "links": links,
        "numberMatched": matched,
        "numberReturned": returned,
        "timeStamp": now(),
        "features": features,
    }


def item(
    feature_id: str, properties: dict[str, Any], geometry: str | None, links: list[dict[str, Any]]
) -> dict[str, Any]:
    """One feature with its links, as ``Table.feature_json`` writes a feature (type, id, properties, geometry) and
    the links after; ``geometry``: its GeoJSON text as GEOS wrote it (None: no geometry)."""
    return {
        "type": "Feature",
        "id": feature_id,
        "properties": properties,
        "geometry": Encoded(geometry or "null"),
        "links": links,
    }


def item_links(base: str, spec: CollectionSpec, feature_id: str, fmt: str, extra: Pairs = ()) -> list[dict[str, Any]]:
    url = f"{base}collections/{spec.id}/items/{quote(feature_id, safe='')}"
    own = _self_and_alternate(url, fmt, GEOJSON, f"{spec.title} : {feature_id}", extra)
    return [*own, link(with_query(f"{base}collections/{spec.id}", list(extra)), "collection", JSON, spec.title)]


def etag(version: str, *parts: object) -> str:
    """A weak tag (the documents carry a timeStamp, so two answers of one version differ by their bytes)."""
    digest = hashlib.sha1(repr(parts).encode()).hexdigest()[:12]
    return f'W/"{version}-{digest}"'


def collection_item_paths(
    generic: dict[str, Any],
    generic_item: dict[str, Any],
    tables: dict[str, Table],
    own_parameters: Mapping[str, Sequence[dict[str, Any]]],
) -> dict[str, Any]:
    """The items operation of each collection, spelled out for the API definition: the generic operation's
    parameters without ``collectionId``, the free-form filters and the parameters of other kinds of collection,
    plus one parameter per queryable field. GDAL's OAPIF driver reads these to know which attribute filters it may
    send to the server (it looks for the collection's own path first); they also put every accepted filter "in the
    API definition" the 400 rule refers to. ``own_parameters``: what each collection's kind takes besides (the
    coverage rule's parameters for the coverage collections), as the generic operation lists them, kept on its
    items and on each item (whose own path is spelled out for those collections alone)."""
    kinds_names = {p["name"] for parameters in own_parameters.values() for p in parameters}
    paths: dict[str, Any] = {}
    for name, features in tables.items():
        spec = SPECS[name]
        own = list(own_parameters.get(name, ()))
        operation = dict(generic)
        kept = [
            p for p in generic.get("parameters", [])
            if p.get("in") == "query" and p.get("name") != "filters" and p.get("name") not in kinds_names
        ]  # fmt: skip
        fields = [
            {
                "name": info.name,
                "in": "query",
                "required": False,
                "description": info.title,
                "schema": {"type": info.json_type},
                "style": "form",
                "explode": False,
            }
            for info in features.fields.values()
        ]
        operation["parameters"] = kept + own + fields
        if "operationId" in generic:
            operation["operationId"] = f"{generic['operationId']}_{name.replace('-', '_')}"
        operation["summary"] = f"{spec.title} : objets"
        paths[f"/collections/{name}/items"] = {"get": operation}
        if own:
            one = dict(generic_item)
            one["parameters"] = [
                p for p in generic_item.get("parameters", []) if p.get("name") not in ("collectionId", *kinds_names)
            ] + own
            if "operationId" in generic_item:
                one["operationId"] = f"{generic_item['operationId']}_{name.replace('-', '_')}"
            one["summary"] = f"{spec.title} : un objet"
            paths[f"/collections/{name}/items/{{featureId}}"] = {"get": one}
    return paths
