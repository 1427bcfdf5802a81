// The MapLibre example page (/exemples/maplibre): our style, our vector tiles and our sprite, nothing else.
// The legend is read from /api/v1/legend and built with createElement/textContent (no HTML from data).
import { Map, NavigationControl } from '/static/vendor/maplibre-gl/maplibre-gl.mjs';

const origin = window.location.origin;
const choice = document.getElementById('choix-style');

function styleUrl(id) {
  return `${origin}/styles/${id}.json`;
}

function legendUrl(id) {
  return `${origin}/api/v1/legend?layer=${encodeURIComponent(id)}`;
}

function swatch(item) {
  const box = document.createElement('span');
  box.className = 'pastille';
  box.setAttribute('aria-hidden', 'true');
  if (item.colour) {
    const [r, g, b, a] = item.colour.rgba;
    box.style.backgroundColor = `rgba(${r}, ${g}, ${b}, ${a / 255})`;
  }
  if (item.hatch) {
    const [r, g, b, a] = item.hatch.rgba;
    const line = `rgba(${r}, ${g}, ${b}, ${a / 255})`;
    // the same diagonals as the sprite, every 8 pixels
    box.style.backgroundImage = `repeating-linear-gradient(-45deg, ${line} 0 1px, transparent 1px 5.657px)`;
  }
  if (item.outline) {
    const [r, g, b] = item.outline.rgba;
    box.style.borderColor = `rgb(${r}, ${g}, ${b})`;
  }
  return box;
}

async function showLegend(id) {
  const list = document.getElementById('legende');
  const rule = document.getElementById('regle');
  document.getElementById('url-style').textContent = styleUrl(id);
  document.getElementById('url-legende').textContent = legendUrl(id);
  const response = await fetch(legendUrl(id));
  if (!response.ok) {
    list.replaceChildren();
    rule.textContent = 'La légende n\'a pas pu être lue.';
    return;
  }
  const legend = await response.json();
  list.replaceChildren(...legend.classes.map((item) => {
    const entry = document.createElement('li');
    const label = document.createElement('span');
    label.textContent = item.label;
    entry.append(swatch(item), label);
    return entry;
  }));
  rule.textContent = legend.rule || '';
}

// read before the map writes its own view into the address (hash: true)
const viewGiven = window.location.hash.length > 1;
const map = new Map({
  container: 'carte',
  style: styleUrl(choice.value),
  hash: true,
  attributionControl: { compact: true },
  fadeDuration: 0,
  maxZoom: 14,
});
map.addControl(new NavigationControl({ showCompass: false }), 'top-right');

// The style's centre and zoom suit a wide screen; on a narrow one the région's north and south fall outside.
// Without a view in the address (#zoom/lat/lon), the first view fits the data's extent, which the TileJSON gives.
let fitted = viewGiven;
map.on('sourcedata', (event) => {
  const bounds = fitted ? null : map.getSource(event.sourceId)?.bounds;
  if (bounds) {
    fitted = true;
    map.fitBounds(bounds, { padding: 16, animate: false });
  }
});

// Tests and curious readers: true once the style and every tile in view are drawn.
map.on('idle', () => { window.carteChargee = true; });
map.on('error', (event) => { window.erreursCarte = (window.erreursCarte || 0) + 1; console.error(event.error); });

choice.addEventListener('change', () => {
  window.carteChargee = false;
  map.setStyle(styleUrl(choice.value));
  showLegend(choice.value);
});
showLegend(choice.value);
window.carte = map;
