"""Spreadsheet import with review, on SQLite and PostGIS: an officer's file (semicolon CSV in Windows-1252, French
headers) previewed, fixed and committed; all or nothing; concurrent and repeated commits; every bad input refused in
French with nothing written; XLSX; and the officers' export re-imported with zero changes.

Expected values come from what each test writes into its file (and the brochure, for the duplicate)."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR
from tests.conftest import settings_for

TOKEN = {"Authorization": "Bearer s3cret-dreets-token-1"}
CSV = {"Content-Type": "text/csv"}
BROCHURE = Path(__file__).resolve().parents[3] / "shared" / "seed" / "faad-hauts-de-france-brochure.txt"
HEADERS = ["Porteur", "Intitulé du projet", "Lieu d'intervention", "Montant accordé", "Année", "Durée", "Statut",
           "Date de fin", "Actions", "Commentaire"]  # fmt: skip


def brochure_first_project() -> tuple[str, str]:
    """The porteur and the name of the brochure's first project, as the brochure writes them."""
    text = BROCHURE.read_text("utf-8")
    found = re.search(r"\n([^\n]+)\n+NOM DU PROJET: ([^\n]+)\n", text)
    assert found, "the brochure names its projects with 'NOM DU PROJET:'"
    return found.group(1).strip(), found.group(2).strip()


def officer_rows() -> list[dict]:
    """Ten rows as an officer types them, with what each cell means (what the test expects back)."""
    porteur, nom = brochure_first_project()
    rows = [
        ("Épicerie du Santerre", "Épicerie solidaire d'Albert et Péronne", "Albert et Péronne", "12 000 €", 12000.0,
         "2024", [2024], "2 ans", 2, "en cours", "active", "", None, "Épicerie solidaire fixe\nDistribution de colis"),
        ("Secours solidaire du Laonnois", "Colis alimentaires du Laonnois", "Lieu à préciser", "4500", 4500.0,
         "2024", [2024], "1", 1, "prévue", "planned", "", None, "Distribution de colis alimentaires"),
        (porteur, nom, "Département de l'Aisne", "5 000", 5000.0, "2023", [2023], "3 ans", 3, "en cours", "active",
         "", None, "Chèques alimentaires"),
        ("Association Beauvais Solidaire", "Paniers solidaires du Beauvaisis", "Beauvais", "8 500,50", 8500.5,
         "2023, 2024", [2023, 2024], "18 mois", 2, "en cours", "active", "", None, "Distribution de paniers"),
        ("Restos du Ponthieu", "Épicerie mobile d'Abbeville", "Abbeville", "15000", 15000.0, "AAP 2025", [2025],
         "2", 2, "prévue", "planned", "", None, "Épicerie solidaire itinérante"),
        ("Banque alimentaire d'Arras", "Cuisine partagée d'Arras", "Arras", "3 200,00 €", 3200.0, "2023-2024",
         [2023, 2024], "2 ans", 2, "terminée", "ended", "31/12/2024", date(2024, 12, 31), "Ateliers cuisine"),
        ("Association Vimeu Solidaire", "Épicerie itinérante du Vimeu", "Communauté de communes du Vimeu",
         "20 000", 20000.0, "2024", [2024], "3", 3, "en cours", "active", "", None, "Épicerie solidaire itinérante"),
        ("Entraide dunkerquoise", "Distribution solidaire de Dunkerque", "Ville de Dunkerque", "9 999,99",
         9999.99, "2025", [2025], "1 an", 1, "prévue", "planned", "", None, "Distribution de repas"),
        ("Collectif saint-quentinois", "Jardin et épicerie de Saint-Quentin", "Saint-Quentin", "7 000", 7000.0,
         "2024", [2024], "24 mois", 2, "en cours", "active", "", None, "Épicerie solidaire"),
        ("Compiègne Entraide", "Paniers de Compiègne", "Compiègne", "6 000", 6000.0, "2024", [2024], "2", 2,
         "en cours", "active", "", None, "Distribution de paniers"),
    ]  # fmt: skip
    keys = ("porteur", "nom", "lieu", "montant", "amount", "annee", "years", "duree", "duration", "statut", "status",
            "fin", "end", "actions")  # fmt: skip
    return [dict(zip(keys, row, strict=True)) for row in rows]


UNREADABLE_LINE, DUPLICATE_LINE = 3, 4  # the header is line 1: rows 2 and 3 of officer_rows()
# the communes the places of the rows name, in the COG (Albert, Beauvais, Abbeville, Arras, Dunkerque...)
COMMUNE_OF_LINE = {2: "80016", 5: "60057", 6: "80001", 7: "62041", 9: "59183", 10: "02691", 11: "60159"}


def officer_csv(rows: list[dict]) -> bytes:
    """A semicolon CSV in Windows-1252, as Excel writes « CSV (séparateur : point-virgule) » on a French Windows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    for r in rows:
        writer.writerow([r["porteur"], r["nom"], r["lieu"], r["montant"], r["annee"], r["duree"], r["statut"],
                         r["fin"], r["actions"], "vu en comité"])  # fmt: skip
    return buffer.getvalue().encode("windows-1252")


def simple_csv(*rows: tuple[str, str, str], extra: str = "") -> bytes:
    lines = ["Porteur;Intitulé;Lieu d'intervention" + (";Contact" if extra else "")]
    lines += [";".join(row) + (f";{extra}" if extra else "") for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


@pytest.fixture(scope="module")
def store(new_store: Callable[[], str]) -> str:
    return new_store()


@pytest.fixture(scope="module")
def app(store: str) -> Iterator[TestClient]:
    settings = settings_for(REPO_DATA_DIR, store, admin_tokens={"dreets": "s3cret-dreets-token-1"})
    with TestClient(create_app(settings)) as client:
        yield client


def ids(client: TestClient) -> set[str]:
    return {feature["id"] for feature in client.get("/api/v1/projects").json()["features"]}


def upload(client: TestClient, content: bytes, name: str = "laureats-2024.csv", **kwargs) -> object:
    return client.post(f"/api/v1/imports?filename={name}", content=content, headers=TOKEN | CSV, **kwargs)


def reached(client: TestClient, commune: str) -> set[str]:
    return {p["id"] for p in client.get(f"/api/v1/coverage/communes/{commune}").json()["projects"]}


def test_officer_file_preview_fix_commit(app: TestClient) -> None:
    rows = officer_rows()
    before = ids(app)
    coverage_before = {line: reached(app, code) for line, code in COMMUNE_OF_LINE.items()}
    response = upload(app, officer_csv(rows))
    assert response.status_code == 201, response.text
    preview = response.json()
    assert response.headers["location"] == f"/api/v1/imports/{preview['id']}"
    assert (preview["format"], preview["encoding"], preview["delimiter"]) == ("csv", "windows-1252", ";")
    assert preview["columns"] == HEADERS
    assert preview["mapping"] == {
        "Porteur": "organisation", "Intitulé du projet": "name", "Lieu d'intervention": "place_text",
        "Montant accordé": "amount_eur", "Année": "funding_years", "Durée": "duration_years", "Statut": "status",
        "Date de fin": "end_date", "Actions": "actions", "Commentaire": None,
    }  # fmt: skip
    assert preview["summary"]["rows"] == 10 and preview["summary"]["errors"] == 1
    by_line = {row["row"]: row for row in preview["rows"]}
    assert sorted(by_line) == list(range(2, 12))
    unreadable = by_line[UNREADABLE_LINE]
    assert unreadable["state"] == "error" and unreadable["action"] is None
    [problem] = unreadable["errors"]
    assert problem["column"] == "Lieu d'intervention" and "Lieu à préciser" in problem["message"]
    assert problem["message"].startswith(f"ligne {UNREADABLE_LINE}, colonne « Lieu d'intervention »")
    duplicate = by_line[DUPLICATE_LINE]
    assert duplicate["excluded"] and duplicate["state"] == "excluded"
    assert [d["id"] for d in duplicate["duplicates"]] == ["nutri-cheques"]
    albert = by_line[2]
    assert albert["state"] == "ok" and albert["action"] == "create"
    assert {u["name"] for u in albert["reading"]["units"]} == {"Albert", "Péronne"}
    assert albert["reading"]["communes"] == 2 and albert["reading"]["source"] == "geocoder"
    assert ids(app) == before  # nothing is written before the commit

    # a commit with a row still in error is refused, naming it
    refused = app.post(f"/api/v1/imports/{preview['id']}/commit", headers=TOKEN)
    assert refused.status_code == 422 and f"ligne {UNREADABLE_LINE}" in refused.json()["detail"]
    assert ids(app) == before

    fixed = app.patch(
        f"/api/v1/imports/{preview['id']}", json={"rows": {str(UNREADABLE_LINE): {"place_text": "Ville de Laon"}}},
        headers=TOKEN,
    )  # fmt: skip
    assert fixed.status_code == 200, fixed.text
    row = next(r for r in fixed.json()["rows"] if r["row"] == UNREADABLE_LINE)
    assert row["state"] == "ok" and [u["name"] for u in row["reading"]["units"]] == ["Laon"]
    assert app.get(f"/api/v1/imports/{preview['id']}", headers=TOKEN).json()["summary"]["errors"] == 0

    committed = app.post(f"/api/v1/imports/{preview['id']}/commit", headers=TOKEN)
    assert committed.status_code == 200, committed.text
    result = committed.json()
    assert (result["created"], result["updated"], result["unchanged"]) == (9, 0, 0)
    assert result["filename"] == "laureats-2024.csv"
    after = ids(app)
    assert after - before == set(result["projects"]) and len(after) == len(before) + 9

    # every record holds what the file says
    records = {row["row"]: row["record"]["id"] for row in fixed.json()["rows"]}
    for line, written in enumerate(rows, start=2):
        if line == DUPLICATE_LINE:
            continue
        project = app.get(f"/api/v1/projects/{records[line]}").json()["properties"]
        assert (project["organisation"], project["name"]) == (written["porteur"], written["nom"])
        assert project["place_text"] == ("Ville de Laon" if line == UNREADABLE_LINE else written["lieu"])
        assert project["amount_eur"] == written["amount"] and project["funding_years"] == written["years"]
        assert project["duration_years"] == written["duration"] and project["status"] == written["status"]
        assert project["actions"] == written["actions"].split("\n")
        if written["end"] is not None:
            assert project["end_date"] == written["end"].isoformat() and project["end_date_source"] == "given"
        history = app.get(f"/api/v1/projects/{records[line]}/history", headers=TOKEN).json()["versions"]
        assert [(v["action"], v["note"], v["by"]) for v in history] == [("import", "laureats-2024.csv", "dreets")]

    # the coverage follows at once: each commune named now counts its new project
    for line, commune in COMMUNE_OF_LINE.items():
        assert records[line] not in coverage_before[line] and records[line] in reached(app, commune)

    again = app.post(f"/api/v1/imports/{preview['id']}/commit", headers=TOKEN)
    assert again.status_code == 409 and "déjà validé" in again.json()["detail"]
    assert len(ids(app)) == len(after)
    assert app.patch(f"/api/v1/imports/{preview['id']}", json={}, headers=TOKEN).status_code == 409


def test_all_or_nothing(app: TestClient) -> None:
    """The last row's id is taken (by an edit through the API) between the preview and the commit: the commit
    fails on it after writing the first rows in its transaction, and none of them stays."""
    content = simple_csv(
        ("Atelier Amiénois", "Cuisine solidaire d'Amiens", "Ville d'Amiens"),
        ("Entraide Lensoise", "Paniers de Lens", "Lens"),
        ("Maison de Péronne", "Épicerie de Péronne", "Péronne"),
    )
    preview = upload(app, content, "tout-ou-rien.csv").json()
    planned = [row["record"]["id"] for row in preview["rows"]]
    assert [row["action"] for row in preview["rows"]] == ["create"] * 3
    before = ids(app)
    taken = {"id": planned[-1], "organisation": "Autre porteur", "name": "Autre projet", "place_text": "Ham"}
    assert app.post("/api/v1/projects", json=taken, headers=TOKEN).status_code == 201
    failed = app.post(f"/api/v1/imports/{preview['id']}/commit", headers=TOKEN)
    assert failed.status_code == 409 and "ligne 4" in failed.json()["detail"], failed.text
    assert ids(app) == before | {planned[-1]}
    assert all(app.get(f"/api/v1/projects/{i}").status_code == 404 for i in planned[:2])
    assert app.get(f"/api/v1/projects/{planned[-1]}").json()["properties"]["name"] == "Autre projet"


def test_two_officers_commit_at_once(app: TestClient) -> None:
    preview = upload(app, simple_csv(("Entraide de Ham", "Épicerie de Ham", "Ham")), "ensemble.csv").json()
    before = ids(app)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: app.post(f"/api/v1/imports/{preview['id']}/commit", headers=TOKEN), [0, 1]))
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert ids(app) == before | {preview["rows"][0]["record"]["id"]}
    history = app.get(f"/api/v1/projects/{preview['rows'][0]['record']['id']}/history", headers=TOKEN).json()
    assert len(history["versions"]) == 1


def test_tokens(app: TestClient) -> None:
    content = simple_csv(("Asso", "Projet sans jeton", "Amiens"))
    assert app.post("/api/v1/imports", content=content, headers=CSV).status_code == 401
    wrong = app.post("/api/v1/imports", content=content, headers=CSV | {"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    preview = upload(app, content).json()
    for method, path in [("get", ""), ("patch", ""), ("post", "/commit"), ("delete", "")]:
        kwargs = {"json": {}} if method == "patch" else {}
        answer = getattr(app, method)(f"/api/v1/imports/{preview['id']}{path}", **kwargs)
        assert answer.status_code == 401, (method, path)
    assert app.get("/api/v1/projects/export").status_code == 401
    assert app.delete(f"/api/v1/imports/{preview['id']}", headers=TOKEN).status_code == 204
    assert app.get(f"/api/v1/imports/{preview['id']}", headers=TOKEN).status_code == 404


def test_bad_files_are_refused_in_french(app: TestClient) -> None:
    before = ids(app)
    big = b"Porteur;Intitul\xe9;Lieu\r\n" + b"x" * (20 * 2**20)
    too_big = upload(app, big)
    assert too_big.status_code == 413 and "20 Mo" in too_big.json()["detail"]
    chunked = app.post(
        "/api/v1/imports?filename=gros.csv", content=iter([big[i : i + 2**20] for i in range(0, len(big), 2**20)]),
        headers=TOKEN | CSV,
    )  # fmt: skip
    assert chunked.status_code == 413 and "20 Mo" in chunked.json()["detail"]
    many = "Porteur;Intitulé;Lieu\r\n" + "".join(f"A{n};P{n};Amiens\r\n" for n in range(50_001))
    too_many = upload(app, many.encode())
    assert too_many.status_code == 413 and "50 000 lignes" in too_many.json()["detail"]
    picture = upload(app, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "photo.csv")
    assert picture.status_code == 422 and "photo.csv" in picture.json()["detail"]
    binary = upload(app, bytes(range(256)) * 40, "donnees.csv")
    assert binary.status_code == 422 and "binaire" in binary.json()["detail"]
    empty = upload(app, b"", "vide.csv")
    assert empty.status_code == 422 and "vide" in empty.json()["detail"]
    no_place = upload(app, "Porteur;Intitulé;Montant\r\nAsso;Projet;1000\r\n".encode(), "sans-lieu.csv")
    assert no_place.status_code == 422 and "Lieu d'intervention" in no_place.json()["detail"]
    assert ids(app) == before


def test_formulas_and_control_characters_name_their_cell(app: TestClient) -> None:
    before = ids(app)
    content = simple_csv(
        ("Asso des Jardins", '=HYPERLINK("http://example.com","clic")', "Amiens"),
        ("Asso\x07 Sonore", "Projet sonore", "Amiens"),
        ("Asso du Téléphone", "Projet joignable", "Amiens"),
        extra="+33 3 22 00 00 00",
    )
    preview = upload(app, content, "formules.csv").json()
    rows = {row["row"]: row for row in preview["rows"]}
    assert rows[2]["state"] == "error" and rows[2]["errors"][0]["column"] == "Intitulé"
    assert rows[2]["errors"][0]["message"].startswith("ligne 2, colonne « Intitulé » : « =HYPERLINK(")
    assert "formule" in rows[2]["errors"][0]["message"]
    assert rows[3]["state"] == "error" and rows[3]["errors"][0]["column"] == "Porteur"
    message = rows[3]["errors"][0]["message"]
    assert "ligne 3, colonne « Porteur »" in message and "U+0007" in message
    # a phone number starting with '+' is text, kept as written
    assert rows[4]["state"] == "ok" and rows[4]["record"]["contact"] == "+33 3 22 00 00 00"
    refused = app.post(f"/api/v1/imports/{preview['id']}/commit", headers=TOKEN)
    assert refused.status_code == 422
    assert "ligne 2" in refused.json()["detail"] and "ligne 3" in refused.json()["detail"]
    assert ids(app) == before


def test_an_expired_preview_is_gone(store: str) -> None:
    settings = settings_for(REPO_DATA_DIR, store, admin_tokens={"dreets": "s3cret-dreets-token-1"}, import_ttl_s=1)
    with TestClient(create_app(settings)) as client:
        before = ids(client)
        preview = upload(client, simple_csv(("Asso pressée", "Projet oublié", "Amiens"))).json()
        time.sleep(2.1)
        for answer in (
            client.get(f"/api/v1/imports/{preview['id']}", headers=TOKEN),
            client.post(f"/api/v1/imports/{preview['id']}/commit", headers=TOKEN),
        ):
            assert answer.status_code == 404 and "expiré" in answer.json()["detail"]
        assert ids(client) == before


def test_xlsx_upload(app: TestClient) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Structure", "Nom du projet", "Territoire", "Subvention (€)", "Millésime", "Date de fin", "Site web"])
    sheet.append(["Épicerie de Doullens", "Épicerie sociale de Doullens", "Doullens", 11000.5, 2024,
                  date(2026, 6, 30), "https://epicerie-doullens.example.fr"])  # fmt: skip
    sheet.append(["Calcul caché", "Projet calculé", "Corbie", "=1000*12", 2024, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = app.post("/api/v1/imports", files={"file": ("laureats.xlsx", buffer.getvalue(), xlsx)}, headers=TOKEN)
    assert response.status_code == 201, response.text
    preview = response.json()
    assert (preview["format"], preview["filename"]) == ("xlsx", "laureats.xlsx")
    first, formula = preview["rows"]
    assert first["state"] == "ok" and first["record"]["amount_eur"] == 11000.5
    assert first["record"]["funding_years"] == [2024] and first["record"]["end_date"] == "2026-06-30"
    assert first["record"]["website"] == "https://epicerie-doullens.example.fr"
    assert formula["state"] == "error" and formula["errors"][0]["column"] == "Subvention (€)"
    excluded = app.patch(f"/api/v1/imports/{preview['id']}", json={"rows": {"3": {"exclude": True}}}, headers=TOKEN)
    assert excluded.json()["summary"]["excluded"] == 1
    result = app.post(f"/api/v1/imports/{preview['id']}/commit", headers=TOKEN).json()
    assert result["created"] == 1 and result["projects"] == [first["record"]["id"]]
    assert app.get(f"/api/v1/projects/{first['record']['id']}").json()["properties"]["name"] == (
        "Épicerie sociale de Doullens"
    )


def test_manual_territories_and_update_of(app: TestClient) -> None:
    preview = upload(app, simple_csv(("Asso du Nord", "Projet sans lieu", "Quelque part"))).json()
    assert preview["rows"][0]["state"] == "error"
    path = f"/api/v1/imports/{preview['id']}"
    unknown = app.patch(path, json={"rows": {"2": {"territories": [{"level": "commune", "code": "99999"}]}}},
                        headers=TOKEN)  # fmt: skip
    assert unknown.status_code == 422 and "ligne 2" in unknown.json()["detail"]
    chosen = app.patch(path, json={"rows": {"2": {"territories": [{"level": "commune", "code": "80021"}]}}},
                       headers=TOKEN).json()["rows"][0]  # fmt: skip
    assert chosen["state"] == "ok" and chosen["reading"]["source"] == "manual"
    assert [u["code"] for u in chosen["reading"]["units"]] == ["80021"]
    assert app.patch(path, json={"rows": {"2": {"as_update_of": "pas-un-projet"}}}, headers=TOKEN).status_code == 422
    update = app.patch(path, json={"rows": {"2": {"as_update_of": "nutri-cheques"}}}, headers=TOKEN).json()["rows"][0]
    assert update["action"] == "update" and update["record"]["id"] == "nutri-cheques"
    assert app.delete(path, headers=TOKEN).status_code == 204


def export_then_reimport(app: TestClient, kind: str) -> None:
    exported = app.get(f"/api/v1/projects/export?format={kind}", headers=TOKEN)
    assert exported.status_code == 200
    projects = ids(app)
    versions = {i: len(app.get(f"/api/v1/projects/{i}/history", headers=TOKEN).json()["versions"]) for i in projects}
    if kind == "csv":
        assert exported.content.startswith(b"\xef\xbb\xbf") and exported.headers["content-type"].startswith("text/csv")
        header = exported.content.decode("utf-8-sig").splitlines()[0]
        assert header.startswith("Identifiant;Porteur;Intitulé du projet;Lieu d'intervention")
        response = upload(app, exported.content, "export.csv")
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(exported.content)).active
        amounts = [row[5] for row in sheet.iter_rows(min_row=2, values_only=True) if row[5] is not None]
        assert amounts and all(isinstance(a, float | int) for a in amounts)  # typed cells, not text
        response = app.post("/api/v1/imports", files={"file": ("export.xlsx", exported.content)}, headers=TOKEN)
    assert response.status_code == 201, response.text
    preview = response.json()
    assert preview["summary"]["rows"] == len(projects)
    assert {row["action"] for row in preview["rows"]} == {"unchanged"}, [
        (row["row"], row["state"], row["errors"]) for row in preview["rows"] if row["action"] != "unchanged"
    ]
    result = app.post(f"/api/v1/imports/{preview['id']}/commit", headers=TOKEN).json()
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 0, len(projects))
    after = {i: len(app.get(f"/api/v1/projects/{i}/history", headers=TOKEN).json()["versions"]) for i in projects}
    assert after == versions and ids(app) == projects


def test_export_csv_reimports_unchanged(app: TestClient) -> None:
    export_then_reimport(app, "csv")


def test_export_xlsx_reimports_unchanged(app: TestClient) -> None:
    export_then_reimport(app, "xlsx")


def test_an_old_sqlite_store_gets_the_new_columns(tmp_path: Path) -> None:
    from geo_service.store.sqlite import SqliteStore

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE projects (id TEXT PRIMARY KEY, record TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, "
        "version INTEGER NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL);"
        "CREATE TABLE history (project_id TEXT NOT NULL, version INTEGER NOT NULL, action TEXT NOT NULL, "
        "record TEXT NOT NULL, deleted INTEGER NOT NULL, at TEXT NOT NULL, by TEXT NOT NULL, "
        "PRIMARY KEY (project_id, version));"
        "INSERT INTO history VALUES ('vieux', 1, 'create', '{}', 0, '2024-01-01T00:00:00+00:00', 'admin');"
    )
    old.commit()
    old.close()
    store = SqliteStore(path)
    try:
        [change] = store.history("vieux")
        assert (change.action, change.note) == ("create", None)
        assert store.known_ids() == set()
    finally:
        store.close()


def test_an_old_postgis_database_migrates(postgres) -> None:
    import psycopg

    from geo_service.store.postgis import MIGRATIONS, PostgisStore

    url = postgres.new_url(empty=True)  # made as the last release left it: 2 migrations
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_version (version integer NOT NULL)")
        for number, sql in enumerate(MIGRATIONS[:2], start=1):
            conn.execute(sql)
            conn.execute("INSERT INTO schema_version VALUES (%s)", (number,))
        conn.execute("INSERT INTO project_history VALUES ('vieux', 1, 'create', '{}', false, now(), 'admin')")
    store = PostgisStore(url)
    try:
        assert store.schema_version() == len(MIGRATIONS)
        [change] = store.history("vieux")
        assert (change.action, change.note) == ("create", None)
    finally:
        store.close()
