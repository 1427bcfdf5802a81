// Communes and places on the map: a commune's card (a click on the map, a button naming it), a commune page's
// answer under its map, and the outline of the place searched or opened.
import {config, map} from "./config.js";
import {el} from "./dom.js";
import {COMMUNE_CARD, communeAnswer, communeCard, openCard, sheetPaddings} from "./cards.js";
import {hooks} from "./hooks.js";
import {ruleParams} from "./selection.js";

// -- outlines: the place searched or the commune opened ---------------------------------------------------------
export const outlined = L.featureGroup();

export async function highlight(level, code, fit) {
  const response = await fetch("/api/v1/territories/" + level + "/" + encodeURIComponent(code) +
    "/outline.geojson?zoom=" + Math.min(Math.round(map.getZoom()) + 1, 14));
  if (!response.ok) return;
  outlined.clearLayers();
  outlined.addLayer(L.geoJSON(await response.json(), {
    interactive: false, style: {color: "#0b4f8a", weight: 3, dashArray: "6 4", fill: false},
  }));
  if (fit) {
    const pad = sheetPaddings() || {topLeft: L.point(56, 20), bottomRight: L.point(20, 20)};
    map.fitBounds(outlined.getBounds(), {paddingTopLeft: pad.topLeft, paddingBottomRight: pad.bottomRight, maxZoom: 12});
  }
}

// -- a commune's answer, under the page's coverage rule ----------------------------------------------------------
async function coverageOf(code) {
  const rule = ruleParams(new URLSearchParams()).toString();
  const response = await fetch("/api/v1/coverage/communes/" + encodeURIComponent(code) + (rule ? "?" + rule : ""));
  return response.ok ? response.json() : null;
}

export async function showCommune(code, latlng, trigger) {
  const c = await coverageOf(code);
  if (!c) return;
  openCard(communeCard(c), COMMUNE_CARD, latlng, trigger);
  highlight("commune", c.code, !latlng); // opened from a button: the map shows where it is
}

// A commune's page: its answer right under the map, the same words as its card
export async function answerCommunePage() {
  const box = document.getElementById("reponse-commune");
  if (!box || !config.commune) return;
  const c = await coverageOf(config.commune);
  if (!c) return;
  const heading = box.querySelector("h2");
  box.replaceChildren(heading, el("div", {class: "fiche fiche-commune", "data-code": c.code}, communeAnswer(c, null)));
}

// A click on the map: the commune there (or, while « Choisir sur la carte » is on, what the simulation asks)
export async function clickOnMap(event) {
  if (hooks.pickOnMap) { hooks.pickOnMap(event.latlng); return; }
  const {lat, lng} = event.latlng;
  const response = await fetch("/api/v1/territories/at?level=commune&lon=" + lng.toFixed(6) + "&lat=" + lat.toFixed(6));
  if (!response.ok) return;
  const found = await response.json();
  if (found.code) showCommune(found.code, event.latlng, null);
}
