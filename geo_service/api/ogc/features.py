"""What the feature collections' routes answer: a collection's metadata, queryables and schema, a page of its
features and one feature, in JSON (GeoJSON, JSON Schema) or as a French page. The routes are registered by
``factory.add_collection_routes``; what differs between kinds of collection (the coverage rule's parameters) comes
with the collection's ``CollectionKind``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import shapely
from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from geo_service.api.deps import current_snapshot
from geo_service.api.http import public_base
from geo_service.api.ogc.common import accept_of, base_and_format, computed, page, query_of, send, send_json
from geo_service.api.ogc.parameters import CollectionKind, Pairs
from geo_service.errors import NotFoundError
from geo_service.ogc import documents
from geo_service.ogc.collections import CollectionSpec, table
from geo_service.ogc.crs import CRS84, Crs, bbox_area, from_crs84
from geo_service.ogc.documents import GEOJSON, JSON, SCHEMA_JSON, EncodedArray
from geo_service.ogc.html import outline_svg
from geo_service.ogc.params import DEFAULT_LIMIT, Query, read_item_query, read_items_query
from geo_service.parameters import CoverageParams


async def collection(request: Request, spec: CollectionSpec, kind: CollectionKind) -> Response:
    """A coverage collection's extent and links follow the coverage parameters it is asked with."""
    base, fmt = base_and_format(request)
    params, extra = kind.read(query_of(request), spec)

    def work() -> Response:
        features = table(current_snapshot(request).data, spec.id, params)
        document = documents.collection(base, spec, features, fmt, extra)
        if fmt == "html":
            return page(
                request, "ogc_collection.html", title=spec.title, doc=document, spec=spec, table=features,
                extra=extra,
            )  # fmt: skip
        return send_json(request, document, JSON, spec.id, fmt, extra)

    return await computed(request, spec, params, work)


def queryables(request: Request, spec: CollectionSpec) -> Response:
    base, fmt = base_and_format(request)
    features = table(current_snapshot(request).data, spec.id)
    document = documents.queryables(base, spec, features)
    if fmt == "html":
        return page(request, "ogc_champs.html", title=f"{spec.title} : champs filtrables", doc=document, spec=spec)
    return send_json(request, document, SCHEMA_JSON, spec.id, "queryables")


def feature_schema(request: Request, spec: CollectionSpec) -> Response:
    base, _ = base_and_format(request, allowed=("json",))
    features = table(current_snapshot(request).data, spec.id)
    return send_json(request, documents.schema(base, spec, features), SCHEMA_JSON, spec.id, "schema")


async def items(request: Request, spec: CollectionSpec, kind: CollectionKind) -> Response:
    """A page of the collection's features (the route's description says what it takes and answers)."""
    query = query_of(request)
    params, extra = kind.read(query, spec)
    if params is not None:  # the rest read before any costly work: a typo must not cost a coverage computation
        read_items_query(query, accept_of(request), list(kind.known_fields), kind.parameter_names)
    work = lambda: _items(request, spec, kind, query, params, extra)  # noqa: E731
    return await computed(request, spec, params, work, costly=_large_page(query))


def _large_page(query: Query) -> bool:
    """A page of items beyond the default size, or in another CRS, is costly work (up to 10 000 full-detail
    features, reprojected): forty at once took 9 s from /healthz and a gigabyte. Read here without failing: a
    bad value is refused, with its message, by the items' own reading."""
    limits = [text.strip() for text in query.getlist("limit")]
    small = all(text.isascii() and text.isdigit() and len(text) <= 6 and int(text) <= DEFAULT_LIMIT for text in limits)
    return not small or any("CRS84" not in crs for crs in query.getlist("crs"))


def _items(
    request: Request,
    spec: CollectionSpec,
    kind: CollectionKind,
    raw: Query,
    params: CoverageParams | None,
    extra: Pairs,
) -> Response:
    data = current_snapshot(request).data
    features = table(data, spec.id, params)
    query = read_items_query(raw, accept_of(request), list(features.fields), kind.parameter_names)
    query = dataclasses.replace(query, extra=extra)
    areas = None if query.bbox is None else bbox_area(query.bbox, query.bbox_crs)
    rows = features.select(areas, query.filters, query.filter)
    if query.sortby:
        rows = features.sort(rows, query.sortby)
    chosen = rows[query.offset : query.offset + query.limit]
    base = public_base(request)
    if query.format == "html":
        kept = list(features.fields) if query.properties is None else query.properties
        shown = [(features.ids[row], {k: features.columns[k][row] for k in kept}) for row in chosen.tolist()]
        document = documents.items(base, spec, query, len(rows), shown)
        return page(
            request, "ogc_objets.html", title=spec.title, doc=document, spec=spec, table=features, shown=shown,
            query=query, filter_text=None if query.filter is None else query.filter.link_text(),
        )  # fmt: skip
    moved = query.crs.uri != CRS84 and not query.skip_geometry
    geometries = from_crs84(features.geometries[chosen], query.crs) if moved else None
    # each feature's GeoJSON as the table writes it, placed as it is (documents.dumps): not parsed again
    texts = features.feature_json(chosen, geometries, query.properties, query.skip_geometry)
    document = documents.items(base, spec, query, len(rows), EncodedArray(texts))
    etag = documents.etag(data.version, base, spec.id, query.link_parameters(fmt="json"))
    return send(request, documents.dumps(document), GEOJSON, etag, **{"Content-Crs": f"<{query.crs.uri}>"})


async def item(request: Request, spec: CollectionSpec, kind: CollectionKind, feature_id: str) -> Response:
    if not feature_id:  # .../items/ (the path convertor matches nothing too): the items, as elsewhere a slash less
        query_text = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{public_base(request)}collections/{spec.id}/items{query_text}", status_code=307)
    query = query_of(request)
    params, extra = kind.read(query, spec)
    fmt, crs = read_item_query(query, accept_of(request), kind.parameter_names)
    return await computed(request, spec, params, lambda: _item(request, spec, feature_id, fmt, crs, params, extra))


def _item(
    request: Request,
    spec: CollectionSpec,
    feature_id: str,
    fmt: str,
    crs: Crs,
    params: CoverageParams | None,
    extra: Pairs,
) -> Response:
    data = current_snapshot(request).data
    features = table(data, spec.id, params)
    row = features.row_of(feature_id)
    if row is None:
        shown = feature_id if len(feature_id) <= 80 else f"{feature_id[:80]}…"
        raise NotFoundError(f"no feature {shown!r} in collection {spec.id!r}")
    base = public_base(request)
    links = documents.item_links(base, spec, feature_id, fmt, extra)
    geometry = features.geometries[row]
    if fmt == "html":
        return page(
            request, "ogc_objet.html", title=f"{spec.title} : {features.properties(row).get('name', feature_id)}",
            spec=spec, feature_id=feature_id, properties=features.properties(row), links=links,
            picture=outline_svg(geometry), fields=features.fields,
        )  # fmt: skip
    if geometry is not None and crs.uri != CRS84:
        geometry = from_crs84(features.geometries[[row]], crs)[0]
    document = documents.item(features.ids[row], features.properties(row), _geojson(geometry), links)
    etag = documents.etag(data.version, base, spec.id, feature_id, crs.uri, extra)
    return send(request, documents.dumps(document), GEOJSON, etag, **{"Content-Crs": f"<{crs.uri}>"})


def _geojson(geometry: Any) -> str | None:
    """A geometry's GeoJSON as GEOS writes it (the text the items carry for the same feature), None for none."""
    return None if geometry is None else shapely.to_geojson(geometry)
