"""GET /api/v1/geocode: the documented shape, and clear refusals."""

from fastapi.testclient import TestClient


def test_answer_has_exactly_the_documented_fields(client: TestClient) -> None:
    body = client.get("/api/v1/geocode", params={"q": "64 communes dans le Sud-Artois"}).json()
    assert set(body) == {"query", "units", "communes", "unresolved", "notes", "candidates", "to_confirm", "question"}
    assert body["candidates"] == [] and body["to_confirm"] is False and body["question"] is None
    assert body["query"] == "64 communes dans le Sud-Artois"
    assert body["units"] == [
        {"level": "epci", "code": "200035442", "name": "CC du Sud Artois", "confidence": 0.95, "matched": "Sud-Artois"}
    ]
    assert len(body["communes"]) == 64 and body["unresolved"] == []  # the brochure's 64, the CC's in the COG 2026


def test_context_decides_a_homonym(client: TestClient) -> None:
    params = {"q": "Senlis", "context": "une commune du Pas-de-Calais"}
    assert client.get("/api/v1/geocode", params=params).json()["communes"] == ["62790"]


def test_two_places_that_fit_are_asked_about(client: TestClient) -> None:
    # the COG has a Senlis in the Oise (60612) and one in the Pas-de-Calais (62790)
    body = client.get("/api/v1/geocode", params={"q": "Senlis"}).json()
    assert body["to_confirm"] is True and body["question"] == "Senlis (60) ou Senlis (62) ?"
    assert [(c["code"], c["departement"]) for c in body["candidates"]] == [("60612", "60"), ("62790", "62")]
    assert all(c["why"] and c["level"] == "commune" and c["name"] == "Senlis" for c in body["candidates"])
    decided = client.get("/api/v1/geocode", params={"q": "Senlis (62)"}).json()
    assert decided["communes"] == ["62790"] and decided["to_confirm"] is False and decided["candidates"] == []


def test_nothing_resolved_is_a_200_with_the_text_unresolved(client: TestClient) -> None:
    response = client.get("/api/v1/geocode", params={"q": "Participation & Fraternit"})
    assert response.status_code == 200
    assert response.json()["units"] == [] and response.json()["unresolved"] == ["Participation", "Fraternit"]


def test_empty_blank_and_overlong_queries_are_422(client: TestClient) -> None:
    for q in ["", "   ", "a" * 501]:
        response = client.get("/api/v1/geocode", params={"q": q})
        assert response.status_code == 422, q
        assert "q" in str(response.json()["detail"])
    assert client.get("/api/v1/geocode").status_code == 422
    assert client.get("/api/v1/geocode", params={"q": "a" * 500}).status_code == 200


def test_suggestions_come_from_the_geocoder_s_gazetteer(client: TestClient) -> None:
    labels = [s["label"] for s in client.get("/api/v1/geocode/suggest", params={"q": "amie"}).json()]
    assert labels[0] == "Amiens (80), commune"  # the town before the arrondissement and the EPCI named after it
    somme = client.get("/api/v1/geocode/suggest", params={"q": "Somme", "limit": 3}).json()
    assert (somme[0]["level"], somme[0]["code"]) == ("departement", "80")
    caph = client.get("/api/v1/geocode/suggest", params={"q": "CAPH"}).json()
    assert [(s["code"], s["kind"]) for s in caph] == [("200042190", "acronym")]
    # 22 communes share the postcode 62140 (La Poste's list in the COG package): the limit holds
    postcode = client.get("/api/v1/geocode/suggest", params={"q": "62140", "limit": 20}).json()
    assert len(postcode) == 20 and all(s["matched"] == "62140" and s["level"] == "commune" for s in postcode)
    # a word inside the name counts: "quesnoy" finds Le Quesnoy
    assert "59481" in {s["code"] for s in client.get("/api/v1/geocode/suggest", params={"q": "quesnoy"}).json()}
    assert client.get("/api/v1/geocode/suggest", params={"q": "zzzz"}).json() == []


def test_suggestions_forgive_a_typo_a_missing_word_and_an_abbreviation(client: TestClient) -> None:
    def codes(q: str) -> list[str]:
        return [s["code"] for s in client.get("/api/v1/geocode/suggest", params={"q": q}).json()]

    assert codes("abbevile")[0] == "80001"  # Abbeville, one letter missing
    assert codes("CC Ternois")[0] == "200069672"  # CC du Ternois, "du" left out
    assert codes("st quentin")[0] == "02691"  # Saint-Quentin (Aisne), the most populous of the two
    lomme = client.get("/api/v1/geocode/suggest", params={"q": "lomme"}).json()[0]
    assert (lomme["code"], lomme["kind"], lomme["label"]) == ("59350", "former", "Lille (59), commune — Lomme")


def test_suggest_parameters_are_checked(client: TestClient) -> None:
    assert client.get("/api/v1/geocode/suggest", params={"q": ""}).status_code == 422
    assert client.get("/api/v1/geocode/suggest", params={"q": "a", "limit": 99}).status_code == 422
