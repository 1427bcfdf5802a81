"""The API documentation pages: Swagger UI (/docs) and ReDoc (/redoc), served from this server only.

Both libraries come from npm (/static/vendor, see geo_service/api/static.py), never from a CDN: token holders type
their write token in /docs. The pages hold no inline script: an external initializer (/static/app/docs.js) reads
the OpenAPI URL from a ``data-`` attribute, so a Content-Security-Policy without 'unsafe-inline' for scripts holds.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["documentation"], include_in_schema=False)

# What the pages may load: this server only, and nothing inline but what each library truly needs (each policy
# is the strictest under which its page shows no CSP violation in tests/browser/test_docs_page.py). img-src data:
# for both: their stylesheets draw icons as data: SVG images.
SWAGGER_UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'"
)
# ReDoc also needs style-src 'unsafe-inline' (its styled-components write <style> elements at run time) and
# worker-src blob: (it runs its search index in a web worker built from a blob: URL).
REDOC_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'"
)


def security_headers(policy: str) -> dict[str, str]:
    return {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


PAGE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{root}/static/app/favicon.svg" type="image/svg+xml">
{styles}<script src="{root}/static/vendor/{bundle}" defer></script>
<script src="{root}/static/app/docs.js" defer></script>
</head>
<body>
<noscript><p>Cette documentation interactive a besoin de JavaScript. Le schéma OpenAPI de l'API se lit aussi
directement : <a href="{openapi}">{openapi}</a>.</p></noscript>
<main id="{element}" data-openapi-url="{openapi}"></main>
</body>
</html>
"""


def _page(
    request: Request, *, title: str, element: str, bundle: str, policy: str, styles: tuple[str, ...] = ()
) -> HTMLResponse:
    root = escape(request.scope.get("root_path", "").rstrip("/"))
    openapi = root + escape(request.app.openapi_url or "/openapi.json")
    links = "".join(f'<link rel="stylesheet" href="{root}/static/vendor/{style}">\n' for style in styles)
    document = PAGE.format(title=title, root=root, styles=links, bundle=bundle, element=element, openapi=openapi)
    return HTMLResponse(document, headers=security_headers(policy))


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI: every route, and "Try it out" (with the write token, under "Authorize")."""
    return _page(
        request,
        title="Documentation de l'API (Swagger UI) — Mieux manger pour tous",
        element="swagger-ui",
        bundle="swagger-ui-dist/swagger-ui-bundle.js",
        policy=SWAGGER_UI_CSP,
        styles=("swagger-ui-dist/swagger-ui.css",),
    )


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc: the same API as a reference document."""
    return _page(
        request,
        title="Documentation de l'API (ReDoc) — Mieux manger pour tous",
        element="redoc",
        bundle="redoc/redoc.standalone.js",
        policy=REDOC_CSP,
    )
