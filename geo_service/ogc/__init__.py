"""OGC API – Features (Part 1 Core with GeoJSON, HTML and OpenAPI 3.0; Part 2 CRS; Part 3 queryables as simple
filters) and OGC API – Tiles metadata over what the service already serves, for QGIS, GDAL/OGR and OWSLib.

Pure logic, no web framework (``geo_service.api.ogc`` is the thin router): ``collections`` (what each collection
holds, its features as a table to filter and page), ``params`` (the query parameters, read strictly: 400s),
``crs`` (the CRS offered, and moving geometries between them), ``documents`` (the JSON documents and their
links, from a base URL), ``tiles`` (tile matrix set and tilesets), ``openapi30`` (the API definition in OpenAPI
3.0) and ``html`` (what the French pages need).
"""
