// Place names: real text over the map, in their own pane, from /api/v1/labels (the pages, for the view shown) or
// from the names the offline file carries. The same classes either way: their rank (chef-lieu de région,
// préfecture, sous-préfecture) sets their size.
import {map} from "./config.js";
import {el} from "./dom.js";

export const labels = L.layerGroup();
// a searched commune's name is always shown, whatever the room
export const labelFocus = {commune: null};

const RANK_CLASS = {
  "chef-lieu de région": "etiquette-chef-lieu",
  "préfecture": "etiquette-prefecture",
  "sous-préfecture": "etiquette-sous-prefecture",
};

// Features as /api/v1/labels gives them (points; properties name and rank)
export function showLabels(features) {
  labels.clearLayers();
  for (const feature of features) {
    const [lon, lat] = feature.geometry.coordinates;
    labels.addLayer(L.marker([lat, lon], {
      pane: "etiquettes", interactive: false, keyboard: false,
      icon: L.divIcon({className: "etiquette " + (RANK_CLASS[feature.properties.rank] || ""),
        html: el("span", {text: feature.properties.name}), iconSize: [0, 0]}),
    }));
  }
}

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

let ticket = 0; // a newer request makes older answers stale (not aborted: an aborted fetch is an error)

export async function loadLabels() {
  if (!map.hasLayer(labels)) return;
  // a map not laid out yet (no size) has an empty box: asking for it would be a 422, answered by nothing
  const size = map.getSize();
  if (size.x < 1 || size.y < 1) return;
  const b = map.getBounds().pad(0.05);
  if (!(b.getEast() > b.getWest() && b.getNorth() > b.getSouth())) return;
  const bbox = [clamp(b.getWest(), -180, 179), clamp(b.getSouth(), -85, 84),
    clamp(b.getEast(), -179, 180), clamp(b.getNorth(), -84, 85)].map((v) => v.toFixed(4)).join(",");
  const mine = ++ticket;
  const url = "/api/v1/labels?zoom=" + Math.round(map.getZoom()) + "&bbox=" + bbox +
    (labelFocus.commune ? "&focus=" + encodeURIComponent(labelFocus.commune) : "");
  const response = await fetch(url);
  if (!response.ok || mine !== ticket) return;
  const answer = await response.json();
  if (mine !== ticket) return;
  showLabels(answer.features);
}
