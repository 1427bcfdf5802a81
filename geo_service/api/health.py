"""Liveness and data version."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from geo_service.api.deps import DataDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]
    data_version: str


@router.get("/healthz", response_model=Health, summary="Service status and data version")
def healthz(data: DataDep) -> Health:
    """`data_version` changes whenever any served data (boundaries, projects) changes; caches can key on it."""
    return Health(status="ok", data_version=data.version)
