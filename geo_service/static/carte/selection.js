// The filters of projects, and the selection they make: with a year of call or a status chosen, the coverage
// (layers, commune cards, simulation) counts the selected projects only, as the list and the markers show them.
// « Compter les actions départementales » is part of the coverage rule the same way.
import {config, start} from "./config.js";
import {el} from "./dom.js";
import {hooks} from "./hooks.js";
import {legend, tileLayers, tileUrls} from "./map.js";

export const FILTERS = ["axe", "type", "departement", "year", "status"];
const SELECTION = ["year", "status"];
export const form = document.getElementById("filtres");
export const countBox = document.getElementById("compter-departementales");

// the box as the URL says, before anything reads it
if (countBox) countBox.checked = start.searchParams.get("count_departmental") === "true";

export function counting() {
  return countBox ? countBox.checked : start.searchParams.get("count_departmental") === "true";
}

// the page's form, or in an embed (no form) the filters its code carries
export function filterValues() {
  const query = new URLSearchParams(location.search);
  const values = {};
  for (const name of FILTERS) {
    const value = form ? form.elements[name].value : query.get(name);
    if (value) values[name] = value;
  }
  return values;
}

// the form as the URL says, for the values it offers
export function restoreFilters() {
  if (!form) return;
  for (const name of FILTERS) {
    const wanted = start.searchParams.get(name);
    if (wanted && Array.from(form.elements[name].options).some((o) => o.value === wanted)) {
      form.elements[name].value = wanted;
    }
  }
}

export function selection() {
  const values = filterValues();
  return Object.fromEntries(SELECTION.filter((name) => values[name]).map((name) => [name, values[name]]));
}

// the coverage rule's parameters for a request: the page's reach, département-wide actions counted, the selection
export function ruleParams(params) {
  if (config.reach !== "direct") params.set("reach", config.reach);
  if (counting()) params.set("count_departmental", "true");
  for (const [name, value] of Object.entries(selection())) params.set(name, value);
  return params;
}

function selectionWords() {
  const chosen = selection();
  const words = [];
  if (chosen.year) words.push("année " + chosen.year);
  if (chosen.status) words.push("statut : " + (config.statusWords[chosen.status] || chosen.status));
  return words.join(", ");
}

// the coverage layers: their tile URLs as the server wrote them (reach, version), to add the selection to, and the
// URL each has now
const coverageLayers = new Map(); // Leaflet layer -> {base, url}
let applied = null;

// The coverage layers, the notes, the figures above the map and the legend's definition follow the choice.
export function applySelection() {
  if (!coverageLayers.size) {
    for (const overlay of config.overlays || []) {
      const layer = overlay.coverage && tileLayers.get(overlay.key);
      if (layer) coverageLayers.set(layer, {base: tileUrls.get(layer), url: tileUrls.get(layer)});
    }
  }
  const chosen = selection();
  if (counting()) chosen.count_departmental = "true";
  const query = new URLSearchParams(chosen).toString();
  if (applied !== null && query !== applied) hooks.selectionChanged();
  applied = query;
  for (const [layer, urls] of coverageLayers) {
    const url = query ? urls.base + (urls.base.includes("?") ? "&" : "?") + query : urls.base;
    if (urls.url !== url) {
      layer.setUrl(url);
      urls.url = url;
    }
  }
  const words = selectionWords();
  const text = words ? "Couverture calculée avec les seules actions sélectionnées (" + words + ")." : "";
  const note = document.getElementById("note-selection");
  if (note) { note.textContent = text; note.hidden = !text; }
  const legendNote = document.getElementById("legende-selection") ||
    (legend ? legend.appendChild(el("p", {id: "legende-selection", class: "note note-selection"})) : null);
  if (legendNote) { legendNote.textContent = text; legendNote.hidden = !text; }
  const wide = counting();
  const figures = document.getElementById("chiffres-locaux");
  if (figures) {
    figures.hidden = wide;
    document.getElementById("chiffres-departementaux").hidden = !wide;
  }
  document.querySelectorAll(".si-departementales").forEach((span) => { span.hidden = !wide; });
}
