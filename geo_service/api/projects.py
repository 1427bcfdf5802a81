"""The funded projects, as GeoJSON, with the filters a map or a report needs."""

import hashlib
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from shapely.geometry.base import BaseGeometry

from geo_service.api.deps import DataDep
from geo_service.api.errors import NOT_MODIFIED, errors
from geo_service.api.http import json_response
from geo_service.geojson import geometry_dict
from geo_service.projects.catalogue import ProjectCatalogue, ProjectFilters
from geo_service.projects.derive import ACTION_TYPES
from geo_service.projects.models import FIRST_CALL_YEAR, LAST_CALL_YEAR, Project, ProjectRecord
from geo_service.service import ServiceData

router = APIRouter(prefix="/api/v1", tags=["projects"])

Geometry = Literal["point", "area"]


def project_feature(project: Project, area: BaseGeometry | None = None) -> dict[str, Any]:
    """A project as a GeoJSON Feature: its map point, or its intervention ``area`` when given."""
    shape = (
        geometry_dict(area)
        if area is not None
        else {"type": "Point", "coordinates": [project.point.lon, project.point.lat]}
    )
    return {"type": "Feature", "id": project.id, "geometry": shape, "properties": project.model_dump(mode="json")}


def _feature_bytes(catalogue: ProjectCatalogue, project: Project, geometry: Geometry) -> bytes:
    return json.dumps(_feature(catalogue, project, geometry), ensure_ascii=False, separators=(",", ":")).encode()


def project_etag(data: ServiceData, project_id: str) -> str:
    """The project's version in the store, then the served data's: If-Match reads the first part."""
    return f'"{data.projects.versions.get(project_id, 0)}-{data.version}"'


def _feature(catalogue: ProjectCatalogue, project: Project, geometry: Geometry) -> dict[str, Any]:
    return project_feature(project, catalogue.areas[project.id] if geometry == "area" else None)


@router.get(
    "/projects",
    summary="Projects as a GeoJSON FeatureCollection",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}, **NOT_MODIFIED},
)
def list_projects(
    request: Request,
    data: DataDep,
    geometry: Annotated[Geometry, Query(description="'point' (map marker) or 'area' (intervention area)")] = "point",
    departement: Annotated[
        str | None, Query(description="projects reaching a commune of this département", examples=["80"])
    ] = None,
    epci: Annotated[str | None, Query(description="projects reaching a commune of this EPCI (SIREN)")] = None,
    commune: Annotated[str | None, Query(description="projects reaching this commune (INSEE code)")] = None,
    axe: Annotated[int | None, Query(description="programme axis, 1 to 4")] = None,
    type: Annotated[str | None, Query(description=f"action type: {', '.join(ACTION_TYPES)}")] = None,
    q: Annotated[str | None, Query(max_length=200, description="words found in the project's texts")] = None,
    year: Annotated[
        int | None,
        Query(
            ge=FIRST_CALL_YEAR,
            le=LAST_CALL_YEAR,
            description="funded by the call of this year (a record that gives no year is in no year)",
            examples=[2024],
        ),
    ] = None,
    status: Annotated[
        Literal["planned", "active", "ended", "unknown"] | None,
        Query(description="the record's status ('unknown': none given)"),
    ] = None,
    to_check: Annotated[
        bool | None, Query(description="true: only the records a person should check (see each one's to_check)")
    ] = None,
) -> Response:
    """The answer is built once per data version and set of filters (maps ask for it on every page view)."""
    filters = ProjectFilters(
        departement=departement,
        epci=epci,
        commune=commune,
        axe=axe,
        type=type,
        q=q,
        year=year,
        status=status,
        to_check=to_check,
    )
    catalogue = data.projects
    key = (filters, geometry)

    def answer() -> bytes:
        # each project's Feature serialised once per project content (kept across writes in the memo)
        parts = [catalogue.fragment(p.id, geometry, lambda p=p: _feature_bytes(catalogue, p, geometry))
                 for p in catalogue.search(filters)]  # fmt: skip
        return b'{"type":"FeatureCollection","features":[' + b",".join(parts) + b"]}"

    body = catalogue.answer(key, answer)
    etag = f'"{data.version}-{hashlib.sha1(repr(key).encode()).hexdigest()[:12]}"'
    headers = {"ETag": etag, "Cache-Control": request.app.state.settings.cache_control}
    return Response(body, media_type="application/geo+json", headers=headers)


@router.get(
    "/projects/{project_id}",
    summary="One project as a GeoJSON Feature with all its fields",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}, **NOT_MODIFIED, **errors(404)},
)
def get_project(
    request: Request,
    data: DataDep,
    project_id: Annotated[str, Path(examples=["nutri-cheques"])],
    geometry: Geometry = "point",
) -> Response:
    """The ETag starts with the project's version: send it back in `If-Match` to write only over what you read."""
    feature = _feature(data.projects, data.projects.get(project_id), geometry)
    etag = project_etag(data, project_id)
    return json_response(
        request, feature, etag if geometry == "point" else etag[:-1] + '-area"', "application/geo+json"
    )


@router.get("/schemas/project-record.json", summary="JSON Schema of a project record (data/projects/*.yaml)")
def project_record_schema() -> dict[str, Any]:
    return ProjectRecord.model_json_schema()
