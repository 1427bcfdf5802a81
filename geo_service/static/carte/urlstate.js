// The page's state in its address: the filters, the layers and the simulated actions in the query, the view in
// the hash (#zoom/lat/lon). A link copied from the address bar opens the same map. An embed's address belongs to
// the partner's page: it is left alone.
import {config, map, start} from "./config.js";
import {readable} from "./format.js";
import {hooks} from "./hooks.js";
import {overlayKeys} from "./map.js";
import {FILTERS, counting, filterValues} from "./selection.js";

export function activeLayers() {
  return Array.from(overlayKeys.entries()).filter(([layer]) => map.hasLayer(layer)).map(([, key]) => key);
}

export function saveState() {
  if (config.embed) return;
  const url = new URL(location.href);
  const filters = filterValues();
  for (const name of FILTERS) {
    if (filters[name]) url.searchParams.set(name, filters[name]); else url.searchParams.delete(name);
  }
  const layersNow = activeLayers();
  const same = layersNow.length === config.layers.length && layersNow.every((key) => config.layers.includes(key));
  if (same) url.searchParams.delete("layers"); else url.searchParams.set("layers", layersNow.join(","));
  if (counting()) url.searchParams.set("count_departmental", "true"); else url.searchParams.delete("count_departmental");
  const simulated = hooks.simulationParam();
  if (simulated) url.searchParams.set("simuler", simulated); else url.searchParams.delete("simuler");
  url.search = readable(url.searchParams.toString());
  const centre = map.getCenter();
  url.hash = Number(map.getZoom().toFixed(2)) + "/" + centre.lat.toFixed(4) + "/" + centre.lng.toFixed(4);
  history.replaceState(null, "", url);
}

// A view asked for in the URL (#zoom/lat/lon, or vue=lat,lon,zoom in an embed): [[lat, lon], zoom], or null
export function urlView() {
  const hash = location.hash.match(/^#(\d{1,2}(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/);
  if (hash) return [[Number(hash[2]), Number(hash[3])], Number(hash[1])];
  const view = (start.searchParams.get("vue") || "").split(",").map(Number);
  return view.length === 3 && view.every(Number.isFinite) ? [[view[0], view[1]], view[2]] : null;
}
