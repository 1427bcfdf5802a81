"""Same answers before and after: every route's JSON and every tile's bytes, asked of two servers side by side.

Usage:
    python bench/compare_answers.py --before /tmp/wt-before [--after PATH] [--concurrency 3] [--write]
                                    [--errors-shape-only] [--ignore-key KEY ...] [--tiles-per-zoom 12] [--show 15]
    python bench/compare_answers.py --before-url http://127.0.0.1:8001 --after-url http://127.0.0.1:8002 [--token T]

A side is either a checkout (``--before``/``--after``; the after side defaults to this repository, the before side
is e.g. ``git worktree add /tmp/wt-before <commit>``) or a server already running (``--before-url``/
``--after-url``). A checkout's server is started as bench/redteam.py starts one: ``python -m geo_service.cli serve``
with this venv, PYTHONPATH set to the checkout, on a free loopback port below 32768, on the checkout's embedded
data (data/boundaries, data/projects) with a new SQLite store in a temporary folder
(GEO_SERVICE_DATABASE_URL) and PYTHONDONTWRITEBYTECODE, from the temporary folder (no .env read): nothing is
written in the checkouts. Both servers get the same write token, and one node_modules (GEO_SERVICE_NODE_MODULES_DIR:
the after tree's, else this repository's; a fresh worktree has none, and the pages' scripts would differ for that).

What is asked (a few thousand requests; the differences are counted per route at the end):
* every GET route of the after server's /openapi.json, its placeholders filled from the data (read from the after
  server, or from the before one where the after one fails): territory codes of each level from
  /api/v1/territories, every project id from /api/v1/projects, collection and feature ids from /collections,
  styles, tile matrix sets; each optional parameter once with a sample or each of its enum values; the coverage
  parameters as defaults, three other sets (reach/distance, year/status selections, thresholds) and max_km=5000
  (an error); a placeholder nothing can fill is reported as skipped;
* OGC items with limit/offset/bbox/CRS/sortby/properties/CQL2 filters, queryables, schemas, tilesets;
* tiles of every layer of /api/v1/layers over the région (lon 1.38-4.26, lat 48.84-51.09) at zooms 5 to 10 (all
  tiles up to z8, --tiles-per-zoom spread evenly beyond), in MVT and PNG, with the coverage layers also under one
  other parameter set; OGC tiles; pictures (PNG); CSV/GeoJSON/XLSX exports; the HTML pages and their assets; the
  links found in the index documents (/, /collections, /styles, /api/v1/layers...); POST /api/v1/coverage/simulate;
* routes that read a token (history, exports, imports) both anonymously and with the token.

How answers are compared (``compare_answers``, a pure function tested in tests/test_compare_answers.py):
status, then Content-Type, then the body. Before comparing (``normalize_body``), each server's own origin
(http://127.0.0.1:PORT, also percent-encoded, and its host:port) is replaced by one placeholder: absolute URLs are
built from the Host header, which names each server's port. JSON bodies are compared as parsed data, ignoring the
keys of IGNORED_KEYS at any depth (values that differ between two processes of one tree, found by comparing a tree
with itself: the OGC timeStamp, the history's write times; --ignore-key adds more); HTML bodies after renaming
Folium's random element ids (map_<32 hex>...) in order of appearance; XLSX exports by their members' contents
without the time they were written; every other body byte for byte (sha256). With --errors-shape-only, a 4xx
answer on either side is compared by its status only (the redesign makes error bodies consistent on purpose; this
shows what else differs). A pair where one side was busy (no answer, 408, 429, 503) is asked again twice at most.
Comparing a tree with itself (--before and --after the same checkout) gives no difference.

--write: after the first comparison, one project is created then edited through the API on both servers (the
token as tests/api/test_writes.py uses it), the write answers are compared, and everything is compared again
(the samples read afresh, so the new project's routes are asked too).

Prints: URLs compared, equal, different (per route, then the first --show differences: method and URL, status
before -> after, a short diff), skipped placeholders. Exits 0 when every answer is equal, 1 otherwise.

Caveats: pictures print the day of the store's last write (its seeding), so a run across midnight differs there;
answers of costly routes may be 429 when the servers are busy elsewhere (the concurrency here stays below
GEO_SERVICE_EXPENSIVE_PER_CLIENT's default of 8). On 2 cores, about 2 minutes per comparison of 3 000 requests.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import http.client
import io
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from tiles import free_port  # bench/: a port below the ephemeral range

REPO = Path(__file__).resolve().parent.parent
TOKEN = "compare-answers-token-1234"  # given to both servers started here (16 characters at least)
ORIGIN = "{ORIGIN}"  # in a planned path: replaced by the asked server's own origin (oEmbed's url=)
SAME_ORIGIN = "http://server"  # what each server's origin is replaced with in bodies
SAME_HOST = "server"  # and its host:port
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Keys whose values legitimately differ between two processes of one tree, ignored wherever they are in JSON.
IGNORED_KEYS: dict[str, str] = {
    "timeStamp": "OGC items pages: the time the page was answered (ogc/documents.py now())",
    "at": "project history: when each version was written (store.base now()): the seeding of each server's new "
    "store at its start, and --write's writes",
}

# The région (Hauts-de-France) and its tiles
LEVELS = ("commune", "epci", "arrondissement", "departement", "region")
REGION_BBOX = (1.38, 48.84, 4.26, 51.09)
ZOOMS = range(5, 11)
BOX_AMIENS = "2.2,49.85,2.4,49.95"
BOX_AMIENS_L93 = "640000,6970000,660000,6985000"  # the same place in Lambert-93 (EPSG:2154)
L93 = "http://www.opengis.net/def/crs/EPSG/0/2154"
POINTS = [(2.2957, 49.8941), (3.0573, 50.6292), (1.6, 50.72), (2.35, 48.85), (0.5, 50.5)]  # Amiens, Lille,
# Boulogne-sur-Mer, Paris (outside the région), the sea

# Coverage parameter sets: the defaults, three others, and an error (beyond max_km's bound)
COVERAGE_SETS: list[dict[str, str]] = [
    {},
    {"reach": "all", "distance_to": "territory"},
    {"year": "2024", "status": "active"},
    {"max_km": "15", "rural_max_density": "200", "count_departmental": "true"},
    {"max_km": "5000"},
]
OTHER_COVERAGE = {"reach": "all", "max_km": "15"}  # the one non-default set of tiles and pictures

# A busy server's answers (no answer, head not read in time, costly requests refused, too many connections): the pair
# is asked again, twice at most, when only one side gave one (the machine is shared; these say nothing of the rule).
BUSY = {0, 408, 429, 503}
RETRIES = 2
COVERAGE_KEYS = {"rural_max_density", "max_km", "count_departmental", "reach", "distance_to", "year", "status"}

NEW_PROJECT = {  # as tests/api/test_writes.py creates one: a place the geocoder resolves, an action that reaches it
    "id": "comparaison-epicerie-du-vimeu",
    "organisation": "Association Comparaison Vimeu",
    "name": "Épicerie mobile du Vimeu (comparaison)",
    "duration_years": 2,
    "place_text": "Communauté de communes du Vimeu",
    "actions": ["Tournée hebdomadaire d'une épicerie solidaire itinérante dans les villages"],
    "beneficiaries": ["Habitants des communes rurales du Vimeu"],
}


# ---------------------------------------------------------------------------------------------------------------
# Comparison (pure)


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no answer (the error in body)
    content_type: str
    body: bytes


def normalize_body(body: bytes, content_type: str, origin: str) -> bytes:
    """The body without what names the process rather than the answer: in text, this server's origin (and its
    host:port, as error messages quote it) becomes one placeholder, and in HTML Folium's random element ids
    (map_<32 hex>, geo_json_<32 hex>_styler) are renamed by order of appearance; a spreadsheet (XLSX, a zip)
    becomes its members' names and contents, the time it was written (docProps/core.xml) and the members' zip
    dates left out."""
    if content_type.startswith(XLSX):
        return _spreadsheet_contents(body)
    if not _is_text(content_type):
        return body
    text = body.decode("utf-8", "replace")
    host = urlsplit(origin).netloc
    for form in (*_forms(origin), host):
        text = text.replace(form, SAME_ORIGIN if form != host else SAME_HOST)
    if content_type.startswith("text/html"):
        names: dict[str, str] = {}
        text = re.sub(r"_([0-9a-f]{32})(?![0-9a-f])", lambda m: "_" + names.setdefault(m[1], f"id{len(names)}"), text)
    return text.encode()


def _forms(origin: str) -> tuple[str, ...]:
    """An origin as it may be written in a body or a query: plain, percent-encoded whole or but its slashes."""
    return origin, quote(origin, safe=""), quote(origin, safe="/")


def _spreadsheet_contents(body: bytes) -> bytes:
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        parts = []
        for member in archive.infolist():
            content = archive.read(member)
            if member.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\1(written)", content)
            parts.append(member.filename.encode() + b"\n" + content)
        return b"\n\n".join(parts)
    except (zipfile.BadZipFile, OSError):
        return body  # compared as it is


def _is_text(content_type: str) -> bool:
    kind = content_type.split(";")[0].strip().lower()
    return kind.startswith("text/") or kind.endswith(("json", "xml", "javascript", "csv"))


def _is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower().endswith("json")


def json_differences(before: Any, after: Any, ignore: Iterable[str] = (), path: str = "$", limit: int = 3) -> list[str]:
    """Where two parsed JSON documents differ, at most ``limit`` places, as 'path: before -> after'. Keys named in
    ``ignore`` are skipped at any depth; 1 and 1.0 and True differ (a client sees another type)."""
    ignored = frozenset(ignore)
    found: list[str] = []

    def walk(a: Any, b: Any, where: str) -> None:
        if len(found) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(a.keys() | b.keys(), key=str):
                if key in ignored:
                    continue
                if key not in b:
                    found.append(f"{where}.{key}: only before ({_short(a[key])})")
                elif key not in a:
                    found.append(f"{where}.{key}: only after ({_short(b[key])})")
                else:
                    walk(a[key], b[key], f"{where}.{key}")
                if len(found) >= limit:
                    return
        elif isinstance(a, list) and isinstance(b, list):
            for i, (x, y) in enumerate(zip(a, b, strict=False)):
                walk(x, y, f"{where}[{i}]")
            if len(a) != len(b) and len(found) < limit:
                found.append(f"{where}: {len(a)} items before, {len(b)} after")
        elif type(a) is not type(b) or a != b:
            found.append(f"{where}: {_short(a)} -> {_short(b)}")

    walk(before, after, path)
    return found


def _short(value: Any, width: int = 70) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def compare_answers(
    before: Answer, after: Answer, ignore: Iterable[str] = (), errors_shape_only: bool = False
) -> list[str]:
    """How two answers to one request differ (empty: equal): status, Content-Type, then the body (parsed JSON
    without the ignored keys, other bodies byte for byte). Bodies are expected already normalized."""
    if errors_shape_only and (400 <= before.status < 500 or 400 <= after.status < 500):
        return [] if before.status == after.status else [f"status {before.status} -> {after.status}"]
    if before.status != after.status:
        return [f"status {before.status} -> {after.status}; before: {_summary(before)}; after: {_summary(after)}"]
    if before.content_type != after.content_type:
        return [f"Content-Type {before.content_type!r} -> {after.content_type!r}"]
    if before.body == after.body:
        return []
    if _is_json(after.content_type):
        try:
            a, b = json.loads(before.body), json.loads(after.body)
        except ValueError:
            pass
        else:
            return json_differences(a, b, ignore)
    if _is_text(after.content_type):
        return [_text_difference(before.body, after.body)]
    return [
        f"bytes differ: {len(before.body)} B sha256 {hashlib.sha256(before.body).hexdigest()[:12]} -> "
        f"{len(after.body)} B sha256 {hashlib.sha256(after.body).hexdigest()[:12]}"
    ]


def _summary(answer: Answer, width: int = 60) -> str:
    """A body in a few words: its start when it is text, its size and type otherwise."""
    if not answer.body:
        return "empty"
    if _is_text(answer.content_type) or not answer.content_type:
        text = answer.body.decode("utf-8", "replace")
        return repr(text if len(text) <= width else text[: width - 1] + "…")
    return f"{len(answer.body)} B {answer.content_type}"


def _text_difference(before: bytes, after: bytes, width: int = 60) -> str:
    """Where two texts start to differ, with a little of each from there."""
    a, b = before.decode("utf-8", "replace"), after.decode("utf-8", "replace")
    if a == b:
        return "same body"
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    start = max(0, at - 20)
    return f"from character {at}: {a[start : at + width]!r} -> {b[start : at + width]!r}"


# ---------------------------------------------------------------------------------------------------------------
# Servers and requests


class Server:
    """A checkout's server on its embedded data with a new store in a temporary folder (started at once, waited
    for apart, so that two start side by side)."""

    def __init__(self, tree: Path, node_modules: Path | None) -> None:
        if not (tree / "geo_service").is_dir():
            raise SystemExit(f"--before/--after {tree}: not a checkout of the repository (no geo_service/)")
        self.tree = tree
        self.folder = tempfile.TemporaryDirectory(prefix="geo-compare-")
        self.origin = f"http://127.0.0.1:{free_port()}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GEO_SERVICE_")},
            "PYTHONPATH": str(tree),
            "PYTHONDONTWRITEBYTECODE": "1",
            "GEO_SERVICE_DATA_DIR": str(tree / "data"),
            "GEO_SERVICE_DATABASE_URL": f"sqlite:///{Path(self.folder.name) / 'projects.sqlite3'}",
            "GEO_SERVICE_ADMIN_TOKEN": TOKEN,
            "GEO_SERVICE_LOG_LEVEL": "warning",
        }
        if node_modules is not None:
            env["GEO_SERVICE_NODE_MODULES_DIR"] = str(node_modules)
        self.log = Path(self.folder.name) / "server.log"
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "geo_service.cli", "serve", "--port", self.origin.rsplit(":", 1)[1]],
                cwd=self.folder.name,
                env=env,
                stdout=output,
                stderr=output,
            )

    def wait(self) -> str:
        deadline = time.monotonic() + 300
        while fetch(self.origin, "/healthz", timeout=2).status != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server of {self.tree} did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.2)
        return self.origin

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.folder.cleanup()


def fetch(
    origin: str, path: str, method: str = "GET", body: Any = None, token: str | None = None, timeout: float = 180
) -> Answer:
    """One request on its own connection, redirects not followed, no compression asked; the body normalized."""
    for placeholder, value in zip(_forms(ORIGIN), _forms(origin), strict=True):
        path = path.replace(placeholder, value)
    parts = urlsplit(origin)
    headers = {"Accept-Encoding": "identity"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, (parts.path.rstrip("/") or "") + path, body=data, headers=headers)
        response = connection.getresponse()
        content = response.read()
        content_type = (response.getheader("Content-Type") or "").lower().replace(" ", "")
        return Answer(response.status, content_type, normalize_body(content, content_type, origin))
    except (OSError, http.client.HTTPException) as error:
        return Answer(0, "", f"no answer: {error!r}".encode())
    finally:
        connection.close()


def get_json(origin: str, path: str) -> Any:
    answer = fetch(origin, path)
    if answer.status != 200:
        raise SystemExit(f"{origin}{path}: status {answer.status}, expected 200 ({answer.body[:200]!r})")
    return json.loads(answer.body)


# ---------------------------------------------------------------------------------------------------------------
# What to ask


@dataclass(frozen=True)
class Check:
    route: str  # the route template, to group the report
    path: str  # with its query
    method: str = "GET"
    body: Any = None
    token: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.path}" + (" [token]" if self.token else "")


@dataclass
class Samples:
    """Values read from the (after) server's data to fill routes."""

    territories: dict[str, list[str]] = field(default_factory=dict)  # level -> a few codes
    projects: list[str] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)
    coverage_layers: list[str] = field(default_factory=list)
    collections: dict[str, list[str]] = field(default_factory=dict)  # id -> a few feature ids
    queryables: dict[str, set[str]] = field(default_factory=dict)
    styles: list[str] = field(default_factory=list)
    tile_matrix_sets: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # paths found in the index documents and pages
    notes: list[str] = field(default_factory=list)  # documents a server did not answer while sampling


def _spread(items: list, count: int) -> list:
    """``count`` items spread evenly over the list (all of them when there are fewer)."""
    if len(items) <= count:
        return list(items)
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)] if count > 1 else items[:1]


def gather_samples(origins: list[str]) -> Samples:
    """Samples from the first server that answers each document (the after one first: its routes are listed; the
    before one when a document fails there, as it may while a redesign is under way), with a note of each such
    fallback; links from both."""
    samples = Samples()

    def read(path: str, default: Any = None) -> Any:
        for origin in origins:
            answer = fetch(origin, path)
            if answer.status == 200:
                return json.loads(answer.body)
            samples.notes.append(f"{path}: status {answer.status} from {origin}")
        return default

    for level in LEVELS:
        items = read(f"/api/v1/territories/{level}", {}).get("items", [])
        if items:
            largest = max(items, key=lambda item: item.get("population") or 0)["code"]
            chosen = [largest] + [item["code"] for item in _spread(items, {"departement": 5}.get(level, 2))]
            samples.territories[level] = list(dict.fromkeys(chosen))
    samples.projects = [feature["id"] for feature in read("/api/v1/projects", {}).get("features", [])]
    samples.layers = [layer["name"] for layer in read("/api/v1/layers", {}).get("layers", [])]
    for layer in samples.layers:  # a coverage layer names other tiles under other parameters
        default = read(f"/tiles/{layer}.json", {}).get("tiles")
        if read(f"/tiles/{layer}.json?max_km=15", {}).get("tiles") != default:
            samples.coverage_layers.append(layer)
    for collection in read("/collections", {}).get("collections", []):
        page = read(f"/collections/{collection['id']}/items?limit=3", {})
        samples.collections[collection["id"]] = [str(feature["id"]) for feature in page.get("features", [])]
        queryables = read(f"/collections/{collection['id']}/queryables", {})
        samples.queryables[collection["id"]] = set(queryables.get("properties", {}))
    samples.styles = [style["id"] for style in read("/styles", {}).get("styles", [])]
    samples.tile_matrix_sets = [tms["id"] for tms in read("/tileMatrixSets", {}).get("tileMatrixSets", [])]
    samples.links = list(dict.fromkeys(link for origin in origins for link in harvest_links(origin, samples)))
    return samples


def harvest_links(origin: str, samples: Samples) -> list[str]:
    """Our own links in the index documents (JSON) and pages (src/href): sprites, legends, QGIS styles, assets."""
    documents = ["/", "/collections", "/api/v1/layers", "/styles", "/tileMatrixSets", "/conformance"]
    documents += [f"/styles/{name}.json" for name in samples.styles]
    documents += [f"/tiles/{layer}.json" for layer in samples.layers]
    documents += [f"/collections/{name}" for name in samples.collections]
    found: list[str] = []
    for path in documents:
        answer = fetch(origin, path)
        if answer.status == 200 and _is_json(answer.content_type):
            found += [link for link in _strings(json.loads(answer.body)) if link.startswith(SAME_ORIGIN)]
    for page in ("/carte", "/edition", "/docs", "/exemples/maplibre"):
        text = fetch(origin, page).body.decode("utf-8", "replace")
        found += re.findall(r'(?:src|href)="(/[^"]*)"', text)
        found += [m for m in re.findall(r'(?:src|href)="([^"]*)"', text) if m.startswith(SAME_ORIGIN)]
    paths = []
    for link in found:
        path = html.unescape(link).removeprefix(SAME_ORIGIN) or "/"
        for placeholder, value in zip(_forms(SAME_ORIGIN), _forms(ORIGIN), strict=True):
            path = path.replace(placeholder, value)  # a link naming the server names each server its own
        paths.append(path)
    return list(dict.fromkeys(p for p in paths if "{" not in p.replace(ORIGIN, "") and not p.startswith("//")))


def _strings(document: Any) -> Iterator[str]:
    if isinstance(document, dict):
        for value in document.values():
            yield from _strings(value)
    elif isinstance(document, list):
        for value in document:
            yield from _strings(value)
    elif isinstance(document, str):
        yield document


def region_tiles(per_zoom: int) -> list[tuple[int, int, int]]:
    """z/x/y over the région's box at zooms 5 to 10: every tile up to z8, ``per_zoom`` spread evenly beyond."""
    west, south, east, north = REGION_BBOX
    tiles = []
    for z in ZOOMS:
        n = 2**z
        x0, x1 = (int((lon + 180) / 360 * n) for lon in (west, east))
        y0, y1 = (int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n) for lat in (north, south))
        grid = [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        tiles += grid if z <= 8 else _spread(grid, per_zoom)
    return tiles


def _with(path: str, query: dict[str, str] | list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(query)}" if query else path


def plan(openapi: dict, samples: Samples, tiles_per_zoom: int) -> tuple[list[Check], list[str]]:
    """Every check to make, and the routes (or placeholders) that could not be filled, with why."""
    checks: list[Check] = []
    skipped: list[str] = [f"sample read from the other server: {note}" for note in samples.notes]
    missing = [level for level in LEVELS if not samples.territories.get(level)]
    if missing:
        raise SystemExit(f"no territory of level {', '.join(missing)} on either server: nothing to fill routes with")
    commune, epci = samples.territories["commune"][0], samples.territories["epci"][0]
    departement = samples.territories["departement"][0]
    arrondissement = samples.territories["arrondissement"][0]
    pairs = [(level, code) for level, codes in samples.territories.items() for code in codes]

    for route, operations in openapi["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        parameters = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
        reads_token = any(p["name"] == "authorization" for p in operation.get("parameters", []))
        paths = fill_route(route, samples, pairs, tiles_per_zoom)
        if isinstance(paths, str):
            skipped.append(f"{route}: {paths}")
            continue
        queries = query_variants(route, parameters, samples, commune, epci, departement, arrondissement)
        if isinstance(queries, str):
            skipped.append(f"{route}: {queries}")
            continue
        if route == "/api/v1/imports/{import_id}":
            skipped.append(f"{route}: an import preview exists only after a POST; asked with a made-up id only")
        for path, query in _combine(route, paths, queries, samples):
            checks.append(Check(route, _with(path, query)))
            if reads_token:
                checks.append(Check(route, _with(path, query), token=True))

    # Pages (not in the OpenAPI document), the simulation's POST, and the links of the index documents
    for path in (
        [
            "/carte",
            "/carte?reach=all",
            f"/carte?commune={commune}",
            "/embed",
            f"/embed?territoire=epci:{epci}",
            f"/embed?territoire=epci:{epci}&reach=all",
            "/edition",
            "/edition/import",
            "/docs",
            "/redoc",
            "/exemples/maplibre",
            "/page-inconnue",
        ]
        + [f"/territoires/{level}/{code}" for level, code in pairs[::2]]
        + [
            f"/territoires/epci/{epci}?reach=all",
            "/territoires/epci/000000000",
        ]
    ):
        checks.append(Check("pages", path))
    for body in (
        {"actions": [{"territories": [f"epci:{epci}"]}]},
        {"actions": [{"territories": [f"departement:{departement}"], "kind": "support"}]},
        {"actions": []},
        {"actions": "none"},
    ):
        checks.append(Check("POST /api/v1/coverage/simulate", "/api/v1/coverage/simulate", "POST", body))
    checks += [Check("links", path) for path in samples.links]
    unique = list({(c.method, c.path, json.dumps(c.body), c.token): c for c in checks}.values())
    return unique, skipped


def fill_route(route: str, samples: Samples, pairs: list[tuple[str, str]], tiles_per_zoom: int) -> list[str] | str:
    """The route's paths with its placeholders filled (a few made-up values for the errors), or why it cannot be."""
    names = re.findall(r"{([^}]+)}", route)
    if not names:
        return [route]
    if route == "/tiles/{layer}/{z}/{x}/{name}":
        paths = [
            f"/tiles/{layer}/{z}/{x}/{y}.{ext}"
            for layer in samples.layers
            for (z, x, y) in region_tiles(tiles_per_zoom)
            for ext in ("mvt", "png")
        ]
        z, x, y = region_tiles(1)[3]  # one z8 tile, for the other names and the errors
        paths += [f"/tiles/{layer}/{z}/{x}/{y}{ext}" for layer in samples.layers for ext in ("@2x.png", ".pbf")]
        paths += [f"/tiles/inconnue/{z}/{x}/{y}.mvt", f"/tiles/communes/{z}/{x}/{y}.gif", "/tiles/communes/25/0/0.mvt"]
        return paths
    if "{tileMatrix}" in route:
        collection_tiles = [(z, x, y) for (z, x, y) in region_tiles(2) if z in (6, 8, 10)]
        return [
            route.replace("{collectionId}", collection)
            .replace("{tileMatrixSetId}", tms)
            .replace("{tileMatrix}/{tileRow}/{tileCol}", f"{z}/{y}/{x}")
            for collection in samples.collections
            for tms in samples.tile_matrix_sets
            for (z, x, y) in collection_tiles
        ] + [
            route.replace("{collectionId}", "communes")
            .replace("{tileMatrixSetId}", "Inconnu")
            .replace("{tileMatrix}/{tileRow}/{tileCol}", "8/86/129")
        ]
    if route.startswith("/collections/{collectionId}/items/{featureId}"):
        return [
            route.replace("{collectionId}", collection).replace("{featureId}", quote(feature, safe=""))
            for collection, features in samples.collections.items()
            for feature in [*features, "inconnu"]
        ]
    values: dict[str, list[str]] = {
        "collectionId": [*samples.collections, "inconnue"],
        "tileMatrixSetId": [*samples.tile_matrix_sets, "Inconnu"],
        "project_id": [*samples.projects, "projet-inconnu"],
        "code": samples.territories["commune"] + ["00000"],
        "layer": [*samples.layers, "inconnue"],
        "import_id": ["import-inconnu"],
    }
    if route.startswith("/styles/"):
        values["name"] = {
            "/styles/{name}.json": [*samples.styles, "sprite", "sprite@2x", "inconnu"],
            "/styles/{name}.png": ["sprite", "sprite@2x", "inconnu"],
            "/styles/{name}.qml": [f"{layer}{suffix}" for layer in samples.layers for suffix in ("", "-tuiles")]
            + ["inconnu"],
        }.get(route, [])
    if "{level}" in route and "{code}" in route:
        if route.startswith("/api/v1/maps/"):  # pictures are costly: the région, each département, a few more
            chosen = [(lv, c) for lv, c in pairs if lv in ("region", "departement")] + [
                (lv, samples.territories[lv][0]) for lv in ("epci", "arrondissement", "commune")
            ]
        else:
            chosen = pairs
        chosen = [*chosen, ("epci", "000000000"), ("canton", "80")]
        return [route.replace("{level}", level).replace("{code}", code) for level, code in chosen]
    if "{level}" in route:
        values["level"] = [*samples.territories, "canton"]
    missing = [name for name in names if not values.get(name)]
    if missing:
        return f"no sample for {', '.join('{' + name + '}' for name in missing)}"
    paths = [route]
    for name in names:
        paths = [path.replace("{" + name + "}", quote(value, safe="@")) for path in paths for value in values[name]]
    return paths


def query_variants(
    route: str,
    parameters: dict[str, dict],
    samples: Samples,
    commune: str,
    epci: str,
    departement: str,
    arrondissement: str,
) -> list[dict[str, str]] | str:
    """Query strings to ask a route with: the defaults, then each optional parameter once (each enum value), then
    the coverage sets; the required parameters in every one of them."""
    if route == "/api/v1/territories/at":
        return [
            {"lon": str(lon), "lat": str(lat), "level": level}
            for lon, lat in POINTS
            for level in ("commune", "epci", "departement")
        ] + [{"lon": "500", "lat": "50"}]
    if route == "/api/v1/labels":
        box = ",".join(map(str, REGION_BBOX))
        return [{"zoom": str(z), "bbox": box} for z in (6, 8, 10)] + [
            {"zoom": "12", "bbox": BOX_AMIENS},
            {"zoom": "9", "bbox": BOX_AMIENS, "focus": commune},
            {"zoom": "40"},
        ]
    if route == "/api/v1/legend":
        legends = [{"layer": layer} for layer in [*samples.layers, "inconnue"]]
        return legends + [
            {"layer": name} | coverage for name in samples.coverage_layers for coverage in COVERAGE_SETS[1:]
        ]
    if route == "/oembed":
        return [
            {"url": f"{ORIGIN}/carte"},
            {"url": f"{ORIGIN}/embed?territoire=epci:{epci}", "maxwidth": "600"},
            {"url": f"{ORIGIN}/territoires/departement/{departement}", "maxheight": "400"},
            {"url": "https://ailleurs.example/carte"},
            {"url": f"{ORIGIN}/carte", "format": "xml"},
        ]
    if route.endswith("/items") and route.startswith("/collections/"):
        return [{}]  # per collection, in _combine
    text_samples = {
        "/api/v1/geocode": [
            "64 communes dans le Sud-Artois",
            "Ville d'Amiens",
            "CC du Ternois",
            "62140",
            "Lille, Amiens et Senlis",
            "Quelque part",
        ],
        "/api/v1/geocode/suggest": ["quesn", "ami", "saint-", "80"],
    }
    simple: dict[str, str] = {
        "departement": departement,
        "epci": epci,
        "commune": commune,
        "arrondissement": arrondissement,
        "q": "épicerie",
        "year": "2023",
        "zoom": "8",
        "bbox": BOX_AMIENS,
        "properties": "code,name",
        "k": "3",
        "limit": "3",
        "place": "Amiens",
        "territory": f"epci:{epci}",
        "support": f"departement:{departement}",
        "context": "39% de taux de pauvreté à Creil",
        "axe": "4",
        "type": "epicerie_solidaire",
        "maxwidth": "600",
    }
    required = {name: p for name, p in parameters.items() if p.get("required")}
    base: dict[str, str] = {}
    for name in required:
        if name == "q" and route in text_samples:
            continue
        if name not in simple:
            return f"required parameter {name!r} has no sample"
        base[name] = simple[name]
    variants = [base]
    if route in text_samples:
        variants = [base | {"q": text} for text in text_samples[route]]
    for name, parameter in parameters.items():
        if name in required or name in COVERAGE_KEYS or name == "authorization":
            continue
        schema = parameter.get("schema", {})
        enum = schema.get("enum") or next((s["enum"] for s in schema.get("anyOf", []) if "enum" in s), None)
        if schema.get("const"):
            enum = [schema["const"], "xml"]
        if enum:
            variants += [base | {name: str(value)} for value in enum if value != schema.get("default")]
        elif _boolean(schema):
            variants.append(base | {name: "true"})
        elif name in simple:
            variants.append(base | {name: simple[name]})
    if "max_km" in parameters:
        costly = route.startswith(("/api/v1/maps/",))
        sets = [OTHER_COVERAGE, COVERAGE_SETS[-1]] if costly else COVERAGE_SETS[1:]
        variants += [base | coverage for coverage in sets]
    return list({json.dumps(v, sort_keys=True): v for v in variants}.values())


def _boolean(schema: dict) -> bool:
    return schema.get("type") == "boolean" or any(s.get("type") == "boolean" for s in schema.get("anyOf", []))


def _combine(
    route: str, paths: list[str], queries: list[dict[str, str]], samples: Samples
) -> Iterator[tuple[str, dict[str, str] | list[tuple[str, str]]]]:
    """Paths times query strings, with the costly families cut down: tiles get the defaults and, for the coverage
    layers, one other set; each collection's items its own examples."""
    if route == "/tiles/{layer}/{z}/{x}/{name}":
        for path in paths:
            yield path, {}
            if path.split("/")[2] in samples.coverage_layers and not path.endswith((".pbf", "@2x.png")):
                yield path, OTHER_COVERAGE
        return
    if "{tileMatrix}" in route:
        for path in paths:
            yield path, {}
            if path.split("/")[2] in samples.coverage_layers:
                yield path, OTHER_COVERAGE
        return
    if route == "/collections/{collectionId}/items":
        for path in paths:
            yield from ((path, query) for query in items_queries(path.split("/")[2], samples))
        return
    for path in paths:
        for query in queries:
            yield path, query


def items_queries(collection: str, samples: Samples) -> list[dict[str, str] | list[tuple[str, str]]]:
    """OGC API items of one collection: paging, boxes, CRS, sorting, properties, CQL2 and simple filters."""
    fields = samples.queryables.get(collection, set())
    queries: list[dict[str, str] | list[tuple[str, str]]] = [
        {},
        {"limit": "5"},
        {"limit": "5", "offset": "10"},
        {"limit": "2", "offset": "100000"},
        {"limit": "20", "bbox": BOX_AMIENS},
        {"limit": "20", "bbox": BOX_AMIENS_L93, "bbox-crs": L93},
        {"limit": "5", "crs": L93},
        {"limit": "5", "f": "html"},
        {"limit": "5", "f": "geojson"},
        {"limit": "5", "skipGeometry": "true"},
        {"limit": "0"},
        {"bbox": "1,2,3"},
        {"filter": "nonsense ((("},
        {"datetime": "2024-01-01T00:00:00Z", "limit": "5"},
    ]
    if "name" in fields:
        queries += [{"limit": "5", "sortby": "-name"}, {"limit": "5", "properties": "name"}]
        queries.append({"limit": "5", "filter": "name LIKE 'Saint-%'"})
    if "population" in fields:
        queries.append({"limit": "10", "filter": "population > 10000 AND departement = '80'", "sortby": "population"})
    if "departement" in fields:
        queries += [
            {"limit": "5", "departement": "80"},
            {
                "limit": "5",
                "filter-lang": "cql2-json",
                "filter": json.dumps({"op": "=", "args": [{"property": "departement"}, "80"]}),
            },
        ]
    queries.append({"limit": "10", "filter": "S_INTERSECTS(geometry, POINT(2.3 49.9))"})
    if collection in samples.coverage_layers:
        queries += [{"limit": "10"} | coverage for coverage in COVERAGE_SETS[1:]]
    return queries


# ---------------------------------------------------------------------------------------------------------------
# Running and reporting


@dataclass
class Outcome:
    check: Check
    before: Answer
    after: Answer
    differences: list[str]
    retries: int = 0


def run(checks: list[Check], before: str, after: str, options: argparse.Namespace, ignore: set[str]) -> list[Outcome]:
    def one(check: Check) -> Outcome:
        token = options.token if check.token else None
        for attempt in range(RETRIES + 1):
            a = fetch(before, check.path, check.method, check.body, token)
            b = fetch(after, check.path, check.method, check.body, token)
            if a.status == b.status or not {a.status, b.status} & BUSY or attempt == RETRIES:
                return Outcome(check, a, b, compare_answers(a, b, ignore, options.errors_shape_only), attempt)
            time.sleep(1 + attempt)
        raise AssertionError("unreachable")

    outcomes = []
    started = time.monotonic()
    with ThreadPoolExecutor(options.concurrency) as pool:
        for n, outcome in enumerate(pool.map(one, checks), 1):
            outcomes.append(outcome)
            if n % 250 == 0:
                print(f"  … {n}/{len(checks)} in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return outcomes


def report(title: str, outcomes: list[Outcome], skipped: list[str], show: int) -> bool:
    different = [o for o in outcomes if o.differences]
    statuses = Counter(o.after.status for o in outcomes)
    print(f"\n== {title}")
    print(f"compared   {len(outcomes):6d} URLs (after's statuses: {dict(sorted(statuses.items()))})")
    print(f"equal      {len(outcomes) - len(different):6d}")
    print(f"different  {len(different):6d}")
    print(f"skipped    {len(skipped):6d} route placeholders")
    retried = sum(1 for o in outcomes if o.retries)
    if retried:
        print(f"asked again {retried:5d} (one side busy: {', '.join(map(str, sorted(BUSY)))})")
    for line in skipped:
        print(f"  skipped: {line}")
    if different:
        print("differences by route:")
        for route, count in Counter(o.check.route for o in different).most_common():
            total = sum(1 for o in outcomes if o.check.route == route)
            print(f"  {count:5d} of {total:5d}  {route}")
        print(f"first {min(show, len(different))} differences (one per route first):")
        for outcome in _one_per_route_first(different)[:show]:
            print(f"  {outcome.check}  status {outcome.before.status} -> {outcome.after.status}")
            for line in outcome.differences:
                print(f"      {line}")
    return not different


def _one_per_route_first(outcomes: list[Outcome]) -> list[Outcome]:
    """The differences reordered so that each route's first comes before any route's second, and so on."""
    seen: Counter[str] = Counter()
    ranked = []
    for i, outcome in enumerate(outcomes):
        ranked.append((seen[outcome.check.route], i, outcome))
        seen[outcome.check.route] += 1
    return [outcome for _, _, outcome in sorted(ranked, key=lambda item: item[:2])]


def write_on_both(before: str, after: str, token: str, ignore: set[str]) -> list[Outcome]:
    """One project created then edited on each server; the write answers compared."""
    path = f"/api/v1/projects/{NEW_PROJECT['id']}"
    steps = [
        Check("POST /api/v1/projects", "/api/v1/projects", "POST", NEW_PROJECT, True),
        Check("PATCH /api/v1/projects/{project_id}", path, "PATCH", {"duration_years": 3}, True),
    ]
    outcomes = []
    for step in steps:
        a = fetch(before, step.path, step.method, step.body, token)
        b = fetch(after, step.path, step.method, step.body, token)
        outcomes.append(Outcome(step, a, b, compare_answers(a, b, ignore)))
        if a.status >= 300 or b.status >= 300:
            print(f"the write {step} answered {a.status} before, {b.status} after", file=sys.stderr)
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sides = parser.add_argument_group("the two sides: a checkout to start, or a running server's URL")
    sides.add_argument("--before", type=Path, help="checkout of the earlier tree (e.g. a git worktree)")
    sides.add_argument("--after", type=Path, default=REPO, help="checkout of the later tree (default: this one)")
    sides.add_argument("--before-url", help="a running server instead of --before, e.g. http://127.0.0.1:8001")
    sides.add_argument("--after-url", help="a running server instead of --after")
    parser.add_argument("--token", default=TOKEN, help="write token of running servers (for --write, history)")
    parser.add_argument("--concurrency", type=int, default=3, help="requests at once per server (default 3)")
    parser.add_argument("--tiles-per-zoom", type=int, default=12, help="tiles per layer at z9 and z10 (default 12)")
    parser.add_argument("--ignore-key", action="append", default=[], help="a JSON key to ignore too (repeatable)")
    parser.add_argument("--errors-shape-only", action="store_true", help="compare 4xx answers by status only")
    parser.add_argument("--write", action="store_true", help="then write a project on both and compare again")
    parser.add_argument("--show", type=int, default=15, help="differences shown in full (default 15)")
    options = parser.parse_args()
    if not (options.before or options.before_url):
        parser.error("give --before PATH (a checkout) or --before-url URL (a running server)")
    if options.concurrency < 1:
        parser.error(f"--concurrency must be at least 1, got {options.concurrency}")

    ignore = set(IGNORED_KEYS) | set(options.ignore_key)
    print("ignored JSON keys (values that differ between two processes of one tree):")
    for key, why in IGNORED_KEYS.items():
        print(f"  {key}: {why}")
    for key in options.ignore_key:
        print(f"  {key}: --ignore-key")
    node_modules = next((p for p in (options.after / "node_modules", REPO / "node_modules") if p.is_dir()), None)

    servers: list[Server] = []
    try:
        origins = []
        for url, tree in ((options.before_url, options.before), (options.after_url, options.after)):
            if url:
                origins.append(url.rstrip("/"))
            else:
                servers.append(Server(tree.resolve(), node_modules))
                origins.append(servers[-1])
        before, after = (o if isinstance(o, str) else o.wait() for o in origins)
        print(f"before: {options.before_url or options.before} at {before}")
        print(f"after:  {options.after_url or options.after} at {after}")
        openapi = get_json(after, "/openapi.json")
        checks, skipped = plan(openapi, gather_samples([after, before]), options.tiles_per_zoom)
        print(f"{len(checks)} requests planned from {len(openapi['paths'])} documented paths", flush=True)
        started = time.monotonic()
        outcomes = run(checks, before, after, options, ignore)
        same = report(f"answers ({time.monotonic() - started:.0f} s)", outcomes, skipped, options.show)

        if options.write:
            writes = write_on_both(before, after, options.token, ignore)
            checks, skipped = plan(openapi, gather_samples([after, before]), options.tiles_per_zoom)
            started = time.monotonic()
            outcomes = writes + run(checks, before, after, options, ignore)
            title = f"after a write ({time.monotonic() - started:.0f} s)"
            same = report(title, outcomes, skipped, options.show) and same
    finally:
        for server in servers:
            server.stop()
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
