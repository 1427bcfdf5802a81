"""Each brochure project's reach, read by a person from what the brochure says it does.

``direct``: people get food, vouchers or a shop/van stop where it acts. ``support``: it helps other actors. The
phrase quoted for each project is the brochure's own words that decide it (name or actions); the derivation must
find the same reading and name a word from that phrase.
"""

from __future__ import annotations

import pytest

from geo_service.projects.catalogue import ProjectCatalogue, build_project
from geo_service.projects.derive import derive_reach, read_reach
from geo_service.projects.models import ProjectRecord
from geo_service.service import ServiceData

BROCHURE_READING = {
    "nutri-cheques": ("direct", "chèques alimentaires"),
    "la-cocotte-en-action": ("direct", "préparation de repas"),
    "partage-et-aide-alimentaire": ("support", "coordination"),  # supplies associations and épiceries
    "epicerie-solidaire-fixe-et-mobile": ("direct", "épicerie"),
    "projet-alimentaire-social-et-solidaire": ("direct", "bons d'achats"),
    "approvisionnement-produits-locaux-andes": ("support", "acheminement"),  # logistics for associations
    "approvisionnement-produits-locaux-solaal": ("support", "diagnostic"),
    "agriculture-alimentation-proximite": ("direct", "carte prépayée"),
    "croix-rouge-sur-roues-aisne": ("direct", "sur roues"),
    "mieux-manger-pour-tous-dunkerque": ("direct", "paniers solidaires"),
    "epicerie-solidaire-mixte-itinerante": ("direct", "épicerie solidaire"),
    "espace-promotion-alimentation-locale": ("support", "étude"),  # a study and a space of exchanges, no shop yet
    "circuits-courts-solidaires": ("direct", "épicerie"),
    "mieux-manger-pour-tous-sambre-avesnois": ("support", "concertation"),
    "alimentation-bio-locale-pour-tous": ("direct", "livraison de paniers"),
    "groupements-achats-participatifs": ("direct", "groupements d'achats"),
    "epicerie-solidaire-itinerante-est-somme": ("direct", "épicerie"),
    "paniers-locaux-et-solidaires": ("direct", "paniers"),
    "bien-manger-rural-et-local": ("direct", "l'épicerie propose"),
    "solidarite-bien-etre-alimentaire": ("support", "coordonn"),
    "coordination-organisations-caritatives": ("support", "coordin"),
    # "espaces nourriciers" for the inhabitants and "accès à des produits durables en circuits courts et à bas prix"
    "acces-alimentation-de-qualite": ("direct", "bas prix"),
    "ecole-des-ambassadeurs": ("support", "formation"),
    "anti-gaspi-solidaire": ("direct", "accéder à des paniers"),
    "formation-des-benevoles-associatifs": ("support", "formation"),
    "diagnostics-volet-transport": ("support", "diagnostic"),
    "ecosysteme-solidarites-alimentaires": ("support", "cartographie"),
    "alliances-locales-des-solidarites": ("support", "alliances"),
}


def test_the_reading_covers_every_project(catalogue: ProjectCatalogue) -> None:
    assert set(BROCHURE_READING) == set(catalogue.projects)


@pytest.mark.parametrize("project_id", sorted(BROCHURE_READING))
def test_reach_follows_the_brochure(catalogue: ProjectCatalogue, project_id: str) -> None:
    reach, phrase = BROCHURE_READING[project_id]
    project = catalogue.projects[project_id]
    assert project.reach == reach and project.reach_source == "derived"
    # each entry is a word found ("coordin") or a kind with its words ("paniers (livraison de paniers)")
    assert any(entry in phrase or phrase in entry for entry in project.derivation["reach"]), project.derivation


@pytest.mark.parametrize(
    ("text", "reach"),
    [
        # what partners write that the brochure does not: distribution, restaurants, vouchers, vans
        ("Ouverture d'un restaurant solidaire en centre-bourg", "direct"),
        ("Distribution de colis alimentaires chaque semaine", "direct"),
        ("Tournée d'un camion-épicerie itinérante dans 12 villages", "direct"),
        ("Bons d'achats pour les familles", "direct"),
        # supplying or organising others is support, even when food is named
        ("Livraisons dans les associations ou épiceries du secteur", "support"),
        ("Assurer la distribution des produits aux structures d'aide alimentaire", "support"),
        ("Formation des bénévoles des épiceries", "support"),
        ("Étude de faisabilité d'un tiers-lieu", "support"),
    ],
)
def test_reach_of_texts_beyond_the_brochure(text: str, reach: str) -> None:
    assert derive_reach([text])[0] == reach


def test_a_person_can_override_reach_and_axes(service_data: ServiceData) -> None:
    record = ProjectRecord.model_validate(
        {
            "id": "test-override",
            "organisation": "Association test",
            "name": "Espace de promotion de l'alimentation locale",
            "duration_years": 2,
            "place_text": "Ville d'Amiens",
            "actions": ["Étude exploratoire"],
            "curation": {
                "reach": {"value": "direct", "note": "the space opened as a shop in 2025"},
                "axes": {"values": [2, 4], "note": "inside the PAT of Amiens Métropole"},
            },
        }
    )
    project, _ = build_project(record, service_data.boundaries, service_data.geocoder)
    assert (project.reach, project.reach_source, project.reach_note) == (
        "direct",
        "manual",
        "the space opened as a shop in 2025",
    )
    assert (project.axes, project.axes_source) == ([2, 4], "manual")
    assert project.derivation["reach"] == ["étude"]  # what the words alone said stays visible


def test_a_project_working_in_pat_territories_is_axis_2(catalogue: ProjectCatalogue) -> None:
    # place text: "9 territoires labellisés projets alimentaires de territoires"
    assert 2 in catalogue.projects["formation-des-benevoles-associatifs"].axes


def test_a_project_no_direct_rule_recognises_is_to_classify_not_silently_support() -> None:
    # the brochure's "Sensibilisation..."-like wording: no food handed out, no support words either
    bare = read_reach(["Sensibiliser les habitants au mieux vivre alimentaire"])
    assert (bare.reach, bare.to_classify) == ("support", True) and bare.why.startswith("à classer")
    helped = read_reach(["Coordination des acteurs de l'aide alimentaire"])
    assert helped.to_classify and "coordin" in helped.why
    shop = read_reach(["Création d'une épicerie solidaire"])
    assert not shop.to_classify and "épicerie solidaire" in shop.why


def test_bethune_bruay_reads_as_direct_with_the_brochure_s_words(catalogue: ProjectCatalogue) -> None:
    # brochure: "Mise en place de plusieurs espaces nourriciers", "accès à des produits durables en circuits courts
    # et à bas prix"
    reasons = " ".join(catalogue.projects["acces-alimentation-de-qualite"].derivation["reach"])
    assert "espaces nourriciers" in reasons and "bas prix" in reasons


def test_croix_rouge_sur_roues_is_a_mobile_distribution(catalogue: ProjectCatalogue) -> None:
    # brochure: "DÉPLOIEMENT DU DISPOSITIF CROIX-ROUGE SUR ROUES"
    project = catalogue.projects["croix-rouge-sur-roues-aisne"]
    assert "epicerie_mobile" in project.action_types and "formation" in project.action_types
    assert "sur roues" in project.derivation["epicerie_mobile"]


def test_served_projects_say_which_reach_a_person_must_decide(catalogue: ProjectCatalogue) -> None:
    """« à classer » on the served project while no person decided; a person's curation clears it."""
    training = catalogue.projects["formation-des-benevoles-associatifs"]  # brochure: training of volunteers
    assert training.reach == "support" and training.to_classify and training.to_classify.startswith("à classer")
    assert catalogue.projects["nutri-cheques"].to_classify is None  # chèques: direct access


def test_a_persons_reach_clears_to_classify(service_data: ServiceData) -> None:
    record = next(r for r in service_data.projects.records if r.id == "formation-des-benevoles-associatifs")
    decided = record.model_copy(
        update={"curation": record.curation.model_copy(update={"reach": {"value": "support", "note": "formation"}})}
    )
    decided = ProjectRecord.model_validate(decided.model_dump(mode="json"))
    project, _ = build_project(decided, service_data.boundaries, service_data.geocoder)
    assert project.reach_source == "manual" and project.to_classify is None
