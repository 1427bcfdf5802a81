"""The pages people open: the full map, the embeddable map and a page per territory (French routes). Their
refusals (a bad parameter, an unknown territory, a busy server) are raised and answered by the one handler of
``geo_service.api.errors`` as French pages (``PageRoute``), as is an address that is no page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from geo_service.api.deps import DataDep, current_snapshot
from geo_service.api.errors import PageRoute
from geo_service.api.http import public_base
from geo_service.api.limits import costly_slot
from geo_service.api.templates import TEMPLATES, security_headers
from geo_service.errors import NotFoundError
from geo_service.maps.pages import (
    LEVEL_WORDS,
    Page,
    map_page,
    parse_layers,
    parse_legend,
    parse_territory,
    parse_view,
)
from geo_service.parameters import CoverageParams
from geo_service.service import ServiceData
from geo_service.settings import Settings

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)


def _render(
    request: Request,
    data: ServiceData,
    *,
    chrome: bool,
    layers: str | None,
    legend: str | None,
    territory: str | None,
    view: str | None = None,
) -> HTMLResponse:
    """The map page. A bad parameter raises its refusal, which api.errors answers as a small French page naming
    it, with the refusal's status (inside a partner's <iframe> too)."""
    settings: Settings = request.app.state.settings
    parse_view(view)
    page: Page = map_page(
        data,
        chrome=chrome,
        layers=parse_layers(layers),
        legend=parse_legend(legend),
        territory=parse_territory(territory) if territory else None,
        basemap_url=settings.basemap_url,
        basemap_attribution=settings.basemap_attribution,
        tiles=current_snapshot(request).tiles,
        # the coverage parameters read as every route reads them (a bad one refused, in French); the page
        # draws under their reach, its map's tiles carry it
        reach=CoverageParams.from_query(request.query_params).reach,
        programme=current_snapshot(request).data.programme,
    )
    page_url = (
        public_base(request) + request.url.path.lstrip("/") + (f"?{request.url.query}" if request.url.query else "")
    )
    discovery = "/oembed?" + urlencode({"url": page_url, "format": "json"})
    document = TEMPLATES.get_template("carte.html").render(page=page, oembed=discovery)
    return HTMLResponse(document, headers=security_headers(settings, document))


async def _page(request: Request, reach: str | None, render: Callable[[], HTMLResponse]) -> HTMLResponse:
    """The page rendered on a worker thread; under a reach other than the default (whose figures are computed at
    each write), its figures may be a new computation: then it holds a place for costly work (api.limits)."""
    if reach in (None, "", CoverageParams().reach):
        return await to_thread.run_sync(render)
    async with costly_slot(request):
        return await to_thread.run_sync(render)


@router.get("/carte", response_class=HTMLResponse)
async def carte(
    request: Request, data: DataDep, layers: str | None = None, reach: str | None = None, vue: str | None = None
) -> HTMLResponse:
    return await _page(
        request,
        reach,
        lambda: _render(request, data, chrome=True, layers=layers, legend=None, territory=None, view=vue),
    )


@router.get("/embed", response_class=HTMLResponse)
async def embed(
    request: Request,
    data: DataDep,
    territoire: Annotated[str | None, Query(description="niveau:code, ex. epci:200035442")] = None,
    layers: str | None = None,
    legend: str | None = None,
    reach: str | None = None,
    vue: str | None = None,
) -> HTMLResponse:
    return await _page(
        request,
        reach,
        lambda: _render(request, data, chrome=False, layers=layers, legend=legend, territory=territoire, view=vue),
    )


@router.get("/territoires/{level}/{code}", response_class=HTMLResponse)
async def territoire(
    request: Request, data: DataDep, level: str, code: str, reach: str | None = None, layers: str | None = None
) -> HTMLResponse:
    if level not in LEVEL_WORDS:  # a 404 page: « niveau de territoire inconnu » (api.errors' French)
        raise NotFoundError(f"unknown level {level!r}: expected one of {', '.join(LEVEL_WORDS)}")
    territory = f"{level}:{code}"
    return await _page(
        request,
        reach,
        lambda: _render(request, data, chrome=True, layers=layers, legend=None, territory=territory),
    )
