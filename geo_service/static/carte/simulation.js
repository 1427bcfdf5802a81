// « Simuler une action » (the full map only): territories picked by search or on the map, the figures before and
// after, the communes that would leave the zones blanches drawn on the map, the actions kept in the URL
// (?simuler=epci:…,commune:…), and « Meilleures opportunités », where one more action would help most.
//
// Once the communes are drawn, the map's element says how many features it drew (data-simulation); a step of
// the opportunities names its territory (data-code on its item).
import {config, map, start} from "./config.js";
import {el} from "./dom.js";
import {call} from "./api.js";
import {highlight, outlined} from "./communes.js";
import {decimal, number, readable} from "./format.js";
import {hooks} from "./hooks.js";
import {addOverlay, removeOverlay, revealMap, view} from "./map.js";
import {TERRITORY_LEVELS, combobox, levelWord} from "./search.js";
import {ruleParams} from "./selection.js";
import {saveState} from "./urlstate.js";

const SIM_MAX = 50; // the API's limit per simulation
const SIM_FOLD = 10; // communes listed before « afficher les autres »
const REACH_WORDS = {direct: "Accès direct à l'alimentation", support: "Action d'appui"};
const OVERLAY_TITLE = "Simulation : communes qui sortiraient des zones blanches";

// The panel's behaviour; returns the function that runs the simulation a page's URL names (or nothing to do)
export function setupSimulation() {
  const sim = document.getElementById("simulation");
  if (!sim) return () => {};
  const simActions = []; // {level, code, name, reach}, in the order they were added
  const input = document.getElementById("simulation-lieu");
  const reachChoice = document.getElementById("simulation-portee");
  const levelChoice = document.getElementById("simulation-niveau");
  const pickButton = document.getElementById("simulation-carte");
  const runButton = document.getElementById("simulation-lancer");
  const clearButton = document.getElementById("simulation-effacer");
  const message = document.getElementById("simulation-message");
  const status = document.getElementById("simulation-statut");
  const result = document.getElementById("simulation-resultat");
  const listed = document.getElementById("simulation-actions");
  let chosen = null; // the suggestion chosen in the field
  let shown = null; // the actions of the figures shown ("level:code:reach" joined), to tell when they are stale
  let runTicket = 0;
  let overlay = null;

  const say = (text) => { message.textContent = text; };
  function tell(text, failed) {
    status.textContent = text;
    status.classList.toggle("erreur", Boolean(failed));
  }
  const key = (a) => a.level + ":" + a.code + (a.reach === "support" ? ":appui" : "");
  const signature = () => simActions.map(key).join(",");
  const actionName = (a) => (a.name || a.code) + " (" + levelWord(a.level) + ")";
  combobox(input, document.getElementById("simulation-suggestions"), (item) => { chosen = item; });

  hooks.simulationParam = signature;
  hooks.selectionChanged = () => {
    if (shown !== null) tell("La sélection des projets a changé : relancez la simulation pour mettre les chiffres à jour.");
  };
  function refresh() {
    renderActions();
    runButton.disabled = simActions.length === 0;
    clearButton.disabled = simActions.length === 0 && result.hidden;
    if (shown !== null && shown !== signature()) {
      tell("La liste des actions a changé : relancez la simulation pour mettre les chiffres à jour.");
    }
    saveState();
  }
  function renderActions() {
    document.getElementById("simulation-nombre").textContent = String(simActions.length);
    document.getElementById("simulation-vide").hidden = simActions.length > 0;
    listed.replaceChildren(...simActions.map((a, i) => el("li", {},
      el("span", {class: "nom-action", text: a.name || a.code}), " ",
      el("small", {text: "(" + levelWord(a.level) + ")"}),
      el("span", {class: "reglages"},
        el("label", {for: "simulation-portee-" + i, class: "cache", text: "Portée de l'action : " + (a.name || a.code)}),
        el("select", {id: "simulation-portee-" + i, "data-index": i},
          Object.entries(REACH_WORDS).map(([value, words]) => el("option", {value, selected: a.reach === value, text: words}))),
        el("button", {type: "button", class: "secondaire retirer", "data-index": i},
          "Retirer", el("span", {class: "cache", text: " : " + (a.name || a.code)}))))));
  }
  function addAction(action) {
    if (simActions.some((a) => a.level === action.level && a.code === action.code)) {
      say(actionName(action) + " est déjà dans la liste des actions.");
      return false;
    }
    if (simActions.length >= SIM_MAX) {
      say("Au plus " + SIM_MAX + " actions par simulation : retirez-en une d'abord.");
      return false;
    }
    simActions.push(action);
    refresh();
    say("Action ajoutée : " + actionName(action) + ", " + REACH_WORDS[action.reach].toLowerCase() + ". " +
      (simActions.length > 1 ? simActions.length + " actions. " : "") + "Lancez la simulation quand la liste est prête.");
    return true;
  }

  async function addFromField(event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) {
      say("Saisissez le nom d'un territoire, ou choisissez-le sur la carte.");
      input.focus();
      return;
    }
    let units = chosen && chosen.label === text ? [chosen] : null;
    if (!units) {
      // a text may name several places ("Albert et Péronne", a postcode shared by communes): one action each
      const got = await call("/api/v1/geocode?q=" + encodeURIComponent(text));
      const answer = got.ok ? await got.response.json() : {units: []};
      units = (answer.units || []).filter((u) => TERRITORY_LEVELS.includes(u.level));
      if (!units.length) {
        say(got.ok ? "Aucun territoire trouvé pour « " + text + " ». Essayez un nom de commune, " +
          "d'intercommunalité, de département ou un code postal." : got.message);
        input.focus();
        return;
      }
    }
    const added = units.filter((unit) =>
      addAction({level: unit.level, code: unit.code, name: unit.name, reach: reachChoice.value}));
    if (units.length > 1) {
      const skipped = units.length - added.length;
      say((added.length
        ? (added.length > 1 ? added.length + " actions ajoutées : " : "Action ajoutée : ") +
          added.map(actionName).join(", ") + ". "
        : "") +
        (skipped ? (skipped > 1 ? skipped + " territoires déjà listés ou" : "Un territoire déjà listé ou") +
          " au-delà de " + SIM_MAX + " actions, non ajouté" + (skipped > 1 ? "s" : "") + ". " : "") +
        "Lancez la simulation quand la liste est prête.");
    }
    if (added.length) {
      input.value = "";
      chosen = null;
    }
    input.focus();
  }

  // « Choisir sur la carte »: the next click (or Enter on the focused map: its centre) picks the unit there; a
  // short notice on the map says so where the panel is out of sight (a phone)
  const pickNotice = L.control({position: "bottomright"});
  pickNotice.onAdd = () => el("div", {class: "avis-choix", text: "Cliquez pour choisir " +
    levelChoice.options[levelChoice.selectedIndex].text + " (Échap : annuler)"});
  function setPicking(on) {
    hooks.pickOnMap = on ? pickAt : null;
    pickButton.setAttribute("aria-pressed", String(on));
    map.getContainer().classList.toggle("choix-sur-carte", on);
    pickNotice.remove();
    if (on) {
      pickNotice.addTo(map);
      say("Cliquez sur la carte à l'endroit voulu ; au clavier, déplacez la carte avec les flèches (la croix " +
        "marque son centre) puis appuyez sur Entrée. Échap : annuler.");
      revealMap();
      map.getContainer().focus({preventScroll: true});
    }
  }
  async function pickAt(latlng) {
    const level = levelChoice.value;
    setPicking(false);
    pickButton.focus({preventScroll: true});
    const got = await call("/api/v1/territories/at?level=" + level + "&lon=" + latlng.lng.toFixed(6) +
      "&lat=" + latlng.lat.toFixed(6));
    if (!got.ok) { say(got.message); return; }
    const found = await got.response.json();
    if (!found.code) {
      say(level === "epci" ? "Aucune intercommunalité à cet endroit de la carte." : "Aucune commune à cet endroit de la carte.");
      return;
    }
    if (addAction({level, code: found.code, name: found.name, reach: reachChoice.value})) highlight(level, found.code, false);
  }
  pickButton.addEventListener("click", () => setPicking(!hooks.pickOnMap));
  map.getContainer().addEventListener("keydown", (event) => {
    if (hooks.pickOnMap && event.key === "Enter" && event.target === map.getContainer()) {
      event.preventDefault();
      hooks.pickOnMap(map.getCenter());
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && hooks.pickOnMap) {
      setPicking(false);
      say("Choix sur la carte annulé.");
      pickButton.focus({preventScroll: true});
    }
  });

  listed.addEventListener("change", (event) => {
    const index = Number(event.target.dataset.index);
    if (!simActions[index]) return;
    simActions[index].reach = event.target.value;
    refresh();
    document.getElementById("simulation-portee-" + index)?.focus();
  });
  listed.addEventListener("click", (event) => {
    const button = event.target.closest(".retirer");
    if (!button) return;
    const index = Number(button.dataset.index);
    const [removed] = simActions.splice(index, 1);
    refresh();
    say("Action retirée : " + actionName(removed) + ".");
    const next = listed.querySelectorAll(".retirer")[Math.min(index, simActions.length - 1)];
    (next || input).focus();
  });

  // -- the answer: figures, gains per département and EPCI, the communes, the overlay, links ----------------------
  function simulateUrl(format) {
    const params = ruleParams(new URLSearchParams());
    if (format !== "json") params.set("format", format);
    const query = params.toString();
    return "/api/v1/coverage/simulate" + (query ? "?" + query : "");
  }
  const simulationBody = () => JSON.stringify({
    actions: simActions.map((a) => ({territories: [a.level + ":" + a.code], reach: a.reach})),
  });
  // GET links (CSV, PNG): direct actions as territory=, actions d'appui as support=
  function exportUrl(format) {
    if (!simActions.length) return null;
    const params = new URLSearchParams();
    for (const a of simActions) params.append(a.reach === "direct" ? "territory" : "support", a.level + ":" + a.code);
    ruleParams(params);
    params.set("format", format);
    return readable("/api/v1/coverage/simulate?" + params.toString());
  }
  function table(caption, headers, rows, attributes) {
    return el("div", {class: "defilement"}, el("table", attributes || {},
      el("caption", {text: caption}),
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", {scope: "col", text: h})))),
      el("tbody", {}, rows)));
  }
  const cell = (value, figure) => el("td", {class: "nombre", "data-chiffre": figure, text: value});
  function uncounted(a) {
    if (a.counted) return null;
    const why = a.reach === "support"
      ? "action d'appui : la carte ne compte que l'accès direct à l'alimentation"
      : "action à l'échelle " + (a.scope === "region" ? "de la région" : "du département") +
        " : la carte ne compte que les actions locales";
    return el("li", {text: (a.territories.map((t) => t.name).join(", ") || a.label) + " — non comptée, " + why + "."});
  }

  // The people of the communes leaving the zones blanches that lie beyond the actions' territories: by EPCI when
  // every action is an intercommunalité (the commune's EPCI, from the answer), else the communes the actions
  // would not reach themselves (they leave by being near one that is).
  function outsideShare(answer) {
    const territories = answer.actions.flatMap((a) => a.territories);
    if (!territories.length || !answer.communes.length) return null;
    let outside;
    let words;
    if (territories.every((t) => t.level === "epci")) {
      const codes = new Set(territories.map((t) => t.code));
      outside = answer.communes.filter((c) => !codes.has(c.epci));
      words = codes.size > 1 ? "hors de ces intercommunalités" : "hors de l'intercommunalité";
    } else {
      outside = answer.communes.filter((c) => !c.reached);
      words = territories.every((t) => t.level === "commune")
        ? (territories.length > 1 ? "hors de ces communes" : "hors de la commune de l'action")
        : "hors des territoires des actions";
    }
    return {population: outside.reduce((sum, c) => sum + c.population, 0), communes: outside.length, words};
  }
  function showResult(answer) {
    const departements = new Map(answer.by_departement.map((d) => [d.code, d.name]));
    const gained = answer.gained;
    const outside = outsideShare(answer);
    const rows = [
      ["Communes en zone blanche", "communes_zone_blanche"],
      ["Habitants en zone blanche", "population_zone_blanche"],
      ["Communes atteintes par une action locale", "communes_reached"],
      ["Habitants de ces communes", "population_reached"],
    ].map(([words, field]) => el("tr", {}, el("th", {scope: "row", text: words}),
      cell(number.format(answer.before[field]), "before." + field),
      cell(number.format(answer.after[field]), "after." + field)));
    const notCounted = answer.actions.map(uncounted).filter(Boolean);
    const communes = answer.communes.slice().sort((a, b) => b.population - a.population || a.name.localeCompare(b.name, "fr"));
    const communeRows = communes.map((c, i) => el("tr", {hidden: i >= SIM_FOLD},
      el("th", {scope: "row"}, el("a", {href: "/territoires/commune/" + encodeURIComponent(c.code), text: c.name})),
      el("td", {text: c.departement, title: departements.get(c.departement) || null}),
      el("td", {class: "nombre", text: number.format(c.population)}),
      el("td", {class: "nombre", text: c.distance_km_before == null ? "—" : decimal.format(c.distance_km_before)})));
    const csv = exportUrl("csv-fr"); // for a spreadsheet: ';', decimal comma, French headers
    const png = exportUrl("png");
    const parts = [
      el("h3", {id: "titre-resultat", tabindex: "-1", text: "Résultat de la simulation"}),
      // what is counted, said: the inhabitants of whole communes, many of them beyond the actions' territories
      el("p", {class: "gain", id: "simulation-gain"},
        el("strong", {"data-chiffre": "gained.population", text: number.format(gained.population)}),
        gained.population > 1 ? " habitants" : " habitant", " des ",
        el("strong", {"data-chiffre": "gained.communes", text: number.format(gained.communes)}),
        (gained.communes > 1 ? " communes qui sortiraient" : " commune qui sortirait") + " des zones blanches",
        outside ? ", dont " : ".", outside ? el("strong", {id: "simulation-hors",
          text: number.format(outside.population)}) : null,
        outside ? " " + outside.words + " (à moins de " + number.format(config.maxKm) +
          " km d'une commune qu'elles atteindraient)." : null),
      notCounted.length ? el("ul", {class: "note"}, notCounted) : null,
      table("Zones blanches avant et après les actions simulées", ["", "Avant", "Après"], rows,
        {class: "avant-apres"}),
    ];
    if (communes.length) {
      parts.push(
        el("p", {class: "legende-simulation"},
          el("span", {class: "pastille pastille-sortie", "aria-hidden": "true"}), " Sur la carte : communes qui sortiraient des zones blanches ; ",
          el("span", {class: "pastille pastille-action", "aria-hidden": "true"}), " communes des actions simulées."),
        el("p", {}, el("button", {type: "button", class: "secondaire", id: "simulation-voir"}, "Voir sur la carte")),
        table("Gains par département", ["Département", "Communes", "Habitants"],
          answer.by_departement.map((d) => el("tr", {}, el("th", {scope: "row", text: d.code + " " + d.name}),
            cell(number.format(d.communes)), cell(number.format(d.population)))), {id: "simulation-departements"}),
        el("details", {class: "par-epci"}, el("summary", {text: "Gains par intercommunalité (" + answer.by_epci.length + ")"}),
          table("Gains par intercommunalité", ["Intercommunalité", "Communes", "Habitants"],
            answer.by_epci.map((d) => el("tr", {}, el("th", {scope: "row", text: d.name}),
              cell(number.format(d.communes)), cell(number.format(d.population)))))),
        table("Communes qui sortiraient des zones blanches (" + number.format(communes.length) + "), les plus peuplées d'abord",
          ["Commune", "Dép.", "Habitants", "Distance avant (km)"], communeRows, {id: "simulation-communes"}));
      if (communes.length > SIM_FOLD) {
        parts.push(el("p", {}, el("button", {type: "button", class: "secondaire", id: "simulation-deplier",
          "aria-expanded": "false", "aria-controls": "simulation-communes"},
        "Afficher les " + number.format(communes.length - SIM_FOLD) + " autres communes")));
      }
    }
    parts.push(el("p", {class: "exports"},
      csv ? el("a", {href: csv, download: "simulation-communes.csv"}, "Télécharger les communes (CSV)") : null,
      png ? el("a", {href: png, download: "simulation.png"}, "Image (PNG)") : null,
      el("button", {type: "button", class: "secondaire", id: "simulation-copier"}, "Copier le lien"),
      el("span", {id: "simulation-copie", class: "message", "aria-live": "polite"})));
    result.replaceChildren(...parts.filter(Boolean));
    result.hidden = false;
  }
  result.addEventListener("click", async (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    if (target.id === "simulation-deplier") {
      const open = target.getAttribute("aria-expanded") !== "true";
      const rows = document.querySelectorAll("#simulation-communes tbody tr");
      rows.forEach((row, i) => { row.hidden = !open && i >= SIM_FOLD; });
      target.setAttribute("aria-expanded", String(open));
      target.textContent = open ? "Replier la liste" : "Afficher les " + number.format(rows.length - SIM_FOLD) + " autres communes";
    } else if (target.id === "simulation-voir") {
      revealMap();
      fitOverlay();
    } else if (target.id === "simulation-copier") {
      saveState();
      const copied = document.getElementById("simulation-copie");
      try {
        await navigator.clipboard.writeText(location.href);
        copied.textContent = "Lien copié : il rouvre cette simulation.";
      } catch (error) {
        copied.textContent = "Copiez l'adresse de la page (barre d'adresse du navigateur) : elle rouvre cette simulation.";
      }
    }
  });

  function dropOverlay() {
    if (!overlay) return;
    removeOverlay(overlay);
    overlay.remove();
    overlay = null;
    document.getElementById("legende-simulation-ligne")?.remove();
    delete map.getContainer().dataset.simulation;
  }
  function fitOverlay() {
    if (overlay && overlay.getBounds().isValid()) map.fitBounds(overlay.getBounds(), {padding: [20, 20], maxZoom: 12});
  }
  async function drawOverlay(body, ticket, fit) {
    const got = await call(simulateUrl("geojson"), {method: "POST", headers: {"Content-Type": "application/json"}, body},
      "Demande refusée par le serveur");
    if (ticket !== runTicket) return;
    dropOverlay();
    if (!got.ok) {
      tell(status.textContent + " Les communes n'ont pas pu être dessinées sur la carte : " + got.message, true);
      return;
    }
    const collection = await got.response.json();
    if (ticket !== runTicket) return;
    const features = collection.features || [];
    const leaving = features.filter((f) => f.properties && f.properties.leaving);
    const inAction = features.filter((f) => f.properties && f.properties.in_action);
    overlay = L.featureGroup([
      L.geoJSON({type: "FeatureCollection", features: leaving}, {interactive: false,
        style: {stroke: true, color: "#005a70", weight: 0.8, fillColor: "#00b4d8", fillOpacity: 0.8}}),
      L.geoJSON({type: "FeatureCollection", features: inAction}, {interactive: false,
        style: {color: "#4a148c", weight: 2.5, fill: false}}),
    ]).addTo(map);
    addOverlay(overlay, OVERLAY_TITLE);
    const legendList = document.querySelector("#legende ul");
    if (legendList) {
      legendList.append(el("li", {id: "legende-simulation-ligne"},
        el("span", {class: "pastille pastille-sortie", "aria-hidden": "true"}),
        "Simulation : sortirait des zones blanches (contour violet : communes des actions)"));
    }
    if (fit) fitOverlay();
    map.getContainer().dataset.simulation = String(features.length);
  }

  async function run(fromUrl, linkNotes) {
    if (!simActions.length) { if (linkNotes) say(linkNotes); return; }
    const ticket = ++runTicket;
    const body = simulationBody();
    const asked = signature();
    tell("Simulation en cours…");
    say(linkNotes || ""); // what a shared link held that could not be read stays said
    runButton.disabled = true;
    result.setAttribute("aria-busy", "true");
    const got = await call(simulateUrl("json"), {method: "POST", headers: {"Content-Type": "application/json"}, body});
    if (ticket !== runTicket) return;
    runButton.disabled = simActions.length === 0;
    result.removeAttribute("aria-busy");
    if (!got.ok) { tell(got.message, true); return; }
    const answer = await got.response.json();
    if (ticket !== runTicket) return;
    answer.actions.forEach((a, i) => {
      const t = a.territories[0];
      if (t && simActions[i] && key(simActions[i]) === asked.split(",")[i]) simActions[i].name = t.name;
    });
    shown = asked;
    showResult(answer);
    refresh();
    const g = answer.gained;
    tell("Simulation terminée : " + number.format(g.population) + (g.population > 1 ? " personnes" : " personne") +
      " et " + number.format(g.communes) + (g.communes > 1 ? " communes" : " commune") +
      " sortiraient des zones blanches."); // two subjects: plural
    if (!fromUrl) document.getElementById("titre-resultat").focus();
    await drawOverlay(body, ticket, !fromUrl || !view.userMoved);
  }
  function clearAll() {
    runTicket++;
    simActions.length = 0;
    shown = null;
    result.replaceChildren();
    result.hidden = true;
    dropOverlay();
    outlined.clearLayers();
    refresh();
    tell("Simulation effacée.");
    say("");
    input.focus();
  }

  document.getElementById("simulation-choix").addEventListener("submit", addFromField);
  runButton.addEventListener("click", () => run(false));
  clearButton.addEventListener("click", clearAll);

  // -- « Meilleures opportunités » ---------------------------------------------------------------------------------
  const opportunities = document.getElementById("opportunites");
  const oppStatus = document.getElementById("opportunites-statut");
  const oppList = document.getElementById("opportunites-liste");
  let oppTicket = 0;
  const oppSteps = [];
  opportunities.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ticket = ++oppTicket;
    const level = document.getElementById("opportunites-niveau").value;
    oppStatus.textContent = "Calcul en cours…";
    oppStatus.classList.remove("erreur");
    // with actions listed, the ranking counts them as funded first: where to act next, after them
    const params = new URLSearchParams({level, k: "5"});
    for (const a of simActions) params.append(a.reach === "direct" ? "territory" : "support", a.level + ":" + a.code);
    ruleParams(params);
    const after = simActions.length;
    const got = await call(readable("/api/v1/coverage/opportunities?" + params.toString()));
    if (ticket !== oppTicket) return;
    if (!got.ok) {
      oppStatus.textContent = got.message;
      oppStatus.classList.add("erreur");
      return;
    }
    const answer = await got.response.json();
    if (ticket !== oppTicket) return;
    oppSteps.length = 0;
    oppSteps.push(...answer.sequence);
    oppList.replaceChildren(...answer.sequence.map((step, i) => el("li", {"data-code": step.level + ":" + step.code},
      el("p", {class: "nom-action"}, el("strong", {text: step.name}), " ", el("small", {text: "(" + levelWord(step.level) + ")"})),
      el("p", {class: "gain-etape"},
        el("span", {"data-chiffre": "population", text: "+ " + number.format(step.population)}),
        (step.population > 1 ? " personnes sortiraient" : " personne sortirait") + " des zones blanches (" +
          number.format(step.communes.length) + (step.communes.length > 1 ? " communes" : " commune") + ") ; cumul : ",
        el("span", {"data-chiffre": "cumulative_population", text: number.format(step.cumulative_population)})),
      el("p", {class: "boutons"},
        step.bbox ? el("button", {type: "button", class: "secondaire zoom-opportunite", "data-index": i},
          "Voir sur la carte", el("span", {class: "cache", text: " : " + step.name})) : null,
        el("button", {type: "button", class: "secondaire ajout-opportunite", "data-index": i},
          "Ajouter à la simulation", el("span", {class: "cache", text: " : " + step.name}))))));
    document.getElementById("opportunites-methode").hidden = false;
    const afterWords = after ? " après " + (after > 1 ? "les " + after + " actions simulées" : "l'action simulée") : "";
    const steps = answer.sequence.length;
    const total = steps ? answer.sequence[steps - 1].cumulative_population : 0;
    oppStatus.textContent = steps
      ? (steps > 1 ? steps + " territoires classés" : "1 territoire classé") + " parmi " +
        number.format(answer.candidates) + afterWords + " : au total " + number.format(total) +
        (total > 1 ? " personnes de plus sortiraient" : " personne de plus sortirait") + " des zones blanches."
      : "Aucune nouvelle action ne sortirait de personnes des zones blanches" + afterWords + ".";
  });
  oppList.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    const step = button && oppSteps[Number(button.dataset.index)];
    if (!step) return;
    if (button.classList.contains("zoom-opportunite")) {
      const [west, south, east, north] = step.bbox;
      revealMap();
      map.fitBounds([[south, west], [north, east]], {padding: [20, 20]});
      highlight(step.level, step.code, false);
    } else if (addAction({level: step.level, code: step.code, name: step.name, reach: "direct"})) {
      say("Action ajoutée : " + actionName(step) + ". Lancez la simulation (bouton « Lancer la simulation »).");
    }
  });

  // a page opened with ?simuler=… lists those actions and runs the simulation
  return () => {
    const wantedActions = start.searchParams.get("simuler");
    if (!wantedActions) return;
    const unread = [];
    const parts = wantedActions.split(",").map((part) => part.trim()).filter(Boolean);
    for (const part of parts.slice(0, SIM_MAX)) {
      const found = part.match(/^([a-z]+):([0-9A-Za-z]{1,12})(?::(appui))?$/);
      if (!found || !TERRITORY_LEVELS.includes(found[1])) { unread.push(part); continue; }
      if (simActions.some((a) => a.level === found[1] && a.code === found[2])) continue;
      simActions.push({level: found[1], code: found[2], name: null, reach: found[3] ? "support" : "direct"});
    }
    const notes = [];
    if (unread.length) notes.push("Partie du lien non comprise, ignorée : « " + unread.join(", ") + " ».");
    if (parts.length > SIM_MAX) {
      notes.push("Le lien nomme " + parts.length + " actions : seules les " + SIM_MAX + " premières sont reprises.");
    }
    refresh();
    run(true, notes.join(" "));
  };
}
