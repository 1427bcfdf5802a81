"""The one table of refusals and the one handler that answers them, for every route of the service.

Every exception the service raises to refuse a request (``geo_service.errors``, and the few subclasses other
modules define: a CQL2 filter's error, an import too large, a request beyond its cost) is in ``REFUSALS``, once,
with its HTTP status, a short code and a French title; the framework's own refusals (no such path, a method the
route does not take) are in ``HTTP_REFUSALS``. The English detail is the exception's message, which names the
argument and the value; the French detail (``detail_fr``) is made here from it (``FRENCH``: one pattern per kind
of message, values kept as received), so the modules that raise them stay as they are, and a message no pattern
knows still gets a French sentence, its English quoted as a technical detail.

One handler (``add_exception_handlers``) answers them all and chooses only the representation, from the route
that refused and the request:

* a page route (``PageRoute``: the map pages) answers a French HTML page (``erreur.html``) with the refusal's
  status: a bad parameter is a 4xx naming it, an unknown territory a 404, a busy server a 429 with Retry-After;
  only data or a store out of reach is a 503. An address that is no route answers that page too when a browser
  asks for HTML and the address is not under the API's prefixes (``is_page_path``);
* an OGC API route (``OgcRoute``) answers the OGC API's HTML page (``ogc_erreur.html``) when ``f=html`` or, without
  ``f``, when the Accept header prefers HTML (a browser);
* otherwise, on every route, the one JSON shape: OGC API – Common's exception, which is RFC 9457's problem details
  (``type``, ``title``, ``status``, ``detail``), with the service's ``detail_fr`` and ``code``. The API's JSON had
  ``detail`` and ``detail_fr`` already: one shape for both means the same refusal is the same body, word for word,
  on ``/api/v1/coverage`` and on the OGC collections. ``detail`` stays FastAPI's list of problems for FastAPI's own
  validation (its clients read it so); ``type`` is ``about:blank`` (the status says the problem, ``code`` which
  one), and the media type stays ``application/json``, the one every operation documents.

Statuses never depend on the representation: the same refusal is the same status, detail and French on the API,
the OGC API and the pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.exceptions import HTTPException

from geo_service.api.http import public_base
from geo_service.api.templates import TEMPLATES, security_headers
from geo_service.errors import (
    AuthenticationError,
    BadRequestError,
    ClientGoneError,
    ConflictError,
    CostLimitError,
    DataError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    TooBusyError,
)
from geo_service.formatting import fr_number
from geo_service.ogc.cql2 import FilterError
from geo_service.ogc.params import prefers_html
from geo_service.projects.spreadsheet_import import TooLargeError


@dataclass(frozen=True)
class Refusal:
    """How one kind of refusal is answered: its HTTP status, a short stable code (for clients to test rather than
    the sentence) and the French title of its page; the details come from each exception's message."""

    status: int
    code: str
    title: str


# The one table: each exception class, the most specific first where one derives from another (the lookup walks
# each exception's classes from its own up, so a subclass not named here is answered as its parent).
REFUSALS: dict[type[Exception], Refusal] = {
    NotFoundError: Refusal(404, "not-found", "Ressource introuvable"),
    CostLimitError: Refusal(422, "too-costly", "Demande trop coûteuse"),
    TooLargeError: Refusal(413, "too-large", "Demande trop volumineuse"),
    InvalidInputError: Refusal(422, "invalid-parameter", "Paramètre incorrect"),
    RequestValidationError: Refusal(422, "invalid-parameter", "Paramètre incorrect"),
    FilterError: Refusal(400, "invalid-filter", "Filtre incorrect"),
    BadRequestError: Refusal(400, "bad-request", "Demande incorrecte"),
    ConflictError: Refusal(409, "conflict", "Demande contraire aux données enregistrées"),
    AuthenticationError: Refusal(401, "unauthenticated", "Authentification requise"),
    PermissionDeniedError: Refusal(403, "forbidden", "Écriture non autorisée"),
    PreconditionFailedError: Refusal(412, "precondition-failed", "Le projet a changé depuis votre lecture"),
    TooBusyError: Refusal(429, "too-busy", "Serveur occupé"),
    DataError: Refusal(503, "unavailable", "Données momentanément indisponibles"),
    ClientGoneError: Refusal(499, "client-gone", "Demande abandonnée"),  # nginx's "client closed request": never read
}
# The framework's refusals (Starlette's HTTPException), by status: an address no route serves, a method the route
# does not take, a body over the limit (api.imports)
HTTP_REFUSALS: dict[int, Refusal] = {
    400: Refusal(400, "bad-request", "Demande incorrecte"),
    404: Refusal(404, "not-found", "Page introuvable"),
    405: Refusal(405, "method-not-allowed", "Méthode non permise"),
    413: Refusal(413, "too-large", "Demande trop volumineuse"),
}


def refusal_of(exc: Exception) -> Refusal:
    """The table's entry for ``exc`` (its own class's, else its nearest parent's)."""
    if isinstance(exc, HTTPException):
        found = HTTP_REFUSALS.get(exc.status_code)
        return found or Refusal(exc.status_code, "http-error", _phrase(exc.status_code))
    for kind in type(exc).__mro__:
        found = REFUSALS.get(kind)
        if found is not None:
            return found
    raise LookupError(f"{type(exc).__name__} is not in api.errors.REFUSALS")  # add_exception_handlers installs none


def _phrase(status: int) -> str:
    """The status's reason phrase (RFC 9110), English as the standard gives it."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # 499, nginx's
        return "Client Closed Request" if status == 499 else "Error"


def printable(text: str) -> str:
    """``text`` as UTF-8 can carry it: a lone surrogate someone sent (JSON's ``"\\ud800"``) is written as its escape
    rather than failing the answer that names it."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# How French names each level in "code d'EPCI", "aucune intercommunalité", "une commune"...
LEVEL_FR = {
    "commune": ("de commune", "aucune commune"),
    "epci": ("d'EPCI", "aucune intercommunalité"),
    "arrondissement": ("d'arrondissement", "aucun arrondissement"),
    "departement": ("de département", "aucun département"),
    "region": ("de région", "aucune région"),
}
NOWHERE = "dans les données de la carte"


def _level(word: str, which: int) -> str:
    return LEVEL_FR.get(word, (f"de niveau {word}", f"aucun territoire de niveau {word}"))[which]


def _value(text: str) -> str:
    """A value quoted by Python's repr ('000') as French quotes show it: « 000 »."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return f"« {text} »"


def _number(text: str) -> str:
    """A number as French writes it (a year, a limit: 2020, 200; large ones grouped: 5 000 000)."""
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return text
    return f"{value:g}".replace(".", ",") if abs(value) < 10_000 else fr_number(value)


def _choices(expected: object) -> str:
    """pydantic's "'direct' or 'all'" as "direct, all"."""
    return str(expected).replace("'", "").replace(" or ", ", ")


# (pattern over the whole English message, its French): the messages raised by the coverage rule
# (geo_service.coverage), territories (geo_service.territories), the selection of projects, planning and limits.
FRENCH: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"malformed (\w+) code (.+): expected a code like (.+)"),
        lambda m: f"code {_level(m[1], 0)} mal formé : {_value(m[2])} (exemple : {_value(m[3])})",
    ),
    (
        re.compile(r"unknown level (.+): expected one of (.+)"),
        lambda m: f"niveau de territoire inconnu : {_value(m[1])} (niveaux : {m[2]})",
    ),
    (
        re.compile(r"(\w+)=(.+): no such (\w+) in the loaded data"),
        lambda m: f"{m[1]} = {_value(m[2])} : {_level(m[3], 1)} n'a ce code {NOWHERE}",
    ),
    (
        re.compile(r"no (\w+) with code (.+?) in the loaded data.*"),
        lambda m: f"{_level(m[1], 1)} n'a le code {_value(m[2])} {NOWHERE}",
    ),
    (
        re.compile(r"(reach|distance_to) must be one of (.+), got (.+)"),
        lambda m: f"{m[1]} : valeur inconnue {_value(m[3])} (valeurs : {m[2]})",
    ),
    (
        re.compile(r"rural_max_density must be above 0 and at most (.+), got (.+)"),
        lambda m: (
            f"rural_max_density : attendu une densité au-dessus de 0 et d'au plus {_number(m[1])} hab/km² "
            f"(reçu {_number(m[2])})"
        ),
    ),
    (
        re.compile(r"(count_departmental|[\w]+) must be true or false, got (.+)"),
        lambda m: f"{m[1]} : attendu true ou false (reçu {_value(m[2])})",
    ),
    (
        re.compile(r"max_km must be between 0 and (.+), got (.+)"),
        lambda m: f"max_km : attendu une distance de 0 à {_number(m[1])} km (reçu {_number(m[2])})",
    ),
    (
        re.compile(r"year=(.+): expected a year of a call for projects \((\d+)-(\d+)\)"),
        lambda m: f"year = {_value(m[1])} : attendu l'année d'un appel à projets (de {m[2]} à {m[3]})",
    ),
    (
        re.compile(r"status=(.+): expected one of (.+)"),
        lambda m: f"status = {_value(m[1])} : valeur inconnue (valeurs : {m[2]})",
    ),
    (
        re.compile(r"territory (.+): expected 'level:code' with a level among (.+?) \(.*"),
        lambda m: (
            f"territoire {_value(m[1])} : attendu niveau:code, par exemple epci:200069409 ou commune:80021 "
            f"(niveaux : {m[2]})"
        ),
    ),
    (
        re.compile(r"territory (.+): unknown level (.+), expected one of (.+)"),
        lambda m: f"territoire {_value(m[1])} : niveau inconnu {_value(m[2])} (niveaux : {m[3]})",
    ),
    (
        re.compile(r"territory (.+): no such (\w+) in the loaded data"),
        lambda m: f"territoire {_value(m[1])} : {_level(m[2], 1)} n'a ce code {NOWHERE}",
    ),
    (
        re.compile(r"place_text (.+) resolves to no territory of the loaded data.*", re.DOTALL),
        lambda m: f"le lieu {_value(m[1])} ne correspond à aucun territoire {NOWHERE}",
    ),
    (
        re.compile(r"communes_served: no commune (.+) in the loaded data"),
        lambda m: f"communes desservies : aucune commune n'a le code {_value(m[1])} {NOWHERE}",
    ),
    (
        re.compile(r"an action needs territories.*"),
        lambda m: "une action a besoin d'un territoire (niveau:code), d'un lieu ou de communes desservies",
    ),
    (
        re.compile(r"give at least one territory=level:code.*"),
        lambda m: (
            "indiquez au moins un territoire (territory=niveau:code), une action d'appui "
            "(support=niveau:code) ou un lieu (place)"
        ),
    ),
    (
        re.compile(r"at most (\d+) actions per simulation, got (\d+)"),
        lambda m: f"au plus {m[1]} actions par simulation (reçu {m[2]})",
    ),
    (
        re.compile(r"k must be between (\d+) and (\d+), got (.+)"),
        lambda m: f"k : attendu un nombre d'étapes de {m[1]} à {m[2]} (reçu {m[3]})",
    ),
    (
        re.compile(r"level=(.+): expected (?:one of )?(.+)"),
        lambda m: f"level = {_value(m[1])} : niveau inconnu (niveaux : {m[2]})",
    ),
    (
        re.compile(r"max_km=(.+): ranking would compare about ([\d,]+) pairs of communes, more than the ([\d,]+) .*"),
        lambda m: (
            f"max_km = {_number(m[1])} : le classement comparerait environ {_number(m[2])} paires de "
            f"communes, plus que les {_number(m[3])} permises par demande ; baissez max_km ou choisissez un département"
        ),
    ),
    (
        re.compile(r"too many costly requests at once.*|the server is busy.*"),
        lambda m: "le serveur est occupé par d'autres calculs : réessayez dans un instant",
    ),
    # the OGC API's (geo_service.ogc): its pages show these above the English technical detail
    (
        re.compile(r"unknown collection (.+): expected one of (.+)"),
        lambda m: f"collection inconnue : {_value(m[1])} (collections : {m[2]})",
    ),
    (
        re.compile(r"no feature (.+) in collection (.+)"),
        lambda m: f"la collection {_value(m[2])} n'a pas d'objet {_value(m[1])}",
    ),
    (
        re.compile(r"unknown tile matrix set (.+): this service tiles in (.+) only"),
        lambda m: f"grille de tuiles inconnue : {_value(m[1])} (grille : {m[2]})",
    ),
    (
        re.compile(r"unknown query parameter (.+): this operation takes (.+)"),
        lambda m: f"paramètre inconnu : {m[1]} (paramètres de cette adresse : {m[2].replace('none', 'aucun')})",
    ),
    (
        re.compile(r"f=(.+): expected (.+)"),
        lambda m: f"f = {_value(m[1])} : format inconnu (formats : {_choices(m[2])})",
    ),
    (re.compile(r"([\w-]+)=(.+): expected a whole number"), lambda m: f"{m[1]} = {_value(m[2])} : attendu un entier"),
    (
        re.compile(r"([\w-]+)=(.+): expected (\d+) or more"),
        lambda m: f"{m[1]} = {_value(m[2])} : attendu {m[3]} ou plus",
    ),
    (
        re.compile(r"([\w-]+)=(.+): expected true or false"),
        lambda m: f"{m[1]} = {_value(m[2])} : attendu true ou false",
    ),
    (re.compile(r"([\w-]+)=(.+): expected a number"), lambda m: f"{m[1]} = {_value(m[2])} : attendu un nombre"),
    (
        re.compile(r"([\w-]+) is given (\d+) times with different values: give it once"),
        lambda m: f"{m[1]} est donné {m[2]} fois avec des valeurs différentes : donnez-le une fois",
    ),
    # the framework's (an address no route serves, a method the route does not take)
    (re.compile(r"Not Found"), lambda m: "rien ne se trouve à cette adresse"),
    (re.compile(r"Method Not Allowed"), lambda m: "cette adresse ne prend pas cette méthode"),
]
GENERIC_FR = {
    400: "demande illisible",
    401: "authentification requise",
    403: "écriture non autorisée",
    404: "introuvable",
    405: "méthode non permise à cette adresse",
    409: "la demande contredit les données enregistrées",
    412: "le projet a changé depuis votre lecture",
    413: "demande trop volumineuse",
    422: "paramètre incorrect",
    429: "le serveur est occupé : réessayez dans un instant",
    499: "demande abandonnée",
    503: "les données sont momentanément indisponibles",
}


def translation(message: str) -> str | None:
    """The French of an English refusal when it has one: a known message translated with its values, or a
    message already in French (the service's French messages put a space before their colon, « layers : couche
    inconnue »); None for any other."""
    for pattern, words in FRENCH:
        found = pattern.fullmatch(message)
        if found is not None:
            return words(found)
    return message if " : " in message else None


def french(message: str, status: int = 422) -> str:
    """The French of an English refusal (``translation``); for a message without one, a French sentence for its
    status with the English as a technical detail."""
    translated = translation(message)
    if translated is not None:
        return translated
    return f"{GENERIC_FR.get(status, 'la demande a échoué')} (détail technique : « {message} »)"


# FastAPI's (pydantic's) checks of parameters and bodies, by error type, in French
VALIDATION_FR: dict[str, Callable[[dict], str]] = {
    "missing": lambda c: "manquant",
    "less_than_equal": lambda c: f"attendu au plus {_number(str(c.get('le')))}",
    "less_than": lambda c: f"attendu moins de {_number(str(c.get('lt')))}",
    "greater_than_equal": lambda c: f"attendu au moins {_number(str(c.get('ge')))}",
    "greater_than": lambda c: f"attendu plus de {_number(str(c.get('gt')))}",
    "float_parsing": lambda c: "attendu un nombre (point décimal : 12.5)",
    "float_type": lambda c: "attendu un nombre",
    "int_parsing": lambda c: "attendu un nombre entier",
    "int_type": lambda c: "attendu un nombre entier",
    "int_from_float": lambda c: "attendu un nombre entier",
    "bool_parsing": lambda c: "attendu true ou false",
    "literal_error": lambda c: f"valeur inconnue (valeurs : {_choices(c.get('expected', ''))})",
    "enum": lambda c: f"valeur inconnue (valeurs : {_choices(c.get('expected', ''))})",
    "string_too_long": lambda c: f"texte trop long (au plus {c.get('max_length')} caractères)",
    "string_too_short": lambda c: f"texte trop court (au moins {c.get('min_length')} caractères)",
    "too_long": lambda c: f"trop d'éléments (au plus {c.get('max_length')})",
    "too_short": lambda c: f"pas assez d'éléments (au moins {c.get('min_length')})",
    "extra_forbidden": lambda c: "champ inconnu",
    "json_invalid": lambda c: "JSON illisible",
    "string_type": lambda c: "attendu un texte",
    "list_type": lambda c: "attendu une liste",
    "model_attributes_type": lambda c: "attendu un objet JSON",
    "dict_type": lambda c: "attendu un objet JSON",
}


def french_validation(errors: list[dict]) -> str:
    """FastAPI's list of problems as one French sentence: « paramètre max_km : attendu au plus 200 »."""
    parts = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        where, path = (loc[0], loc[1:]) if loc else ("", [])
        name = ".".join(path) or where
        what = {"query": "paramètre", "path": "adresse", "header": "en-tête", "body": "champ"}.get(where, "champ")
        if where == "body" and not path:
            what, name = "corps de la demande", ""
        explain = VALIDATION_FR.get(error.get("type", ""), lambda c: "valeur incorrecte")(error.get("ctx") or {})
        parts.append(f"{what} {printable(name)} : {explain}".replace("  ", " "))
    return " ; ".join(parts) or "demande incorrecte"


# --- Which representation ---------------------------------------------------------------------------------------


class PageRoute(APIRoute):
    """A route that answers people a page (the map, a territory's page): its refusals are French pages."""


class OgcRoute(APIRoute):
    """A route of the OGC API: its refusals are its French HTML page for a browser (or ``f=html``), else the JSON
    every refusal answers (which is OGC API – Common's exception)."""


# The page embedded in partners' sites (an <iframe>): its error page tells how to make a valid embedding code
EMBEDDED_PAGES = ("/embed",)

# Addresses that are not pages: the API, tiles, OGC API and files keep their JSON 404 whatever the client accepts
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

Representation = Literal["page", "ogc-html", "json"]


def is_page_path(path: str) -> bool:
    """Whether an address is one of the pages' (``/cartes``, ``/territoires/epci/000``…), not of the API's (a
    prefix, or the prefix's own path: ``/api`` and ``/api/...``, not ``/apiculture``)."""
    return not any(path == prefix.rstrip("/") or path.startswith(prefix) for prefix in NOT_PAGES)


def wants_html(request: Request) -> bool:
    """A browser asks for ``text/html`` first; an API client (curl's ``*/*``, ``application/json``) does not."""
    return "text/html" in request.headers.get("accept", "")


def ogc_wants_html(request: Request) -> bool:
    """The OGC API's choice of format: ``f`` when given (its first value, as the routes read it), else the Accept
    header (browsers get HTML; GDAL, OWSLib and curl get JSON)."""
    given = request.query_params.getlist("f")
    if given:
        return given[0].strip().lower() == "html"
    return prefers_html(request.headers.get("accept", ""))


def representation(request: Request) -> Representation:
    """How a refusal of this request is answered: by the kind of the route that refused (Starlette records it in
    the scope, a route that matched the path but not the method included), or for an address no route serves, by
    the address and the Accept header."""
    route = request.scope.get("route")
    if isinstance(route, PageRoute):
        return "page"
    if isinstance(route, OgcRoute):
        return "ogc-html" if ogc_wants_html(request) else "json"
    if route is None and is_page_path(request.url.path) and wants_html(request):
        return "page"
    return "json"


# --- The answers -----------------------------------------------------------------------------------------------


def _headers(exc: Exception, refusal: Refusal) -> dict[str, str]:
    if isinstance(exc, HTTPException) and exc.headers:
        return dict(exc.headers)  # e.g. Allow, on a 405
    if isinstance(exc, TooBusyError):
        return {"Retry-After": str(exc.retry_after_s)}
    if refusal.status == 401:
        return {"WWW-Authenticate": "Bearer"}
    return {}


def _details(exc: Exception, refusal: Refusal) -> tuple[str | list[dict[str, Any]], str]:
    """The English detail and its French. FastAPI's own validation keeps its list of problems, each naming where
    and what (the value received is left out: it may be large, and it is what the client sent)."""
    if isinstance(exc, RequestValidationError):
        errors = exc.errors()
        problems = [
            {
                "loc": [part if isinstance(part, int) else printable(str(part)) for part in error["loc"]],
                "msg": printable(error["msg"]),
                "type": error["type"],
            }
            for error in errors
        ]
        return problems, french_validation(errors)
    message = printable(str(exc.detail) if isinstance(exc, HTTPException) else str(exc))
    return message, french(message, refusal.status)


def _page(request: Request, exc: Exception, refusal: Refusal, french_text: str) -> HTMLResponse:
    """The site's French page (``erreur.html``); for an address no route serves, the page that says so."""
    route = request.scope.get("route")
    unknown_address = route is None and refusal.status == 404
    if unknown_address:
        french_text = f"Aucune page ne se trouve à l'adresse « {request.url.path} »."
    body = TEMPLATES.get_template("erreur.html").render(
        status=refusal.status, title=refusal.title, message=french_text, page=unknown_address,
        embed=getattr(route, "path", None) in EMBEDDED_PAGES,
    )  # fmt: skip
    headers = {**security_headers(request.app.state.settings, body), **_headers(exc, refusal)}
    return HTMLResponse(body, status_code=refusal.status, headers=headers)


def _ogc_page(request: Request, exc: Exception, refusal: Refusal, english: str) -> HTMLResponse:
    """The OGC API's French page (``ogc_erreur.html``), its English detail kept as the technical detail; cached
    and varying as the OGC API's other pages."""
    settings = request.app.state.settings
    body = TEMPLATES.get_template("ogc_erreur.html").render(
        base=public_base(request), title=refusal.title, code=refusal.status, message=english,
        message_fr=translation(english),
    )  # fmt: skip
    headers = {
        **security_headers(settings, body),
        "Vary": "Accept",
        "Cache-Control": settings.cache_control,
        **_headers(exc, refusal),
    }
    return HTMLResponse(body, status_code=refusal.status, headers=headers)


def refusal_response(request: Request, exc: Exception) -> Response:
    """The answer to a refusal: its table entry's status, in the representation the request calls for."""
    refusal = refusal_of(exc)
    english, french_text = _details(exc, refusal)
    shown = representation(request)
    if shown == "page":
        return _page(request, exc, refusal, french_text)
    if shown == "ogc-html":
        return _ogc_page(request, exc, refusal, english if isinstance(english, str) else french_text)
    content = {
        "type": "about:blank",
        "title": _phrase(refusal.status),
        "status": refusal.status,
        "detail": english,
        "detail_fr": french_text,
        "code": refusal.code,
    }
    return JSONResponse(content, status_code=refusal.status, headers=_headers(exc, refusal))


def add_exception_handlers(app: FastAPI) -> None:
    """One handler for every class of the table and for the framework's refusals."""

    async def handle(request: Request, exc: Exception) -> Response:
        return refusal_response(request, exc)

    for error_class in REFUSALS:
        app.add_exception_handler(error_class, handle)
    app.add_exception_handler(HTTPException, handle)


class ErrorDetail(BaseModel):
    """What every refusal answers (OGC API – Common's exception, RFC 9457's problem details): a sentence naming what
    was wrong, the same in French, and the refusal's code and status."""

    type: str | SkipJsonSchema[None] = Field(default=None, description="about:blank: the status says the problem")
    title: str | SkipJsonSchema[None] = Field(default=None, description="the status's reason phrase (English)")
    status: int | SkipJsonSchema[None] = Field(default=None, description="the HTTP status")
    detail: str
    detail_fr: str | SkipJsonSchema[None] = Field(
        default=None, description="the same in French, for pages to show (absent from a few refusals)"
    )
    code: str | SkipJsonSchema[None] = Field(
        default=None,
        description="the kind of refusal (not-found, invalid-parameter, bad-request, too-busy…)",
    )


# (type, title, status and code are absent from the few refusals the server answers before any route: a Host it
# does not serve, a body over the limit)
Responses = dict[int | str, dict[str, Any]]

# The refusals an operation may document, one entry per status, for the routes' ``responses=`` through errors().
# The 400 the trusted-host middleware answers (a Host header not served here) comes before any route and for any
# path alike: no operation documents it for that. 422 is added by document_errors() below.
ERROR_RESPONSES: dict[int, dict[str, Any]] = {
    status: {"model": ErrorDetail, "description": text}
    for status, text in [
        (400, "a request that cannot be read (e.g. a body that is not UTF-8 text)"),
        (401, "an Authorization header that is not 'Bearer <token>', or a write without one"),
        (403, "a token that may not write (or no token configured: writes disabled)"),
        (404, "an unknown level, code, layer, tile or project (named in the answer)"),
        (409, "a write that contradicts the store"),
        (412, "If-Match names another version of the project"),
        (413, "a request body over the limit"),
        (429, "too much costly work at once (Retry-After says when to try again)"),
        (503, "the store or the data out of reach or inconsistent on the server"),
    ]
}


def errors(*statuses: int) -> Responses:
    """The documented refusals for the statuses an operation can answer, for its ``responses=`` (or its router's):
    each operation lists only those, so that an answer with any other status is a bug the schema fuzzing finds."""
    return {status: ERROR_RESPONSES[status] for status in statuses}


NOT_MODIFIED: Responses = {304: {"description": "unchanged (If-None-Match)"}}


def document_errors(app: FastAPI) -> None:
    """A 422 is FastAPI's validation list or our sentence (InvalidInputError): either, on each operation that
    takes parameters or a body, the only ones that can be refused as invalid input. FastAPI documents its own
    list alone there; an operation without any input keeps no 422."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        either = {
            "anyOf": [
                {"$ref": "#/components/schemas/HTTPValidationError"},
                {"$ref": "#/components/schemas/ErrorDetail"},
            ]
        }
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("HTTPValidationError", {"type": "object", "properties": {"detail": {"type": "array"}}})
        # the one handler (refusal_response) answers FastAPI's list in the shape of every refusal, and adds the
        # problems in one French sentence
        properties = components["HTTPValidationError"].setdefault("properties", {})
        shape = ErrorDetail.model_json_schema()["properties"]
        for name in ("type", "title", "status", "code"):
            properties[name] = {key: value for key, value in shape[name].items() if key != "default"}
        properties["detail_fr"] = {
            "type": "string",
            "description": "the problems in one French sentence, for pages to show",
        }
        components.setdefault("ErrorDetail", ErrorDetail.model_json_schema())
        for operations in schema["paths"].values():
            for operation in operations.values():
                if not operation.get("parameters") and "requestBody" not in operation:
                    continue
                operation.setdefault("responses", {})["422"] = {
                    "description": "invalid input, named in the answer",
                    "content": {"application/json": {"schema": either}},
                }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
