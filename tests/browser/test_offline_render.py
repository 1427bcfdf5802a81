"""geo-service render: a map file that opens from disk and asks nothing from any network."""

from __future__ import annotations

from pathlib import Path

from geo_service.cli import main


def test_offline_map_opens_from_disk_without_any_request(browser, artifacts: Path, tmp_path: Path) -> None:
    out = tmp_path / "sud-artois.html"
    assert main(["render", "--territoire", "epci:200035442", "--out", str(out)]) == 0
    text = out.read_text("utf-8")
    assert "CC du Sud Artois" in text and "/static/" not in text and 'src="http' not in text
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(out.as_uri())
    page.wait_for_selector("path.leaflet-interactive", timeout=15_000)
    page.screenshot(path=str(artifacts / "rendu-hors-ligne.png"))
    drawn = page.locator("path.leaflet-interactive").count()
    page.close()
    assert requests == [out.as_uri()]  # the file itself, and nothing else
    assert drawn > 64  # the CC's 64 communes and their neighbours, the outline, the projects


def test_render_refuses_a_bad_territory(tmp_path: Path, capsys) -> None:
    assert main(["render", "--territoire", "epci:999", "--out", str(tmp_path / "x.html")]) == 2
    assert "epci" in capsys.readouterr().err and not (tmp_path / "x.html").exists()
