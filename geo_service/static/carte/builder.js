// « Intégrer cette carte sur votre site »: the embed builder (territory, layers, legend, filters, view, height), its
// live preview and the <iframe> code to copy. The territory field is read like the search box: a suggestion
// picked, or the typed text resolved by the geocoder; text that names no place is said so, and no code is given
// (never the whole région in silence). The field's data-territoire holds the territory understood (level:code).
import {config, map} from "./config.js";
import {el} from "./dom.js";
import {readable} from "./format.js";
import {TERRITORY_LEVELS, levelWord} from "./search.js";
import {counting, filterValues} from "./selection.js";
import {activeLayers} from "./urlstate.js";

const builder = document.getElementById("constructeur");
const suggested = new Map();
let unresolved = ""; // typed text that named no territory: no code until it is fixed or cleared
let previewTimer = null;

// a text as an HTML attribute's value in the code to copy (the code is text shown in a field, never parsed here)
function attributeValue(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/\u00a0/g, "&nbsp;");
}

function embedUrl() {
  const params = new URLSearchParams();
  const place = document.getElementById("integrer-territoire");
  const territory = builder ? place.dataset.territoire : config.territory;
  if (territory) params.set("territoire", territory);
  const layersChosen = builder
    ? Array.from(builder.querySelectorAll("input[name=couche]:checked")).map((box) => box.value)
    : activeLayers();
  params.set("layers", layersChosen.join(","));
  if (builder && !document.getElementById("integrer-legende").checked) params.set("legend", "0");
  if (config.reach !== "direct") params.set("reach", config.reach);
  if (counting()) params.set("count_departmental", "true");
  if (!builder || document.getElementById("integrer-filtres").checked) {
    for (const [name, value] of Object.entries(filterValues())) params.set(name, value);
  }
  if (builder && document.getElementById("integrer-vue").checked) {
    const centre = map.getCenter();
    params.set("vue", centre.lat.toFixed(4) + "," + centre.lng.toFixed(4) + "," + Number(map.getZoom().toFixed(2)));
  }
  return "/embed?" + readable(params.toString());
}

export function updateSnippet() {
  const box = document.getElementById("code-iframe");
  if (!box) return;
  const copy = document.getElementById("copier-code");
  const direct = document.getElementById("lien-direct");
  if (unresolved) {
    box.value = "";
    if (copy) copy.disabled = true;
    if (direct) direct.hidden = true;
    return;
  }
  if (copy) copy.disabled = false;
  if (direct) direct.hidden = false;
  const url = embedUrl();
  const place = document.getElementById("integrer-territoire");
  const name = (builder && place.dataset.territoire ? place.dataset.nom || place.value : config.territoryName) ||
    "Hauts-de-France";
  const height = builder ? document.getElementById("integrer-hauteur").value : "500";
  const title = "Carte de l'aide alimentaire Mieux manger pour tous : " + name;
  box.value = '<iframe src="' + attributeValue(location.origin + url) + '" width="100%" height="' + height +
    '" style="border:0" loading="lazy" title="' + attributeValue(title) + '"></iframe>';
  if (direct) direct.href = url;
  const preview = document.getElementById("apercu");
  if (preview) {
    preview.style.height = height + "px";
    clearTimeout(previewTimer);
    previewTimer = setTimeout(() => { if (preview.getAttribute("src") !== url) preview.setAttribute("src", url); }, 400);
  }
}

export function setupBuilder() {
  if (!builder) return;
  const place = document.getElementById("integrer-territoire");
  const message = document.getElementById("integrer-message");
  place.dataset.nom = place.value;
  let resolveTimer = null;
  let resolveTicket = 0;
  function chooseTerritory(unit, typed) {
    place.dataset.territoire = unit.level + ":" + unit.code;
    place.dataset.nom = unit.name;
    unresolved = "";
    message.classList.remove("erreur");
    message.textContent = typed ? "Territoire compris : " + unit.name + " (" + levelWord(unit.level) + ")." : "";
    updateSnippet();
  }
  // the text typed, resolved as the search box does: the suggestion it equals, else the geocoder's first unit
  async function resolvePlace() {
    const text = place.value.trim();
    const ticket = ++resolveTicket;
    if (!text) {
      place.dataset.territoire = "";
      place.dataset.nom = "";
      unresolved = "";
      message.textContent = "";
      message.classList.remove("erreur");
      updateSnippet();
      return;
    }
    const picked = suggested.get(text);
    if (picked) { chooseTerritory(picked, false); return; }
    let units = [];
    try {
      const response = await fetch("/api/v1/geocode?q=" + encodeURIComponent(text));
      if (response.ok) units = ((await response.json()).units || []).filter((u) => TERRITORY_LEVELS.includes(u.level));
    } catch (error) {
      units = [];
    }
    if (ticket !== resolveTicket || place.value.trim() !== text) return;
    if (units.length) {
      chooseTerritory(units[0], true);
      if (units.length > 1) {
        message.textContent += " Le texte nomme " + units.length + " territoires : seul le premier est retenu.";
      }
      return;
    }
    place.dataset.territoire = "";
    unresolved = text;
    message.classList.add("erreur");
    message.textContent = "Aucun territoire trouvé pour « " + text + " » : choisissez une proposition de " +
      "la liste, ou videz le champ pour intégrer toute la région. Pas de code tant que le territoire n'est pas compris.";
    updateSnippet();
  }
  place.addEventListener("input", () => {
    const text = place.value.trim();
    clearTimeout(resolveTimer);
    const picked = suggested.get(text);
    if (picked) { resolveTicket++; chooseTerritory(picked, false); return; }
    // until the text is read, the code of a former territory would be wrong: none is shown
    unresolved = text;
    message.classList.remove("erreur");
    message.textContent = text ? "Lecture du territoire…" : "";
    updateSnippet();
    resolveTimer = setTimeout(resolvePlace, 500);
    if (text.length < 2) return;
    fetch("/api/v1/geocode/suggest?limit=8&q=" + encodeURIComponent(text)).then((r) => (r.ok ? r.json() : [])).then((items) => {
      const options = document.getElementById("suggestions-integrer");
      options.replaceChildren();
      for (const item of items.filter((i) => TERRITORY_LEVELS.includes(i.level))) {
        suggested.set(item.label, item);
        options.appendChild(el("option", {value: item.label}));
      }
    });
  });
  place.addEventListener("change", () => { clearTimeout(resolveTimer); resolvePlace(); });
  builder.addEventListener("change", (event) => { if (event.target !== place) updateSnippet(); });
  builder.addEventListener("submit", (event) => { event.preventDefault(); clearTimeout(resolveTimer); resolvePlace(); });
  document.getElementById("copier-code")?.addEventListener("click", async () => {
    const box = document.getElementById("code-iframe");
    const copied = document.getElementById("copie-message");
    try {
      await navigator.clipboard.writeText(box.value);
      copied.textContent = "Code copié.";
    } catch (error) {
      box.select();
      copied.textContent = "Sélectionnez le code et copiez-le (Ctrl+C).";
    }
  });
}
