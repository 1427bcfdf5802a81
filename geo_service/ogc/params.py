"""Query parameters of the OGC API operations, read strictly where they select features: on ``items`` and
``items/{featureId}`` an unknown parameter or a value that cannot be read is a 400 naming it
(/req/core/query-param-unknown, /req/core/query-param-invalid), so that a typo in a filter never silently
returns every feature.

Unknown parameters, a decision. The standard asks a 400 for any parameter the API definition does not name, on
every operation. pygeoapi accepts and ignores "vendor" parameters (cache busters, tokens: its pull request 891),
and tipg ignores every parameter it does not know. GDAL's OAPIF driver appends the query of its connection
string to *every* request it makes (landing page, ``/api``, the collection, its queryables, each page of
items), which is how an analyst opens the zones blanches at 20 km in QGIS or ogr2ogr
(``OAPIF:https://…/collections/zones-blanches?max_km=20``). So:

* the documents that select nothing (landing page, conformance, API definition, collections, queryables, tile
  matrix sets and tilesets) ignore parameters they do not define, as pygeoapi and tipg do: ignoring one cannot
  make such an answer wrong. The parameters they do define (``f``, and the coverage parameters on the coverage
  collections) are still read strictly;
* ``items`` and ``items/{featureId}`` keep the standard's 400: there a misspelled filter (``?departemnt=80``)
  ignored would answer every feature as if it were the selection asked for. A parameter of the connection
  string that the collection does not define fails loudly, naming it, rather than quietly.

Other choices, each allowed by the standard:

* ``limit``: 100 by default (the standard's example), at most 10 000. A larger value is served as 10 000 (the
  server may return fewer than asked, /per/core/fc-limit-response-2) rather than refused: clients that ask for
  "everything" in one page still work and follow ``next``. Zero, a negative number or text is a 400.
* Paging is by ``offset`` (the position of the first feature in the matched list), which the ``next`` and ``prev``
  links carry; the order is the collection's own (codes, then project order), stable while the data are.
* ``datetime`` is read (RFC 3339 date-times and intervals with ``..`` or nothing for one open end, as
  §7.15.4's grammar says; a plain date is accepted too) and then matches every feature: none of these features
  has a temporal geometry, and /req/core/fc-time-response C says a feature without one matches. A value outside
  the grammar (``../..``, ``2024-W18``, a date-time without its offset) is still a 400.
* Simple filters: ``?departement=80`` on any field the collection's queryables list, combined with AND; an
  empty value is a 400 (no field is empty text).
* ``filter`` (OGC API – Features Part 3): CQL2 text or JSON, read by ``geo_service.ogc.cql2`` (a 400 naming the
  position or the property otherwise), combined with AND with bbox and the simple filters; links carry it
  re-printed from its tree, with its ``filter-lang``. ``filter-lang`` takes ``cql2-text`` (the default),
  ``cql2-json``, and ``cql-text``, the drafts' name GDAL sends (see ``cql2``). ``filter-crs`` is read as
  ``bbox-crs`` is: the CRS of the filter's literal geometries. Either without ``filter`` is a 400, as
  ``bbox-crs`` without ``bbox``.
* ``sortby``: comma-separated queryables, each with an optional ``+`` (ascending, the default) or ``-``
  (descending); nulls last either way; ties keep the collection's order. ``properties``: the comma-separated
  properties each feature keeps (an empty value keeps none). ``skipGeometry=true``: features without geometry.
* Numbers are ASCII decimal numbers (``12``, ``-1.5``, ``2e3``): Python's own readers would also take ``1_000``
  or Arabic-Indic digits, which no client means.
* A parameter given twice is a 400, unless both values say the same (GDAL adds its connection string's query to
  the ``next`` links we give it when they spell it otherwise, and the meaning is not in doubt).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from geo_service.errors import BadRequestError
from geo_service.ogc import cql2
from geo_service.ogc.crs import CRS84, SUPPORTED, Crs, check_bbox, parse_crs

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
MAX_OFFSET = 10**9
Format = Literal["json", "html"]
ITEMS_PARAMETERS = (
    "f", "limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "filter", "filter-lang", "filter-crs", "sortby",
    "properties", "skipGeometry",
)  # fmt: skip


class Query:
    """A request's query parameters as (name, value) pairs, in order, repeated names kept (the web layer passes
    ``request.query_params.multi_items()``)."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.pairs = list(pairs)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for name, _ in self.pairs))

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]


def _single(query: Query, name: str) -> str | None:
    values = query.getlist(name)
    if len(set(values)) > 1:
        raise BadRequestError(f"{name} is given {len(values)} times with different values: give it once")
    return values[0] if values else None


_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def read_number(text: str) -> float | None:
    """An ASCII decimal number (surrounding spaces allowed), finite; None otherwise."""
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        return None
    value = float(stripped)
    return value if math.isfinite(value) else None


def check_known(query: Query, allowed: tuple[str, ...] | list[str]) -> None:
    unknown = sorted({name for name in query if name not in allowed})
    if unknown:
        listed = ", ".join(repr(name) for name in unknown)
        raise BadRequestError(f"unknown query parameter {listed}: this operation takes {', '.join(allowed) or 'none'}")


def read_format(query: Query, accept: str | None, *, allowed: tuple[str, ...] = ("json", "html")) -> Format:
    """``f`` when given, else the Accept header: HTML when the client prefers text/html to JSON (a browser), JSON
    otherwise (GDAL, OWSLib, curl's ``*/*``, no header)."""
    given = _single(query, "f")
    if given is not None:
        chosen = given.strip().lower()
        if chosen == "geojson" and "json" in allowed:
            chosen = "json"
        if chosen not in allowed:
            raise BadRequestError(f"f={given!r}: expected {' or '.join(allowed)}")
        return "html" if chosen == "html" else "json"
    if "html" in allowed and prefers_html(accept or ""):
        return "html"
    return "json"


def quality_values(header: str) -> Iterator[tuple[str, float]]:
    """Each item of a header that weights its items (Accept, Accept-Encoding: RFC 9110 §12.4.2), lower case, with
    its quality: 1 when not given, 0 when unreadable."""
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        quality = 1.0
        for piece in pieces[1:]:
            if piece.lower().startswith("q="):
                try:
                    quality = float(piece[2:])
                except ValueError:
                    quality = 0.0
        yield pieces[0].lower(), quality


def prefers_html(accept: str) -> bool:
    html, json_ = -1.0, -1.0
    for media, quality in quality_values(accept):
        if media in ("text/html", "application/xhtml+xml"):
            html = max(html, quality)
        elif media in ("application/json", "application/geo+json", "application/schema+json") or media.endswith(
            "+json"
        ):
            json_ = max(json_, quality)
    return html > 0 and html > json_


@dataclass(frozen=True)
class ItemsQuery:
    format: Format = "json"
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: tuple[float, ...] | None = None
    bbox_crs: Crs = field(default_factory=lambda: SUPPORTED[CRS84])
    crs: Crs = field(default_factory=lambda: SUPPORTED[CRS84])
    datetime: str | None = None
    filters: dict[str, str] = field(default_factory=dict)
    extra: tuple[tuple[str, str], ...] = ()  # other parameters as understood (coverage), for the links
    filter: cql2.Filter | None = None
    filter_crs: Crs | None = None  # as given: the CRS of the filter's geometries
    sortby: tuple[tuple[str, bool], ...] = ()  # (property, descending)
    properties: tuple[str, ...] | None = None  # None: every property
    skip_geometry: bool = False

    def link_parameters(self, offset: int | None = None, fmt: str | None = None) -> list[tuple[str, str]]:
        """The query as understood, re-encoded for a link (nothing of the request's own text is copied)."""
        pairs: list[tuple[str, str]] = []
        if fmt is not None:
            pairs.append(("f", fmt))
        if self.bbox is not None:
            pairs.append(("bbox", ",".join(number_text(v) for v in self.bbox)))
            if self.bbox_crs.uri != CRS84:
                pairs.append(("bbox-crs", self.bbox_crs.uri))
        if self.crs.uri != CRS84:
            pairs.append(("crs", self.crs.uri))
        if self.datetime is not None:
            pairs.append(("datetime", self.datetime))
        pairs.extend(sorted(self.filters.items()))
        if self.filter is not None:
            pairs += [("filter", self.filter.link_text()), ("filter-lang", self.filter.language)]
            if self.filter_crs is not None:
                pairs.append(("filter-crs", self.filter_crs.uri))
        if self.sortby:
            pairs.append(("sortby", ",".join(("-" if down else "") + name for name, down in self.sortby)))
        if self.properties is not None:
            pairs.append(("properties", ",".join(self.properties)))
        if self.skip_geometry:
            pairs.append(("skipGeometry", "true"))
        pairs.extend(self.extra)
        pairs.append(("limit", str(self.limit)))
        start = self.offset if offset is None else offset
        if start:
            pairs.append(("offset", str(start)))
        return pairs


def number_text(value: float) -> str:
    """The shortest text that reads back as the same float (2.123456, 652000)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


MAX_DIGITS = 18  # a whole number in a query (limit, offset): beyond int64, it names nothing here


def _cut(text: str) -> str:
    """What was sent, cut to a length a message can quote."""
    return text if len(text) <= 40 else text[:37] + "..."


def _integer(text: str, name: str, low: int) -> int:
    if not _INTEGER.fullmatch(text.strip()):
        raise BadRequestError(f"{name}={_cut(text)!r}: expected a whole number")
    if len(text.strip().lstrip("+-0")) > MAX_DIGITS:  # Python refuses to read ints of over 4 300 digits: a 500
        raise BadRequestError(f"{name}={_cut(text)!r}: more than {MAX_DIGITS} digits, beyond any page of these items")
    value = int(text.strip())
    if value < low:
        raise BadRequestError(f"{name}={text!r}: expected {low} or more")
    return value


def read_bbox(text: str, crs: Crs) -> tuple[float, ...]:
    """Four numbers, or six (a vertical axis, whose values are ignored: these features are flat)."""
    read = [read_number(v) for v in text.split(",")]
    if len(read) not in (4, 6) or None in read:
        raise BadRequestError(f"bbox={text!r}: expected four finite numbers (minx,miny,maxx,maxy), or six with heights")
    values = tuple(v for v in read if v is not None)
    if len(values) == 6:
        values = (values[0], values[1], values[3], values[4])
    check_bbox(values, crs, text)
    return values


# RFC 3339 §5.6 date-time: full-date "T" full-time, with seconds and an offset (T and Z in either case)
_DATE_TIME = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt](?P<time>[0-9]{2}:[0-9]{2}):(?P<second>[0-9]{2})(?P<fraction>\.[0-9]+)?"
    r"(?P<offset>[Zz]|[+ -][0-9]{2}:[0-9]{2})"
)  # a space for '+': an offset written unencoded in a URL (+01:00) arrives so, and means nothing else
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _instant(text: str) -> datetime | date | None:
    """An RFC 3339 date-time (a plain date is accepted too), or None for an open end ('..' or nothing)."""
    if text in ("", ".."):
        return None
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
        match = _DATE_TIME.fullmatch(text)
        if match is None:
            raise ValueError
        # a leap second (:60) is valid RFC 3339 that Python cannot hold: read as the second before it
        second = 59 if match["second"] == "60" else int(match["second"])
        offset = (
            "+00:00"
            if match["offset"] in ("Z", "z")
            else "+" + match["offset"][1:]
            if match["offset"][0] == " "
            else match["offset"]
        )
        fraction = (match["fraction"] or "")[:7]  # Python reads six digits at most
        return datetime.fromisoformat(f"{match['date']}T{match['time']}:{second:02d}{fraction}{offset}")
    except ValueError:
        raise BadRequestError(
            f"datetime={text!r}: expected an RFC 3339 date-time (2024-01-31T00:00:00Z), a date, or an interval "
            "start/end with '..' for an open end"
        ) from None


def read_datetime(text: str) -> str:
    """Checks the syntax (400 otherwise) and returns the value; it selects nothing here (see the module)."""
    parts = text.split("/")
    if len(parts) > 2 or all(part in ("", "..") for part in parts):
        raise BadRequestError(
            f"datetime={text!r}: expected an instant or one interval start/end, at most one end open ('..')"
        )
    bounds = [_instant(part) for part in parts]
    if len(bounds) == 2 and bounds[0] is not None and bounds[1] is not None:
        start, end = (b if isinstance(b, datetime) else datetime.combine(b, datetime.min.time()) for b in bounds)
        aware = [moment.tzinfo is not None for moment in (start, end)]
        if (all(aware) or not any(aware)) and start > end:
            raise BadRequestError(f"datetime={text!r}: the interval ends before it starts")
    return text


def read_items_query(query: Query, accept: str | None, queryables: list[str], extra: Sequence[str] = ()) -> ItemsQuery:
    """The items parameters; ``extra``: other names the collection takes (read by the caller)."""
    check_known(query, [*ITEMS_PARAMETERS, *queryables, *extra])
    fmt = read_format(query, accept)
    limit_text = _single(query, "limit")
    limit = DEFAULT_LIMIT if limit_text is None else min(_integer(limit_text, "limit", 1), MAX_LIMIT)
    offset_text = _single(query, "offset")
    offset = 0 if offset_text is None else min(_integer(offset_text, "offset", 0), MAX_OFFSET)
    bbox_crs_text = _single(query, "bbox-crs")
    bbox_crs = SUPPORTED[CRS84] if bbox_crs_text is None else parse_crs(bbox_crs_text, "bbox-crs")
    bbox_text = _single(query, "bbox")
    if bbox_text is None and bbox_crs_text is not None:
        raise BadRequestError("bbox-crs is given without bbox")
    bbox = None if bbox_text is None else read_bbox(bbox_text, bbox_crs)
    crs_text = _single(query, "crs")
    crs = SUPPORTED[CRS84] if crs_text is None else parse_crs(crs_text, "crs")
    datetime_text = _single(query, "datetime")
    when = None if datetime_text is None else read_datetime(datetime_text)
    filters = {}
    for name in queryables:
        value = _single(query, name)
        if value is not None:
            if not value.strip():
                raise BadRequestError(f"{name}={value!r}: a filter needs a value")
            filters[name] = value
    chosen, filter_crs = read_filter(query, queryables)
    return ItemsQuery(
        fmt, limit, offset, bbox, bbox_crs, crs, when, filters, filter=chosen, filter_crs=filter_crs,
        sortby=read_sortby(_single(query, "sortby"), queryables),
        properties=read_properties(_single(query, "properties"), queryables),
        skip_geometry=read_flag(_single(query, "skipGeometry"), "skipGeometry"),
    )  # fmt: skip


def read_sortby(text: str | None, queryables: Sequence[str]) -> tuple[tuple[str, bool], ...]:
    """``sortby=+name,-population``: each a queryable, ``+`` (or nothing) ascending, ``-`` descending."""
    if text is None:
        return ()
    keys: list[tuple[str, bool]] = []
    for part in text.split(","):
        item = part.strip()
        # a '+' arrives as a space when the client did not encode it: ' name' is '+name'
        descending = item.startswith("-")
        name = item[1:].strip() if item[:1] in "+-" and item else item
        if not name:
            raise BadRequestError(f"sortby={_cut(text)!r}: expected comma-separated properties, each +name or -name")
        if name not in queryables:
            raise BadRequestError(
                f"sortby: unknown property {_cut(name)!r}: the queryables here are {', '.join(queryables)}"
            )
        if any(name == known for known, _ in keys):
            raise BadRequestError(f"sortby names {name!r} twice")
        keys.append((name, descending))
    return tuple(keys)


def read_properties(text: str | None, queryables: Sequence[str]) -> tuple[str, ...] | None:
    """``properties=name,population``: the properties each feature keeps, in the collection's order."""
    if text is None:
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in queryables]
    if unknown:
        listed = ", ".join(repr(_cut(name)) for name in unknown)
        raise BadRequestError(f"properties: unknown {listed}: the properties here are {', '.join(queryables)}")
    chosen = set(names)
    return tuple(name for name in queryables if name in chosen)


def read_flag(text: str | None, name: str) -> bool:
    if text is None:
        return False
    value = text.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise BadRequestError(f"{name}={_cut(text)!r}: expected true or false")


def read_filter(query: Query, queryables: Sequence[str]) -> tuple[cql2.Filter | None, Crs | None]:
    """``filter`` read (its syntax and property names: the types are checked against the table), with
    ``filter-lang`` and ``filter-crs``."""
    text = _single(query, "filter")
    language = _single(query, "filter-lang")
    crs_text = _single(query, "filter-crs")
    if text is None:
        for name, given in (("filter-lang", language), ("filter-crs", crs_text)):
            if given is not None:
                raise BadRequestError(f"{name} is given without filter")
        return None, None
    filter_crs = None if crs_text is None else parse_crs(crs_text, "filter-crs")
    return cql2.read(text, language, [*queryables, cql2.GEOMETRY], filter_crs), filter_crs


def read_item_query(query: Query, accept: str | None, extra: Sequence[str] = ()) -> tuple[Format, Crs]:
    check_known(query, ("f", "crs", *extra))
    fmt = read_format(query, accept)
    crs_text = _single(query, "crs")
    return fmt, SUPPORTED[CRS84] if crs_text is None else parse_crs(crs_text, "crs")
