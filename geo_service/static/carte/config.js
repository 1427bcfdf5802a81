// The page's settings, written by the server as JSON in <script type="application/json" id="carte-config"> (never
// run: the pages' policy allows no inline script of ours), and the Leaflet map Folium wrote. Folium names the map
// with a generated variable; the settings give that name, and this is the one place that reads it.
const element = document.getElementById("carte-config");
if (!element) throw new Error("carte: no #carte-config element in the page");

export const config = JSON.parse(element.textContent);
export const map = window[config.map];
if (!map || typeof map.getContainer !== "function") {
  throw new Error("carte: config.map = " + JSON.stringify(config.map) + " names no Leaflet map");
}
// the address the page was opened at: its filters, layers, view and simulated actions
export const start = new URL(location.href);
