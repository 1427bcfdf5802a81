"""The geocoder on the brochure's places (our own reading of them) and on what partners could type."""

from __future__ import annotations

import pytest

from geo_service.geocoding import Geocoder
from geo_service.geocoding.text import normalize
from geo_service.territories import Boundaries


def units(geocoder: Geocoder, text: str, context: str | None = None) -> list[tuple[str, str]]:
    return [(u.level, u.code) for u in geocoder.geocode(text, context).units]


# -- the brochure's places ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Département de l'Aisne", [("departement", "02")]),
        ("Ville de Longueau", [("commune", "80489")]),
        ("Ville d'Amiens", [("commune", "80021")]),
        ("Ville du Quesnoy", [("commune", "59481")]),  # Le Quesnoy, not Le Quesnoy-en-Artois
        ("Région Hauts-de-France", [("region", "32")]),
        ("Région Hauts-de-france", [("region", "32")]),
        ("Nord et Pas-de-Calais", [("departement", "59"), ("departement", "62")]),
        ("Communauté d'agglomération d'Hénin Carvin", [("epci", "246200299")]),
        ("Territoire du Montreuillois", [("arrondissement", "624")]),
        ("119 communes de la Somme Sud-Ouest", [("epci", "200071181")]),
        ("Les 100 communes de la communauté d'agglomération de Béthune Bruay", [("epci", "200072460")]),
    ],
)
def test_brochure_places(geocoder: Geocoder, text: str, expected: list[tuple[str, str]]) -> None:
    assert units(geocoder, text) == expected


def test_sud_artois_is_the_cc_whose_64_communes_match_the_text(geocoder: Geocoder) -> None:
    result = geocoder.geocode("64 communes dans le Sud-Artois")
    assert [(u.level, u.code, u.name) for u in result.units] == [("epci", "200035442", "CC du Sud Artois")]
    assert len(result.communes) == 64
    assert "the units found cover 64 communes, as the text says" in result.notes


def test_lille_amiens_senlis_is_three_communes_senlis_in_the_oise(geocoder: Geocoder) -> None:
    result = geocoder.geocode("Lille, Amiens et Senlis", context="39% de taux de pauvreté à Creil")
    assert result.communes == ["59350", "60612", "80021"]
    assert any("chose 60612 because the context names its département" in n for n in result.notes)
    # without context, population decides, and says so
    bare = geocoder.geocode("Lille, Amiens et Senlis")
    assert bare.communes == ["59350", "60612", "80021"]
    assert any("most populous" in n for n in bare.notes)


def test_valenciennois_et_denaisis_are_pays_names_with_their_sources(geocoder: Geocoder) -> None:
    result = geocoder.geocode("Valenciennois et Denaisis")
    assert [(u.level, u.code) for u in result.units] == [("arrondissement", "596"), ("epci", "200042190")]
    assert all(u.confidence < 1 for u in result.units)
    assert any("'Denaisis' is a pays name" in n and "BANATIC" in n for n in result.notes)


def test_a_direction_narrows_but_keeps_the_unit_with_lower_confidence(geocoder: Geocoder) -> None:
    result = geocoder.geocode("Sud du département du Nord et Valenciennois")
    nord = result.units[0]
    assert (nord.level, nord.code) == ("departement", "59") and nord.confidence < 0.7
    assert any("narrows Nord" in n for n in result.notes)


def test_unmappable_words_stay_unresolved_and_are_explained(geocoder: Geocoder) -> None:
    result = geocoder.geocode("Communes rurales et QPV de Beauvais")
    assert units(geocoder, "Communes rurales et QPV de Beauvais") == [("commune", "60057")]
    assert result.unresolved == ["Communes rurales", "QPV"]
    assert any("QPV" in n for n in result.notes)


def test_a_count_that_disagrees_is_reported(geocoder: Geocoder) -> None:
    result = geocoder.geocode("46 communes de l'Amandinois, du Denaisis et de l'Ostrevent")
    assert ("epci", "200042190") in [(u.level, u.code) for u in result.units]
    assert any(n.endswith("the text says 46") for n in result.notes)


@pytest.mark.parametrize("text", ["Participation & Fraternit", "9 territoires labellisés projets alimentaires"])
def test_nothing_resolved_gives_empty_units_and_the_text_back(geocoder: Geocoder, text: str) -> None:
    result = geocoder.geocode(text)
    assert result.units == [] and result.communes == []
    assert result.unresolved


# -- beyond the brochure -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Saint-Omer", [("commune", "62765")]),
        ("ST QUENTIN", [("commune", "02691")]),
        ("abbeville", [("commune", "80001")]),
        ("CC du Ternois", [("epci", "200069672")]),
        ("Communauté urbaine de Dunkerque", [("epci", "245900428")]),
        ("CA du Beauvaisis", [("epci", "200067999")]),
        ("le Vimeu", [("epci", "200070944")]),
        ("Pays de Bray", [("epci", "246000913")]),
        ("Dunkerque", [("commune", "59183")]),
        ("arrondissement de Lens", [("arrondissement", "627")]),
        ("Lens", [("commune", "62498")]),
        ("la Somme", [("departement", "80")]),
        ("Cambrésis et Avesnois", [("arrondissement", "592"), ("arrondissement", "591")]),
        ("Thiérache", [("arrondissement", "025")]),
        ("Calaisis, Audomarois", [("arrondissement", "626"), ("arrondissement", "625")]),
        ("Picardie", [("departement", "02"), ("departement", "60"), ("departement", "80")]),
        ("Métropole lilloise", [("epci", "200093201")]),
        ("Compiègne, Oise", [("commune", "60159")]),
        ("Senlis (Pas-de-Calais)", [("commune", "62790")]),
        ("Estrées (Aisne)", [("commune", "02291")]),
    ],
)
def test_other_places_partners_could_type(geocoder: Geocoder, text: str, expected: list[tuple[str, str]]) -> None:
    assert units(geocoder, text) == expected


def test_bassin_minier_is_seven_agglomerations(geocoder: Geocoder) -> None:
    result = geocoder.geocode("Bassin minier")
    assert len(result.units) == 7 and {u.level for u in result.units} == {"epci"}
    assert len([n for n in result.notes if "pays name" in n]) == 1


@pytest.mark.parametrize(
    ("typed", "code"),
    [("Abeville", "80001"), ("Valencienne", "59606"), ("Dunkerke", "59183"), ("Bethunne", "62119")],
)
def test_misspellings_are_read_and_said(geocoder: Geocoder, typed: str, code: str) -> None:
    result = geocoder.geocode(typed)
    assert [u.code for u in result.units] == [code]
    assert result.units[0].confidence < 0.8
    assert any(f"'{typed}' read as" in n for n in result.notes)


@pytest.mark.parametrize("typed", ["Amein", "Lile", "xyzzy", "Paris"])
def test_no_wild_guesses(geocoder: Geocoder, typed: str) -> None:
    result = geocoder.geocode(typed)
    assert result.units == [] and result.unresolved == [typed]


def test_homonym_with_departement_in_context(geocoder: Geocoder) -> None:
    assert units(geocoder, "Senlis", context="dans le Pas-de-Calais") == [("commune", "62790")]
    assert units(geocoder, "Senlis", context="dans l'Oise") == [("commune", "60612")]


def test_communes_are_the_union_of_the_units(geocoder: Geocoder, boundaries: Boundaries) -> None:
    result = geocoder.geocode("Nord et Pas-de-Calais")
    communes = boundaries.level("commune")
    assert result.communes == sorted(communes[communes["departement"].isin(["59", "62"])]["code"])


def test_every_commune_name_finds_a_commune_of_that_name(geocoder: Geocoder, boundaries: Boundaries) -> None:
    communes = boundaries.level("commune")
    sample = communes  # all 3782 of them: a second or so
    for code, name in zip(sample["code"], sample["name"], strict=True):
        found = geocoder.geocode(f"Ville de {name}").units
        assert found and found[0].level == "commune", name
        # Abbécourt (Aisne) and Abbecourt (Oise) fold to one name: a homonym like any other
        assert normalize(communes.at[found[0].code, "name"]) == normalize(name), (code, name)
