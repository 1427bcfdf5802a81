"""Shared dependencies: the snapshot being served, read once per request, as typed aliases for handlers.

They are coroutines although they do no I/O: FastAPI runs a plain function dependency in its thread pool, where
/healthz and every cheap route would wait behind costly work holding the threads."""

from typing import Annotated

from fastapi import Depends, Request

from geo_service.geocoding import Geocoder
from geo_service.projects.catalogue import ProjectCatalogue
from geo_service.service import ServiceData
from geo_service.snapshot import Publisher, Snapshot
from geo_service.territories import Boundaries


def publisher_of(request: Request) -> Publisher:
    return request.app.state.publisher


def current_snapshot(request: Request) -> Snapshot:
    """The snapshot this request answers from: taken once, on first use, and kept for the whole request, so that
    a write published meanwhile never mixes two versions in one answer (an ETag of one, bytes of another)."""
    snapshot = getattr(request.state, "snapshot", None)
    if snapshot is None:
from geo_service.store import ProjectStore
        snapshot = request.state.snapshot = publisher_of(request).current
    return snapshot


async def get_data(request: Request) -> ServiceData:
    return current_snapshot(request).data

def store_of(request: Request) -> ProjectStore:
    """The store writes go through (the publisher's: a snapshot's data never holds it)."""
    return publisher_of(request).store



async def get_boundaries(request: Request) -> Boundaries:
    return current_snapshot(request).data.boundaries


async def get_geocoder(request: Request) -> Geocoder:
    return current_snapshot(request).data.geocoder


async def get_projects(request: Request) -> ProjectCatalogue:
    return current_snapshot(request).data.projects


DataDep = Annotated[ServiceData, Depends(get_data)]
BoundariesDep = Annotated[Boundaries, Depends(get_boundaries)]
GeocoderDep = Annotated[Geocoder, Depends(get_geocoder)]
ProjectsDep = Annotated[ProjectCatalogue, Depends(get_projects)]
PublisherDep = Annotated[Publisher, Depends(publisher_of)]
StoreDep = Annotated[ProjectStore, Depends(store_of)]
