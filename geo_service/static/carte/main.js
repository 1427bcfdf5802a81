// The map pages (/carte, /embed, /territoires/…): the entry module, loaded from this server with
// <script type="module"> (the pages' policy runs no inline script of ours). It puts the parts together in the order
// the page needs them: the map's controls and layers, the cards, the panels, then the view (from the URL, or the
// territory fitted), the overlays once the view is final, and the projects.
//
// The other modules, each one concern: dom (the one way HTML is built), config (the page's settings and its map),
// map (controls, legend, fit), labels, cards, communes, projects, selection (filters and the coverage rule),
// search, simulation, builder (the embed's code), urlstate (the address), tables. The offline file runs the same
// modules from offline.js, bundled into one script (geo_service/maps/bundle.py).
import {config, map} from "./config.js";
import {closeCard} from "./cards.js";
import {answerCommunePage, clickOnMap, outlined, showCommune} from "./communes.js";
import {labels, loadLabels} from "./labels.js";
import {
  addLegend, addOverlay, addRecentre, fitTerritory, makeOutline, placeControls, placeLegend, publishView,
  setupControls, tileLayers, view,
} from "./map.js";
import {cluster, loadProjects, openProject, setupMarkerAccess, toggleArea} from "./projects.js";
import {search, suggest} from "./search.js";
import {applySelection, countBox, form, restoreFilters} from "./selection.js";
import {setupSimulation} from "./simulation.js";
import {setupBuilder, updateSnippet} from "./builder.js";
import {setupSortableTables} from "./tables.js";
import {saveState, urlView} from "./urlstate.js";

// -- the map: controls in French, the layer list (in this order), « Recentrer », the legend --------------------------
setupControls();
for (const overlay of config.overlays || []) addOverlay(tileLayers.get(overlay.key), overlay.title, overlay.key);
addOverlay(cluster, "Projets (actions locales)", "projects");
addOverlay(labels, "Noms des communes");
const outline = makeOutline();
if (outline) addOverlay(outline, config.outline.title);
addRecentre();
addLegend();
map.on("click", clickOnMap);
outlined.addTo(map);

// -- cards: markers, buttons of the lists, Escape -------------------------------------------------------------------
setupMarkerAccess();
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeCard(true);
});
document.addEventListener("click", (event) => {
  const project = event.target.closest(".lien-projet");
  if (project) { event.preventDefault(); openProject(project.dataset.id, project); return; }
  const area = event.target.closest(".zone-projet");
  if (area) { toggleArea(area); return; }
  const commune = event.target.closest(".fiche-de-commune");
  if (commune) showCommune(commune.dataset.code, null, commune);
});

// -- the panels ---------------------------------------------------------------------------------------------------
const startSimulation = setupSimulation();
setupSortableTables();
restoreFilters();
setupBuilder();

// -- start: the view asked for in the URL, else the territory fitted ------------------------------------------------
placeControls();
placeLegend();
const wanted = urlView();
if (wanted) {
  map.setView(wanted[0], wanted[1], {animate: false});
  view.userMoved = true;
} else {
  fitTerritory();
}
publishView();
applySelection(); // before the overlays come: their first tiles already count the selection the URL names
// the overlays wait for the final view (see interactive.py), then come in the order of the layer list
for (const overlay of config.overlays || []) {
  if (config.layers.includes(overlay.key)) tileLayers.get(overlay.key).addTo(map);
}
if (config.showProjects) cluster.addTo(map);
labels.addTo(map);
document.getElementById("recherche")?.addEventListener("submit", search);
document.getElementById("q")?.addEventListener("input", suggest);
const filtersChanged = () => { applySelection(); loadProjects(); saveState(); updateSnippet(); };
form?.addEventListener("change", filtersChanged);
form?.addEventListener("reset", () => setTimeout(filtersChanged, 0));
countBox?.addEventListener("change", () => { applySelection(); saveState(); updateSnippet(); answerCommunePage(); });
map.on("moveend", () => { loadLabels(); saveState(); updateSnippet(); });
map.on("overlayadd overlayremove", () => { loadLabels(); saveState(); updateSnippet(); });
map.on("resize", () => {
  placeControls();
  placeLegend();
  if (!view.userMoved) fitTerritory(); // a frame resized by the partner's page: the territory fits again
});
loadLabels();
updateSnippet();
startSimulation();
answerCommunePage();
loadProjects();
