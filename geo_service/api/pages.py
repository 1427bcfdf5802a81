"""The pages people open: the full map, the embeddable map and a page per territory (French routes)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from geo_service.api.deps import DataDep, current_snapshot
from geo_service.api.http import public_base
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
from geo_service.programme import load_programme
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
            programme=load_programme(settings.programme_path),
        )
        page_url = (
            public_base(request) + request.url.path.lstrip("/") + (f"?{request.url.query}" if request.url.query else "")
        )
        discovery = "/oembed?" + urlencode({"url": page_url, "format": "json"})
        document = TEMPLATES.get_template("carte.html").render(page=page, oembed=discovery)
        return HTMLResponse(document, headers=security_headers(settings, document))
    except GeoServiceError as exc:
        status = 404 if isinstance(exc, NotFoundError) else 422 if isinstance(exc, InvalidInputError) else 503
        body = TEMPLATES.get_template("erreur.html").render(status=status, message=str(exc), embed=not chrome)
        return HTMLResponse(body, status_code=status, headers=security_headers(settings, body))


@router.get("/carte", response_class=HTMLResponse)
def carte(
    request: Request, data: DataDep, layers: str | None = None, reach: str | None = None, vue: str | None = None
) -> HTMLResponse:
    return _render(request, data, chrome=True, layers=layers, legend=None, territory=None, reach=reach, view=vue)


@router.get("/embed", response_class=HTMLResponse)
def embed(
    request: Request,
    data: DataDep,
    territoire: Annotated[str | None, Query(description="niveau:code, ex. epci:200035442")] = None,
    layers: str | None = None,
    legend: str | None = None,
    reach: str | None = None,
    vue: str | None = None,
) -> HTMLResponse:
    return _render(
        request, data, chrome=False, layers=layers, legend=legend, territory=territoire, reach=reach, view=vue
    )


@router.get("/territoires/{level}/{code}", response_class=HTMLResponse)
def territoire(
    request: Request, data: DataDep, level: str, code: str, reach: str | None = None, layers: str | None = None
) -> HTMLResponse:
    if level not in LEVEL_WORDS:
        settings: Settings = request.app.state.settings
        message = f"niveau de territoire inconnu : « {level} » (niveaux : {', '.join(LEVEL_WORDS)})"
        body = TEMPLATES.get_template("erreur.html").render(status=404, message=message, embed=False)
        return HTMLResponse(body, status_code=404, headers=security_headers(settings, body))
    return _render(request, data, chrome=True, layers=layers, legend=None, territory=f"{level}:{code}", reach=reach)
