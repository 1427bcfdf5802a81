"""Map the service's exceptions to HTTP statuses, once, for every router; and say each refusal in French too.

The API speaks English (``detail``); pages speak French. Every refusal's JSON also carries ``detail_fr``, the
same in French, which map pages show in their sentences (the planning tool, the search box), and the HTML error
page (``api.pages``) shows alone. The French is made here, from the English messages the service raises
(``FRENCH``: one pattern per kind of message, values kept as received): the modules that raise them stay as they
are, and a message no pattern knows still gets a French sentence, its English quoted as a technical detail.
"""

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from geo_service.errors import (
    AuthenticationError,
    BadRequestError,
    ClientGoneError,
    ConflictError,
    DataError,
    GeoServiceError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    TooBusyError,
)
from geo_service.formatting import fr_number

STATUS_BY_ERROR: dict[type[GeoServiceError], int] = {
    NotFoundError: 404,
    InvalidInputError: 422,
    BadRequestError: 400,
    ConflictError: 409,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    DataError: 503,
    PreconditionFailedError: 412,
    TooBusyError: 429,
    ClientGoneError: 499,  # nginx's "client closed request": logged, never read
}


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
]
GENERIC_FR = {
    400: "demande illisible",
    401: "authentification requise",
    403: "écriture non autorisée",
    404: "introuvable",
    409: "la demande contredit les données enregistrées",
    412: "le projet a changé depuis votre lecture",
    413: "demande trop volumineuse",
    422: "paramètre incorrect",
    429: "le serveur est occupé : réessayez dans un instant",
    503: "les données sont momentanément indisponibles",
}


def french(message: str, status: int = 422) -> str:
    """The French of an English refusal: a known message translated with its values; a message already in
    French (the service's French messages put a space before their colon, « layers : couche inconnue »)
    kept; any other, a French sentence for its status with the English as a technical detail."""
    for pattern, words in FRENCH:
        found = pattern.fullmatch(message)
        if found is not None:
            return words(found)
    if " : " in message:
        return message
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


def add_exception_handlers(app: FastAPI) -> None:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        status = next((code for cls, code in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 500)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, TooBusyError):
            headers = {"Retry-After": str(exc.retry_after_s)}
        message = printable(str(exc))
        return JSONResponse(
            status_code=status, content={"detail": message, "detail_fr": french(message, status)}, headers=headers
        )

    async def invalid_request(_: Request, exc: Exception) -> JSONResponse:
        """FastAPI's list of problems, each naming where and what; the value received is left out (it may be
        large, and it is what the client sent)."""
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        problems = [
            {
                "loc": [part if isinstance(part, int) else printable(str(part)) for part in error["loc"]],
                "msg": printable(error["msg"]),
                "type": error["type"],
            }
            for error in errors
        ]
        return JSONResponse(status_code=422, content={"detail": problems, "detail_fr": french_validation(errors)})

    for error_class in STATUS_BY_ERROR:
        app.add_exception_handler(error_class, handle)
    app.add_exception_handler(RequestValidationError, invalid_request)


class ErrorDetail(BaseModel):
    """What every refusal answers: a sentence naming what was wrong (and the same in French)."""

    detail: str
    detail_fr: str | SkipJsonSchema[None] = Field(
        default=None, description="the same in French, for pages to show (absent from a few refusals)"
    )


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
        # our handler (invalid_request) adds the problems in one French sentence
        components["HTTPValidationError"].setdefault("properties", {})["detail_fr"] = {
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
