"""Query parameters of the OGC API operations, read strictly: an unknown parameter or a value that cannot be read
is a 400 naming it (/req/core/query-param-unknown, /req/core/query-param-invalid), so that a typo in a filter
never silently returns every feature.

Choices, each allowed by the standard:

* ``limit``: 100 by default (the standard's example), at most 10 000. A larger value is served as 10 000 (the
  server may return fewer than asked, /per/core/fc-limit-response-2) rather than refused: clients that ask for
  "everything" in one page still work and follow ``next``. Zero, a negative number or text is a 400.
* Paging is by ``offset`` (the position of the first feature in the matched list), which the ``next`` and ``prev``
  links carry; the order is the collection's own (codes, then project order), stable while the data are.
* ``datetime`` is read (RFC 3339 instants and intervals, ``..`` or empty for an open end) and then matches every
  feature: none of these features has a temporal geometry, and /req/core/fc-time-response C says a feature
  without one matches. A value that is not a date-time is still a 400.
* Simple filters: ``?departement=80`` on any field the collection's queryables list, combined with AND.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from geo_service.errors import BadRequestError
from geo_service.ogc.crs import CRS84, SUPPORTED, Crs, check_bbox, parse_crs

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
MAX_OFFSET = 10**9
Format = Literal["json", "html"]
ITEMS_PARAMETERS = ("f", "limit", "offset", "bbox", "bbox-crs", "crs", "datetime")


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
    if len(values) > 1:
        raise BadRequestError(f"{name} is given {len(values)} times: give it once")
    return values[0] if values else None


def check_known(query: Query, allowed: tuple[str, ...] | list[str]) -> None:
    unknown = sorted({name for name in query if name not in allowed})
    if unknown:
        raise BadRequestError(
            f"unknown query parameter {', '.join(unknown)}: this operation takes {', '.join(allowed) or 'none'}"
        )


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


def prefers_html(accept: str) -> bool:
    html, json_ = -1.0, -1.0
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        quality = 1.0
        for piece in pieces[1:]:
            if piece.lower().startswith("q="):
                try:
                    quality = float(piece[2:])
                except ValueError:
                    quality = 0.0
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

    def link_parameters(self, offset: int | None = None, fmt: str | None = None) -> list[tuple[str, str]]:
        """The query as understood, re-encoded for a link (nothing of the request's own text is copied)."""
        pairs: list[tuple[str, str]] = []
        if fmt is not None:
            pairs.append(("f", fmt))
        if self.bbox is not None:
            pairs.append(("bbox", ",".join(_number(v) for v in self.bbox)))
            if self.bbox_crs.uri != CRS84:
                pairs.append(("bbox-crs", self.bbox_crs.uri))
        if self.crs.uri != CRS84:
            pairs.append(("crs", self.crs.uri))
        if self.datetime is not None:
            pairs.append(("datetime", self.datetime))
        pairs.extend(sorted(self.filters.items()))
        pairs.append(("limit", str(self.limit)))
        start = self.offset if offset is None else offset
        if start:
            pairs.append(("offset", str(start)))
        return pairs


def _number(value: float) -> str:
    """The shortest text that reads back as the same float (2.123456, 652000)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _integer(text: str, name: str, low: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise BadRequestError(f"{name}={text!r}: expected a whole number") from None
    if value < low:
        raise BadRequestError(f"{name}={text!r}: expected {low} or more")
    return value


def read_bbox(text: str, crs: Crs) -> tuple[float, ...]:
    """Four numbers, or six (a vertical axis, whose values are ignored: these features are flat)."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise BadRequestError(f"bbox={text!r}: expected four numbers (minx,miny,maxx,maxy)") from None
    if len(values) not in (4, 6) or not all(math.isfinite(v) for v in values):
        raise BadRequestError(f"bbox={text!r}: expected four numbers (minx,miny,maxx,maxy), or six with heights")
    if len(values) == 6:
        values = (values[0], values[1], values[3], values[4])
    check_bbox(values, crs, text)
    return values


def _instant(text: str) -> datetime | date | None:
    """An RFC 3339 date-time (a plain date is accepted too), or None for an open end."""
    if text in ("", ".."):
        return None
    try:
        if "T" in text.upper():
            parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                raise ValueError
            return parsed
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequestError(
            f"datetime={text!r}: expected an RFC 3339 date-time (2024-01-31T00:00:00Z), a date, or an interval "
            "start/end with '..' for an open end"
        ) from None


def read_datetime(text: str) -> str:
    """Checks the syntax (400 otherwise) and returns the value; it selects nothing here (see the module)."""
    parts = text.split("/")
    if len(parts) > 2 or (len(parts) == 1 and text in ("", "..")):
        raise BadRequestError(f"datetime={text!r}: expected an instant or one interval start/end")
    bounds = [_instant(part) for part in parts]
    if len(bounds) == 2 and bounds[0] is not None and bounds[1] is not None:
        start, end = (b if isinstance(b, datetime) else datetime.combine(b, datetime.min.time()) for b in bounds)
        aware = [moment.tzinfo is not None for moment in (start, end)]
        if (all(aware) or not any(aware)) and start > end:
            raise BadRequestError(f"datetime={text!r}: the interval ends before it starts")
    return text


def read_items_query(query: Query, accept: str | None, queryables: list[str]) -> ItemsQuery:
    check_known(query, [*ITEMS_PARAMETERS, *queryables])
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
            filters[name] = value
    return ItemsQuery(fmt, limit, offset, bbox, bbox_crs, crs, when, filters)


def read_item_query(query: Query, accept: str | None) -> tuple[Format, Crs]:
    check_known(query, ("f", "crs"))
    fmt = read_format(query, accept)
    crs_text = _single(query, "crs")
    return fmt, SUPPORTED[CRS84] if crs_text is None else parse_crs(crs_text, "crs")
