"""OGC API – Features and OGC API – Tiles routes: a thin layer over ``geo_service.ogc``.

Each resource answers JSON (GeoJSON for features, JSON Schema for queryables, OpenAPI 3.0 at ``/api``) or a
French HTML page, chosen by ``f=`` or else by the Accept header (browsers get HTML; GDAL, OWSLib and curl get
JSON). ``/`` was free: it is the OGC landing page, HTML for people, JSON for clients. Links start from
``public_base`` (the configured public URL), never the Host.

* ``routes``: the router, and the documents that stand alone (landing page, ``/api``, conformance, collections,
  tile matrix sets);
* ``factory``: the factories registering the collection routes per kind of collection and the tile routes per kind
  of tile (vector, map), so that no route is written twice;
* ``features`` and ``tiles``: what those routes answer;
* ``parameters``: the query parameters as the OpenAPI document declares them (pydantic models), the kinds of
  collection, and ``read_coverage``, the coverage collections' reading of the coverage rule's parameters;
* ``common``: the answers' serialisation, cache headers and pages, and what OpenAPI says of them.

Query parameters are read from the request by ``geo_service.ogc.params`` (on items, an unknown or unreadable one
is a 400, as the standard asks; the documents that select nothing ignore parameters they do not define: see that
module for why). The coverage collections (``coverage``, ``zones-blanches``) take the coverage rule's parameters
(``max_km``...), read by the one model every route reads them with (``geo_service.parameters.CoverageParams``), a
bad one the same 422 as on ``/api/v1/coverage``. Under parameters other than the defaults a table not built yet is
costly work: the request holds a place (``geo_service.api.limits``) while it is built, in a worker thread.

Refusals are raised, never answered here: the one handler of ``geo_service.api.errors`` answers them (every route
is an ``OgcRoute``), as OGC API – Common's exception JSON, or the French page for a browser.
"""

from geo_service.api.ogc.routes import router

__all__ = ["router"]
