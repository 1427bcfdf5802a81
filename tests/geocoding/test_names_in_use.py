"""Names people write for places, read right or asked about, never confidently wrong.

Expectations come from outside the geocoder: the COG file of the pinned source package (read here with tarfile and
json: current communes, communes déléguées and associées with their 'chefLieu', EPCI names), and
``names_in_use.csv``, a table written by a person (text as people write it, the unit meant, its official COG name,
the kind of name and why), whose codes this test checks against the COG before using them.
"""

from __future__ import annotations

import csv
import io
import json
import tarfile
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boundaries.sources import SourceFiles
from geo_service.geocoding import Geocoder
from geo_service.geocoding.text import normalize

TABLE = Path(__file__).with_name("names_in_use.csv")
REGION = "32"
DEPARTEMENTS = {"02": "Aisne", "59": "Nord", "60": "Oise", "62": "Pas-de-Calais", "80": "Somme"}


def _rows() -> list[dict[str, str]]:
    with TABLE.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def cog(source_files: SourceFiles) -> dict:
    """The COG as the package ships it: rows of communes.json and epci.json."""
    with tarfile.open(source_files.decoupage, "r:gz") as archive:
        tables = {}
        for name in ("communes", "epci"):
            member = archive.extractfile(f"package/data/{name}.json")
            assert member is not None
            tables[name] = json.load(io.TextIOWrapper(member, encoding="utf-8"))
    rows = tables["communes"]
    current = {r["code"]: r for r in rows if r["type"] == "commune-actuelle" and r.get("region") == REGION}
    former = [
        r
        for r in tables["communes"]
        if r["type"] in ("commune-deleguee", "commune-associee")
        and r["chefLieu"] in current
        and r["nom"] != current[r["chefLieu"]]["nom"]
    ]
    return {"current": current, "former": former, "epci": {r["code"]: r["nom"] for r in tables["epci"]}}


def test_the_table_has_every_kind_and_enough_names() -> None:
    rows = _rows()
    assert len(rows) >= 60
    kinds = {row["kind"] for row in rows}
    assert {"former", "short", "departement", "homonym", "acronym", "epci_usual", "epci_spelling", "typo"} <= kinds
    assert all(row["source"].strip() for row in rows)


def test_the_table_s_codes_are_those_of_the_cog(cog: dict) -> None:
    for row in _rows():
        level, codes = row["expected"].split(":")
        for code, official in zip(codes.split("|"), row["official"].split("|"), strict=True):
            names = cog["epci"] if level == "epci" else {c: r["nom"] for c, r in cog["current"].items()}
            assert names.get(code) == official, row


@pytest.mark.parametrize("row", _rows(), ids=lambda row: row["text"])
def test_names_in_use(geocoder: Geocoder, row: dict[str, str]) -> None:
    result = geocoder.geocode(row["text"])
    level, codes = row["expected"].split(":")
    if level == "ask":
        expected = codes.split("|")
        assert result.to_confirm and result.question, row
        assert result.units[0].code in expected
        assert set(expected) <= {c.code for c in result.candidates}
        assert all(c.why for c in result.candidates)
    else:
        assert [(u.level, u.code) for u in result.units] == [(level, codes)], (row, result.notes)
        assert not result.to_confirm and result.unresolved == [], (row, result.question)


def test_former_communes_of_the_cog_name_their_current_commune(geocoder: Geocoder, cog: dict) -> None:
    """Every commune déléguée or associée of the région is read as its current commune, and the note says so;
    a name several places share is asked about, with the current commune among the candidates."""
    kinds = {"commune-deleguee": "commune déléguée", "commune-associee": "commune associée"}
    assert len(cog["former"]) > 90
    for row in cog["former"]:
        current = row["chefLieu"]
        result = geocoder.geocode(row["nom"])
        if result.to_confirm:
            assert current in {c.code for c in result.candidates}, row
        else:
            assert [u.code for u in result.units] == [current], (row, result.notes)
            assert any(kinds[row["type"]] in note and row["nom"] in note for note in result.notes), result.notes


def test_lomme_note_says_it_is_a_part_of_lille(geocoder: Geocoder) -> None:
    assert "Lomme, commune associée de Lille" in geocoder.geocode("Lomme").notes


def test_a_former_name_ending_with_a_departement_is_never_that_departement(geocoder: Geocoder, cog: dict) -> None:
    """Names like Méricourt-sur-Somme were read as a commune plus the whole Somme, with confidence 1.0."""
    folded = {normalize(name): code for code, name in DEPARTEMENTS.items()}
    ending = [r for r in cog["former"] if normalize(r["nom"].split("-")[-1]) in folded]
    assert ending, "the COG has such names in the région"
    for row in ending:
        result = geocoder.geocode(row["nom"])
        assert all(u.level != "departement" for u in result.units), (row, result.units)
    # a made-up one, that no name has: the département inside it is not a place either
    for text in ("Xyzville-sur-Somme", "Trucmuche-en-Aisne", "Bidule-sur-Oise"):
        result = geocoder.geocode(text)
        assert all(u.level != "departement" for u in result.units) and len(result.communes) <= 1, text


def _names_of_the_region(cog: dict) -> dict[str, set[str]]:
    """Folded name -> the current communes it names (their own name, or that of a former commune of theirs)."""
    owners: dict[str, set[str]] = defaultdict(set)
    for code, row in cog["current"].items():
        owners[normalize(row["nom"])].add(code)
    for row in cog["former"]:
        owners[normalize(row["nom"])].add(row["chefLieu"])
    return owners


def test_no_exact_name_of_the_region_is_read_as_another_commune(geocoder: Geocoder, cog: dict) -> None:
    """Every current and former commune name: the first reading is that commune, or, for a name several communes
    share, a question listing them all; never another commune, never a fuzzy neighbour."""
    owners = _names_of_the_region(cog)
    wrong = []
    for code, row in cog["current"].items():
        result = geocoder.geocode(row["nom"])
        sharing = owners[normalize(row["nom"])]
        first = result.units[0].code if result.units else None
        if len(sharing) == 1:
            ok = first == code and not result.to_confirm
        else:
            ok = first in sharing and result.to_confirm and sharing <= {c.code for c in result.candidates}
        if not ok:
            wrong.append((row["nom"], code, first, result.question))
    assert wrong == []


@pytest.fixture(scope="module")
def every_name(cog: dict) -> list[tuple[str, frozenset[str]]]:
    owners = _names_of_the_region(cog)
    names = [row["nom"] for row in cog["current"].values()] + [row["nom"] for row in cog["former"]]
    return [(name, frozenset(owners[normalize(name)])) for name in sorted(set(names))]


def _written(name: str, case: str, hyphens: bool, ville: bool) -> str:
    """The name as people type it: any case, hyphens as spaces, 'Ville de' in front."""
    text = name.replace("-", " ") if hyphens else name
    text = {"upper": text.upper(), "lower": text.lower()}.get(case, text)
    return f"Ville de {text}" if ville and not name.startswith(("Le ", "La ", "Les ", "L'")) else text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_every_commune_name_as_typed_reads_that_commune_or_asks(
    geocoder: Geocoder, every_name: list[tuple[str, frozenset[str]]], data: st.DataObject
) -> None:
    name, communes = data.draw(st.sampled_from(every_name))
    text = _written(
        name,
        data.draw(st.sampled_from(["as is", "upper", "lower"])),
        data.draw(st.booleans()),
        data.draw(st.booleans()),
    )
    result = geocoder.geocode(text)
    assert result.units, text
    first = result.units[0]
    assert first.level == "commune" and first.code in communes, (text, first, result.notes)
    if len(communes) > 1:
        assert result.to_confirm and communes <= {c.code for c in result.candidates}, text


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("Hazebrouckois", {"Hazebrouck"}),  # more than a typo from Hazebrouck: a question, not a reading
        ("Boulogne-sur-Helppe", {"Boulogne-sur-Mer", "Boulogne-sur-Helpe"}),  # misspelt, not Boulogne + a complement
    ],
)
def test_a_doubtful_spelling_is_asked_not_read(geocoder: Geocoder, cog: dict, text: str, asked: set[str]) -> None:
    codes = {code for code, row in cog["current"].items() if row["nom"] in asked}
    assert len(codes) == len(asked)  # one commune of each name in the COG
    result = geocoder.geocode(text)
    assert result.to_confirm and result.question and codes <= {c.code for c in result.candidates}
    assert all(u.confidence < 0.9 for u in result.units)
