"""oEmbed (https://oembed.com), so that a CMS (WordPress, Drupal...) turns a pasted map link into the map.

A link to a map page of this service (``/embed?...``, ``/territoires/{level}/{code}``, ``/carte``) answers a "rich"
oEmbed document whose HTML is the same ``<iframe>`` the embed builder gives.
"""

from __future__ import annotations

import html
from typing import Annotated, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from geo_service.api.deps import BoundariesDep
from geo_service.api.errors import errors
from geo_service.api.http import public_base
from geo_service.errors import GeoServiceError, NotFoundError
from geo_service.maps.pages import LEVEL_LABELS, parse_territory, require_territory

router = APIRouter(tags=["pages"])
EMBED_KEYS = ("territoire", "layers", "legend", "reach", "vue", "axe", "type", "departement")
DEFAULT_WIDTH, DEFAULT_HEIGHT = 800, 500
PROVIDER = "Mieux manger pour tous — carte de l'aide alimentaire"


class OEmbed(BaseModel):
    version: str = "1.0"
    type: str = "rich"
    provider_name: str
    provider_url: str
    title: str
    html: str
    width: int
    height: int


@router.get(
    "/oembed",
    response_model=OEmbed,
    summary="oEmbed for a link to one of this service's maps",
    responses=errors(404),
)
def oembed(
    request: Request,
    boundaries: BoundariesDep,
    url: Annotated[str, Query(max_length=2000, description="a link to /embed, /territoires/... or /carte")],
    maxwidth: Annotated[int | None, Query(ge=200, le=4000)] = None,
    maxheight: Annotated[int | None, Query(ge=200, le=4000)] = None,
    format: Annotated[Literal["json"], Query(description="only 'json' (XML is not served: 422)")] = "json",
) -> OEmbed:
    """404 for a link that is not one of this service's maps (another host, another page, an unknown territory).
    Another format than JSON is a 422 naming it (the oEmbed specification suggests 501; a 4xx keeps server errors
    for what really fails on the server)."""
    base = urlsplit(public_base(request))
    link = urlsplit(url)
    if link.scheme not in ("http", "https") or link.netloc != base.netloc:
        raise NotFoundError(f"url={url!r}: not a link to this service ({base.netloc})")
    params = {key: value for key, value in parse_qsl(link.query) if key in EMBED_KEYS}
    parts = link.path.strip("/").split("/")
    if parts[0] == "territoires" and len(parts) == 3:
        params["territoire"] = f"{parts[1]}:{parts[2]}"
    elif parts[0] not in ("embed", "carte") or len(parts) != 1:
        raise NotFoundError(f"url={url!r}: not a map page (expected /embed, /territoires/... or /carte)")
    name = boundaries.level("region")["name"].iloc[0]
    if "territoire" in params:
        try:
            level, code = parse_territory(params["territoire"])
            require_territory(boundaries, level, code)
        except GeoServiceError:
            raise NotFoundError(f"url={url!r}: no such territory on this map ({params['territoire']!r})") from None
        name = f"{LEVEL_LABELS[level]} : {boundaries.name_of(level, code)}"
    width = min(maxwidth or DEFAULT_WIDTH, DEFAULT_WIDTH)
    height = min(maxheight or DEFAULT_HEIGHT, DEFAULT_HEIGHT)
    src = f"{base.scheme}://{base.netloc}/embed?{urlencode(params)}"
    title = f"Carte de l'aide alimentaire Mieux manger pour tous — {name}"
    frame = (
        f'<iframe src="{html.escape(src)}" width="{width}" height="{height}" style="border:0" loading="lazy" '
        f'title="{html.escape(title)}"></iframe>'
    )
    return OEmbed(
        provider_name=PROVIDER,
        provider_url=f"{base.scheme}://{base.netloc}/carte",
        title=title,
        html=frame,
        width=width,
        height=height,
    )
