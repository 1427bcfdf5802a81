"""Shared dependencies: the data loaded at startup, as typed aliases for handlers."""

from typing import Annotated

from fastapi import Depends, Request

from geo_service.territories import Boundaries


def get_boundaries(request: Request) -> Boundaries:
    return request.app.state.boundaries


BoundariesDep = Annotated[Boundaries, Depends(get_boundaries)]
