"""geo-service render: a map file that opens from disk and asks nothing from any network, with the pages' own map,
cards and legend. Read as a person reads it: the markers (their titles), the cards a click opens, the legend."""

from __future__ import annotations

import html
import re
from pathlib import Path

import yaml

from geo_service.cli import main
from geo_service.settings import get_settings


def test_offline_map_opens_from_disk_without_any_request(browser, artifacts: Path, tmp_path: Path) -> None:
    out = tmp_path / "sud-artois.html"
    assert main(["render", "--territoire", "epci:200035442", "--out", str(out)]) == 0
    text = out.read_text("utf-8")
    assert "CC du Sud Artois" in text and "/static/" not in text and 'src="http' not in text
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(out.as_uri())
    page.wait_for_selector(".leaflet-container[data-projets]", timeout=15_000)
    page.screenshot(path=str(artifacts / "rendu-hors-ligne.png"))
    drawn = page.locator("path.leaflet-interactive").count()
    # the pages' front-end: the legend inside the map, the place names, the controls in French
    legend_inside = page.evaluate(
        "document.querySelector('.leaflet-container').contains(document.getElementById('legende'))"
    )
    names = page.locator(".etiquette span").all_inner_texts()
    zoom_in = page.locator(".leaflet-control-zoom-in").get_attribute("title")
    page.close()
    assert requests == [out.as_uri()]  # the file itself, and nothing else
    assert drawn > 64  # the CC's 64 communes and their neighbours, each with its coverage
    assert legend_inside and "Bapaume" in names and zoom_in == "Zoom avant"


def test_render_refuses_a_bad_territory(tmp_path: Path, capsys) -> None:
    assert main(["render", "--territoire", "epci:999", "--out", str(tmp_path / "x.html")]) == 2
    assert "epci" in capsys.readouterr().err and not (tmp_path / "x.html").exists()


# Every project's card, opened by a click on its marker (a click event on each, so that markers drawn on the same
# spot are all reached): its title -> its text and first link.
CARDS = """() => {
    const cards = {};
    for (const marker of document.querySelectorAll(".marqueur-projet")) {
        marker.dispatchEvent(new MouseEvent("click", {bubbles: true}));
        const card = document.querySelector(".feuille .fiche");
        const link = card.querySelector("a");
        cards[card.querySelector("h3").textContent] = {
            title: marker.title,
            text: card.innerText.replace(/[\\u202f\\u00a0]/g, " "),
            link: link && [link.getAttribute("href"), link.getAttribute("rel")],
        };
        document.querySelector(".feuille-fermer").click();
    }
    return cards;
}"""

HOSTILE = [
    "</script><script>document.title='injecte'</script>",
    "<img src=x onerror=\"document.title='injecte'\">",
]


def test_project_text_stays_text_in_the_offline_file(browser, tmp_path: Path, monkeypatch) -> None:
    """Names written to close the script element or to carry an event handler: shown as text, never run; and
    the file's own policy allows its inline scripts only (by hash)."""
    monkeypatch.setenv("GEO_SERVICE_DATABASE_URL", f"sqlite:///{tmp_path / 'hostile.sqlite3'}")  # its own store
    get_settings.cache_clear()
    rows = [
        {
            "id": f"hostile-{n}",
            "organisation": name,
            "name": name,
            "duration_years": 1,
            "place_text": "CC du Sud Artois",
            "actions": ["Ouverture d'une épicerie solidaire"],
        }
        for n, name in enumerate(HOSTILE)
    ]
    source = tmp_path / "hostile.yaml"
    source.write_text(yaml.safe_dump(rows, allow_unicode=True), "utf-8")
    assert main(["import", str(source), "--by", "test"]) == 0
    out = tmp_path / "sud-artois.html"
    assert main(["render", "--territoire", "epci:200035442", "--out", str(out)]) == 0
    text = out.read_text("utf-8")
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', text)
    assert policy is not None
    scripts = html.unescape(policy.group(1)).split("script-src ")[1].split(";")[0].split()
    assert scripts and all(source.startswith("'sha256-") for source in scripts)
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    violations: list[str] = []
    page.on("console", lambda message: message.type == "error" and violations.append(message.text))
    page.goto(out.as_uri())
    page.on("pageerror", lambda error: violations.append(str(error)))
    page.wait_for_selector(".leaflet-container[data-projets]", timeout=15_000)
    cards = page.evaluate(CARDS)
    title = page.title()
    images = page.locator("img").count()  # the file has none: an <img> would be a name written as markup
    page.close()
    assert title != "injecte" and images == 0
    assert set(HOSTILE) <= set(cards)  # each name, as its card's title and its marker's, exactly as written
    assert all(cards[name]["title"] == f"Projet : {name}" for name in HOSTILE)
    assert violations == []


GRANTED = {
    "id": "epicerie-bapaume-2024",
    "organisation": "Association Essai Bapaume",
    "name": "Épicerie de Bapaume, appel 2024",
    "duration_years": 2,
    "place_text": "Bapaume",
    "actions": ["Ouverture d'une épicerie solidaire"],
    "funding_years": [2024],
    "amount_eur": 45000,
    "status": "ended",
    "end_date": "2025-09-30",
    "website": "https://exemple.fr/bapaume",
}
UNKNOWN_GRANT = {
    "id": "paniers-sud-artois-sans-appel",
    "organisation": "Association Essai Sud Artois",
    "name": "Paniers du Sud Artois",
    "place_text": "CC du Sud Artois",
    "actions": ["Distribution de paniers de légumes"],
}


def test_offline_cards_show_the_grant_facts(browser, tmp_path: Path, monkeypatch) -> None:
    """The file's project cards say what the records give of their grant, and what they do not in one line."""
    monkeypatch.setenv("GEO_SERVICE_DATABASE_URL", f"sqlite:///{tmp_path / 'granted.sqlite3'}")
    get_settings.cache_clear()
    source = tmp_path / "granted.yaml"
    source.write_text(yaml.safe_dump([GRANTED, UNKNOWN_GRANT], allow_unicode=True), "utf-8")
    assert main(["import", str(source), "--by", "test"]) == 0
    out = tmp_path / "sud-artois.html"
    assert main(["render", "--territoire", "epci:200035442", "--out", str(out)]) == 0
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.goto(out.as_uri())
    page.wait_for_selector(".leaflet-container[data-projets]", timeout=15_000)
    cards = page.evaluate(CARDS)
    page.close()
    assert GRANTED["name"] in cards, list(cards)
    granted = cards[GRANTED["name"]]
    for words in ("2024", "45 000 €", "2 ans", "terminée", "30/09/2025"):
        assert words in granted["text"], words
    assert "déduite" not in granted["text"] and "non renseign" not in granted["text"]  # its end date is given
    assert granted["link"] == [GRANTED["website"], "noopener noreferrer"]
    unknown = cards[UNKNOWN_GRANT["name"]]["text"]
    assert unknown.count("non renseign") == 1 and "Année, montant, durée, statut, date de fin" in unknown
