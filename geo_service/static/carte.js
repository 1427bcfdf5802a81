// Map pages: projects from the API into the marker cluster, the accessible list, filters, place search and the
// <iframe> snippet. Settings come from window.CARTE (written by the server); texts shown are French.
(function () {
  "use strict";
  const config = window.CARTE;
  const map = window[config.map];
  const cluster = window[config.cluster];
  const markers = new Map();
  const allowed = new Set(config.projectIds);

  function escape(text) {
    const span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span.innerHTML;
  }

  function list(items) {
    return items && items.length ? "<ul>" + items.map((i) => "<li>" + escape(i) + "</li>").join("") + "</ul>" : "—";
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
    return '<article class="fiche" lang="fr"><h3>' + escape(p.name) + "</h3><dl>" +
      "<dt>Porteur</dt><dd>" + escape(p.organisation) + "</dd>" +
      "<dt>Durée</dt><dd>" + escape(p.duration_years) + (p.duration_years > 1 ? " ans" : " an") + "</dd>" +
      "<dt>Lieu d'intervention</dt><dd>" + escape(p.place_text) + "</dd>" +
      "<dt>Actions</dt><dd>" + list(p.actions) + "</dd>" +
      "<dt>Bénéficiaires</dt><dd>" + list(p.beneficiaries) + "</dd>" +
      "<dt>Partenaires</dt><dd>" + list(p.partners) + "</dd>" +
      "<dt>Objectifs</dt><dd>" + list(p.objectives) + "</dd>" +
      "<dt>Axes du programme</dt><dd>" + escape(axes) + " <small>(" +
        escape(p.axes_source === "manual" ? "choisis par l'équipe : " + (p.axes_note || "") : "déduits des actions") +
        ")</small></dd>" +
      "<dt>Accès à l'alimentation</dt><dd>" + escape(reachText(p)) + "</dd>" +
      "<dt>Types d'action</dt><dd>" + escape(types || "—") + "</dd>" +
      "</dl></article>";
  }

  function filterQuery() {
    const form = document.getElementById("filtres");
    const params = new URLSearchParams();
    if (form) {
      for (const name of ["axe", "type", "departement"]) {
        const value = form.elements[name].value;
        if (value) params.set(name, value);
      }
    }
    return params.toString();
  }

  async function loadProjects() {
    const query = filterQuery();
    const response = await fetch("/api/v1/projects" + (query ? "?" + query : ""));
    const collection = await response.json();
    const shown = collection.features.filter((f) => allowed.has(f.id));
    cluster.clearLayers();
    markers.clear();
    for (const feature of shown) {
      const p = feature.properties;
      const [lon, lat] = feature.geometry.coordinates;
      const colour = config.typeColours[p.action_types[0]] || "#455a64";
      const marker = L.marker([lat, lon], {
        icon: L.divIcon({className: "marqueur-projet", iconSize: [18, 18],
                         html: '<span style="background:' + colour + '"></span>'}),
        title: p.name, alt: "Projet : " + p.name, keyboard: true,
      });
      marker.bindPopup(card(p), {maxWidth: 360, maxHeight: 320});
      markers.set(feature.id, marker);
      cluster.addLayer(marker);
    }
    const ids = new Set(shown.map((f) => f.id));
    document.querySelectorAll("#liste-projets tbody tr").forEach((row) => { row.hidden = !ids.has(row.dataset.id); });
    const count = document.getElementById("nb-projets");
    if (count) count.textContent = String(ids.size);
    window.projectsShown = ids.size;
  }

  function openProject(id) {
    const marker = markers.get(id);
    if (!marker) return;
    cluster.zoomToShowLayer(marker, () => marker.openPopup());
  }

  // Suggestions while typing, from the geocoder's own gazetteer; a suggestion picked is used as it is.
  const suggested = new Map();
  let suggestTimer = null;
  function suggest() {
    clearTimeout(suggestTimer);
    const text = document.getElementById("q").value.trim();
    if (text.length < 2 || suggested.has(text)) return;
    suggestTimer = setTimeout(async () => {
      const response = await fetch("/api/v1/geocode/suggest?limit=8&q=" + encodeURIComponent(text));
      if (!response.ok) return;
      const list = document.getElementById("suggestions");
      list.replaceChildren();
      for (const item of await response.json()) {
        suggested.set(item.label, item);
        const option = document.createElement("option");
        option.value = item.label;
        list.appendChild(option);
      }
    }, 150);
  }

  async function search(event) {
    event.preventDefault();
    const text = document.getElementById("q").value.trim();
    const message = document.getElementById("recherche-message");
    if (!text) { message.textContent = "Saisissez un nom de lieu."; return; }
    let unit = suggested.get(text);
    if (!unit) {
      const answer = await (await fetch("/api/v1/geocode?q=" + encodeURIComponent(text))).json();
      if (!answer.units || !answer.units.length) {
        message.textContent = "Aucun lieu trouvé pour « " + text + " ».";
        return;
      }
      unit = answer.units[0];
    }
    const detail = await (await fetch("/api/v1/territories/" + unit.level + "/" + unit.code)).json();
    const [west, south, east, north] = detail.bbox;
    map.fitBounds([[south, west], [north, east]]);
    message.textContent = "Carte centrée sur " + detail.name + ".";
    window.lastSearch = {level: unit.level, code: unit.code, name: detail.name};
  }

  function updateSnippet() {
    const box = document.getElementById("code-iframe");
    if (!box) return;
    const centre = map.getCenter();
    const params = new URLSearchParams({vue: centre.lat.toFixed(4) + "," + centre.lng.toFixed(4) + "," + map.getZoom()});
    if (config.layers) params.set("layers", config.layers.join(","));
    box.value = '<iframe src="' + location.origin + "/embed?" + params.toString() +
      '" width="100%" height="500" style="border:0" loading="lazy" title="Carte des projets Mieux manger pour tous"></iframe>';
  }

  const view = new URLSearchParams(location.search).get("vue");
  if (view) {
    const [lat, lon, zoom] = view.split(",").map(Number);
    if ([lat, lon, zoom].every(Number.isFinite)) map.setView([lat, lon], zoom);
  }
  // The overlays wait for the final view (see interactive.py), then come in the order of the layer control.
  for (const [key, name] of Object.entries(config.overlays)) {
    if (config.layers.includes(key)) window[name].addTo(map);
  }
  if (config.showProjects) cluster.addTo(map);
  document.getElementById("recherche")?.addEventListener("submit", search);
  document.getElementById("q")?.addEventListener("input", suggest);
  const filters = document.getElementById("filtres");
  filters?.addEventListener("change", loadProjects);
  filters?.addEventListener("reset", () => setTimeout(loadProjects, 0));
  document.querySelectorAll(".lien-projet").forEach((button) => {
    button.addEventListener("click", () => openProject(button.dataset.id));
  });
  // A long card scrolls inside its popup: keyboard users must be able to reach and scroll it.
  map.on("popupopen", (event) => {
    const content = event.popup.getElement().querySelector(".leaflet-popup-content");
    if (content) {
      content.tabIndex = 0;
      content.setAttribute("role", "region");
      content.setAttribute("aria-label", "Fiche du projet");
    }
  });
  map.on("moveend", updateSnippet);
  updateSnippet();
  loadProjects().then(() => { window.projectsLoaded = true; });
})();
