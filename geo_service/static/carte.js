// Map pages: French controls, place names, commune details, projects (markers for local actions, a panel for
// département- and région-wide ones), filters and view kept in the URL, search with suggestions, keyboard use,
// and the <iframe> snippet. Settings come from window.CARTE (written by the server); texts shown are French.
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
  const SMALL = 700; // px: below this width controls fold
  let lastTrigger = null; // where focus goes back when a card closes

  const number = new Intl.NumberFormat("fr-FR");
  const decimal = new Intl.NumberFormat("fr-FR", {minimumFractionDigits: 1, maximumFractionDigits: 1});
  function escape(text) {
    const span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span.innerHTML.replace(/"/g, "&quot;");
  }
  function list(items) {
    return items && items.length ? "<ul>" + items.map((i) => "<li>" + escape(i) + "</li>").join("") + "</ul>" : "—";
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

  let layersControl = null;
  let folded = null;
  function placeControls() {
    const fold = config.embed || small();
    if (fold === folded) return;
    folded = fold;
    if (layersControl) layersControl.remove();
    layersControl = L.control.layers(null, overlays, {collapsed: fold, position: "topright"}).addTo(map);
    const toggle = layersControl.getContainer().querySelector(".leaflet-control-layers-toggle");
    if (toggle) {
      toggle.title = "Couches de la carte";
      toggle.setAttribute("aria-label", "Couches de la carte");
      toggle.setAttribute("role", "button");
    }
  }

  // The legend folds behind its « Légende » button where there is no room for it (a phone, a small embed).
  const legend = document.getElementById("legende");
  let legendTouched = false;
  legend?.querySelector("summary")?.addEventListener("click", () => { legendTouched = true; });
  function placeLegend() {
    if (!legend || legendTouched) return;
    const size = map.getSize();
    legend.open = config.embed ? size.x >= SMALL && size.y >= 500 : !small();
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
    const b = map.getBounds().pad(0.05);
    const bbox = [clamp(b.getWest(), -180, 179), clamp(b.getSouth(), -85, 84),
      clamp(b.getEast(), -179, 180), clamp(b.getNorth(), -84, 85)].map((v) => v.toFixed(4)).join(",");
    const ticket = ++labelsTicket;
    const url = "/api/v1/labels?zoom=" + map.getZoom() + "&bbox=" + bbox +
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
  function card(p) {
    const axes = p.axes.map((a) => "Axe " + a + " : " + (config.axes[a] || "")).join(" ; ");
    const types = p.action_types.map((t) => config.actionTypes[t] || t).join(", ");
    const axesSource = p.axes_source === "manual" ? "choisis par l'équipe : " + (p.axes_note || "") : "déduits des actions";
    return '<article class="fiche" lang="fr"><h3>' + escape(p.name) + "</h3><dl>" +
      "<dt>Porteur</dt><dd>" + escape(p.organisation) + "</dd>" +
      "<dt>Durée</dt><dd>" + escape(p.duration_years) + (p.duration_years > 1 ? " ans" : " an") + "</dd>" +
      "<dt>Lieu d'intervention (brochure)</dt><dd>" + escape(p.place_text) + "</dd>" +
      "<dt>Territoires comptés</dt><dd>" + escape(territoriesText(p)) + " — action " + escape(scopeWords[p.scope]) +
        ", " + escape(number.format(p.communes.length)) + " communes</dd>" +
      "<dt>Accès à l'alimentation</dt><dd>" + escape(reachText(p)) + "</dd>" +
      "<dt>Actions</dt><dd>" + list(p.actions) + "</dd>" +
      "<dt>Bénéficiaires</dt><dd>" + list(p.beneficiaries) + "</dd>" +
      "<dt>Partenaires</dt><dd>" + list(p.partners) + "</dd>" +
      "<dt>Objectifs</dt><dd>" + list(p.objectives) + "</dd>" +
      "<dt>Axes du programme</dt><dd>" + escape(axes) + " <small>(" + escape(axesSource) + ")</small></dd>" +
      "<dt>Types d'action</dt><dd>" + escape(types || "—") + "</dd>" +
      "</dl></article>";
  }
  // A card is panned clear of the controls: below the taller of the two top corners' stacks (the layer list,
  // when unfolded, or the zoom and fullscreen buttons), and above the scale and the attribution.
  function popupOptions() {
    const size = map.getSize();
    const corner = (name) => map.getContainer().querySelector(".leaflet-top.leaflet-" + name)?.offsetHeight || 0;
    const top = Math.max(corner("left"), corner("right")) + 12;
    return {
      maxWidth: Math.max(200, Math.min(360, size.x - 90)),
      maxHeight: Math.max(140, Math.min(360, size.y - top - 60)),
      autoPanPaddingTopLeft: L.point(56, top), autoPanPaddingBottomRight: L.point(20, 40),
    };
  }
  function focusCard() {
    const content = document.querySelector(".leaflet-popup-content");
    if (content) content.focus({preventScroll: true});
  }
  function showMap() {
    map.getContainer().scrollIntoView({block: "start", behavior: reducedMotion ? "auto" : "smooth"});
  }

  const statusWords = {
    local: "Atteinte par une action locale", departement: "Action départementale seulement",
    region: "Action régionale seulement", none: "Aucune action",
  };
  async function showCommune(code, latlng, trigger) {
    const query = config.reach === "direct" ? "" : "?reach=" + encodeURIComponent(config.reach);
    const response = await fetch("/api/v1/coverage/communes/" + encodeURIComponent(code) + query);
    if (!response.ok) return;
    const c = await response.json();
    const status = c.zone_blanche ? "Zone blanche" : statusWords[c.best_scope];
    const reaching = c.projects.length
      ? "<ul>" + c.projects.map((p) => '<li><button type="button" class="lien-projet" data-id="' + escape(p.id) + '">' +
          escape(p.name) + "</button> <small>(action " + escape(scopeWords[p.scope]) + ", " +
          (p.reach === "direct" ? "accès direct" : "appui") + (p.counted ? ", comptée" : ", non comptée") +
          ")</small></li>").join("") + "</ul>"
      : "Aucun";
    const html = '<article class="fiche fiche-commune" lang="fr"><h3>' + escape(c.name) + "</h3><dl>" +
      "<dt>Couverture</dt><dd><strong>" + escape(status) + "</strong> — " + escape(c.reason) + "</dd>" +
      "<dt>Intercommunalité</dt><dd>" + (c.epci
        ? '<a href="/territoires/epci/' + escape(c.epci) + '"' + linkTarget + ">" + escape(c.epci_name) + "</a>" : "—") +
      "</dd><dt>Population</dt><dd>" + number.format(c.population) + " habitants</dd>" +
      "<dt>Densité</dt><dd>" + decimal.format(c.density) + " hab/km² (commune " + (c.rural ? "rurale" : "urbaine") +
      ")</dd>" + (c.distance_km ? "<dt>Distance à la commune atteinte la plus proche</dt><dd>" +
      decimal.format(c.distance_km) + " km</dd>" : "") +
      "<dt>Projets qui l'atteignent</dt><dd>" + reaching + "</dd></dl>" +
      '<p><a href="/territoires/commune/' + escape(c.code) + '"' + linkTarget + ">Page de la commune</a></p></article>";
    lastTrigger = trigger || null;
    L.popup(popupOptions()).setLatLng(latlng).setContent(html).openOn(map);
    highlight("commune", c.code, false);
    window.communeShown = c.code;
    if (trigger) focusCard();
  }
  map.on("click", async (event) => {
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
      "/outline.geojson?zoom=" + Math.min(map.getZoom() + 1, 14));
    if (!response.ok) return;
    outlined.clearLayers();
    outlined.addLayer(L.geoJSON(await response.json(), {
      interactive: false, style: {color: "#0b4f8a", weight: 3, dashArray: "6 4", fill: false},
    }));
    if (fit) map.fitBounds(outlined.getBounds(), {padding: [20, 20]});
  }

  // -- projects -------------------------------------------------------------------------------------------------
  const FILTERS = ["axe", "type", "departement"];
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

  async function loadProjects() {
    const query = new URLSearchParams(filterValues()).toString();
    const response = await fetch("/api/v1/projects" + (query ? "?" + query : ""));
    const collection = await response.json();
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
        icon: L.divIcon({className: "marqueur-projet", iconSize: [18, 18],
                         html: '<span style="background:' + colour + '"></span>'}),
        title: "Projet : " + p.name, keyboard: true,
      });
      // a fresh card each time, sized and panned for the map as it is now
      marker.on("click", () => { L.popup(popupOptions()).setLatLng(marker.getLatLng()).setContent(card(p)).openOn(map); });
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
        marker.fire("click");
        if (trigger) focusCard();
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
      map.closePopup();
      panel.innerHTML = card(p);
      panel.hidden = false;
      panel.focus();
      return;
    }
    L.popup(popupOptions()).setLatLng(map.getCenter()).setContent(card(p)).openOn(map);
    if (trigger) focusCard();
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

  map.on("popupopen", (event) => {
    const content = event.popup.getElement().querySelector(".leaflet-popup-content");
    if (content) {
      content.tabIndex = 0;
      content.setAttribute("role", "region");
      content.setAttribute("aria-label", content.querySelector(".fiche-commune") ? "Fiche de la commune" : "Fiche du projet");
    }
  });
  function closeCard() {
    const inside = document.activeElement && document.activeElement.closest(".leaflet-popup, .fiche-etendue");
    map.closePopup();
    document.querySelectorAll(".fiche-etendue:not([hidden])").forEach((panel) => { panel.hidden = true; });
    if (inside && lastTrigger && document.contains(lastTrigger)) lastTrigger.focus();
    lastTrigger = null;
  }
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeCard();
  });
  document.addEventListener("click", (event) => {
    const project = event.target.closest(".lien-projet");
    if (project) { event.preventDefault(); openProject(project.dataset.id, project); return; }
    const area = event.target.closest(".zone-projet");
    if (area) { toggleArea(area); return; }
    const commune = event.target.closest(".fiche-de-commune");
    if (commune) showCommune(commune.dataset.code, map.getCenter(), commune);
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
    for (const name of ["axe", "type", "departement"]) {
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
    for (const name of ["axe", "type", "departement"]) {
      if (filters[name]) url.searchParams.set(name, filters[name]); else url.searchParams.delete(name);
    }
    const layersNow = activeLayers();
    const same = layersNow.length === config.layers.length && layersNow.every((key) => config.layers.includes(key));
    if (same) url.searchParams.delete("layers"); else url.searchParams.set("layers", layersNow.join(","));
    const centre = map.getCenter();
    url.hash = map.getZoom() + "/" + centre.lat.toFixed(4) + "/" + centre.lng.toFixed(4);
    history.replaceState(null, "", url);
  }

  // -- the embed builder: territory, layers, legend, filters, view, height; live preview and code --------------------
  const builder = document.getElementById("constructeur");
  const builderSuggested = new Map();
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
    if (!builder || document.getElementById("integrer-filtres").checked) {
      for (const [name, value] of Object.entries(filterValues())) params.set(name, value);
    }
    if (builder && document.getElementById("integrer-vue").checked) {
      const centre = map.getCenter();
      params.set("vue", centre.lat.toFixed(4) + "," + centre.lng.toFixed(4) + "," + map.getZoom());
    }
    // ':' and ',' may stand as they are in a query string: the code stays readable (territoire=epci:2000…)
    return "/embed?" + params.toString().replace(/%3A/gi, ":").replace(/%2C/gi, ",");
  }
  function updateSnippet() {
    const box = document.getElementById("code-iframe");
    if (!box) return;
    const url = embedUrl();
    const place = document.getElementById("integrer-territoire");
    const name = (builder && place.dataset.territoire ? place.value : config.territoryName) || "Hauts-de-France";
    const height = builder ? document.getElementById("integrer-hauteur").value : "500";
    const title = "Carte de l'aide alimentaire Mieux manger pour tous : " + name;
    box.value = '<iframe src="' + escape(location.origin + url) + '" width="100%" height="' + height +
      '" style="border:0" loading="lazy" title="' + escape(title) + '"></iframe>';
    const direct = document.getElementById("lien-direct");
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
    place.addEventListener("input", () => {
      const text = place.value.trim();
      const picked = builderSuggested.get(text);
      if (picked) { place.dataset.territoire = picked.level + ":" + picked.code; updateSnippet(); return; }
      if (!text) { place.dataset.territoire = ""; updateSnippet(); return; }
      if (text.length < 2) return;
      fetch("/api/v1/geocode/suggest?limit=8&q=" + encodeURIComponent(text)).then((r) => r.ok ? r.json() : []).then((items) => {
        const options = document.getElementById("suggestions-integrer");
        options.replaceChildren();
        for (const item of items) {
          builderSuggested.set(item.label, item);
          const option = document.createElement("option");
          option.value = item.label;
          options.appendChild(option);
        }
      });
    });
    builder.addEventListener("change", updateSnippet);
    builder.addEventListener("submit", (event) => event.preventDefault());
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

  // -- fitting: the territory in the space the controls leave free ------------------------------------------------
  let userMoved = false;
  let fitting = false;
  map.on("movestart", () => { if (!fitting) userMoved = true; });
  function fitTerritory() {
    const container = map.getContainer();
    const width = (selector) => container.querySelector(selector)?.offsetWidth || 0;
    const height = (selector) => container.querySelector(selector)?.offsetHeight || 0;
    const left = width(".leaflet-top.leaflet-left") + 8;
    let right = folded ? width(".leaflet-top.leaflet-right") + 8 : 8;
    let bottom = Math.max(height(".leaflet-bottom.leaflet-left"), height(".leaflet-bottom.leaflet-right")) + 8;
    if (config.embed && legend) {
      const box = legend.getBoundingClientRect();
      if (legend.open && box.width < map.getSize().x / 2) right = Math.max(right, box.width + 16);
      else bottom = Math.max(bottom, box.height + 16);
    }
    fitting = true;
    map.fitBounds(config.bounds, {paddingTopLeft: [left, 8], paddingBottomRight: [right, bottom], animate: false});
    fitting = false;
  }

  // -- start ----------------------------------------------------------------------------------------------------
  placeControls();
  placeLegend();
  // A view asked for in the URL (#zoom/lat/lon, or vue=lat,lon,zoom in an embed), else the territory fitted.
  function urlView() {
    const hash = location.hash.match(/^#(\d{1,2})\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/);
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
  // The overlays wait for the final view (see interactive.py), then come in the order of the layer control.
  for (const [key, name] of Object.entries(config.overlays)) {
    if (config.layers.includes(key)) window[name].addTo(map);
  }
  if (config.showProjects) cluster.addTo(map);
  labels.addTo(map);
  document.getElementById("recherche")?.addEventListener("submit", search);
  document.getElementById("q")?.addEventListener("input", suggest);
  form?.addEventListener("change", () => { loadProjects(); saveState(); updateSnippet(); });
  form?.addEventListener("reset", () => setTimeout(() => { loadProjects(); saveState(); updateSnippet(); }, 0));
  map.on("moveend", () => { loadLabels(); saveState(); updateSnippet(); });
  map.on("overlayadd overlayremove", () => { loadLabels(); saveState(); updateSnippet(); });
  map.on("resize", () => {
    placeControls();
    placeLegend();
    if (!userMoved) fitTerritory(); // a frame resized by the partner's page: the territory fits again
  });
  loadLabels();
  updateSnippet();
  loadProjects().then(() => { window.projectsLoaded = true; });
})();
