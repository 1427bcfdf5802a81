"""Shared dependencies: the snapshot being served, read once per request, and the coverage rule's parameters, as
typed aliases for handlers.

They are coroutines although they do no I/O: FastAPI runs a plain function dependency in its thread pool, where
/healthz and every cheap route would wait behind costly work holding the threads.

``coverage_params`` is the one reader of the coverage rule's parameters for every route that takes them (coverage,
planning, tiles, styles and legends, pictures): its signature is generated from ``CoverageParams``' fields, so
OpenAPI lists each parameter with its schema (type, bounds, default) and description, while the values are read
by ``CoverageParams.from_query`` rather than by FastAPI. Hence one refusal everywhere, the same as the OGC
collections' and the pages' (which read the query with it too): a 422 ``{"detail", "detail_fr"}`` naming the
parameter and the value, and a parameter given twice with two meanings refused rather than the last one kept.
"""

import inspect
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import WithJsonSchema

from geo_service.geocoding import Geocoder
from geo_service.parameters import CoverageParams
from geo_service.projects.catalogue import ProjectCatalogue
from geo_service.service import ServiceData
from geo_service.snapshot import Publisher, Snapshot
from geo_service.store import ProjectStore
from geo_service.territories import Boundaries


def publisher_of(request: Request) -> Publisher:
    return request.app.state.publisher


def store_of(request: Request) -> ProjectStore:
    """The store writes go through (the publisher's: a snapshot's data never holds it)."""
    return publisher_of(request).store


def current_snapshot(request: Request) -> Snapshot:
    """The snapshot this request answers from: taken once, on first use, and kept for the whole request, so that
    a write published meanwhile never mixes two versions in one answer (an ETag of one, bytes of another)."""
    snapshot = getattr(request.state, "snapshot", None)
    if snapshot is None:
        snapshot = request.state.snapshot = publisher_of(request).current
    return snapshot


async def get_data(request: Request) -> ServiceData:
    return current_snapshot(request).data


async def get_boundaries(request: Request) -> Boundaries:
    return current_snapshot(request).data.boundaries


async def get_geocoder(request: Request) -> Geocoder:
    return current_snapshot(request).data.geocoder


async def get_projects(request: Request) -> ProjectCatalogue:
    return current_snapshot(request).data.projects


async def coverage_params(request: Request, **_texts: Any) -> CoverageParams:
    """The coverage rule's parameters of the request's query (the defaults for those it does not give). The
    keyword arguments are FastAPI's reading of the declared parameters, as text: unused, since ``from_query``
    sees every value of a parameter given more than once."""
    return CoverageParams.from_query(request.query_params)


def _coverage_signature() -> inspect.Signature:
    """``coverage_params``' signature as FastAPI reads it: one query parameter per field, typed as text (FastAPI
    checks nothing) and described by the field's own JSON schema (``WithJsonSchema``)."""
    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
    for name, field in CoverageParams.model_fields.items():
        schema = {**CoverageParams.field_schema(name), "description": field.description}
        text = Annotated[str | None, Query(description=field.description), WithJsonSchema(schema)]
        parameters.append(
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=field.default, annotation=text)
        )
    return inspect.Signature(parameters, return_annotation=CoverageParams)


coverage_params.__signature__ = _coverage_signature()  # type: ignore[attr-defined]

DataDep = Annotated[ServiceData, Depends(get_data)]
BoundariesDep = Annotated[Boundaries, Depends(get_boundaries)]
GeocoderDep = Annotated[Geocoder, Depends(get_geocoder)]
ProjectsDep = Annotated[ProjectCatalogue, Depends(get_projects)]
PublisherDep = Annotated[Publisher, Depends(publisher_of)]
StoreDep = Annotated[ProjectStore, Depends(store_of)]
CoverageParamsDep = Annotated[CoverageParams, Depends(coverage_params)]
