"""The 28 brochure projects: complete, placed in the right communes, and refused whole when a file is broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from geo_service.errors import DataError, InvalidInputError
from geo_service.projects.catalogue import ProjectCatalogue, ProjectFilters
from geo_service.projects.models import ProjectRecord
from geo_service.service import load_service_data
from geo_service.settings import REPO_DATA_DIR
from geo_service.territories import Boundaries
from tests.conftest import settings_for, sqlite_url

BROCHURE_FIELDS = (
    "organisation",
    "name",
    "duration_years",
    "place_text",
    "actions",
    "indicators",
    "partners",
    "objectives",
)


def test_all_28_projects_with_territories_and_communes(catalogue: ProjectCatalogue) -> None:
    assert len(catalogue.projects) == 28
    for project in catalogue.projects.values():
        assert project.territories, project.id
        assert project.communes, project.id
        for field in BROCHURE_FIELDS:
            assert getattr(project, field), (project.id, field)
        assert project.axes and set(project.axes) <= {1, 2, 3, 4}, project.id


def test_every_manual_territory_says_why(catalogue: ProjectCatalogue) -> None:
    manual = [t for p in catalogue.projects.values() for t in p.territories if t.source == "manual"]
    assert manual and all(t.note for t in manual)
    geocoded = [t for p in catalogue.projects.values() for t in p.territories if t.source == "geocoder"]
    assert geocoded and all(t.confidence and t.matched for t in geocoded)


# commune counts of the COG 2026: CC du Sud Artois 64, arrondissement de Montreuil 161, Nord 647 + Pas-de-Calais 887,
# the région 3782, CU de Dunkerque 17
@pytest.mark.parametrize(
    ("project_id", "units", "communes"),
    [
        ("espace-promotion-alimentation-locale", [("epci", "200035442")], 64),
        ("projet-alimentaire-social-et-solidaire", [("commune", "80489")], 1),
        ("la-cocotte-en-action", [("arrondissement", "624")], 161),
        ("groupements-achats-participatifs", [("departement", "59"), ("departement", "62")], 1534),
        ("alimentation-bio-locale-pour-tous", [("region", "32")], 3782),
        ("mieux-manger-pour-tous-dunkerque", [("epci", "245900428")], 17),
    ],
)
def test_projects_land_in_the_right_units(catalogue: ProjectCatalogue, project_id: str, units: list, communes: int):
    project = catalogue.get(project_id)
    assert [(t.level, t.code) for t in project.territories] == units
    assert len(project.communes) == communes


def test_lille_amiens_senlis_reaches_the_oise_senlis(catalogue: ProjectCatalogue) -> None:
    assert catalogue.get("anti-gaspi-solidaire").communes == ["59350", "60612", "80021"]


def test_map_points(catalogue: ProjectCatalogue, boundaries: Boundaries) -> None:
    longueau = catalogue.get("projet-alimentaire-social-et-solidaire").point
    assert longueau.source == "organisation_townhall" and longueau.commune == "80489"
    assert [longueau.lon, longueau.lat] == boundaries.level("commune").at["80489", "townhall"]
    aisne = catalogue.get("nutri-cheques")
    assert aisne.point.source == "area_point"
    assert catalogue.areas["nutri-cheques"].contains(__import__("shapely").Point(aisne.point.lon, aisne.point.lat))


def test_indicators_keep_the_words_and_read_the_figure(catalogue: ProjectCatalogue) -> None:
    indicator = catalogue.get("nutri-cheques").indicators[0]
    assert indicator.text == "18.4% de pauvreté dans le département du Nord"
    assert (indicator.value, indicator.unit, indicator.kind) == (18.4, "%", "poverty_rate")
    income = catalogue.get("coordination-organisations-caritatives").indicators
    assert [(i.kind, i.value) for i in income] == [
        ("poverty_rate", 22.1),
        ("unemployment_rate", 16.8),
        ("median_income", 19420.0),
    ]


def test_derived_fields_say_where_they_come_from(catalogue: ProjectCatalogue) -> None:
    mobile = catalogue.get("epicerie-solidaire-itinerante-est-somme")
    assert mobile.mobile and "epicerie_mobile" in mobile.action_types and 4 in mobile.axes
    assert mobile.derivation["mobile"] and mobile.derivation["epicerie_mobile"]
    assert catalogue.get("nutri-cheques").derivation["axe 2"] == ["pat"]  # « PAT de Thiérache » is a partner


@pytest.mark.parametrize(
    ("filters", "expected_in", "expected_out"),
    [
        (
            ProjectFilters(commune="80489"),
            "projet-alimentaire-social-et-solidaire",
            "agriculture-alimentation-proximite",
        ),
        (ProjectFilters(departement="02"), "croix-rouge-sur-roues-aisne", "projet-alimentaire-social-et-solidaire"),
        (ProjectFilters(epci="200035442"), "espace-promotion-alimentation-locale", "nutri-cheques"),
        (ProjectFilters(axe=4), "croix-rouge-sur-roues-aisne", "nutri-cheques"),
        (ProjectFilters(type="cheques_bons"), "nutri-cheques", "croix-rouge-sur-roues-aisne"),
        (ProjectFilters(q="CHEQUES alimentaires"), "nutri-cheques", "croix-rouge-sur-roues-aisne"),
    ],
)
def test_filters(catalogue: ProjectCatalogue, filters: ProjectFilters, expected_in: str, expected_out: str) -> None:
    found = {p.id for p in catalogue.search(filters)}
    assert expected_in in found and expected_out not in found


def test_region_wide_projects_reach_every_commune(catalogue: ProjectCatalogue) -> None:
    found = {p.id for p in catalogue.search(ProjectFilters(commune="62790"))}  # Senlis, Pas-de-Calais: 159 people
    assert "alimentation-bio-locale-pour-tous" in found and "anti-gaspi-solidaire" not in found


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        (ProjectFilters(departement="75"), "departement='75'"),
        (ProjectFilters(commune="8048"), "'8048'"),
        (ProjectFilters(axe=5), "axe=5"),
        (ProjectFilters(type="soupe"), "type='soupe'"),
    ],
)
def test_bad_filters_are_named(catalogue: ProjectCatalogue, filters: ProjectFilters, named: str) -> None:
    with pytest.raises(InvalidInputError, match=named.replace("(", r"\(")):
        catalogue.search(filters)


def _edit(data_copy: Path, filename: str, change) -> None:
    path = data_copy / "projects" / filename
    record = yaml.safe_load(path.read_text("utf-8"))
    change(record)
    path.write_text(yaml.safe_dump(record, allow_unicode=True), "utf-8")


def test_a_broken_record_stops_the_load_naming_file_and_field(data_copy: Path) -> None:
    _edit(data_copy, "01-nutri-cheques.yaml", lambda r: r.update(duration_years="trois"))
    with pytest.raises(DataError, match=r"01-nutri-cheques\.yaml.*duration_years"):
        load_service_data(settings_for(data_copy, sqlite_url(data_copy)))


def test_a_place_nobody_can_resolve_is_refused(data_copy: Path) -> None:
    _edit(data_copy, "01-nutri-cheques.yaml", lambda r: r.update(place_text="Quelque part"))
    with pytest.raises(DataError, match="nutri-cheques: nothing in 'Quelque part' resolves"):
        load_service_data(settings_for(data_copy, sqlite_url(data_copy)))


def test_an_unknown_manual_territory_is_refused(data_copy: Path) -> None:
    manual = {"territories": [{"level": "epci", "code": "200000000", "note": "test"}]}
    _edit(data_copy, "01-nutri-cheques.yaml", lambda r: r.update(curation=manual))
    with pytest.raises(DataError, match="no epci '200000000'"):
        load_service_data(settings_for(data_copy, sqlite_url(data_copy)))


def test_editing_a_project_changes_the_data_version(data_copy: Path, service_data) -> None:
    _edit(data_copy, "05-projet-alimentaire-social-et-solidaire.yaml", lambda r: r.update(duration_years=3))
    edited = load_service_data(settings_for(data_copy, sqlite_url(data_copy)))
    assert edited.version != service_data.version
    assert edited.projects.get("projet-alimentaire-social-et-solidaire").duration_years == 3


def test_committed_json_schema_is_current() -> None:
    committed = json.loads((REPO_DATA_DIR / "projects" / "project-record.schema.json").read_text("utf-8"))
    assert committed == ProjectRecord.model_json_schema(), "regenerate: geo-service project-schema > ..."
