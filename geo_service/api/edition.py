"""The officers' editing space (French routes): ``/edition`` to add, edit, delete and restore projects, and
``/edition/import`` to bring in a call's spreadsheet after reviewing each row.

The pages carry no data and no secret: the officer's write token is typed in the page and kept in the tab
(sessionStorage); the page script (static/edition.js) does everything through the JSON API of the same origin.
They are served under the same Content-Security-Policy as the map pages, with no inline script at all.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from geo_service.api.deps import BoundariesDep
from geo_service.api.errors import PageRoute
from geo_service.api.pages import TEMPLATES, security_headers
from geo_service.maps.policy import page_policy
from geo_service.projects.derive import AXES
from geo_service.projects.models import STATUS_WORDS
from geo_service.settings import Settings
from geo_service.territories import Boundaries

router = APIRouter(tags=["pages"], include_in_schema=False, route_class=PageRoute)

# the statuses as the filters and the form offer them: "unknown" is the list filter's word for no status
STATUS_CHOICES = [(status, STATUS_WORDS[status]) for status in ("planned", "active", "ended")]


def _departements(boundaries: Boundaries) -> list[tuple[str, str]]:
    frame = boundaries.level("departement")
    return sorted(zip(frame["code"], frame["name"], strict=True))


def _page(request: Request, boundaries: Boundaries, view: str, title: str) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    document = TEMPLATES.get_template("edition.html").render(
        view=view,
        title=title,
        departements=_departements(boundaries),
        statuses=STATUS_CHOICES,
        unknown_status=STATUS_WORDS[None],
        axes=[(axis, label) for axis, (label, _) in AXES.items()],
    )
    headers = security_headers(settings, document)
    # Unlike the maps, these pages are never embedded: another site framing them could trick an officer into
    # clicking (clickjacking), so no site may frame them, whatever the maps' setting.
    headers["Content-Security-Policy"] = page_policy(document, "'none'")
    headers["X-Frame-Options"] = "DENY"
    # the page shows no data itself, but what an officer sees after signing in must not be kept by a shared cache
    headers["Cache-Control"] = "no-store"
    return HTMLResponse(document, headers=headers)


@router.get("/edition", response_class=HTMLResponse)
def edition(request: Request, boundaries: BoundariesDep) -> HTMLResponse:
    return _page(request, boundaries, "projets", "Espace d'édition des projets")


@router.get("/edition/import", response_class=HTMLResponse)
def edition_import(request: Request, boundaries: BoundariesDep) -> HTMLResponse:
    return _page(request, boundaries, "import", "Importer un tableur de lauréats")
