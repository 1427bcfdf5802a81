// The funded projects on the map: a marker for each local action (its colour its first action type), grouped in
// clusters where they crowd, none for a département- or région-wide one (its card opens in the panel that lists
// it); the filters applied to the markers and the list alike; Enter or Space on a focused marker opens it.
//
// Once the projects are shown, the map's element says how many (data-projets: listed; data-marqueurs: on the map).
import {config, map} from "./config.js";
import {el} from "./dom.js";
import {PROJECT_CARD, closeCard, openCard, projectCard, rememberTrigger} from "./cards.js";
import {showMap} from "./map.js";
import {filterValues} from "./selection.js";

const markers = new Map(); // project id -> marker (local projects only)
const projects = new Map(); // project id -> properties, every project listed on the page
const allowed = new Set(config.projectIds);
// the offline file has no clusters (few projects, and no library it does not need)
export const cluster = config.cluster === false ? L.featureGroup() : L.markerClusterGroup();
let keyboardOpening = null; // the marker icon Enter or Space was pressed on
let projectTrigger = null; // the button of a list that opened a marker's card

function marker(feature) {
  const p = feature.properties;
  const [lon, lat] = feature.geometry.coordinates;
  const dot = el("span");
  dot.style.background = config.typeColours[p.action_types[0]] || "#455a64";
  const made = L.marker([lat, lon], {
    // a 44 px target around an 18 px dot: a finger finds it on a phone
    icon: L.divIcon({className: "marqueur-projet", iconSize: [44, 44], html: dot}),
    title: "Projet : " + p.name, keyboard: true,
  });
  // a fresh card each time, for the map as it is now; a keyboard opening passes the marker, to return to
  made.on("click", () => {
    const icon = made.getElement();
    const byKeyboard = keyboardOpening === icon;
    keyboardOpening = null;
    const trigger = byKeyboard ? icon : projectTrigger;
    projectTrigger = null;
    openCard(projectCard(p), PROJECT_CARD, made.getLatLng(), trigger);
  });
  return made;
}

// Project features (as /api/v1/projects gives them) on the map, and the list and its count filtered alike
export function showProjects(features) {
  const shown = features.filter((f) => allowed.has(f.id));
  cluster.clearLayers();
  markers.clear();
  for (const feature of shown) {
    projects.set(feature.id, feature.properties);
    if (feature.properties.scope !== "local") continue; // a whole département or the région: no invented point
    const made = marker(feature);
    markers.set(feature.id, made);
    cluster.addLayer(made);
  }
  const ids = new Set(shown.map((f) => f.id));
  document.querySelectorAll("#liste-projets tbody tr").forEach((row) => { row.hidden = !ids.has(row.dataset.id); });
  document.querySelectorAll("#actions-etendues li[data-id]").forEach((item) => { item.hidden = !ids.has(item.dataset.id); });
  const count = document.getElementById("nb-projets");
  if (count) count.textContent = String(ids.size);
  const container = map.getContainer();
  container.dataset.projets = String(ids.size);
  container.dataset.marqueurs = String(markers.size);
}

let ticket = 0; // filters changed twice quickly: the older answer, if it comes last, is stale

export async function loadProjects() {
  const mine = ++ticket;
  const query = new URLSearchParams(filterValues()).toString();
  const response = await fetch("/api/v1/projects" + (query ? "?" + query : ""));
  const collection = await response.json();
  if (mine !== ticket) return;
  showProjects(collection.features);
}

export async function openProject(id, trigger) {
  rememberTrigger(trigger);
  const found = markers.get(id);
  if (found) {
    if (!map.hasLayer(cluster)) cluster.addTo(map);
    if (trigger && !map.getContainer().contains(trigger)) showMap();
    const open = () => {
      projectTrigger = trigger || null;
      found.fire("click");
    };
    if (cluster.zoomToShowLayer) cluster.zoomToShowLayer(found, open);
    else open();
    return;
  }
  let p = projects.get(id);
  if (!p) {
    const response = await fetch("/api/v1/projects/" + encodeURIComponent(id));
    if (!response.ok) return;
    p = (await response.json()).properties;
    projects.set(id, p);
  }
  const panel = document.getElementById("fiche-" + id);
  if (panel) { // a département- or région-wide action: its card opens in the panel that lists it
    closeCard(false);
    panel.replaceChildren(projectCard(p));
    panel.hidden = false;
    panel.focus();
    return;
  }
  openCard(projectCard(p), PROJECT_CARD, null, trigger);
}

// « Afficher la zone » of a département- or région-wide action: its territory drawn, or removed
const areas = new Map(); // project id -> its drawn area

export async function toggleArea(button) {
  const id = button.dataset.id;
  if (areas.has(id)) {
    areas.get(id).remove();
    areas.delete(id);
    button.setAttribute("aria-pressed", "false");
    button.textContent = "Afficher la zone";
    return;
  }
  const response = await fetch("/api/v1/projects/" + encodeURIComponent(id) + "?geometry=area");
  if (!response.ok) return;
  const layer = L.geoJSON(await response.json(), {
    interactive: false, style: {color: "#1565c0", weight: 2, fillColor: "#1565c0", fillOpacity: 0.08},
  }).addTo(map);
  areas.set(id, layer);
  button.setAttribute("aria-pressed", "true");
  button.textContent = "Masquer la zone";
  showMap();
  map.fitBounds(layer.getBounds(), {padding: [10, 10]});
}

// Leaflet's cluster icons show a bare number: say what it is, and make it a button for screen readers. Enter or
// Space on a focused marker opens it as a click would (a cluster zooms to its projects, then the first of them
// takes the focus): keyboard users reach every project, on /embed too.
export function setupMarkerAccess() {
  const pane = map.getPane("markerPane");
  new MutationObserver(() => {
    pane.querySelectorAll(".marker-cluster:not([aria-label])").forEach((icon) => {
      const words = icon.textContent.trim() + " projets regroupés : zoomer pour les voir";
      icon.setAttribute("aria-label", words);
      icon.setAttribute("title", words);
      icon.setAttribute("role", "button");
    });
  }).observe(pane, {childList: true, subtree: true});
  pane.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    const icon = event.target.closest(".leaflet-marker-icon");
    if (!icon) return;
    event.preventDefault();
    event.stopPropagation();
    if (icon.classList.contains("marker-cluster")) {
      cluster.once("animationend", () => {
        const first = pane.querySelector(".leaflet-marker-icon[tabindex]");
        if (first) first.focus();
      });
    } else {
      keyboardOpening = icon;
    }
    icon.click();
  });
}
