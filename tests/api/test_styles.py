"""MapLibre styles, sprite, legend and coded fields (/styles, /api/v1/legend, geo_service.legend).

The styles are checked by MapLibre's own style-spec validator and expression evaluator (npm, run with node), on
the features of our real tiles; the coded fields against the values found in the data the service serves.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
import shapely.geometry
import shapely.ops
from fastapi.testclient import TestClient
from PIL import Image

from geo_service.legend import field_enums
from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR, REPO_DIR
from geo_service.tiles import raster
from geo_service.tiles.grid import HALF_WORLD, lonlat_to_mercator
from tests.conftest import settings_for, sqlite_url

STYLE_SPEC = REPO_DIR / "node_modules" / "@maplibre" / "maplibre-gl-style-spec" / "dist"
VALIDATE = STYLE_SPEC / "gl-style-validate.mjs"
# MapLibre's expression evaluator on every feature given: what a MapLibre map would paint each one
EVALUATE = """
import { readFileSync } from 'node:fs';
import { createPropertyExpression, latest } from '%s';
const style = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const features = JSON.parse(readFileSync(process.argv[3], 'utf8'));
const out = {};
for (const layer of style.layers) {
  if (layer.type === 'background') continue;
  const paint = {};
  for (const [name, value] of Object.entries(layer.paint)) {
    const spec = latest['paint_' + layer.type][name];
    const parsed = createPropertyExpression(value, 'paint_' + layer.type, spec);
    if (parsed.result !== 'success') throw new Error(layer.id + ' ' + name + ': ' + JSON.stringify(parsed.value));
    paint[name] = features.map((properties) => {
      const result = parsed.value.evaluate({ zoom: 8 }, { type: 3, properties });
      return result && result.toString ? result.toString() : result;
    });
  }
  out[layer.id] = paint;
}
console.log(JSON.stringify(out));
"""


def _node() -> str:
    node = shutil.which("node")
    if node is None or not VALIDATE.exists():
        pytest.fail("node and node_modules/@maplibre/maplibre-gl-style-spec are needed: run 'npm ci'")
    return node


def _validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([_node(), str(VALIDATE), str(path)], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app on the committed data: styles and legends read no store, so one backend is enough."""
    settings = settings_for(REPO_DATA_DIR, sqlite_url(tmp_path_factory.mktemp("styles-store")))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def styles(client: TestClient) -> dict[str, dict]:
    listing = client.get("/styles")
    assert listing.status_code == 200
    found = {}
    for entry in listing.json()["styles"]:
        response = client.get(entry["url"].replace("http://testserver", ""))
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
        found[entry["id"]] = response.json()
    return found


def test_the_styles_pass_maplibres_validator(styles: dict[str, dict], tmp_path: Path) -> None:
    assert set(styles) == {"coverage", "zones-blanches"}
    for name, style in styles.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(style), "utf-8")
        checked = _validate(path)
        assert checked.returncode == 0 and checked.stdout == "", checked.stdout + checked.stderr
        assert style["version"] == 8
    # the validator does refuse a broken style: a colour that is a number, a layer naming no source
    broken = json.loads(json.dumps(styles["coverage"]))
    broken["layers"][1]["paint"]["fill-color"] = 3
    broken["layers"][-1]["source"] = "nowhere"
    (tmp_path / "broken.json").write_text(json.dumps(broken), "utf-8")
    refused = _validate(tmp_path / "broken.json")
    assert refused.returncode != 0
    assert "fill-color" in refused.stdout and "nowhere" in refused.stdout


def test_the_style_points_at_our_tilejson_sprite_and_layers(client: TestClient, styles: dict[str, dict]) -> None:
    for name, style in styles.items():
        (source_name, source), *others = style["sources"].items()
        assert others == [] and source["type"] == "vector"
        assert source["url"] == f"http://testserver/tiles/{name}.json"
        tilejson = client.get(source["url"].replace("http://testserver", "")).json()
        source_layers = {layer["id"] for layer in tilejson["vector_layers"]}
        drawn = [layer for layer in style["layers"] if layer["type"] != "background"]
        assert drawn and all(layer["source"] == source_name for layer in drawn)
        assert {layer["source-layer"] for layer in drawn} <= source_layers
        # the fields the style reads are in the tiles at every zoom (TileJSON: below z9, only these)
        read = {word for layer in drawn for word in _fields_read(layer)}
        assert read <= set(tilejson["vector_layers"][0]["fields"])
        assert style["sprite"] == "http://testserver/styles/sprite"
        patterns = [layer["paint"]["fill-pattern"] for layer in drawn if "fill-pattern" in layer["paint"]]
        assert len(patterns) == 1  # the hatching of zones blanches
        for suffix, ratio in (("", 1), ("@2x", 2)):
            index = client.get(f"/styles/sprite{suffix}.json").json()
            image = Image.open(io.BytesIO(client.get(f"/styles/sprite{suffix}.png").content))
            assert patterns[0] in index
            entry = index[patterns[0]]
            assert entry["pixelRatio"] == ratio and entry["width"] == entry["height"] == 8 * ratio
            assert entry["x"] + entry["width"] <= image.width and entry["y"] + entry["height"] <= image.height


def _fields_read(layer: dict) -> set[str]:
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, list):
            if len(value) == 2 and value[0] == "get" and isinstance(value[1], str):
                found.add(value[1])
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(layer.get("paint", {}))
    walk(layer.get("filter", []))
    return found


def _rgba(text: str) -> tuple[int, int, int, float]:
    parts = text.removeprefix("rgba(").removesuffix(")").split(",")
    return int(parts[0]), int(parts[1]), int(parts[2]), round(float(parts[3]), 2)


def test_maplibre_paints_each_feature_of_a_real_tile_as_the_png_renderer(
    client: TestClient, styles: dict[str, dict], tmp_path: Path
) -> None:
    """MapLibre's evaluator on the features of the z8 tile over the Somme: each gets the fill and outline colour
    the PNG renderer gives its class, and only zones blanches are hatched."""
    response = client.get("/tiles/coverage/8/129/86.mvt", headers={"Accept-Encoding": "identity"})
    features = [f["properties"] for f in mapbox_vector_tile.decode(response.content)["coverage"]["features"]]
    assert len(features) > 500
    # every combination the tile holds, tested once (the evaluator is the same for equal properties)
    kinds = [dict(p) for p in {tuple(sorted(p.items())) for p in features}]
    assert {p["zone_blanche"] for p in kinds} == {True, False}
    (tmp_path / "style.json").write_text(json.dumps(styles["coverage"]), "utf-8")
    (tmp_path / "features.json").write_text(json.dumps(kinds), "utf-8")
    (tmp_path / "evaluate.mjs").write_text(EVALUATE % (STYLE_SPEC / "index.mjs").as_posix(), "utf-8")
    run = subprocess.run(
        [_node(), str(tmp_path / "evaluate.mjs"), str(tmp_path / "style.json"), str(tmp_path / "features.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    painted = json.loads(run.stdout)
    hatch_layer = next(layer for layer in styles["coverage"]["layers"] if "fill-pattern" in layer.get("paint", {}))
    for i, properties in enumerate(kinds):
        _, style = raster.style_class("coverage", properties)  # what the PNG tile draws this feature with
        fill = _rgba(painted["coverage-fond"]["fill-color"][i])
        outline = _rgba(painted["coverage-contours"]["line-color"][i])
        assert fill == (*style.fill[:3], round(style.fill[3] / 255, 2)), properties
        assert outline == (*style.outline[:3], round(style.outline[3] / 255, 2)), properties
        assert (style.hatch is not None) == (properties["zone_blanche"] is True)
    assert hatch_layer["filter"] == ["==", ["get", "zone_blanche"], True]


def test_the_sprite_is_the_renderers_hatching(client: TestClient) -> None:
    """Diagonals rising to the right every 8 pixels, in the zones blanches' hatch colour, as on our PNG tiles: the
    z10 PNG tile of a zone blanche, read pixel by pixel, repeats the sprite's motif."""
    sprite = np.asarray(Image.open(io.BytesIO(client.get("/styles/sprite.png").content)).convert("RGBA")).astype(int)
    lit = sprite[:, :, 3] > 100
    ys, xs = np.nonzero(lit)
    assert len(xs) and set(((xs + ys) % 8).tolist()) <= {0, 7}  # x + y constant: "/" diagonals, 8 apart
    hatch = raster.COVERAGE_CLASSES["zone_blanche"][1].hatch
    assert np.abs(sprite[lit][:, :3] - np.array(hatch[:3])).max() <= 2
    retina = np.asarray(Image.open(io.BytesIO(client.get("/styles/sprite@2x.png").content)).convert("RGBA"))
    assert retina.shape[:2] == (16, 16) and (retina[:, :, 3] > 100).sum() >= 2 * lit.sum()
    # Arquèves (80028) is a zone blanche (the coverage API says so): in our z10 PNG tile, the hatch lines inside it
    # lie on the same diagonals of the tile's pixel grid as the sprite's (MapLibre repeats a pattern from each
    # tile's corner)
    arqueves = client.get("/api/v1/coverage/communes/80028")
    assert arqueves.status_code == 200 and arqueves.json()["zone_blanche"] is True
    outline = shapely.geometry.shape(
        client.get("/collections/coverage/items/80028", params={"f": "json"}).json()["geometry"]
    )
    centre = shapely.ops.polylabel(max(getattr(outline, "geoms", [outline]), key=lambda p: p.area), tolerance=1e-5)
    x, y = lonlat_to_mercator(centre.x, centre.y)
    span = 2 * HALF_WORLD / 2**10
    column, row = (x + HALF_WORLD) / span, (HALF_WORLD - y) / span
    tile = client.get(f"/tiles/coverage/10/{int(column)}/{int(row)}.png")
    pixels = np.asarray(Image.open(io.BytesIO(tile.content)).convert("RGBA")).astype(int)
    px, py = int((column % 1) * 256), int((row % 1) * 256)
    window = pixels[py - 5 : py + 6, px - 5 : px + 6]
    lines = window[:, :, 3] > 170  # the fill alone is 110 opaque; with a hatch line over it, more
    ys, xs = np.nonzero(lines)
    assert len(xs) >= 8, "no hatching in Arquèves on the PNG tile"
    assert set(((xs + px - 5 + ys + py - 5) % 8).tolist()) <= {0, 7}


def test_the_legend(client: TestClient) -> None:
    response = client.get("/api/v1/legend", params={"layer": "coverage"})
    assert response.status_code == 200
    legend = response.json()
    assert legend["layer"] == "coverage"
    classes = {c["class"]: c for c in legend["classes"]}
    # the issue names the values of best_scope: local|departement|region|none; and zones blanches are hatched
    assert set(classes) == {"local", "departement", "region", "none", "zone_blanche"}
    assert classes["zone_blanche"]["pattern"] in client.get("/styles/sprite.json").json()
    assert [c["pattern"] for k, c in classes.items() if k != "zone_blanche"] == [None] * 4
    assert all(
        c["label"] and c["colour"]["hex"].startswith("#") and c["outline"]["width"] > 0 for c in classes.values()
    )
    assert "Zone blanche" in classes["zone_blanche"]["label"] and "locale" in classes["local"]["label"]
    assert legend["precedence"][0] == "zone_blanche"
    assert legend["parameters"]["max_km"] == 10 and "10 km" in legend["rule"]
    # the rule's parameters are those of the URL
    wider = client.get("/api/v1/legend", params={"layer": "zones-blanches", "max_km": 20, "rural_max_density": 80})
    assert wider.status_code == 200
    assert wider.json()["parameters"]["max_km"] == 20 and "20 km" in wider.json()["rule"]
    assert "80 hab/km²" in wider.json()["rule"]
    assert (
        client.get("/styles/zones-blanches.json", params={"max_km": 20})
        .json()["sources"]["zones-blanches"]["url"]
        .endswith("/tiles/zones-blanches.json?max_km=20")
    )
    # outline layers and points have a legend too, without a rule
    assert client.get("/api/v1/legend", params={"layer": "departements"}).json()["parameters"] is None
    assert client.get("/api/v1/legend", params={"layer": "projects"}).json()["kind"] == "point"


@pytest.mark.parametrize(
    ("query", "status", "named"),
    [
        ({"layer": "routes"}, 404, "routes"),
        ({}, 422, "layer"),
        ({"layer": "communes", "max_km": 20}, 422, "max_km"),
        ({"layer": "coverage", "max_km": -1}, 422, "max_km"),
    ],
)
def test_legend_refusals(client: TestClient, query: dict, status: int, named: str) -> None:
    response = client.get("/api/v1/legend", params=query)
    assert response.status_code == status and named in response.text


def test_style_and_sprite_refusals_and_revalidation(client: TestClient) -> None:
    assert client.get("/styles/communes.json").status_code == 404
    assert client.get("/styles/sprite@3x.png").status_code == 404
    assert client.get("/styles/coverage.json", params={"max_km": "loin"}).status_code == 422
    first = client.get("/styles/coverage.json")
    assert client.get("/styles/coverage.json", headers={"If-None-Match": first.headers["etag"]}).status_code == 304


def test_the_coded_fields_hold_every_value_the_data_has(client: TestClient) -> None:
    assert field_enums("coverage")["best_scope"] == ["local", "departement", "region", "none"]
    seen = 0
    for layer in ("communes", "epci", "projects", "project-areas", "coverage", "zones-blanches"):
        enums = field_enums(layer)
        assert enums, layer
        items = client.get(f"/collections/{layer}/items", params={"limit": 10000, "f": "json"}).json()["features"]
        for field, values in enums.items():
            found = {p[field] for f in items if (p := f["properties"]).get(field) not in (None, "", [])}
            elements = set()
            for value in found:
                elements |= set(value) if isinstance(value, list) else set(str(value).split(","))
            assert elements <= {str(v) for v in values}, (layer, field, elements - set(values))
            seen += len(elements)
    assert seen > 20
    with pytest.raises(Exception, match="routes"):
        field_enums("routes")


def test_the_example_page_and_maplibre_are_served(client: TestClient) -> None:
    page = client.get("/exemples/maplibre")
    assert page.status_code == 200 and 'lang="fr"' in page.text
    policy = page.headers["content-security-policy"]
    assert "worker-src 'self'" in policy and "unsafe-eval" not in policy and "script-src 'self'" in policy
    for name in ("maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css"):
        served = client.get(f"/static/vendor/maplibre-gl/{name}")
        assert served.status_code == 200 and len(served.content) > 10_000, name
    assert "javascript" in client.get("/static/vendor/maplibre-gl/maplibre-gl.mjs").headers["content-type"]
    assert client.get("/static/vendor/maplibre-gl/maplibre-gl.mjs.map").status_code == 404
    assert client.get("/static/app/exemple-maplibre.js").status_code == 200


def test_tilejson_and_collections_link_to_the_styles(client) -> None:
    """A partner who finds the tiles or the OGC collection finds how we draw them."""
    tilejson = client.get("/tiles/coverage.json").json()
    assert tilejson["style"].endswith("/styles/coverage.json") and client.get(tilejson["style"]).status_code == 200
    assert client.get(tilejson["legend_url"]).json()["layer"] == "coverage"
    links = {link["rel"]: link["href"] for link in client.get("/collections/zones-blanches?f=json").json()["links"]}
    assert links["stylesheet"].endswith("/styles/zones-blanches.json")
    assert client.get(links["describedby"]).headers["content-type"].startswith(("application/xml", "text/xml"))
