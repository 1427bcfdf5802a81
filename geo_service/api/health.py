"""Liveness and data version."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from geo_service.api.deps import DataDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]
    data_version: str
    projects_set_aside: int


@router.get("/healthz", response_model=Health, summary="Service status and data version")
async def healthz(data: DataDep) -> Health:
    """`data_version` changes whenever any served data (boundaries, projects) changes; caches can key on it.
    `projects_set_aside` counts stored projects that no longer build (see /api/v1/admin/projects)."""
    return Health(status="ok", data_version=data.version, projects_set_aside=len(data.projects.broken))


class ProjectStatus(BaseModel):
    id: str
    status: Literal["served", "set_aside"]
    version: int | None
    error: str | None


class ProjectsStatus(BaseModel):
    data_version: str
    served: int
    set_aside: int
    items: list[ProjectStatus]


@router.get(
    "/api/v1/admin/projects", response_model=ProjectsStatus, summary="Every stored project: served or set aside"
)
def projects_status(data: DataDep) -> ProjectsStatus:
    """A record that no longer builds (a manual territory gone after `load-boundaries`, a place nothing resolves
    any more) is set aside with its error instead of stopping the others; fix it with PUT or PATCH."""
    items = [
        ProjectStatus(id=pid, status="served", version=data.projects.versions.get(pid), error=None)
        for pid in data.projects.projects
    ] + [
        ProjectStatus(id=pid, status="set_aside", version=None, error=error)
        for pid, error in data.projects.broken.items()
    ]
    return ProjectsStatus(
        data_version=data.version,
        served=len(data.projects.projects),
        set_aside=len(data.projects.broken),
        items=items,
    )
