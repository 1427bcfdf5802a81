// Cards: a project's card, a commune's answer, and the sheet they open in. The sheet is inside the map, never past
// its edges: a bottom sheet on a narrow map (a phone, a small embed), a panel along the right edge of a wide one,
// above the legend and the controls, its close button inside the map. The map pans only as much as needed to keep
// the place it is about in sight. Everything the server or a person wrote goes in as text (dom.js).
//
// What a person sees is what a reader of the page finds: the open sheet's region is labelled « Fiche du projet »
// or « Fiche de la commune » (aria-label), a project's card carries data-id, a commune's data-code.
import {config, map} from "./config.js";
import {el} from "./dom.js";
import {decimal, durationText, euros, frenchDate, number} from "./format.js";
import {reducedMotion, small} from "./map.js";
import {countBox} from "./selection.js";

export const PROJECT_CARD = "Fiche du projet";
export const COMMUNE_CARD = "Fiche de la commune";
const SCOPE_WORDS = {local: "locale", departement: "départementale", region: "régionale"};
const newTab = (attributes) => ({...attributes, target: config.embed ? "_blank" : null,
  rel: attributes.rel || (config.embed ? "noopener" : null)});

// -- a project's card -------------------------------------------------------------------------------------------
function territoriesText(p) {
  return p.territories.map((t) => t.name + " (" + (config.levels[t.level] || t.level).toLowerCase() + ", " +
    number.format(t.communes) + " commune" + (t.communes > 1 ? "s" : "") + ")").join(" ; ");
}

function reachText(p) {
  const kind = p.reach === "direct"
    ? "Accès direct : on y obtient de l'alimentation (épicerie, distribution, paniers, chèques, repas)"
    : "Appui aux acteurs (coordination, formation, logistique, études) : ne compte pas comme accès direct";
  return kind + (p.reach_source === "manual" ? " — choix de l'équipe : " + (p.reach_note || "") : "");
}

// The facts of the grant, as the pages' and the offline file's cards say them (this is their one source):
// [label, text, kind], kind "link" (the text is a web address) or "warning". The unknown facts are said once,
// together (« Année, montant, statut : non renseignés »): a brochure record, which gives only its duration, reads
// in two lines, not six.
function grantFacts(p) {
  const facts = [];
  const unknown = []; // [word, feminine]
  const checks = p.to_check || [];
  if (checks.length) facts.push(["À vérifier", checks.join(" ; "), "warning"]);
  // its reach is a default (no direct-access rule recognised its words) until a person decides
  if (p.to_classify) facts.push(["À classer", p.to_classify.replace(/^à classer : /, ""), "warning"]);
  const years = p.funding_years || [];
  if (years.length) facts.push([years.length > 1 ? "Appels" : "Appel", years.join(", ")]);
  else unknown.push(["année", true]);
  if (p.amount_eur != null) facts.push(["Montant accordé", euros(p.amount_eur)]);
  else unknown.push(["montant", false]);
  if (p.duration_years != null) facts.push(["Durée", durationText(p.duration_years)]);
  else unknown.push(["durée", true]);
  if (p.status != null) facts.push(["Statut", config.statusWords[p.status] || p.status]);
  else unknown.push(["statut", false]);
  if (p.end_date != null) {
    facts.push(["Fin de l'action", frenchDate(p.end_date) +
      (p.end_date_source === "derived" ? " (déduite de l'année et de la durée)" : "")]);
  } else {
    unknown.push(["date de fin", true]);
  }
  if (unknown.length) {
    const words = unknown.map(([word]) => word).join(", ");
    const ending = (unknown.every(([, feminine]) => feminine) ? "e" : "") + (unknown.length > 1 ? "s" : "");
    facts.push([words.charAt(0).toUpperCase() + words.slice(1), "non renseigné" + ending]);
  }
  if (p.website) facts.push(["Site internet", p.website, "link"]);
  if (p.contact) facts.push(["Contact", p.contact]);
  if (p.last_checked) facts.push(["Informations vérifiées le", frenchDate(p.last_checked)]);
  return facts;
}

function factValue(text, kind) {
  // only an http(s) address becomes a link (the server checks it too); any other text stays text
  if (kind === "link" && /^https?:\/\//i.test(text)) {
    return el("a", {href: text, rel: "noopener noreferrer", target: config.embed ? "_blank" : null, text});
  }
  return kind === "warning" ? el("strong", {class: "a-verifier", text}) : text;
}

// A project's card, from its properties as /api/v1/projects gives them.
export function projectCard(p) {
  const axes = p.axes.map((a) => "Axe " + a + " : " + (config.axes[a] || "")).join(" ; ");
  const types = p.action_types.map((t) => config.actionTypes[t] || t).join(", ");
  const axesSource = p.axes_source === "manual" ? "choisis par l'équipe : " + (p.axes_note || "") : "déduits des actions";
  const items = (values) => (values && values.length ? el("ul", {}, values.map((v) => el("li", {text: v}))) : "—");
  const rows = [
    ["Porteur", p.organisation],
    ...grantFacts(p).map(([label, text, kind]) => [label, factValue(text, kind), kind === "warning" ? "a-verifier" : null]),
    ["Lieu d'intervention (brochure)", p.place_text],
    ["Territoires comptés", territoriesText(p) + " — action " + SCOPE_WORDS[p.scope] + ", " +
      number.format(p.communes.length) + " communes"],
    ["Accès à l'alimentation", reachText(p)],
    ["Actions", items(p.actions)],
    ["Bénéficiaires", items(p.beneficiaries)],
    ["Partenaires", items(p.partners)],
    ["Objectifs", items(p.objectives)],
    ["Axes du programme", el("span", {}, axes + " ", el("small", {text: "(" + axesSource + ")"}))],
    ["Types d'action", types || "—"],
  ];
  return el("article", {class: "fiche", lang: "fr", "data-id": p.id}, el("h3", {text: p.name}),
    el("dl", {}, rows.map(([label, value, className]) =>
      [el("dt", {class: className, text: label}), el("dd", {class: className}, value)])));
}

// -- a commune's answer -----------------------------------------------------------------------------------------
export const projectButton = (p) => el("button", {type: "button", class: "lien-projet", "data-id": p.id, text: p.name});

// A commune's status in words, as the server says it (maps/pages.py COMMUNE_STATUS): from /api/v1/coverage's
// answer for a commune under the page's choices, or from a commune's coverage fields (zone_blanche, best_scope).
export function communeStatus(key) {
  return config.communeStatus[key] || key;
}

// A commune's answer in words, first what people ask (is there food aid here, and if not, where, by name), then the
// wider actions that cover it as such, then the facts: from its /api/v1/coverage/communes/{code} answer.
export function communeAnswer(c, heading) {
  const counted = c.projects.filter((p) => p.counted && p.scope === "local");
  const countedWide = (c.covering || []).filter((p) => p.counted);
  const reached = counted.length > 0 || countedWide.length > 0;
  const status = communeStatus(c.zone_blanche ? "zone_blanche" : reached
    ? (counted.length ? "local" : "departement_counted") : "not_local");
  const parts = [
    heading ? el(heading, {text: c.name}) : null,
    el("p", {class: "statut-commune"}, el("strong", {text: status}),
      c.zone_blanche ? " : aucune action locale ne l'atteint et la commune atteinte la plus proche est à plus de " +
        number.format(config.maxKm) + " km." : ""),
  ];
  if (counted.length || countedWide.length) {
    const here = counted.concat(countedWide);
    parts.push(el("p", {class: "sous-titre", text: here.length > 1 ? "Actions qui l'atteignent :" : "Action qui l'atteint :"}),
      el("ul", {class: "actions-ici"}, here.map((p) => el("li", {}, projectButton(p)))));
  }
  const n = c.nearest;
  if (n) {
    parts.push(el("p", {class: "plus-proche"}, "Commune atteinte la plus proche : ",
      el("strong", {class: "nom-plus-proche", text: n.name}), ", à " + decimal.format(n.distance_km) + " km",
      " (de mairie à mairie). ",
      el("button", {type: "button", class: "lien-commune fiche-de-commune", "data-code": n.code},
        "Voir ", el("span", {text: n.name}))));
    if (n.projects.length) {
      parts.push(el("p", {class: "sous-titre", text: "On y trouve :"}),
        el("ul", {class: "actions-proches"}, n.projects.map((p) => el("li", {}, projectButton(p),
          el("small", {text: " (" + (p.reach === "direct" ? "accès direct" : "appui") +
            (p.scope === "local" ? "" : ", action " + SCOPE_WORDS[p.scope]) + ")"})))));
    }
  } else if (!reached) {
    parts.push(el("p", {text: "Aucune commune atteinte par une action locale à proximité."}));
  }
  const wide = (c.covering || []).filter((p) => !p.counted);
  if (wide.length) {
    const hint = countBox && wide.some((p) => p.scope === "departement" && p.reach === "direct")
      ? " Cochez « Compter les actions départementales » pour les compter." : "";
    parts.push(el("p", {class: "sous-titre"}, "Elle est aussi couverte, comme tout son département ou toute la région, par :"),
      el("ul", {class: "actions-etendues-ici"}, wide.map((p) => el("li", {}, projectButton(p),
        el("small", {text: " (action " + SCOPE_WORDS[p.scope] + ", " + (p.reach === "direct" ? "accès direct" : "appui") +
          ", non comptée)"})))),
      el("p", {class: "note", text: "Une action départementale ou régionale ne dit pas où l'aide se trouve : la carte ne la " +
        "compte pas comme atteignant chaque commune." + hint}));
  }
  const others = c.projects.filter((p) => p.scope === "local" && !p.counted);
  if (others.length) {
    parts.push(el("p", {class: "sous-titre", text: "Autres actions locales ici (non comptées) :"}),
      el("ul", {}, others.map((p) => el("li", {}, projectButton(p),
        el("small", {text: " (" + (p.reach === "direct" ? "accès direct" : "appui aux acteurs") + ")"})))));
  }
  parts.push(el("p", {class: "note", text: "Pourquoi : " + c.reason + "."}),
    el("dl", {},
      el("dt", {text: "Intercommunalité"}), el("dd", {}, c.epci
        ? el("a", newTab({href: "/territoires/epci/" + encodeURIComponent(c.epci), text: c.epci_name})) : "—"),
      el("dt", {text: "Population"}), el("dd", {text: number.format(c.population) + " habitants"}),
      el("dt", {text: "Densité"}), el("dd", {text: decimal.format(c.density) + " hab/km² (commune " +
        (c.rural ? "rurale" : "urbaine") + ")"})));
  return parts.filter(Boolean);
}

// A commune's card: its answer, and the link to its page (unless this is its page)
export function communeCard(c) {
  return el("article", {class: "fiche fiche-commune", lang: "fr", "data-code": c.code}, communeAnswer(c, "h3"),
    config.commune === c.code && !config.embed ? null : el("p", {}, el("a", newTab({
      href: "/territoires/commune/" + encodeURIComponent(c.code), text: "Page de la commune"}))));
}

// -- the sheet ----------------------------------------------------------------------------------------------------
let sheet = null;
let pin = null; // the place the card is about, ringed on the map
let lastTrigger = null; // where focus goes back when a card closes

// the element that opened what is shown (a button of a list, a marker): focus goes back there on Escape
export function rememberTrigger(trigger) {
  lastTrigger = trigger || null;
}

export function sheetPaddings() {
  if (!sheet) return null;
  const size = map.getSize();
  if (small()) return {topLeft: L.point(56, 56), bottomRight: L.point(16, Math.min(size.y - 80, sheet.offsetHeight + 24))};
  return {topLeft: L.point(56, 16), bottomRight: L.point(Math.min(size.x - 80, sheet.offsetWidth + 24), 16)};
}

export function openCard(content, label, latlng, trigger) {
  closeCard(false);
  lastTrigger = trigger || null;
  const body = el("div", {class: "feuille-contenu", tabindex: "0", role: "region", "aria-label": label}, content);
  const close = el("button", {type: "button", class: "feuille-fermer", title: "Fermer (Échap)",
    "aria-label": "Fermer la fiche"}, "×");
  close.addEventListener("click", () => closeCard(true));
  sheet = el("div", {class: "feuille"}, close, body);
  L.DomEvent.disableClickPropagation(sheet);
  L.DomEvent.disableScrollPropagation(sheet);
  map.getContainer().appendChild(sheet);
  if (latlng) {
    pin = L.circleMarker(latlng, {radius: 16, color: "#0b4f8a", weight: 3, fill: false, interactive: false}).addTo(map);
    const pad = sheetPaddings();
    map.panInside(latlng, {paddingTopLeft: pad.topLeft, paddingBottomRight: pad.bottomRight, animate: !reducedMotion});
  }
  if (trigger) body.focus({preventScroll: true});
  return body;
}

export function closeCard(restoreFocus = true) {
  const inside = document.activeElement && document.activeElement.closest(".feuille, .fiche-etendue");
  if (sheet) { sheet.remove(); sheet = null; }
  if (pin) { pin.remove(); pin = null; }
  document.querySelectorAll(".fiche-etendue:not([hidden])").forEach((panel) => { panel.hidden = true; });
  if (restoreFocus && inside && lastTrigger && document.contains(lastTrigger)) lastTrigger.focus();
  if (restoreFocus) lastTrigger = null;
}
