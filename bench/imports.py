"""Spreadsheet import on the région: the preview and the commit of a 500-row officer file.

Usage: python bench/imports.py [--rows 500] [--repeats 3] [--database-url postgresql://...]

The file is generated with a fixed seed from the boundaries' own names: each row's place is a commune (« Ville de
X », « X et Y »...) or an EPCI, as officers write them, with a porteur, an intitulé, an amount in French
(« 12 000 € »), a year and a duration; it is a semicolon CSV in Windows-1252. Each run starts the app on a new
store (SQLite in a temporary folder, or a new database on --database-url's cluster, copied from a template that
holds the boundaries), then times ``POST /api/v1/imports`` (read, geocode every row, store the preview) and
``POST /api/v1/imports/{id}/commit`` (build every record, one transaction, publish: coverage and tiles included).
Printed: the median of --repeats runs, in seconds. Goal (issue 24): each ≤ 2 s.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR, Settings
from geo_service.territories import Boundaries

TOKEN = "bench-import-token-0123456789"
PORTEURS = ("Association", "Épicerie solidaire", "Centre social", "Banque alimentaire", "Restos", "Secours", "CCAS")
ACTIONS = ("Épicerie solidaire", "Distribution de paniers", "Ateliers cuisine", "Épicerie itinérante", "Jardin partagé")


def officer_file(rows: int, seed: int = 24) -> bytes:
    """``rows`` rows of places of the région, the same for a given seed."""
    boundaries = Boundaries.load(REPO_DATA_DIR / "boundaries")
    communes = sorted(boundaries.level("commune")["name"])
    epcis = sorted(boundaries.level("epci")["name"])
    chance = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Porteur", "Intitulé du projet", "Lieu d'intervention", "Montant accordé", "Année", "Durée",
                     "Actions"])  # fmt: skip
    for n in range(rows):
        kind = chance.random()
        if kind < 0.5:
            place = f"Ville de {chance.choice(communes)}"
        elif kind < 0.8:
            place = f"{chance.choice(communes)} et {chance.choice(communes)}"
        else:
            place = chance.choice(epcis)
        amount = f"{chance.randrange(2, 80) * 500:,}".replace(",", " ") + " €"
        writer.writerow([f"{chance.choice(PORTEURS)} n°{n}", f"{chance.choice(ACTIONS)} {n}", place, amount,
                         chance.choice(["2023", "2024", "2025", "2023, 2024"]), f"{chance.randrange(1, 4)} ans",
                         chance.choice(ACTIONS)])  # fmt: skip
    return buffer.getvalue().encode("windows-1252", "replace")


def new_database(url: str, run: int) -> str:
    """A new database on the cluster of ``url``, with the boundaries loaded (from a template made once)."""
    import psycopg

    from geo_service.store.postgis import PostgisStore

    base = url.rsplit("/", 1)[0]
    template = "bench_imports_template"
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (template,)).fetchone():
            conn.execute(f"CREATE DATABASE {template}")
            store = PostgisStore(f"{base}/{template}")
            store.load_boundaries(REPO_DATA_DIR / "boundaries")
            store.close()
        name = f"bench_imports_{run}"
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    return f"{base}/{name}"


def drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def one_run(content: bytes, database_url: str) -> tuple[float, float, dict]:
    settings = Settings(data_dir=REPO_DATA_DIR, database_url=database_url, admin_tokens={"bench": TOKEN})
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(settings)) as client:
        started = time.perf_counter()
        preview = client.post(
            "/api/v1/imports?filename=bench.csv", content=content, headers=headers | {"Content-Type": "text/csv"}
        )
        preview_s = time.perf_counter() - started
        assert preview.status_code == 201, preview.text[:500]
        answer = preview.json()
        excluded = [str(r["row"]) for r in answer["rows"] if r["state"] == "error"]
        if excluded:  # places the geocoder cannot read (a few generated names): left out, as an officer would
            client.patch(f"/api/v1/imports/{answer['id']}", json={"rows": {n: {"exclude": True} for n in excluded}},
                         headers=headers)  # fmt: skip
        started = time.perf_counter()
        commit = client.post(f"/api/v1/imports/{answer['id']}/commit", headers=headers)
        commit_s = time.perf_counter() - started
        assert commit.status_code == 200, commit.text[:500]
    return preview_s, commit_s, answer["summary"] | {"created": commit.json()["created"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database-url", default="", help="a PostgreSQL cluster (postgresql://...); default SQLite")
    args = parser.parse_args()
    content = officer_file(args.rows)
    previews, commits = [], []
    with tempfile.TemporaryDirectory() as folder:
        for run in range(args.repeats):
            url = new_database(args.database_url, run) if args.database_url else f"sqlite:///{Path(folder)}/{run}.db"
            preview_s, commit_s, summary = one_run(content, url)
            previews.append(preview_s)
            commits.append(commit_s)
            print(f"run {run + 1}: preview {preview_s:.2f} s, commit {commit_s:.2f} s ({summary})")
            if args.database_url:
                drop_database(args.database_url, url.rsplit("/", 1)[1])
    backend = "PostGIS" if args.database_url else "SQLite"
    print(
        f"{args.rows} rows, {len(content) // 1024} KB, {backend}, median of {args.repeats}: "
        f"preview {statistics.median(previews):.2f} s, commit {statistics.median(commits):.2f} s (goal ≤ 2 s each)"
    )


if __name__ == "__main__":
    main()
