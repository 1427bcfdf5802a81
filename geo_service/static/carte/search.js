// Finding places: the search box (suggestions from the geocoder, the map centred on the place found and its outline
// drawn, its name always among the place names), and the combobox the simulation's field uses.
import {config, map} from "./config.js";
import {el, fill} from "./dom.js";
import {highlight} from "./communes.js";
import {labelFocus} from "./labels.js";

// the levels a territory can be chosen at (the simulation, the embed builder)
export const TERRITORY_LEVELS = ["commune", "epci", "arrondissement", "departement", "region"];
export const levelWord = (level) => (config.levels[level] || level).toLowerCase();

const suggested = new Map(); // label -> the geocoder's unit, for the suggestions shown
let suggestTimer = null;

export function suggest() {
  clearTimeout(suggestTimer);
  const text = document.getElementById("q").value.trim();
  if (text.length < 2 || suggested.has(text)) return;
  suggestTimer = setTimeout(async () => {
    const response = await fetch("/api/v1/geocode/suggest?limit=8&q=" + encodeURIComponent(text));
    if (!response.ok) return;
    const options = document.getElementById("suggestions");
    options.replaceChildren();
    for (const item of await response.json()) {
      suggested.set(item.label, item);
      options.appendChild(el("option", {value: item.label}));
    }
  }, 150);
}

// The place found, said under the box: its name, a link to its page and, for a commune, its coverage's card
export async function search(event) {
  event.preventDefault();
  const text = document.getElementById("q").value.trim();
  const message = document.getElementById("recherche-message");
  if (!text) { message.textContent = "Saisissez un nom de lieu ou un code postal."; return; }
  let unit = suggested.get(text);
  if (!unit) {
    const response = await fetch("/api/v1/geocode?q=" + encodeURIComponent(text));
    const answer = response.ok ? await response.json() : {units: []};
    if (!answer.units || !answer.units.length) {
      message.textContent = "Aucun lieu trouvé pour « " + text + " ». Essayez un nom de commune, " +
        "d'intercommunalité, de département ou un code postal.";
      return;
    }
    unit = answer.units[0];
  }
  const detail = await (await fetch("/api/v1/territories/" + unit.level + "/" + unit.code)).json();
  const [west, south, east, north] = detail.bbox;
  labelFocus.commune = unit.level === "commune" ? unit.code : null;
  map.fitBounds([[south, west], [north, east]]);
  await highlight(unit.level, unit.code, false);
  fill(message, "Carte centrée sur ", el("strong", {text: detail.name}), " (" + levelWord(unit.level) + "). ",
    el("a", {href: "/territoires/" + encodeURIComponent(unit.level) + "/" + encodeURIComponent(unit.code),
      text: "Voir sa page"}),
    unit.level === "commune" ? [" · ", el("button", {type: "button", class: "lien-commune fiche-de-commune",
      "data-code": unit.code, text: "Afficher la couverture de la commune"})] : null);
}

// A combobox (ARIA 1.2 pattern): suggestions from the geocoder, arrows to move, Enter to choose, Escape to close.
export function combobox(input, listbox, onChoose) {
  let items = [];
  let active = -1;
  let timer = null;
  let ticket = 0;
  function close() {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }
  function mark(index) {
    active = index;
    Array.from(listbox.children).forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    const option = listbox.children[index];
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({block: "nearest"});
    }
  }
  function show(found) {
    items = found;
    listbox.replaceChildren(...found.map((item, i) => el("li", {
      id: listbox.id + "-" + i, role: "option", "aria-selected": "false", "data-index": i, text: item.label,
    })));
    active = -1;
    input.removeAttribute("aria-activedescendant");
    listbox.hidden = !found.length;
    input.setAttribute("aria-expanded", String(found.length > 0));
  }
  function choose(index) {
    const item = items[index];
    if (!item) return;
    input.value = item.label;
    close();
    onChoose(item);
  }
  input.addEventListener("input", () => {
    clearTimeout(timer);
    onChoose(null);
    const text = input.value.trim();
    if (text.length < 2) { close(); return; }
    timer = setTimeout(async () => {
      const mine = ++ticket;
      let found = [];
      try {
        const response = await fetch("/api/v1/geocode/suggest?limit=8&q=" + encodeURIComponent(text));
        if (response.ok) found = await response.json();
      } catch (error) {
        found = [];
      }
      if (mine !== ticket || input.value.trim() !== text || document.activeElement !== input) return;
      show(found.filter((item) => TERRITORY_LEVELS.includes(item.level)));
    }, 150);
  });
  input.addEventListener("keydown", (event) => {
    const open = !listbox.hidden && items.length > 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!open) return;
      event.preventDefault();
      const down = event.key === "ArrowDown";
      mark(down ? (active + 1) % items.length : (active <= 0 ? items.length - 1 : active - 1));
    } else if (event.key === "Enter" && open && active >= 0) {
      event.preventDefault(); // chosen, not yet added: a second Enter adds it
      choose(active);
    } else if (event.key === "Escape" && open) {
      event.stopPropagation();
      close();
    }
  });
  listbox.addEventListener("mousedown", (event) => event.preventDefault()); // the field keeps the focus
  listbox.addEventListener("click", (event) => {
    const option = event.target.closest("[role=option]");
    if (option) choose(Number(option.dataset.index));
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  return {close};
}
