"""The HTML the service writes itself: the Jinja templates of ``geo_service/templates`` and the headers every page
carries.

Its own module, below the routers, because both the pages (``api.pages``, ``api.edition``, the OGC API's pages)
and the one error handler (``api.errors``, which every router imports) render these templates: the handler
could not import them from a router without a cycle.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from geo_service.maps.policy import page_policy
from geo_service.settings import Settings

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
