// Map pages: French controls, place names, commune details, projects (markers for local actions, a panel for
// département- and région-wide ones), filters and view kept in the URL, search with suggestions, keyboard use,
// and the <iframe> snippet. Settings come from window.CARTE (written by the server); texts shown are French.
// What covers the map (controls, the legend, an open card) is measured, and the territory fitted in what is left.
(function () {
  "use strict";
  const config = window.CARTE;
  const map = window[config.map];
  const cluster = window[config.cluster];
  const markers = new Map(); // project id -> marker (local projects only)
  const projects = new Map(); // project id -> properties, every project listed on the page
  const allowed = new Set(config.projectIds);
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const linkTarget = config.embed ? ' target="_blank" rel="noopener"' : "";
  const SMALL = 700; // px: below this width controls fold, cards become a bottom sheet and tap targets grow
  const startUrl = new URL(location.href);
  // « Compter les actions départementales »: the coverage (tiles, figures, cards, simulation) counts them or not
  const countBox = document.getElementById("compter-departementales");
  if (countBox) countBox.checked = startUrl.searchParams.get("count_departmental") === "true";
  // fractional zoom: the territory fills the map, instead of the whole zoom below leaving it a small island
  map.options.zoomSnap = 0.25;
  map.options.zoomDelta = 0.5;
  let lastTrigger = null; // where focus goes back when a card closes
  let pickOnMap = null; // while « Choisir sur la carte » is on: what a click on the map does instead of a card
  let simulationParam = () => ""; // the simulated actions, as the URL keeps them (set by the simulation panel)
  let startSimulation = () => {};
  let selectionChanged = () => {}; // the simulation's figures, counted on the former selection, are stale

  const number = new Intl.NumberFormat("fr-FR");
  const decimal = new Intl.NumberFormat("fr-FR", {minimumFractionDigits: 1, maximumFractionDigits: 1});
  function escape(text) {
    const span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span.innerHTML.replace(/"/g, "&quot;");
  }
  const small = () => map.getContainer().clientWidth < SMALL;

  // -- controls, in French ---------------------------------------------------------------------------------------
  if (map.zoomControl) map.zoomControl.remove();
  L.control.zoom({position: "topleft", zoomInTitle: "Zoom avant", zoomOutTitle: "Zoom arrière"}).addTo(map);
  L.control.scale({imperial: false, position: "bottomleft"}).addTo(map);
  map.attributionControl.setPrefix(false);
  map.createPane("etiquettes").style.zIndex = 450; // above the coverage tiles, below the markers and cards

  const labels = L.layerGroup();
  const overlays = {};
  const overlayKeys = new Map(); // Leaflet layer -> URL name, to keep the layers in the URL
  for (const [key, name] of Object.entries(config.overlays)) {
    overlays[config.overlayTitles[key]] = window[name];
    overlayKeys.set(window[name], key);
  }
  overlays["Projets (actions locales)"] = cluster;
  overlayKeys.set(cluster, "projects");
  overlays["Noms des communes"] = labels;
  if (config.outline) overlays[config.outlineTitle] = window[config.outline];

  // The layer list is folded behind its button at every size: unfolded, it covered up to 60 % of a desktop map.
  const layersControl = L.control.layers(null, overlays, {collapsed: true, position: "topright"}).addTo(map);
  const layersToggle = layersControl.getContainer().querySelector(".leaflet-control-layers-toggle");
  if (layersToggle) {
    layersToggle.title = "Couches de la carte";
    layersToggle.setAttribute("aria-label", "Couches de la carte");
    layersToggle.setAttribute("role", "button");
  }
  function placeControls() {
    map.getContainer().classList.toggle("carte-etroite", small());
  }

  // « Recentrer »: the territory fitted again in the room the controls and an open card leave
  const recentre = L.control({position: "topleft"});
  recentre.onAdd = () => {
    const bar = L.DomUtil.create("div", "leaflet-bar leaflet-control recentrer");
    const words = "Recentrer sur " + (config.territoryName || "la région");
    const button = el("button", {type: "button", class: "recentrer-bouton", title: words, "aria-label": words});
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    for (const d of ["M4 9V4h5", "M15 4h5v5", "M20 15v5h-5", "M9 20H4v-5", "M12 9v6M9 12h6"]) {
      const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    }
    button.appendChild(svg);
    button.addEventListener("click", () => { userMoved = false; fitTerritory(); });
    bar.appendChild(button);
    L.DomEvent.disableClickPropagation(bar);
    return bar;
  };
  recentre.addTo(map);

  // The legend lives inside the map, bottom right, above the attribution: open where there is room (a desktop, a
  // large embed), one tap away on a phone; the fit keeps the territory clear of it.
  const legend = document.getElementById("legende");
  let legendTouched = false;
  if (legend) {
    const legendControl = L.control({position: "bottomright"});
    legendControl.onAdd = () => {
      const box = L.DomUtil.create("div", "leaflet-control legende-controle");
      box.appendChild(legend);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    legendControl.addTo(map);
    legend.querySelector("summary")?.addEventListener("click", () => { legendTouched = true; });
    legend.addEventListener("toggle", () => {
      sizeLegend();
      if (!userMoved && legendFitted !== null && legend.open !== legendFitted) fitTerritory();
    });
    legend.querySelector(".definitions")?.addEventListener("toggle", () => {
      if (!userMoved && legend.open) fitTerritory();
    });
  }
  let legendFitted = null; // whether the legend was open at the last fit
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
  function placeLegend() {
    if (!legend) return;
    if (!legendTouched) {
      const size = map.getSize();
      legend.open = size.x >= SMALL && size.y >= 420;
    }
    sizeLegend();
  }

  // -- place names ---------------------------------------------------------------------------------------------
  let labelsTicket = 0; // a newer request makes older answers stale (not aborted: an aborted fetch is an error)
  let focusCommune = null; // a searched commune's name is always shown
  const rankClass = {
    "chef-lieu de région": "etiquette-chef-lieu",
    "préfecture": "etiquette-prefecture",
    "sous-préfecture": "etiquette-sous-prefecture",
  };
  function clamp(value, low, high) { return Math.min(high, Math.max(low, value)); }
  async function loadLabels() {
    if (!map.hasLayer(labels)) return;
    // a map not laid out yet (no size) has an empty box: asking for it would be a 422, answered by nothing
    const size = map.getSize();
    if (size.x < 1 || size.y < 1) return;
    const b = map.getBounds().pad(0.05);
    if (!(b.getEast() > b.getWest() && b.getNorth() > b.getSouth())) return;
    const bbox = [clamp(b.getWest(), -180, 179), clamp(b.getSouth(), -85, 84),
      clamp(b.getEast(), -179, 180), clamp(b.getNorth(), -84, 85)].map((v) => v.toFixed(4)).join(",");
    const ticket = ++labelsTicket;
    const url = "/api/v1/labels?zoom=" + Math.round(map.getZoom()) + "&bbox=" + bbox +
      (focusCommune ? "&focus=" + encodeURIComponent(focusCommune) : "");
    const response = await fetch(url);
    if (!response.ok || ticket !== labelsTicket) return;
    const answer = await response.json();
    if (ticket !== labelsTicket) return;
    labels.clearLayers();
    for (const feature of answer.features) {
      const [lon, lat] = feature.geometry.coordinates;
      const className = "etiquette " + (rankClass[feature.properties.rank] || "");
      labels.addLayer(L.marker([lat, lon], {
        pane: "etiquettes", interactive: false, keyboard: false,
        icon: L.divIcon({className: className, html: "<span>" + escape(feature.properties.name) + "</span>",
                         iconSize: [0, 0]}),
      }));
    }
    window.labelsShown = answer.features.map((f) => f.properties.name);
  }

  // -- cards: projects and communes ----------------------------------------------------------------------------
  const scopeWords = {local: "locale", departement: "départementale", region: "régionale"};
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
  // -- the facts of the grant, as maps/pages.py grant_facts says them (the offline file's cards) ------------------
  const grantWords = config.statusWords; // status -> French word, "unknown" included (from the server)
  function frenchDate(iso) {
    const found = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    return found ? found[3] + "/" + found[2] + "/" + found[1] : String(iso);
  }
  function euros(amount) {
    const digits = Number.isInteger(amount) ? 0 : 2;
    return new Intl.NumberFormat("fr-FR", {minimumFractionDigits: digits, maximumFractionDigits: digits})
      .format(amount) + "\u00a0€";
  }
  const durationText = (years) => (years == null ? "non renseignée" : number.format(years) + (years > 1 ? " ans" : " an"));
  // [label, text, kind]: kind "link" (the text is a web address) or "warning"; unknown facts said once, together
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
    if (p.status != null) facts.push(["Statut", grantWords[p.status] || p.status]);
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

  // A project's card, built as elements: every text the server or a person wrote goes in as text.
  function card(p) {
    const axes = p.axes.map((a) => "Axe " + a + " : " + (config.axes[a] || "")).join(" ; ");
    const types = p.action_types.map((t) => config.actionTypes[t] || t).join(", ");
    const axesSource = p.axes_source === "manual" ? "choisis par l'équipe : " + (p.axes_note || "") : "déduits des actions";
    const items = (values) => (values && values.length ? el("ul", {}, ...values.map((v) => el("li", {text: v}))) : "—");
    const rows = [
      ["Porteur", p.organisation],
      ...grantFacts(p).map(([label, text, kind]) => [label, factValue(text, kind), kind === "warning" ? "a-verifier" : null]),
      ["Lieu d'intervention (brochure)", p.place_text],
      ["Territoires comptés", territoriesText(p) + " — action " + scopeWords[p.scope] + ", " +
        number.format(p.communes.length) + " communes"],
      ["Accès à l'alimentation", reachText(p)],
      ["Actions", items(p.actions)],
      ["Bénéficiaires", items(p.beneficiaries)],
      ["Partenaires", items(p.partners)],
      ["Objectifs", items(p.objectives)],
      ["Axes du programme", el("span", {}, axes + " ", el("small", {text: "(" + axesSource + ")"}))],
      ["Types d'action", types || "—"],
    ];
    return el("article", {class: "fiche", lang: "fr"}, el("h3", {text: p.name}),
      el("dl", {}, ...rows.flatMap(([label, value, className]) =>
        [el("dt", {class: className, text: label}), el("dd", {class: className}, value)])));
  }
  // -- the card: inside the map, never past its edges. A bottom sheet on a narrow map (a phone, a small embed),
  // a panel along the right edge of a wide one; above the legend and the controls, its close button inside the
  // map. The map pans only as much as needed to keep the place it is about in sight, and « Recentrer » brings
  // the territory back.
  let sheet = null;
  let pin = null; // the place the card is about, ringed on the map
  function sheetPaddings() {
    if (!sheet) return null;
    const size = map.getSize();
    if (small()) return {topLeft: L.point(56, 56), bottomRight: L.point(16, Math.min(size.y - 80, sheet.offsetHeight + 24))};
    return {topLeft: L.point(56, 16), bottomRight: L.point(Math.min(size.x - 80, sheet.offsetWidth + 24), 16)};
  }
  function openCard(content, label, latlng, trigger) {
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
    window.cardShown = label;
    if (trigger) body.focus({preventScroll: true});
    return body;
  }
  function showMap() {
    map.getContainer().scrollIntoView({block: "start", behavior: reducedMotion ? "auto" : "smooth"});
  }

  const statusWords = {
    local: "Atteinte par une action locale", departement: "Action départementale seulement",
    region: "Action régionale seulement", none: "Aucune action",
  };
  const projectButton = (p) => el("button", {type: "button", class: "lien-projet", "data-id": p.id, text: p.name});
  const counting = () => (countBox ? countBox.checked : startUrl.searchParams.get("count_departmental") === "true");
  // A commune's answer in words, first what people ask (is there food aid here, and if not, where, by name),
  // then the wider actions that cover it as such, then the facts. Built as elements: names go in as text.
  function communeAnswer(c, heading) {
    const counted = c.projects.filter((p) => p.counted && p.scope === "local");
    const countedWide = (c.covering || []).filter((p) => p.counted);
    const reached = counted.length > 0 || countedWide.length > 0;
    const status = c.zone_blanche ? "Zone blanche" : reached
      ? (counted.length ? "Atteinte par une action locale" : "Atteinte par une action départementale (comptée)")
      : "Pas d'action locale ici";
    const parts = [
      heading ? el(heading, {text: c.name}) : null,
      el("p", {class: "statut-commune"}, el("strong", {text: status}),
        c.zone_blanche ? " : aucune action locale ne l'atteint et la commune atteinte la plus proche est à plus de " +
          number.format(config.maxKm) + " km." : ""),
    ];
    if (counted.length || countedWide.length) {
      const here = counted.concat(countedWide);
      parts.push(el("p", {class: "sous-titre", text: here.length > 1 ? "Actions qui l'atteignent :" : "Action qui l'atteint :"}),
        el("ul", {class: "actions-ici"}, ...here.map((p) => el("li", {}, projectButton(p)))));
    }
    const n = c.nearest;
    if (n) {
      parts.push(el("p", {class: "plus-proche"}, "Commune atteinte la plus proche : ",
        el("strong", {class: "nom-plus-proche", text: n.name}), ", à " + decimal.format(n.distance_km) + " km",
        " (de mairie à mairie). ",
        el("button", {type: "button", class: "lien-commune fiche-de-commune", "data-code": n.code},
          "Voir " , el("span", {text: n.name}))));
      if (n.projects.length) {
        parts.push(el("p", {class: "sous-titre", text: "On y trouve :"}),
          el("ul", {class: "actions-proches"}, ...n.projects.map((p) => el("li", {}, projectButton(p),
            el("small", {text: " (" + (p.reach === "direct" ? "accès direct" : "appui") +
              (p.scope === "local" ? "" : ", action " + scopeWords[p.scope]) + ")"})))));
      }
    } else if (!reached) {
      parts.push(el("p", {text: "Aucune commune atteinte par une action locale à proximité."}));
    }
    const wide = (c.covering || []).filter((p) => !p.counted);
    if (wide.length) {
      const hint = countBox && wide.some((p) => p.scope === "departement" && p.reach === "direct")
        ? " Cochez « Compter les actions départementales » pour les compter." : "";
      parts.push(el("p", {class: "sous-titre"}, "Elle est aussi couverte, comme tout son département ou toute la région, par :"),
        el("ul", {class: "actions-etendues-ici"}, ...wide.map((p) => el("li", {}, projectButton(p),
          el("small", {text: " (action " + scopeWords[p.scope] + ", " + (p.reach === "direct" ? "accès direct" : "appui") +
            ", non comptée)"})))),
        el("p", {class: "note", text: "Une action départementale ou régionale ne dit pas où l'aide se trouve : la carte ne la " +
          "compte pas comme atteignant chaque commune." + hint}));
    }
    const others = c.projects.filter((p) => p.scope === "local" && !p.counted);
    if (others.length) {
      parts.push(el("p", {class: "sous-titre", text: "Autres actions locales ici (non comptées) :"}),
        el("ul", {}, ...others.map((p) => el("li", {}, projectButton(p),
          el("small", {text: " (" + (p.reach === "direct" ? "accès direct" : "appui aux acteurs") + ")"})))));
    }
    parts.push(el("p", {class: "note", text: "Pourquoi : " + c.reason + "."}),
      el("dl", {},
        el("dt", {text: "Intercommunalité"}), el("dd", {}, c.epci
          ? el("a", {href: "/territoires/epci/" + encodeURIComponent(c.epci), target: config.embed ? "_blank" : null,
            rel: config.embed ? "noopener" : null, text: c.epci_name}) : "—"),
        el("dt", {text: "Population"}), el("dd", {text: number.format(c.population) + " habitants"}),
        el("dt", {text: "Densité"}), el("dd", {text: decimal.format(c.density) + " hab/km² (commune " +
          (c.rural ? "rurale" : "urbaine") + ")"})));
    return parts.filter(Boolean);
  }
  async function showCommune(code, latlng, trigger) {
    const rule = ruleParams(new URLSearchParams()).toString();
    const response = await fetch("/api/v1/coverage/communes/" + encodeURIComponent(code) + (rule ? "?" + rule : ""));
    if (!response.ok) return;
    const c = await response.json();
    const article = el("article", {class: "fiche fiche-commune", lang: "fr"}, ...communeAnswer(c, "h3"),
      config.commune === c.code && !config.embed ? null : el("p", {}, el("a", {href: "/territoires/commune/" + encodeURIComponent(c.code),
        target: config.embed ? "_blank" : null, rel: config.embed ? "noopener" : null, text: "Page de la commune"})));
    openCard(article, "Fiche de la commune", latlng, trigger);
    highlight("commune", c.code, !latlng); // opened from a button: the map shows where it is
    window.communeShown = c.code;
  }
  // A commune's page: its answer right under the map, the same words as its card
  async function answerCommunePage() {
    const box = document.getElementById("reponse-commune");
    if (!box || !config.commune) return;
    const rule = ruleParams(new URLSearchParams()).toString();
    const response = await fetch("/api/v1/coverage/communes/" + encodeURIComponent(config.commune) + (rule ? "?" + rule : ""));
    if (!response.ok) return;
    const c = await response.json();
    const heading = box.querySelector("h2");
    box.replaceChildren(heading, el("div", {class: "fiche fiche-commune"}, ...communeAnswer(c, null)));
    window.communeAnswered = c.code;
  }
  map.on("click", async (event) => {
    if (pickOnMap) { pickOnMap(event.latlng); return; }
    const {lat, lng} = event.latlng;
    const response = await fetch("/api/v1/territories/at?level=commune&lon=" + lng.toFixed(6) + "&lat=" + lat.toFixed(6));
    if (!response.ok) return;
    const found = await response.json();
    if (found.code) showCommune(found.code, event.latlng, null);
  });

  // -- outlines: the place searched or the commune opened ---------------------------------------------------------
  const outlined = L.featureGroup().addTo(map);
  async function highlight(level, code, fit) {
    const response = await fetch("/api/v1/territories/" + level + "/" + encodeURIComponent(code) +
      "/outline.geojson?zoom=" + Math.min(Math.round(map.getZoom()) + 1, 14));
    if (!response.ok) return;
    outlined.clearLayers();
    outlined.addLayer(L.geoJSON(await response.json(), {
      interactive: false, style: {color: "#0b4f8a", weight: 3, dashArray: "6 4", fill: false},
    }));
    if (fit) {
      const pad = sheetPaddings() || {topLeft: L.point(56, 20), bottomRight: L.point(20, 20)};
      map.fitBounds(outlined.getBounds(), {paddingTopLeft: pad.topLeft, paddingBottomRight: pad.bottomRight, maxZoom: 12});
    }
  }

  // -- projects -------------------------------------------------------------------------------------------------
  const FILTERS = ["axe", "type", "departement", "year", "status"];
  function filterValues() {
    const form = document.getElementById("filtres");
    const values = {};
    const query = new URLSearchParams(location.search);
    for (const name of FILTERS) {
      // the page's form, or in an embed (no form) the filters its code carries
      const value = form ? form.elements[name].value : query.get(name);
      if (value) values[name] = value;
    }
    return values;
  }

  // -- the selection: with a year of call or a status chosen, the coverage (layers, commune cards, simulation)
  // counts the selected projects only, as the list and the markers show them -----------------------------------
  const SELECTION = ["year", "status"];
  function selection() {
    const values = filterValues();
    return Object.fromEntries(SELECTION.filter((name) => values[name]).map((name) => [name, values[name]]));
  }
  // the coverage rule's parameters for a request: the page's reach, département-wide actions counted, the selection
  function ruleParams(params) {
    if (config.reach !== "direct") params.set("reach", config.reach);
    if (counting()) params.set("count_departmental", "true");
    for (const [name, value] of Object.entries(selection())) params.set(name, value);
    return params;
  }
  function selectionWords() {
    const chosen = selection();
    const words = [];
    if (chosen.year) words.push("année " + chosen.year);
    if (chosen.status) words.push("statut : " + (config.statusWords[chosen.status] || chosen.status));
    return words.join(", ");
  }
  // the coverage layers' tile URLs as the server wrote them (reach, version), to add the selection to
  const coverageBase = new Map();
  for (const key of config.coverageOverlays || []) {
    const layer = window[config.overlays[key]];
    if (layer) coverageBase.set(layer, layer._url); // Leaflet keeps a tile layer's URL template there
  }
  let appliedSelection = null;
  function applySelection() {
    const chosen = selection();
    if (counting()) chosen.count_departmental = "true";
    const query = new URLSearchParams(chosen).toString();
    if (appliedSelection !== null && query !== appliedSelection) selectionChanged();
    appliedSelection = query;
    for (const [layer, base] of coverageBase) {
      const url = query ? base + (base.includes("?") ? "&" : "?") + query : base;
      if (layer._url !== url) layer.setUrl(url);
    }
    const words = selectionWords();
    const text = words ? "Couverture calculée avec les seules actions sélectionnées (" + words + ")." : "";
    const note = document.getElementById("note-selection");
    if (note) { note.textContent = text; note.hidden = !text; }
    const legendNote = document.getElementById("legende-selection") ||
      (legend ? legend.appendChild(el("p", {id: "legende-selection", class: "note note-selection"})) : null);
    if (legendNote) { legendNote.textContent = text; legendNote.hidden = !text; }
    // the figures above the map and the legend's definition follow the choice
    const wide = counting();
    const figures = document.getElementById("chiffres-locaux");
    if (figures) {
      figures.hidden = wide;
      document.getElementById("chiffres-departementaux").hidden = !wide;
    }
    document.querySelectorAll(".si-departementales").forEach((span) => { span.hidden = !wide; });
    window.coverageSelection = query;
  }

  let projectsTicket = 0; // filters changed twice quickly: the older answer, if it comes last, is stale
  async function loadProjects() {
    const ticket = ++projectsTicket;
    const query = new URLSearchParams(filterValues()).toString();
    const response = await fetch("/api/v1/projects" + (query ? "?" + query : ""));
    const collection = await response.json();
    if (ticket !== projectsTicket) return;
    const shown = collection.features.filter((f) => allowed.has(f.id));
    cluster.clearLayers();
    markers.clear();
    for (const feature of shown) {
      const p = feature.properties;
      projects.set(feature.id, p);
      if (p.scope !== "local") continue; // a whole département or the région: no invented point
      const [lon, lat] = feature.geometry.coordinates;
      const colour = config.typeColours[p.action_types[0]] || "#455a64";
      const marker = L.marker([lat, lon], {
        // a 44 px target around an 18 px dot: a finger finds it on a phone
        icon: L.divIcon({className: "marqueur-projet", iconSize: [44, 44],
                         html: '<span style="background:' + colour + '"></span>'}),
        title: "Projet : " + p.name, keyboard: true,
      });
      // a fresh card each time, for the map as it is now; a keyboard opening passes the marker, to return to
      marker.on("click", () => {
        const icon = marker.getElement();
        const byKeyboard = keyboardOpening === icon;
        keyboardOpening = null;
        const trigger = byKeyboard ? icon : projectTrigger;
        projectTrigger = null;
        openCard(card(p), "Fiche du projet", marker.getLatLng(), trigger);
      });
      markers.set(feature.id, marker);
      cluster.addLayer(marker);
    }
    const ids = new Set(shown.map((f) => f.id));
    document.querySelectorAll("#liste-projets tbody tr").forEach((row) => { row.hidden = !ids.has(row.dataset.id); });
    document.querySelectorAll("#actions-etendues li[data-id]").forEach((item) => { item.hidden = !ids.has(item.dataset.id); });
    const count = document.getElementById("nb-projets");
    if (count) count.textContent = String(ids.size);
    window.projectsShown = ids.size;
    window.markersShown = markers.size;
  }

  async function openProject(id, trigger) {
    lastTrigger = trigger || null;
    const marker = markers.get(id);
    if (marker) {
      if (!map.hasLayer(cluster)) cluster.addTo(map);
      if (trigger && !map.getContainer().contains(trigger)) showMap();
      cluster.zoomToShowLayer(marker, () => {
        projectTrigger = trigger || null;
        marker.fire("click");
      });
      return;
    }
    let p = projects.get(id);
    if (!p) {
      const response = await fetch("/api/v1/projects/" + encodeURIComponent(id));
      if (!response.ok) return;
      p = (await response.json()).properties;
      projects.set(id, p);
    }
    const panel = document.getElementById("fiche-" + id);
    if (panel) { // a département- or région-wide action: its card opens in the panel that lists it
      closeCard(false);
      panel.replaceChildren(card(p));
      panel.hidden = false;
      panel.focus();
      return;
    }
    openCard(card(p), "Fiche du projet", null, trigger);
  }

  const areas = new Map(); // project id -> its drawn area
  async function toggleArea(button) {
    const id = button.dataset.id;
    if (areas.has(id)) {
      areas.get(id).remove();
      areas.delete(id);
      button.setAttribute("aria-pressed", "false");
      button.textContent = "Afficher la zone";
      return;
    }
    const response = await fetch("/api/v1/projects/" + encodeURIComponent(id) + "?geometry=area");
    if (!response.ok) return;
    const layer = L.geoJSON(await response.json(), {
      interactive: false, style: {color: "#1565c0", weight: 2, fillColor: "#1565c0", fillOpacity: 0.08},
    }).addTo(map);
    areas.set(id, layer);
    button.setAttribute("aria-pressed", "true");
    button.textContent = "Masquer la zone";
    showMap();
    map.fitBounds(layer.getBounds(), {padding: [10, 10]});
  }

  // Leaflet's cluster icons show a bare number: say what it is, and make it a button for screen readers.
  new MutationObserver(() => {
    document.querySelectorAll(".marker-cluster:not([aria-label])").forEach((icon) => {
      const count = icon.textContent.trim();
      const words = count + " projets regroupés : zoomer pour les voir";
      icon.setAttribute("aria-label", words);
      icon.setAttribute("title", words);
      icon.setAttribute("role", "button");
    });
  }).observe(map.getPane("markerPane"), {childList: true, subtree: true});

  // Enter or Space on a focused marker opens it as a click would (a cluster zooms to its projects, then the
  // first of them takes the focus): keyboard users reach every project, on /embed too.
  let keyboardOpening = null; // the marker icon Enter or Space was pressed on
  let projectTrigger = null; // the button of a list that opened a marker's card
  map.getPane("markerPane").addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    const icon = event.target.closest(".leaflet-marker-icon");
    if (!icon) return;
    event.preventDefault();
    event.stopPropagation();
    if (icon.classList.contains("marker-cluster")) {
      cluster.once("animationend", () => {
        const first = map.getPane("markerPane").querySelector(".leaflet-marker-icon[tabindex]");
        if (first) first.focus();
      });
    } else {
      keyboardOpening = icon;
    }
    icon.click();
  });
  function closeCard(restoreFocus = true) {
    const inside = document.activeElement && document.activeElement.closest(".feuille, .fiche-etendue");
    if (sheet) { sheet.remove(); sheet = null; }
    if (pin) { pin.remove(); pin = null; }
    window.cardShown = null;
    document.querySelectorAll(".fiche-etendue:not([hidden])").forEach((panel) => { panel.hidden = true; });
    if (restoreFocus && inside && lastTrigger && document.contains(lastTrigger)) lastTrigger.focus();
    if (restoreFocus) lastTrigger = null;
  }
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

  // -- search ---------------------------------------------------------------------------------------------------
  const suggested = new Map();
  let suggestTimer = null;
  function suggest() {
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
        const option = document.createElement("option");
        option.value = item.label;
        options.appendChild(option);
      }
    }, 150);
  }

  async function search(event) {
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
    focusCommune = unit.level === "commune" ? unit.code : null;
    map.fitBounds([[south, west], [north, east]]);
    await highlight(unit.level, unit.code, false);
    const levelName = (config.levels[unit.level] || unit.level).toLowerCase();
    message.innerHTML = "Carte centrée sur <strong>" + escape(detail.name) + "</strong> (" + escape(levelName) + "). " +
      '<a href="/territoires/' + escape(unit.level) + "/" + escape(unit.code) + '">Voir sa page</a>' +
      (unit.level === "commune" ? ' · <button type="button" class="lien-commune fiche-de-commune" data-code="' +
        escape(unit.code) + '">Afficher la couverture de la commune</button>' : "");
    window.lastSearch = {level: unit.level, code: unit.code, name: detail.name};
  }

  // -- simulate an action: territories picked by search or on the map, the figures before and after, the
  // communes that would leave the zones blanches on the map, the actions in the URL (?simuler=epci:…,commune:…),
  // and where one more action would help most. Everything the server or a person wrote goes in as text.
  const sim = document.getElementById("simulation");
  const SIM_LEVELS = ["commune", "epci", "arrondissement", "departement", "region"];
  const SIM_MAX = 50; // the API's limit per simulation
  const SIM_FOLD = 10; // communes listed before « afficher les autres »
  const simActions = []; // {level, code, name, reach}, in the order they were added
  const reachWords = {direct: "Accès direct à l'alimentation", support: "Action d'appui"};
  const levelWord = (level) => (config.levels[level] || level).toLowerCase();
  const readable = (query) => query.replace(/%3A/gi, ":").replace(/%2C/gi, ",");

  // an element with attributes and children; strings become text nodes, never markup
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }
  // the server's answer to a failed request, in French: its own French message (detail_fr) when it gives one
  async function problem(response, unknown422) {
    if (!response) return "Pas de réponse du serveur : vérifiez la connexion, puis réessayez.";
    if (response.status === 429) return "Le serveur est occupé, réessayez dans un instant.";
    let detail = "";
    try {
      const body = await response.json();
      if (body.detail_fr) {
        const said = String(body.detail_fr).trim();
        return said.charAt(0).toUpperCase() + said.slice(1) + (/[.!?]$/.test(said) ? "" : ".");
      }
      detail = Array.isArray(body.detail)
        ? body.detail.map((d) => ((d.loc || []).slice(1).join(".") + " : " + d.msg).trim()).join(" ; ")
        : String(body.detail || "");
    } catch (error) {
      detail = "";
    }
    const quoted = detail ? " (réponse du serveur : « " + detail + " »)" : "";
    if (response.status === 422) return (unknown422 || "Territoire introuvable ou mal écrit") + quoted + ".";
    if (response.status === 413) return "Demande trop grande : retirez des actions" + quoted + ".";
    if (response.status === 404) return "Introuvable" + quoted + ".";
    if (response.status < 500) return "Demande refusée par le serveur" + quoted + ".";
    return "Le serveur n'a pas pu répondre (erreur " + response.status + "). Réessayez plus tard.";
  }
  async function call(url, options, unknown422) {
    let response = null;
    try {
      response = await fetch(url, options);
    } catch (error) {
      response = null;
    }
    return response && response.ok ? {ok: true, response} : {ok: false, message: await problem(response, unknown422)};
  }
  // the map scrolls into view only when most of it is out of the window (a phone), not on a wide screen
  function revealMap() {
    const box = map.getContainer().getBoundingClientRect();
    const seen = Math.min(box.bottom, window.innerHeight) - Math.max(box.top, 0);
    if (seen < box.height / 2) showMap();
  }

  // A combobox (ARIA 1.2 pattern): suggestions from the geocoder, arrows to move, Enter to choose, Escape to close.
  function combobox(input, listbox, onChoose) {
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
        show(found.filter((item) => SIM_LEVELS.includes(item.level)));
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

  if (sim) {
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
    const OVERLAY_TITLE = "Simulation : communes qui sortiraient des zones blanches";

    const say = (text) => { message.textContent = text; };
    function tell(text, failed) {
      status.textContent = text;
      status.classList.toggle("erreur", Boolean(failed));
    }
    const key = (a) => a.level + ":" + a.code + (a.reach === "support" ? ":appui" : "");
    const signature = () => simActions.map(key).join(",");
    const actionName = (a) => (a.name || a.code) + " (" + levelWord(a.level) + ")";
    combobox(input, document.getElementById("simulation-suggestions"), (item) => { chosen = item; });

    simulationParam = signature;
    selectionChanged = () => {
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
      listed.replaceChildren(...simActions.map((a, i) => {
        const select = el("select", {id: "simulation-portee-" + i, "data-index": i},
          ...Object.entries(reachWords).map(([value, words]) =>
            el("option", {value, selected: a.reach === value, text: words})));
        return el("li", {},
          el("span", {class: "nom-action", text: a.name || a.code}), " ",
          el("small", {text: "(" + levelWord(a.level) + ")"}),
          el("span", {class: "reglages"},
            el("label", {for: "simulation-portee-" + i, class: "cache", text: "Portée de l'action : " + (a.name || a.code)}),
            select,
            el("button", {type: "button", class: "secondaire retirer", "data-index": i},
              "Retirer", el("span", {class: "cache", text: " : " + (a.name || a.code)}))));
      }));
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
      say("Action ajoutée : " + actionName(action) + ", " + reachWords[action.reach].toLowerCase() + ". " +
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
        units = (answer.units || []).filter((u) => SIM_LEVELS.includes(u.level));
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
      pickOnMap = on ? pickAt : null;
      pickButton.setAttribute("aria-pressed", String(on));
      map.getContainer().classList.toggle("choix-sur-carte", on);
      pickNotice.remove();
      if (on) pickNotice.addTo(map);
      if (on) {
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
    pickButton.addEventListener("click", () => setPicking(!pickOnMap));
    map.getContainer().addEventListener("keydown", (event) => {
      if (pickOnMap && event.key === "Enter" && event.target === map.getContainer()) {
        event.preventDefault();
        pickOnMap(map.getCenter());
      }
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && pickOnMap) {
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

    // -- the answer: figures, gains per département and EPCI, the communes, the overlay, links --------------------
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
        el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", {scope: "col", text: h})))),
        el("tbody", {}, ...rows)));
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
        notCounted.length ? el("ul", {class: "note"}, ...notCounted) : null,
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

    function removeOverlay() {
      if (!overlay) return;
      if (layersControl) layersControl.removeLayer(overlay);
      delete overlays[OVERLAY_TITLE];
      overlay.remove();
      overlay = null;
      document.getElementById("legende-simulation-ligne")?.remove();
      window.simulationOverlay = 0;
    }
    function fitOverlay() {
      if (overlay && overlay.getBounds().isValid()) map.fitBounds(overlay.getBounds(), {padding: [20, 20], maxZoom: 12});
    }
    async function drawOverlay(body, ticket, fit) {
      const got = await call(simulateUrl("geojson"), {method: "POST", headers: {"Content-Type": "application/json"}, body},
        "Demande refusée par le serveur");
      if (ticket !== runTicket) return;
      removeOverlay();
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
      overlays[OVERLAY_TITLE] = overlay;
      if (layersControl) layersControl.addOverlay(overlay, OVERLAY_TITLE);
      const legendList = document.querySelector("#legende ul");
      if (legendList) {
        legendList.append(el("li", {id: "legende-simulation-ligne"},
          el("span", {class: "pastille pastille-sortie", "aria-hidden": "true"}),
          "Simulation : sortirait des zones blanches (contour violet : communes des actions)"));
      }
      window.simulationOverlay = features.length;
      if (fit) fitOverlay();
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
      window.simulationShown = answer;
      if (!fromUrl) document.getElementById("titre-resultat").focus();
      await drawOverlay(body, ticket, !fromUrl || !userMoved);
      window.simulationRuns = (window.simulationRuns || 0) + 1;
    }
    function clearAll() {
      runTicket++;
      simActions.length = 0;
      shown = null;
      result.replaceChildren();
      result.hidden = true;
      removeOverlay();
      outlined.clearLayers();
      refresh();
      tell("Simulation effacée.");
      say("");
      window.simulationShown = null;
      input.focus();
    }

    document.getElementById("simulation-choix").addEventListener("submit", addFromField);
    runButton.addEventListener("click", () => run(false));
    clearButton.addEventListener("click", clearAll);

    // -- « Meilleures opportunités » -----------------------------------------------------------------------------
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
      oppList.replaceChildren(...answer.sequence.map((step, i) => el("li", {},
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
      window.opportunitiesShown = answer.sequence.map((s) => s.code);
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
    startSimulation = () => {
      const wantedActions = start.searchParams.get("simuler");
      if (!wantedActions) return;
      const unread = [];
      const parts = wantedActions.split(",").map((part) => part.trim()).filter(Boolean);
      for (const part of parts.slice(0, SIM_MAX)) {
        const found = part.match(/^([a-z]+):([0-9A-Za-z]{1,12})(?::(appui))?$/);
        if (!found || !SIM_LEVELS.includes(found[1])) { unread.push(part); continue; }
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

  // -- sortable tables (a territory's communes) -------------------------------------------------------------------
  function sortTable(table, column, header) {
    const ascending = header.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("thead th").forEach((th) => th.removeAttribute("aria-sort"));
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const body = table.tBodies[0];
    const value = (row) => row.children[column].dataset.valeur;
    const rows = Array.from(body.rows);
    rows.sort((a, b) => {
      const x = value(a), y = value(b);
      const numeric = !isNaN(parseFloat(x)) && !isNaN(parseFloat(y));
      const order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, "fr");
      return ascending ? order : -order;
    });
    body.append(...rows);
  }
  document.querySelectorAll("table.triable").forEach((table) => {
    table.querySelectorAll("thead button").forEach((button) => {
      button.addEventListener("click", () => sortTable(table, Number(button.dataset.colonne), button.closest("th")));
    });
  });

  // -- state in the URL: filters and layers in the query, the view in the hash (#zoom/lat/lon) --------------------
  const form = document.getElementById("filtres");
  const start = new URL(location.href);
  if (form) {
    for (const name of FILTERS) {
      const wanted = start.searchParams.get(name);
      if (wanted && Array.from(form.elements[name].options).some((o) => o.value === wanted)) {
        form.elements[name].value = wanted;
      }
    }
  }
  function activeLayers() {
    return Array.from(overlayKeys.entries()).filter(([layer]) => map.hasLayer(layer)).map(([, key]) => key);
  }
  function saveState() {
    if (config.embed) return; // an embed's URL belongs to the partner's page
    const url = new URL(location.href);
    const filters = filterValues();
    for (const name of FILTERS) {
      if (filters[name]) url.searchParams.set(name, filters[name]); else url.searchParams.delete(name);
    }
    const layersNow = activeLayers();
    const same = layersNow.length === config.layers.length && layersNow.every((key) => config.layers.includes(key));
    if (same) url.searchParams.delete("layers"); else url.searchParams.set("layers", layersNow.join(","));
    if (counting()) url.searchParams.set("count_departmental", "true"); else url.searchParams.delete("count_departmental");
    const simulated = simulationParam();
    if (simulated) url.searchParams.set("simuler", simulated); else url.searchParams.delete("simuler");
    // ':' and ',' may stand as they are in a query string: the link stays readable (simuler=epci:2000…,commune:…)
    url.search = url.searchParams.toString().replace(/%3A/gi, ":").replace(/%2C/gi, ",");
    const centre = map.getCenter();
    url.hash = Number(map.getZoom().toFixed(2)) + "/" + centre.lat.toFixed(4) + "/" + centre.lng.toFixed(4);
    history.replaceState(null, "", url);
  }

  // -- the embed builder: territory, layers, legend, filters, view, height; live preview and code --------------------
  // The territory field is read like the search box: a suggestion picked, or the typed text resolved by the
  // geocoder; text that names no place is said so, and no code is given (never the whole région in silence).
  const builder = document.getElementById("constructeur");
  const builderSuggested = new Map();
  let builderUnresolved = ""; // typed text that named no territory: no code until it is fixed or cleared
  let previewTimer = null;
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
    // ':' and ',' may stand as they are in a query string: the code stays readable (territoire=epci:2000…)
    return "/embed?" + params.toString().replace(/%3A/gi, ":").replace(/%2C/gi, ",");
  }
  function updateSnippet() {
    const box = document.getElementById("code-iframe");
    if (!box) return;
    const copy = document.getElementById("copier-code");
    const direct = document.getElementById("lien-direct");
    if (builderUnresolved) {
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
    box.value = '<iframe src="' + escape(location.origin + url) + '" width="100%" height="' + height +
      '" style="border:0" loading="lazy" title="' + escape(title) + '"></iframe>';
    if (direct) direct.href = url;
    const preview = document.getElementById("apercu");
    if (preview) {
      preview.style.height = height + "px";
      clearTimeout(previewTimer);
      previewTimer = setTimeout(() => { if (preview.getAttribute("src") !== url) preview.setAttribute("src", url); }, 400);
    }
  }
  if (builder) {
    const place = document.getElementById("integrer-territoire");
    const builderMessage = document.getElementById("integrer-message");
    place.dataset.nom = place.value;
    let resolveTimer = null;
    let resolveTicket = 0;
    function chooseTerritory(unit, typed) {
      place.dataset.territoire = unit.level + ":" + unit.code;
      place.dataset.nom = unit.name;
      builderUnresolved = "";
      builderMessage.classList.remove("erreur");
      builderMessage.textContent = typed
        ? "Territoire compris : " + unit.name + " (" + levelWord(unit.level) + ")."
        : "";
      window.builderResolved = place.dataset.territoire;
      updateSnippet();
    }
    // the text typed, resolved as the search box does: the suggestion it equals, else the geocoder's first unit
    async function resolvePlace() {
      const text = place.value.trim();
      const ticket = ++resolveTicket;
      if (!text) {
        place.dataset.territoire = "";
        place.dataset.nom = "";
        builderUnresolved = "";
        builderMessage.textContent = "";
        builderMessage.classList.remove("erreur");
        window.builderResolved = "";
        updateSnippet();
        return;
      }
      const picked = builderSuggested.get(text);
      if (picked) { chooseTerritory(picked, false); return; }
      let units = [];
      try {
        const response = await fetch("/api/v1/geocode?q=" + encodeURIComponent(text));
        if (response.ok) units = ((await response.json()).units || []).filter((u) => SIM_LEVELS.includes(u.level));
      } catch (error) {
        units = [];
      }
      if (ticket !== resolveTicket || place.value.trim() !== text) return;
      if (units.length) {
        chooseTerritory(units[0], true);
        if (units.length > 1) {
          builderMessage.textContent += " Le texte nomme " + units.length + " territoires : seul le premier est retenu.";
        }
        return;
      }
      place.dataset.territoire = "";
      builderUnresolved = text;
      builderMessage.classList.add("erreur");
      builderMessage.textContent = "Aucun territoire trouvé pour « " + text + " » : choisissez une proposition de " +
        "la liste, ou videz le champ pour intégrer toute la région. Pas de code tant que le territoire n'est pas compris.";
      window.builderResolved = null;
      updateSnippet();
    }
    place.addEventListener("input", () => {
      const text = place.value.trim();
      clearTimeout(resolveTimer);
      const picked = builderSuggested.get(text);
      if (picked) { resolveTicket++; chooseTerritory(picked, false); return; }
      // until the text is read, the code of a former territory would be wrong: none is shown
      builderUnresolved = text;
      window.builderResolved = undefined;
      builderMessage.classList.remove("erreur");
      builderMessage.textContent = text ? "Lecture du territoire…" : "";
      updateSnippet();
      resolveTimer = setTimeout(resolvePlace, 500);
      if (text.length < 2) return;
      fetch("/api/v1/geocode/suggest?limit=8&q=" + encodeURIComponent(text)).then((r) => r.ok ? r.json() : []).then((items) => {
        const options = document.getElementById("suggestions-integrer");
        options.replaceChildren();
        for (const item of items.filter((i) => SIM_LEVELS.includes(i.level))) {
          builderSuggested.set(item.label, item);
          const option = document.createElement("option");
          option.value = item.label;
          options.appendChild(option);
        }
      });
    });
    place.addEventListener("change", () => { clearTimeout(resolveTimer); resolvePlace(); });
    builder.addEventListener("change", (event) => { if (event.target !== place) updateSnippet(); });
    builder.addEventListener("submit", (event) => { event.preventDefault(); clearTimeout(resolveTimer); resolvePlace(); });
    document.getElementById("copier-code")?.addEventListener("click", async () => {
      const box = document.getElementById("code-iframe");
      const message = document.getElementById("copie-message");
      try {
        await navigator.clipboard.writeText(box.value);
        message.textContent = "Code copié.";
      } catch (error) {
        box.select();
        message.textContent = "Sélectionnez le code et copiez-le (Ctrl+C).";
      }
    });
  }

  // -- fitting: the territory in the room whatever covers the map leaves ------------------------------------------
  // Each thing over the map (the four corners' controls, the legend among them, an open card) is kept clear either
  // by a side padding or by a top/bottom one; of all the choices, the one where the territory is drawn largest.
  let userMoved = false;
  let fitting = false;
  map.on("movestart", () => { if (!fitting) userMoved = true; });
  function obstacles() {
    const container = map.getContainer();
    const origin = container.getBoundingClientRect();
    const boxes = [];
    const candidates = Array.from(container.querySelectorAll(".leaflet-top, .leaflet-bottom"));
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
  function fitTerritory() {
    sizeLegend();
    const pad = fitPaddings();
    legendFitted = legend ? legend.open : null;
    fitting = true;
    map.fitBounds(config.bounds, {paddingTopLeft: [pad.left, pad.top], paddingBottomRight: [pad.right, pad.bottom],
      animate: false});
    fitting = false;
    window.fitPaddings = pad;
  }

  // -- start ----------------------------------------------------------------------------------------------------
  placeControls();
  placeLegend();
  // A view asked for in the URL (#zoom/lat/lon, or vue=lat,lon,zoom in an embed), else the territory fitted.
  function urlView() {
    const hash = location.hash.match(/^#(\d{1,2}(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/);
    if (hash) return [[Number(hash[2]), Number(hash[3])], Number(hash[1])];
    const view = (start.searchParams.get("vue") || "").split(",").map(Number);
    return view.length === 3 && view.every(Number.isFinite) ? [[view[0], view[1]], view[2]] : null;
  }
  const wanted = urlView();
  if (wanted) {
    map.setView(wanted[0], wanted[1], {animate: false});
    userMoved = true;
  } else {
    fitTerritory();
  }
  applySelection(); // before the overlays come: their first tiles already count the selection the URL names
  // The overlays wait for the final view (see interactive.py), then come in the order of the layer control.
  for (const [key, name] of Object.entries(config.overlays)) {
    if (config.layers.includes(key)) window[name].addTo(map);
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
    if (!userMoved) fitTerritory(); // a frame resized by the partner's page: the territory fits again
  });
  loadLabels();
  updateSnippet();
  startSimulation();
  answerCommunePage();
  loadProjects().then(() => { window.projectsLoaded = true; });
})();
