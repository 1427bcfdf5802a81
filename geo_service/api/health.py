"""Liveness and data version."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from geo_service.api.deps import BoundariesDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]
    data_version: str


@router.get("/healthz", response_model=Health, summary="Service status and data version")
def healthz(boundaries: BoundariesDep) -> Health:
    """`data_version` changes whenever any served data file changes; caches can key on it."""
    return Health(status="ok", data_version=boundaries.version)
