// The offline file (geo-service render): the same map, cards, place names and legend as the pages, from the data
// the file carries instead of the API (the communes and their coverage, the territory's outline, its projects,
// the place names). geo_service/maps/bundle.py puts this module and those it imports into one classic script:
// a file opened from disk cannot import modules by path.
import {config, map} from "./config.js";
import {el, svgElement} from "./dom.js";
import {closeCard, communeStatus} from "./cards.js";
import {number} from "./format.js";
import {labels, showLabels} from "./labels.js";
import {
  addLegend, addOverlay, addRecentre, fitTerritory, makeOutline, placeControls, placeLegend, publishView,
  setupControls, view,
} from "./map.js";
import {cluster, openProject, setupMarkerAccess, showProjects} from "./projects.js";

// a commune's coverage as the PNG tiles draw it: the style of its class (a zone blanche, else its best scope)
const communeClass = (properties) => (properties.zone_blanche ? "zone_blanche" : properties.best_scope);

// Each class's Leaflet style; a hatched class (the zones blanches) filled with an SVG pattern: its colour under
// stripes of its hatch colour, as the tiles and the legend show it.
const styles = {};
const patterns = svgElement("svg", {width: 0, height: 0, "aria-hidden": "true", style: "position:absolute"},
  svgElement("defs"));
document.body.appendChild(patterns);
for (const [key, style] of Object.entries(config.coverageStyles)) {
  if (!style.hatch) { styles[key] = style; continue; }
  const id = "hachures-" + key.replace(/\W/g, "-");
  patterns.firstChild.appendChild(svgElement("pattern",
    {id, width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)"},
    svgElement("rect", {width: 6, height: 6, fill: style.fillColor, "fill-opacity": style.fillOpacity}),
    svgElement("line", {x1: 0, y1: 0, x2: 0, y2: 6, stroke: style.hatch.color, "stroke-opacity": style.hatch.opacity,
      "stroke-width": 2})));
  const {hatch, ...drawn} = style;
  styles[key] = {...drawn, fillColor: "url(#" + id + ")", fillOpacity: 1};
}

function communeTooltip(properties) {
  const actions = Number(properties.local_projects) || 0;
  return el("div", {class: "infobulle-commune", lang: "fr"},
    el("strong", {text: properties.name}), el("br"),
    communeStatus(communeClass(properties)), el("br"),
    number.format(properties.population) + " habitants · " + number.format(actions) +
      (actions > 1 ? " actions locales" : " action locale"));
}

setupControls();
const communes = L.geoJSON(config.communes, {
  style: (feature) => styles[communeClass(feature.properties)] || styles.none,
  onEachFeature: (feature, layer) => layer.bindTooltip(() => communeTooltip(feature.properties), {sticky: true}),
}).addTo(map);
addOverlay(communes, "Couverture des communes", "coverage");
addOverlay(cluster, "Projets (actions locales)", "projects");
addOverlay(labels, "Noms des communes");
const outline = makeOutline();
if (outline) addOverlay(outline, config.outline.title);
addRecentre();
addLegend();

setupMarkerAccess();
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeCard(true);
});
document.addEventListener("click", (event) => {
  const project = event.target.closest(".lien-projet");
  if (project) { event.preventDefault(); openProject(project.dataset.id, project); }
});

placeControls();
placeLegend();
fitTerritory();
publishView();
cluster.addTo(map);
labels.addTo(map);
showLabels(config.labels);
showProjects(config.projects);
map.on("resize", () => {
  placeControls();
  placeLegend();
  if (!view.userMoved) fitTerritory();
});
