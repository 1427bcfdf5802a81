"""Places as partners write them: neighbours, postcodes, EPCI initials and short names, pays of arrondissements.

Expectations come from outside the geocoder: neighbours from the polygons themselves (a shared border line between a
commune's outline and the territory's dissolved outline, computed here with shapely), postcodes from the COG file of
the pinned source package, EPCI codes from the COG (BANATIC SIREN).
"""

from __future__ import annotations

import io
import json
import tarfile

import pytest
import shapely

from boundaries.sources import SourceFiles
from geo_service.geocoding import Geocoder
from geo_service.territories import Boundaries

EST_DE_LA_SOMME = "200070985"


def _touching(boundaries: Boundaries, outline: shapely.Geometry, departements: set[str] | None = None) -> set[str]:
    """Communes (of those départements) whose outline shares a border line with ``outline``, outside it."""
    communes = boundaries.level("commune")
    if departements is not None:
        communes = communes[communes["departement"].isin(departements)]
    shared = shapely.intersection(shapely.boundary(communes.geometry.values), shapely.boundary(outline))
    inside = shapely.contains(outline, shapely.point_on_surface(communes.geometry.values))
    return set(communes["code"][(shapely.length(shared) > 0) & ~inside])


def test_communes_limitrophes_of_departements_touch_the_territory_named_before(
    geocoder: Geocoder, boundaries: Boundaries
) -> None:
    text = "Communauté de communes de l'est de la Somme et communes limitrophes de l'Aisne et de l'Oise"
    result = geocoder.geocode(text)
    assert result.units[0].code == EST_DE_LA_SOMME and result.unresolved == []
    epci = boundaries.level("epci").geometry[EST_DE_LA_SOMME]
    expected = _touching(boundaries, epci, {"02", "60"})
    added = {u.code for u in result.units[1:]}
    assert added == expected and len(expected) > 5
    assert all(u.level == "commune" and u.matched.startswith("communes limitrophes") for u in result.units[1:])
    note = next(n for n in result.notes if n.startswith("'communes limitrophes"))
    assert f"added {len(expected)} communes" in note
    name = boundaries.level("commune")["name"][sorted(expected)[0]]
    assert name in note  # the note lists what was added


@pytest.mark.parametrize(
    ("text", "centre"),
    [
        ("Amiens et communes limitrophes", "80021"),
        ("Amiens et ses communes voisines", "80021"),
        ("autour de Ham", "80410"),
        ("Senlis (Oise) et alentours", "60612"),
    ],
)
def test_a_place_and_its_neighbours(geocoder: Geocoder, boundaries: Boundaries, text: str, centre: str) -> None:
    result = geocoder.geocode(text)
    outline = boundaries.level("commune").geometry[centre]
    assert set(result.communes) == {centre} | _touching(boundaries, outline)
    assert result.unresolved == []


def test_amiens_neighbours_include_those_the_cog_lists(geocoder: Geocoder) -> None:
    # "communes limitrophes d'Amiens" as any atlas gives them, a few of them
    result = geocoder.geocode("communes limitrophes d'Amiens")
    names = {u.name for u in result.units}
    assert {"Longueau", "Camon", "Dury", "Rivery", "Salouël"} <= names and "Amiens" not in names


def _postcodes(source_files: SourceFiles) -> dict[str, set[str]]:
    with tarfile.open(source_files.decoupage, "r:gz") as archive:
        member = archive.extractfile("package/data/communes.json")
        assert member is not None
        rows = json.load(io.TextIOWrapper(member, encoding="utf-8"))
    users: dict[str, set[str]] = {}
    for row in rows:
        if row["type"] == "commune-actuelle" and row.get("region") == "32":
            for postcode in row.get("codesPostaux", []):
                users.setdefault(postcode, set()).add(row["code"])
    return users


@pytest.mark.parametrize("postcode", ["62140", "80090", "02000", "59000"])
def test_a_postcode_gives_every_commune_using_it(geocoder: Geocoder, source_files: SourceFiles, postcode: str) -> None:
    result = geocoder.geocode(postcode)
    assert set(result.communes) == _postcodes(source_files)[postcode]
    if len(result.communes) > 1:
        assert any(
            n.startswith(f"'{postcode}' is a postcode used by {len(result.communes)} communes") for n in result.notes
        )


def test_a_postcode_before_a_name_is_not_counted_twice(geocoder: Geocoder) -> None:
    result = geocoder.geocode("80000 Amiens")
    assert [(u.level, u.code) for u in result.units] == [("commune", "80021")]


@pytest.mark.parametrize(
    ("text", "epci"),
    [
        ("la CAPH", "200042190"),  # the brochure: "PAT CAPH", CA de la Porte du Hainaut
        ("CUD", "245900428"),  # CU de Dunkerque
        ("CAHC", "246200299"),  # CA d'Hénin-Carvin
        ("Grand Soissons", "240200477"),  # GrandSoissons Agglomération, written in two words
        ("Douaisis Agglo", "200044618"),
        ("Agglo du Boulonnais", "246200729"),
        ("Cœur-d'Ostrevent", "245901152"),
        ("Porte-du-Hainaut", "200042190"),
    ],
)
def test_epci_as_people_write_them(geocoder: Geocoder, text: str, epci: str) -> None:
    result = geocoder.geocode(text)
    assert [(u.level, u.code) for u in result.units] == [("epci", epci)] and result.unresolved == []


def test_shared_initials_are_decided_by_the_departement_named_nearby(geocoder: Geocoder) -> None:
    # CCSA: CC du Sud Artois (Pas-de-Calais) and CC du Sud Avesnois (Nord); the brochure's "CCSA" is the Sud-Artois
    assert [u.code for u in geocoder.geocode("CCSA", context="Pas-de-Calais").units] == ["200035442"]
    assert [u.code for u in geocoder.geocode("CCSA", context="Nord").units] == ["200043404"]


@pytest.mark.parametrize(("text", "code"), [("le Cambrésis", "592"), ("l'Avesnois", "591"), ("le Lensois", "627")])
def test_arrondissements_by_the_name_of_their_pays(geocoder: Geocoder, text: str, code: str) -> None:
    assert [(u.level, u.code) for u in geocoder.geocode(text).units] == [("arrondissement", code)]
