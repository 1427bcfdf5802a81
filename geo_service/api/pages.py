"""The pages people open: the full map, the embeddable map and a page per territory (French routes); and the
French page a browser gets for an address that is no page (``add_not_found_page``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo_service.api.deps import DataDep, current_snapshot
from geo_service.api.errors import french
from geo_service.api.http import public_base
from geo_service.api.limits import costly_slot
from geo_service.errors import GeoServiceError, InvalidInputError, NotFoundError
from geo_service.maps.pages import (
    LEVEL_WORDS,
    Page,
    map_page,
    parse_layers,
    parse_legend,
    parse_reach,
    parse_territory,
    parse_view,
)
from geo_service.maps.policy import page_policy
from geo_service.parameters import CoverageParams
from geo_service.service import ServiceData
from geo_service.settings import Settings

router = APIRouter(tags=["pages"], include_in_schema=False)
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def security_headers(settings: Settings, document: str) -> dict[str, str]:
    """Pages load only from this server (images from the basemap's host too, when one is configured); the
    inline scripts the page was written with, and no other (see maps.policy)."""
    basemap = "/".join(settings.basemap_url.split("/")[:3]) if settings.basemap_url else ""
    return {
        "Content-Security-Policy": page_policy(document, settings.frame_ancestors, basemap),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def _render(
    request: Request,
    data: ServiceData,
    *,
    chrome: bool,
    layers: str | None,
    legend: str | None,
    territory: str | None,
    reach: str | None = None,
    view: str | None = None,
) -> HTMLResponse:
    """The map page, or a small French error page naming the bad parameter (inside a partner's <iframe> too)."""
    settings: Settings = request.app.state.settings
    try:
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
            reach=parse_reach(reach),
            programme=current_snapshot(request).data.programme,
        )
        page_url = (
            public_base(request) + request.url.path.lstrip("/") + (f"?{request.url.query}" if request.url.query else "")
        )
        discovery = "/oembed?" + urlencode({"url": page_url, "format": "json"})
        document = TEMPLATES.get_template("carte.html").render(page=page, oembed=discovery)
        return HTMLResponse(document, headers=security_headers(settings, document))
    except GeoServiceError as exc:
        status = 404 if isinstance(exc, NotFoundError) else 422 if isinstance(exc, InvalidInputError) else 503
        # the message in French: the pages' own checks are, the coverage rule's and the data's are translated
        body = TEMPLATES.get_template("erreur.html").render(
            status=status, message=french(str(exc), status), embed=not chrome
        )
        return HTMLResponse(body, status_code=status, headers=security_headers(settings, body))


async def _page(request: Request, reach: str | None, render: Callable[[], HTMLResponse]) -> HTMLResponse:
    """The page rendered on a worker thread; under a reach other than the default (whose figures are computed at
    each write), its figures may be a new computation: then it holds a place for costly work (api.limits)."""
    if reach in (None, "", CoverageParams.reach):
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
        lambda: _render(request, data, chrome=True, layers=layers, legend=None, territory=None, reach=reach, view=vue),
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
        lambda: _render(
            request, data, chrome=False, layers=layers, legend=legend, territory=territoire, reach=reach, view=vue
        ),
    )


@router.get("/territoires/{level}/{code}", response_class=HTMLResponse)
async def territoire(
    request: Request, data: DataDep, level: str, code: str, reach: str | None = None, layers: str | None = None
) -> HTMLResponse:
    if level not in LEVEL_WORDS:
        settings: Settings = request.app.state.settings
        message = f"niveau de territoire inconnu : « {level} » (niveaux : {', '.join(LEVEL_WORDS)})"
        body = TEMPLATES.get_template("erreur.html").render(status=404, message=message, embed=False)
        return HTMLResponse(body, status_code=404, headers=security_headers(settings, body))
    territory = f"{level}:{code}"
    return await _page(
        request,
        reach,
        lambda: _render(request, data, chrome=True, layers=layers, legend=None, territory=territory, reach=reach),
    )


# Paths that are not pages: the API, tiles, OGC API and files keep their JSON 404 whatever the client accepts
NOT_PAGES = (
    "/api/",
    "/tiles/",
    "/collections/",
    "/conformance/",
    "/tileMatrixSets/",
    "/static/",
    "/oembed/",
    "/healthz/",
    "/openapi.json/",
    "/schemas/",
    "/styles/",
    "/_bench/",
)


def is_page_path(path: str) -> bool:
    """Whether an address is one of the pages' (``/cartes``, ``/territoires/epci/000``…), not of the API's (a
    prefix, or the prefix's own path: ``/api`` and ``/api/...``, not ``/apiculture``)."""
    return not any(path == prefix.rstrip("/") or path.startswith(prefix) for prefix in NOT_PAGES)


def wants_html(request: Request) -> bool:
    """A browser asks for ``text/html`` first; an API client (curl's ``*/*``, ``application/json``) does not."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def add_not_found_page(app: FastAPI) -> None:
    """A French HTML page, with a link to the map, for an unknown page address opened in a browser; the API's
    JSON 404 for the API's paths and for clients that do not ask for HTML."""

    async def not_found(request: Request, exc: Exception) -> Response:
        if not (
            isinstance(exc, StarletteHTTPException)
            and exc.status_code == 404
            and is_page_path(request.url.path)
            and wants_html(request)
        ):
            return await http_exception_handler(request, exc)  # type: ignore[arg-type]
        settings: Settings = request.app.state.settings
        message = f"Aucune page ne se trouve à l'adresse « {request.url.path} »."
        body = TEMPLATES.get_template("erreur.html").render(status=404, message=message, embed=False, page=True)
        return HTMLResponse(body, status_code=404, headers=security_headers(settings, body))

    app.add_exception_handler(StarletteHTTPException, not_found)
