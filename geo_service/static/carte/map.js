// The map itself: its controls in French (zoom, metric scale, the layer list folded behind its button,
// « Recentrer », the legend inside the map), the layers the server names (tile overlays, the territory's outline),
// and the fit: the territory drawn as large as it can be in the room the controls, the legend and an open card
// leave. What a person sees of the view is also written on the map's element (data-vue, data-emprise).
import {config, map} from "./config.js";
import {el, htmlText, strokeIcon} from "./dom.js";

export const SMALL = 700; // px: below this width controls fold, cards become a bottom sheet and tap targets grow
export const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
export const small = () => map.getContainer().clientWidth < SMALL;
// userMoved: the person moved the map (or the URL asked for a view): the territory is not fitted again on its own
export const view = {userMoved: false, fitting: false, legendFitted: null, legendTouched: false};

// -- the layer list -------------------------------------------------------------------------------------------
export const overlays = {}; // title -> Leaflet layer, as the layer list shows them
export const overlayKeys = new Map(); // Leaflet layer -> URL name, to keep the layers in the URL
let layersControl = null;

export function addOverlay(layer, title, key) {
  overlays[title] = layer;
  if (key) overlayKeys.set(layer, key);
  layersControl.addOverlay(layer, htmlText(title));
}

export function removeOverlay(layer) {
  for (const [title, shown] of Object.entries(overlays)) if (shown === layer) delete overlays[title];
  overlayKeys.delete(layer);
  layersControl.removeLayer(layer);
}

// The tile overlays the server lists (none in the offline file), made here with the options it gives; each is
// added to the map once the view is final (main.js), so that no tile is asked for a view the page leaves at once.
export const tileLayers = new Map(); // URL name -> Leaflet tile layer
export const tileUrls = new Map(); // Leaflet tile layer -> its URL as the server wrote it (reach, version)

function makeTileLayers() {
  for (const overlay of config.overlays || []) {
    const layer = L.tileLayer(overlay.url, config.tileOptions || {});
    tileLayers.set(overlay.key, layer);
    tileUrls.set(layer, overlay.url);
  }
}

// The territory's outline (a page of a territory), drawn from the start: its path is marked contour-territoire.
export function makeOutline() {
  if (!config.outline) return null;
  return L.geoJSON(config.outline.geojson, {
    interactive: false, style: {...config.outline.style, className: "contour-territoire"},
  }).addTo(map);
}

// -- controls -------------------------------------------------------------------------------------------------
// Folium's zoom control speaks English: replaced. The layer list is folded behind its button at every size:
// unfolded, it covered up to 60 % of a desktop map.
export function setupControls() {
  // fractional zoom: the territory fills the map, instead of the whole zoom below leaving it a small island
  map.options.zoomSnap = 0.25;
  map.options.zoomDelta = 0.5;
  if (map.zoomControl) map.zoomControl.remove();
  L.control.zoom({position: "topleft", zoomInTitle: "Zoom avant", zoomOutTitle: "Zoom arrière"}).addTo(map);
  L.control.scale({imperial: false, position: "bottomleft"}).addTo(map);
  map.attributionControl.setPrefix(false);
  map.createPane("etiquettes").style.zIndex = 450; // above the coverage tiles, below the markers and cards
  makeTileLayers();
  layersControl = L.control.layers(null, {}, {collapsed: true, position: "topright"}).addTo(map);
  const toggle = layersControl.getContainer().querySelector(".leaflet-control-layers-toggle");
  if (toggle) {
    toggle.title = "Couches de la carte";
    toggle.setAttribute("aria-label", "Couches de la carte");
    toggle.setAttribute("role", "button");
  }
  map.on("movestart", () => { if (!view.fitting) view.userMoved = true; });
  map.on("moveend", publishView);
}

// « Recentrer »: the territory fitted again in the room the controls and an open card leave
export function addRecentre() {
  const recentre = L.control({position: "topleft"});
  recentre.onAdd = () => {
    const words = "Recentrer sur " + (config.territoryName || "la région");
    const button = el("button", {type: "button", class: "recentrer-bouton", title: words, "aria-label": words},
      strokeIcon(["M4 9V4h5", "M15 4h5v5", "M20 15v5h-5", "M9 20H4v-5", "M12 9v6M9 12h6"]));
    button.addEventListener("click", () => { view.userMoved = false; fitTerritory(); });
    const bar = el("div", {class: "leaflet-bar leaflet-control recentrer"}, button);
    L.DomEvent.disableClickPropagation(bar);
    return bar;
  };
  recentre.addTo(map);
}

// -- the legend: inside the map, bottom right, above the attribution; open where there is room (a desktop, a large
// embed), one tap away on a phone; the fit keeps the territory clear of it.
export const legend = document.getElementById("legende");

export function addLegend() {
  if (!legend) return;
  const control = L.control({position: "bottomright"});
  control.onAdd = () => {
    const box = el("div", {class: "leaflet-control legende-controle"}, legend);
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  control.addTo(map);
  legend.querySelector("summary")?.addEventListener("click", () => { view.legendTouched = true; });
  legend.addEventListener("toggle", () => {
    sizeLegend();
    if (!view.userMoved && view.legendFitted !== null && legend.open !== view.legendFitted) fitTerritory();
  });
  legend.querySelector(".definitions")?.addEventListener("toggle", () => {
    if (!view.userMoved && legend.open) fitTerritory();
  });
}

function sizeLegend() {
  if (!legend) return;
  const container = map.getContainer();
  const top = container.querySelector(".leaflet-top.leaflet-right")?.offsetHeight || 0;
  const below = container.querySelector(".leaflet-control-attribution")?.offsetHeight || 0;
  const height = map.getSize().y;
  // a low map (an embed) keeps most of itself for the territory: the legend scrolls beyond 55 % of it
  const room = height - top - below - 28;
  legend.style.maxHeight = Math.max(120, height < 600 ? Math.min(room, height * 0.55) : room) + "px";
}

export function placeLegend() {
  if (!legend) return;
  if (!view.legendTouched) {
    const size = map.getSize();
    legend.open = size.x >= SMALL && size.y >= 420;
  }
  sizeLegend();
}

export function placeControls() {
  map.getContainer().classList.toggle("carte-etroite", small());
}

// -- fitting: the territory in the room whatever covers the map leaves ------------------------------------------
// Each thing over the map (the four corners' controls, the legend among them, an open card) is kept clear either
// by a side padding or by a top/bottom one; of all the choices, the one where the territory is drawn largest.
function obstacles() {
  const container = map.getContainer();
  const origin = container.getBoundingClientRect();
  const boxes = [];
  const candidates = Array.from(container.querySelectorAll(".leaflet-top, .leaflet-bottom"));
  const sheet = container.querySelector(".feuille"); // an open card
  if (sheet) candidates.push(sheet);
  for (const element of candidates) {
    const r = element.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    boxes.push({left: r.left - origin.left, top: r.top - origin.top, right: r.right - origin.left,
      bottom: r.bottom - origin.top});
  }
  return boxes;
}

function fitPaddings() {
  const size = map.getSize();
  const margin = 8;
  const boxes = obstacles();
  const sw = map.project(L.latLng(config.bounds[0]), 0);
  const ne = map.project(L.latLng(config.bounds[1]), 0);
  const width = Math.max(1e-9, Math.abs(ne.x - sw.x));
  const height = Math.max(1e-9, Math.abs(sw.y - ne.y));
  let best = null;
  for (let choice = 0; choice < (1 << boxes.length); choice++) {
    const pad = {left: margin, top: margin, right: margin, bottom: margin};
    boxes.forEach((b, i) => {
      const sideways = (choice >> i) & 1;
      if (sideways) {
        if (b.left + b.right < size.x) pad.left = Math.max(pad.left, b.right + margin);
        else pad.right = Math.max(pad.right, size.x - b.left + margin);
      } else if (b.top + b.bottom < size.y) {
        pad.top = Math.max(pad.top, b.bottom + margin);
      } else {
        pad.bottom = Math.max(pad.bottom, size.y - b.top + margin);
      }
    });
    const freeX = size.x - pad.left - pad.right;
    const freeY = size.y - pad.top - pad.bottom;
    if (freeX < 40 || freeY < 40) continue;
    const scale = Math.min(freeX / width, freeY / height);
    if (!best || scale > best.scale) best = {scale, pad};
  }
  return best ? best.pad : {left: margin, top: margin, right: margin, bottom: margin};
}

export function fitTerritory() {
  sizeLegend();
  const pad = fitPaddings();
  view.legendFitted = legend ? legend.open : null;
  view.fitting = true;
  map.fitBounds(config.bounds, {paddingTopLeft: [pad.left, pad.top], paddingBottomRight: [pad.right, pad.bottom],
    animate: false});
  view.fitting = false;
}

// The view, as the URL's hash says it (zoom/lat/lon), and the bounds shown (west,south,east,north): on the map's
// element, for whatever reads the page (a screen reader's user agent, a test) without Leaflet's internals.
export function publishView() {
  const container = map.getContainer();
  const centre = map.getCenter();
  container.dataset.vue = Number(map.getZoom().toFixed(2)) + "/" + centre.lat.toFixed(4) + "/" + centre.lng.toFixed(4);
  container.dataset.emprise = map.getBounds().toBBoxString();
}

// -- the map brought into view ----------------------------------------------------------------------------------
export function showMap() {
  map.getContainer().scrollIntoView({block: "start", behavior: reducedMotion ? "auto" : "smooth"});
}

// the map scrolls into view only when most of it is out of the window (a phone), not on a wide screen
export function revealMap() {
  const box = map.getContainer().getBoundingClientRect();
  const seen = Math.min(box.bottom, window.innerHeight) - Math.max(box.top, 0);
  if (seen < box.height / 2) showMap();
}
