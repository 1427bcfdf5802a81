"""Shared dependencies: the data loaded at startup, as typed aliases for handlers."""

from typing import Annotated

from fastapi import Depends, Request

from geo_service.geocoding import Geocoder
from geo_service.projects.catalogue import ProjectCatalogue
from geo_service.service import ServiceData
from geo_service.territories import Boundaries


def get_data(request: Request) -> ServiceData:
    return request.app.state.data


def get_boundaries(request: Request) -> Boundaries:
    return get_data(request).boundaries


def get_geocoder(request: Request) -> Geocoder:
    return get_data(request).geocoder


def get_projects(request: Request) -> ProjectCatalogue:
    return get_data(request).projects


DataDep = Annotated[ServiceData, Depends(get_data)]
BoundariesDep = Annotated[Boundaries, Depends(get_boundaries)]
GeocoderDep = Annotated[Geocoder, Depends(get_geocoder)]
ProjectsDep = Annotated[ProjectCatalogue, Depends(get_projects)]
