// Editing space (/edition and /edition/import): sign in with a write token kept in this tab (sessionStorage),
// list, add, edit, delete and restore projects with a live reading of their place, and import a spreadsheet after
// reviewing each row. Everything goes through the JSON API of this origin. Whatever came from a person, a file or
// the server is put in the page as text (textContent), never as HTML: the page builds its DOM with createElement.
(function () {
  "use strict";
  const VIEW = document.body.dataset.vue;
  const TOKEN_KEY = "geo-service.jeton-ecriture";

  // -- small DOM and format helpers ----------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "on") for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
      else if (key === "hidden" || key === "checked" || key === "disabled" || key === "selected") node[key] = true;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }
  const number = new Intl.NumberFormat("fr-FR");
  const wholeEuros = new Intl.NumberFormat("fr-FR", {style: "currency", currency: "EUR", maximumFractionDigits: 0});
  const centEuros = new Intl.NumberFormat("fr-FR", {style: "currency", currency: "EUR", minimumFractionDigits: 2});
  const euros = {format: (v) => (Number.isInteger(v) ? wholeEuros : centEuros).format(v)}; // 12 000 €, 12 000,50 €
  const percent = new Intl.NumberFormat("fr-FR", {style: "percent", maximumFractionDigits: 0});
  const longDate = new Intl.DateTimeFormat("fr-FR", {day: "numeric", month: "long", year: "numeric"});
  const dateTime = new Intl.DateTimeFormat("fr-FR", {day: "numeric", month: "long", year: "numeric",
    hour: "2-digit", minute: "2-digit"});
  function frenchDay(iso) { // "2025-12-31" -> "31 décembre 2025", read as a calendar day (no time zone shift)
    const parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    return parts ? longDate.format(new Date(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3]))) : String(iso);
  }
  function frenchMoment(iso) {
    const when = new Date(iso);
    return Number.isNaN(when.getTime()) ? String(iso) : dateTime.format(when);
  }
  const plural = (n, one, many) => number.format(n) + " " + (n === 1 ? one : many);
  const fold = (text) => String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  const STATUS_WORDS = {planned: "prévue", active: "en cours", ended: "terminée"};
  const statusWord = (status) => STATUS_WORDS[status] || "non renseigné";
  const LEVEL_WORDS = {commune: "commune", epci: "intercommunalité", arrondissement: "arrondissement",
    departement: "département", region: "région"};
  const REACH_WORDS = {direct: "accès direct à l'alimentation", support: "action d'appui aux acteurs"};

  // The geocoder explains its choices in English (its notes are API text): said so, and marked as English so
  // that a screen reader pronounces them as such.
  function notesList(notes) {
    const box = el("div", {class: "notes-lecture"}, el("p", {text: "Explication du géocodeur (en anglais) :"}));
    const list = el("ul", {lang: "en"});
    for (const note of notes) list.append(el("li", {text: note}));
    box.append(list);
    return box;
  }

  // « À confirmer : Senlis (60) ou Senlis (62) ? » and the places the geocoder hesitates between, each choosable
  function questionOf(reading, choose) {
    const box = el("div", {class: "a-confirmer"}, el("p", {}, el("strong", {text: "À confirmer : "}), reading.question));
    const candidates = reading.candidates || [];
    if (candidates.length) {
      const list = el("ul", {});
      for (const c of candidates) {
        const label = c.name + (c.departement ? " (" + c.departement + ")" : "") + ", " + (LEVEL_WORDS[c.level] || c.level);
        const item = el("li", {}, el("span", {text: label + (c.why ? " — " + c.why : "")}));
        item.append(el("button", {type: "button", class: "secondaire", "aria-label": "Choisir " + label,
          on: {click: () => choose({level: c.level, code: c.code, name: c.name, label})}}, "Choisir"));
        list.append(item);
      }
      box.append(list);
    }
    return box;
  }

  // -- the API, with the token of this tab ---------------------------------------------------------------------
  const token = () => sessionStorage.getItem(TOKEN_KEY);
  class Answer {
    constructor(status, data, headers) { this.status = status; this.data = data; this.headers = headers; }
    get ok() { return this.status >= 200 && this.status < 300; }
    get detail() { return this.data && typeof this.data === "object" ? this.data.detail : this.data; }
    // the server's own French message, when it gives one (every refusal of the API does: api.errors)
    get detailFr() { return this.data && typeof this.data === "object" ? this.data.detail_fr : null; }
  }
  async function api(method, path, options = {}) {
    const headers = Object.assign({Accept: "application/json"}, options.headers || {});
    if (options.auth !== false && token()) headers.Authorization = "Bearer " + token();
    let body = options.body;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    let response;
    try {
      response = await fetch(path, {method, headers, body, signal: options.signal, cache: "no-store"});
    } catch (error) {
      if (error.name === "AbortError") throw error;
      return new Answer(0, {detail: "le serveur ne répond pas (réseau coupé ?)"}, new Headers());
    }
    const type = response.headers.get("content-type") || "";
    let data = null;
    if (response.status !== 204) data = type.includes("json") ? await response.json().catch(() => null) : await response.text();
    const answer = new Answer(response.status, data, response.headers);
    if ((response.status === 401 || response.status === 403) && options.auth !== false && token()) signedOut(answer);
    return answer;
  }
  // The API speaks English to programs; what an officer reads here is French. Field names in a 422 are named the
  // way the form labels them.
  const FIELD_WORDS = {
    id: "identifiant", organisation: "porteur", name: "intitulé", place_text: "lieu d'intervention",
    actions: "actions", beneficiaries: "bénéficiaires", indicators: "indicateurs", partners: "partenaires",
    objectives: "objectifs", duration_years: "durée", funding_years: "années de financement",
    amount_eur: "montant", status: "statut", end_date: "date de fin", website: "site web", contact: "contact",
    last_checked: "vérifié le", curation: "choix d'une personne", territories: "territoires choisis",
    reach: "portée", axes: "axes", note: "raison", "curation.territories": "territoires choisis",
    "curation.reach": "portée choisie", "curation.axes": "axes choisis",
    "curation.organisation_commune": "commune du porteur",
  };
  function frenchDetail(answer) {
    let detail = answer.detail;
    if (Array.isArray(detail)) detail = detail.map((d) => (d.loc || []).slice(1).join(".") + " : " + d.msg).join(" ; ");
    detail = String(detail || "");
    if (answer.status === 0) return "Le serveur ne répond pas : vérifiez la connexion, puis réessayez.";
    if (answer.status === 401 || answer.status === 403) {
      return /disabled/i.test(detail) ? "L'écriture est désactivée sur ce serveur (aucun jeton n'y est configuré)."
        : "Ce jeton n'est pas accepté : vérifiez-le, ou demandez-en un à l'administrateur du service.";
    }
    if (answer.status === 413) return "Envoi trop volumineux pour le serveur.";
    if (answer.status === 429 || answer.status === 503) return "Le serveur est occupé ou indisponible : réessayez dans un instant.";
    if (answer.detailFr) return String(answer.detailFr);
    // "amount_eur: Input should be ..." -> "montant : Input should be ..."
    return detail.replace(/\b(curation\.[a-z_]+|[a-z_]+)(\.\d+)?(\.[a-z_]+)?:/g, (whole, field, index, sub) => {
      const word = FIELD_WORDS[field + (sub || "")] || FIELD_WORDS[field];
      return word ? "« " + word + " »" + (index ? " (n° " + (Number(index.slice(1)) + 1) + ")" : "") + " :" : whole;
    });
  }

  // -- sign in / sign out --------------------------------------------------------------------------------------
  let onSignedIn = () => {};
  function showSignedIn(signedIn) {
    $("connexion-form").hidden = signedIn;
    $("connecte").hidden = !signedIn;
    $("espace").hidden = !signedIn;
  }
  function signedOut(answer) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignedIn(false);
    $("connexion-message").textContent = answer ? frenchDetail(answer) + " Reconnectez-vous." : "Vous êtes déconnecté.";
    $("jeton").focus();
  }
  async function checkToken(candidate) {
    // A cheap call that needs a valid token: the history of a project, read with it (a wrong token is a 401 or
    // 403 before any lookup). With no project at all, an unknown one answers 404 to an accepted token.
    const list = await api("GET", "/api/v1/projects", {auth: false});
    const first = list.ok && list.data.features.length ? list.data.features[0].id : "verification-du-jeton";
    const answer = await api("GET", "/api/v1/projects/" + encodeURIComponent(first) + "/history",
      {auth: false, headers: {Authorization: "Bearer " + candidate}});
    return answer.status === 200 || answer.status === 404 ? null : answer;
  }
  $("connexion-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = $("jeton");
    const candidate = field.value.trim();
    const message = $("connexion-message");
    if (!candidate) {
      message.textContent = "Saisissez votre jeton d'écriture.";
      field.focus();
      return;
    }
    message.textContent = "Vérification du jeton…";
    const refused = await checkToken(candidate);
    if (refused) {
      message.textContent = frenchDetail(refused);
      field.select();
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, candidate);
    field.value = "";
    message.textContent = "";
    showSignedIn(true);
    onSignedIn(true);
  });
  $("deconnexion").addEventListener("click", () => {
    signedOut(null);
    onSignedIn(false);
  });

  // -- territory search: suggestions as buttons (plain buttons work with keyboard, touch and screen readers) ----
  function suggestBox(input, list, onPick) {
    let timer = null;
    let controller = null;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const text = input.value.trim();
        if (controller) controller.abort();
        clear(list);
        if (text.length < 2) return;
        controller = new AbortController();
        try {
          const answer = await api("GET", "/api/v1/geocode/suggest?limit=8&q=" + encodeURIComponent(text.slice(0, 100)),
            {signal: controller.signal, auth: false});
          if (!answer.ok) return;
          clear(list);
          if (!answer.data.length) list.append(el("li", {text: "Aucun territoire de ce nom."}));
          for (const item of answer.data) {
            list.append(el("li", {}, el("span", {text: item.label}),
              el("button", {type: "button", class: "secondaire", "aria-label": "Ajouter " + item.label,
                on: {click: () => { onPick(item); clear(list); input.value = ""; input.focus(); }}}, "Ajouter")));
          }
        } catch (error) {
          if (error.name !== "AbortError") throw error;
        }
      }, 250);
    });
  }

  // ===========================================================================================================
  // /edition: projects
  // ===========================================================================================================
  function projectsPage() {
    let projects = []; // features' properties of GET /api/v1/projects
    let opened = null; // {id|null, etag, record, base (form values when opened), version}
    let chosen = []; // territories the officer picked: {level, code, name}
    let lastTrigger = null;
    const form = $("fiche");

    // -- the list ----------------------------------------------------------------------------------------------
    async function loadProjects() {
      const answer = await api("GET", "/api/v1/projects", {auth: false});
      if (!answer.ok) {
        $("liste-message").textContent = "Liste des projets indisponible : " + frenchDetail(answer);
        return;
      }
      projects = answer.data.features.map((f) => f.properties);
      const years = new Set();
      for (const p of projects) for (const y of p.funding_years || []) years.add(y);
      const select = $("filtre-annee");
      const wanted = select.value;
      while (select.options.length > 1) select.remove(1);
      for (const y of [...years].sort()) select.append(el("option", {value: String(y), text: String(y)}));
      select.value = [...select.options].some((o) => o.value === wanted) ? wanted : "";
      renderList();
    }
    function matches(p) {
      const words = fold($("recherche-projets").value).split(/\s+/).filter(Boolean);
      const haystack = fold([p.organisation, p.name, p.place_text, p.id].join(" "));
      if (!words.every((w) => haystack.includes(w))) return false;
      const year = $("filtre-annee").value;
      if (year && !(p.funding_years || []).includes(Number(year))) return false;
      const status = $("filtre-statut").value;
      if (status && (status === "unknown" ? p.status != null : p.status !== status)) return false;
      const dep = $("filtre-departement").value;
      if (dep && !(p.communes || []).some((c) => c.slice(0, dep.length) === dep)) return false;
      return true;
    }
    function renderList() {
      const list = clear($("liste"));
      const shown = projects.filter(matches)
        .sort((a, b) => fold(a.organisation + a.name).localeCompare(fold(b.organisation + b.name)));
      $("nb-projets").textContent = shown.length === projects.length ? String(projects.length)
        : shown.length + " sur " + projects.length;
      for (const p of shown) {
        const tags = el("p", {class: "etiquettes"},
          el("span", {class: "etiquette-statut statut-" + (p.status || "inconnu"), text: statusWord(p.status)}),
          el("span", {text: p.funding_years && p.funding_years.length ? "financé en " + p.funding_years.join(", ")
            : "années non renseignées"}),
          el("span", {text: p.amount_eur != null ? euros.format(p.amount_eur) : "montant non renseigné"}));
        const item = el("li", {dataset: {id: p.id}, class: opened && opened.id === p.id ? "ouvert" : null},
          el("button", {type: "button", class: "ouvrir", on: {click: (e) => { lastTrigger = e.currentTarget; openProject(p.id); }}},
            p.name),
          el("p", {text: p.organisation}), tags);
        if (p.to_check && p.to_check.length) {
          tags.append(el("span", {class: "a-verifier", text: "à vérifier"}));
          item.append(el("p", {class: "raison", text: "À vérifier : " + p.to_check.join(" ; ")}));
        }
        if (p.to_classify) {
          // no direct-access rule recognised its words: its reach is a default until a person decides it below
          tags.append(el("span", {class: "a-verifier", text: "à classer"}));
        }
        list.append(item);
      }
      if (!shown.length) list.append(el("li", {text: "Aucun projet ne correspond à cette recherche."}));
    }
    for (const id of ["filtre-annee", "filtre-statut", "filtre-departement"]) $(id).addEventListener("change", renderList);
    $("recherche-projets").addEventListener("input", renderList);
    $("filtres-projets").addEventListener("submit", (e) => e.preventDefault());

    // -- record <-> form -----------------------------------------------------------------------------------------
    // The form's values have the shape of the record fields it edits; the same shape comes from a stored record,
    // so "what changed" is a field-by-field comparison of two such objects.
    const EDITED = ["organisation", "name", "actions", "beneficiaries", "place_text", "funding_years", "amount_eur",
      "duration_years", "status", "end_date", "website", "contact", "last_checked", "curation"];
    function valuesOf(record) {
      const c = record.curation || {};
      return {
        organisation: record.organisation || "", name: record.name || "",
        actions: record.actions || [], beneficiaries: record.beneficiaries || [],
        place_text: record.place_text || "", funding_years: record.funding_years || [],
        amount_eur: record.amount_eur ?? null, duration_years: record.duration_years ?? null,
        status: record.status ?? null, end_date: record.end_date ?? null, website: record.website ?? null,
        contact: record.contact ?? null, last_checked: record.last_checked ?? null,
        curation: curationOf(c),
      };
    }
    function curationOf(c) {
      const out = {territories: (c.territories || []).map((t) => ({level: t.level, code: t.code, note: t.note})),
        reach: c.reach ? {value: c.reach.value, note: c.reach.note} : null,
        axes: c.axes ? {values: [...c.axes.values].sort(), note: c.axes.note} : null};
      if (c.organisation_commune) out.organisation_commune = c.organisation_commune;
      return out;
    }
    const lines = (text) => text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

    function fillForm(values) {
      const f = form.elements;
      f.organisation.value = values.organisation;
      f.name.value = values.name;
      f.actions.value = values.actions.join("\n");
      f.beneficiaries.value = values.beneficiaries.join("\n");
      f.place_text.value = values.place_text;
      f.funding_years.value = values.funding_years.join(", ");
      f.amount_eur.value = values.amount_eur == null ? "" : number.format(values.amount_eur);
      f.duration_years.value = values.duration_years == null ? "" : String(values.duration_years);
      f.status.value = values.status || "";
      f.end_date.value = values.end_date || "";
      f.website.value = values.website || "";
      f.contact.value = values.contact || "";
      f.last_checked.value = values.last_checked || "";
      const c = values.curation;
      chosen = c.territories.map((t) => ({level: t.level, code: t.code, name: null}));
      f.territories_note.value = c.territories.length ? c.territories[0].note : "";
      f.reach.value = c.reach ? c.reach.value : "";
      f.reach_note.value = c.reach ? c.reach.note : "";
      for (const box of form.querySelectorAll('input[name="axes"]')) box.checked = !!c.axes && c.axes.values.includes(Number(box.value));
      f.axes_note.value = c.axes ? c.axes.note : "";
      renderChosen();
      nameChosen();
      readPlace(true);
    }
    // The form's values, and the French problems that keep them from being saved.
    function readForm() {
      const f = form.elements;
      const problems = [];
      const text = (name) => f[name].value.trim();
      const values = {organisation: text("organisation"), name: text("name"), actions: lines(f.actions.value),
        beneficiaries: lines(f.beneficiaries.value), place_text: text("place_text")};
      if (!values.organisation) problems.push(["organisation", "Le porteur est obligatoire."]);
      if (!values.name) problems.push(["name", "L'intitulé du projet est obligatoire."]);
      if (!values.place_text) problems.push(["place_text", "Le lieu d'intervention est obligatoire."]);
      const years = text("funding_years").split(/[\s,;/]+/).filter(Boolean);
      values.funding_years = [];
      for (const y of years) {
        if (!/^\d{4}$/.test(y) || Number(y) < 2020 || Number(y) > 2100) {
          problems.push(["funding_years", "Année de financement « " + y + " » : une année de 2020 à 2100 est attendue (ex. 2024, 2025)."]);
        } else if (!values.funding_years.includes(Number(y))) values.funding_years.push(Number(y));
      }
      values.funding_years.sort();
      const amount = text("amount_eur").replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
      values.amount_eur = null;
      if (amount) {
        if (!/^\d+(\.\d{1,2})?$/.test(amount) || Number(amount) > 100000000) {
          problems.push(["amount_eur", "Montant « " + text("amount_eur") + " » : un montant en euros est attendu (ex. 12 000 ou 12 000,50)."]);
        } else values.amount_eur = Number(amount);
      }
      const duration = text("duration_years");
      values.duration_years = null;
      if (duration) {
        if (!/^\d+$/.test(duration) || Number(duration) < 1 || Number(duration) > 10) {
          problems.push(["duration_years", "Durée « " + duration + " » : un nombre entier d'années, de 1 à 10, est attendu."]);
        } else values.duration_years = Number(duration);
      }
      values.status = f.status.value || null;
      values.end_date = f.end_date.value || null;
      if (f.end_date.validity.badInput) problems.push(["end_date", "La date de fin n'est pas une date complète."]);
      values.website = text("website") || null;
      if (values.website && !/^https?:\/\/[^\s<>"']+$/.test(values.website)) {
        problems.push(["website", "Le site web doit être une adresse commençant par https:// ou http://."]);
      }
      values.contact = text("contact") || null;
      values.last_checked = f.last_checked.value || null;
      if (f.last_checked.validity.badInput) problems.push(["last_checked", "La date « vérifié le » n'est pas une date complète."]);
      const curation = {territories: [], reach: null, axes: null};
      const territoriesNote = text("territories_note");
      if (chosen.length) {
        if (!territoriesNote) problems.push(["territories_note", "Dites pourquoi vous choisissez ces territoires."]);
        curation.territories = chosen.map((t) => ({level: t.level, code: t.code, note: territoriesNote}));
      }
      if (f.reach.value) {
        if (!text("reach_note")) problems.push(["reach_note", "Dites pourquoi vous choisissez cette portée."]);
        curation.reach = {value: f.reach.value, note: text("reach_note")};
      }
      const axes = [...form.querySelectorAll('input[name="axes"]:checked')].map((b) => Number(b.value)).sort();
      if (axes.length) {
        if (!text("axes_note")) problems.push(["axes_note", "Dites pourquoi vous choisissez ces axes."]);
        curation.axes = {values: axes, note: text("axes_note")};
      }
      const commune = opened && opened.record && opened.record.curation && opened.record.curation.organisation_commune;
      if (commune) curation.organisation_commune = commune;
      values.curation = curation;
      return {values, problems};
    }

    // -- how a field's value reads, for the conflict and the history ----------------------------------------------
    const SHOWN_FIELDS = [
      ["organisation", "Porteur"], ["name", "Intitulé"], ["actions", "Actions"], ["beneficiaries", "Bénéficiaires"],
      ["place_text", "Lieu d'intervention"], ["funding_years", "Années de financement"],
      ["amount_eur", "Montant accordé"], ["duration_years", "Durée"], ["status", "Statut"],
      ["end_date", "Date de fin"], ["website", "Site web"], ["contact", "Contact"], ["last_checked", "Vérifié le"],
      ["curation.territories", "Territoires choisis"], ["curation.reach", "Portée choisie"],
      ["curation.axes", "Axes choisis"], ["curation.organisation_commune", "Commune du porteur"],
      ["indicators", "Indicateurs"], ["partners", "Partenaires"], ["objectives", "Objectifs"],
    ];
    function fieldOf(record, path) {
      const [head, sub] = path.split(".");
      const value = sub ? (record[head] || {})[sub] : record[head];
      return value === undefined ? null : value;
    }
    function shown(path, value) {
      const empty = "non renseigné";
      if (value === null || value === "" || (Array.isArray(value) && !value.length)) return empty;
      switch (path) {
        case "amount_eur": return euros.format(value);
        case "duration_years": return plural(value, "an", "ans");
        case "status": return statusWord(value);
        case "end_date": case "last_checked": return frenchDay(value);
        case "funding_years": return value.join(", ");
        case "curation.territories":
          return value.map((t) => (LEVEL_WORDS[t.level] || t.level) + " " + t.code).join(", ") +
            (value[0] && value[0].note ? " — raison : " + value[0].note : "");
        case "curation.reach": return (REACH_WORDS[value.value] || value.value) + " — raison : " + value.note;
        case "curation.axes": return "axes " + value.values.join(", ") + " — raison : " + value.note;
        default:
          if (Array.isArray(value)) return value.map((v) => (typeof v === "object" ? v.text || JSON.stringify(v) : v)).join("\n");
          return typeof value === "object" ? JSON.stringify(value) : String(value);
      }
    }
    function differences(before, after) {
      return SHOWN_FIELDS.filter(([path]) => !same(fieldOf(before, path), fieldOf(after, path)));
    }

    // -- the live reading of the place ---------------------------------------------------------------------------
    let readTimer = null;
    let readController = null;
    let lastReading = null;
    const minimap = L.map("lecture-carte", {zoomControl: false, attributionControl: false, minZoom: 5, maxZoom: 13})
      .setView([50.0, 2.8], 7);
    L.control.zoom({position: "topleft", zoomInTitle: "Zoom avant", zoomOutTitle: "Zoom arrière"}).addTo(minimap);
    const drawn = L.featureGroup().addTo(minimap);
    const outlines = new Map(); // "level:code" -> GeoJSON feature
    let drawing = 0;
    async function outline(level, code) {
      const key = level + ":" + code;
      if (!outlines.has(key)) {
        const answer = await api("GET", "/api/v1/territories/" + level + "/" + encodeURIComponent(code) + "/outline.geojson?zoom=9", {auth: false});
        outlines.set(key, answer.ok ? answer.data : null);
      }
      return outlines.get(key);
    }
    async function drawUnits(units, manual) {
      const run = ++drawing;
      const features = await Promise.all(units.map((u) => outline(u.level, u.code)));
      if (run !== drawing) return; // a newer reading is being drawn
      drawn.clearLayers();
      const style = manual ? {color: "#4a148c", weight: 2, fillOpacity: 0.25}
        : {color: "#0b4f8a", weight: 2, fillOpacity: 0.2};
      for (const feature of features) if (feature) drawn.addLayer(L.geoJSON(feature, {style, interactive: false}));
      minimap.invalidateSize();
      if (drawn.getLayers().length) {
        // clear of the zoom buttons at the top left
        minimap.fitBounds(drawn.getBounds(), {paddingTopLeft: [60, 12], paddingBottomRight: [12, 12], maxZoom: 11});
      }
    }
    function readPlace(now) {
      clearTimeout(readTimer);
      readTimer = setTimeout(showReading, now ? 0 : 400);
    }
    async function showReading() {
      const text = form.elements.place_text.value.trim();
      if (readController) readController.abort();
      const summary = $("lecture-resume");
      if (!text) {
        lastReading = null;
        summary.textContent = "Saisissez un lieu pour voir comment il est lu.";
        clear($("lecture-unites"));
        clear($("lecture-notes"));
        $("lecture-non-reconnu").hidden = true;
        $("autres-lieux").hidden = true;
        renderChosen();
        return;
      }
      readController = new AbortController();
      const signal = readController.signal;
      try {
        summary.textContent = "Lecture en cours…";
        const answer = await api("GET", "/api/v1/geocode?q=" + encodeURIComponent(text), {signal, auth: false});
        if (!answer.ok) {
          summary.textContent = "Lecture impossible : " + frenchDetail(answer);
          return;
        }
        lastReading = answer.data;
        renderReading(answer.data);
        await showAlternatives(answer.data, text, signal);
      } catch (error) {
        if (error.name !== "AbortError") throw error;
      }
    }
    function renderReading(reading) {
      const units = clear($("lecture-unites"));
      const n = reading.communes.length;
      const confidence = reading.units.length ? Math.min(...reading.units.map((u) => u.confidence)) : 0;
      $("lecture-resume").textContent = reading.units.length
        ? plural(n, "commune", "communes") + " — " + plural(reading.units.length, "territoire lu", "territoires lus") +
          ", certitude " + percent.format(confidence)
        : "Aucun territoire reconnu : ce lieu ne peut pas être enregistré tel quel.";
      for (const u of reading.units) {
        units.append(el("li", {}, el("strong", {text: u.name}),
          " — " + (LEVEL_WORDS[u.level] || u.level) + " (" + u.code + "), lu dans « " + u.matched + " », certitude " +
          percent.format(u.confidence)));
      }
      const unresolved = $("lecture-non-reconnu");
      unresolved.hidden = !reading.unresolved.length;
      unresolved.textContent = "non reconnu : " + reading.unresolved.map((u) => "« " + u + " »").join(", ");
      const notes = clear($("lecture-notes"));
      // the geocoder's own doubt, as a question to the officer: the places that fit, to pick from
      if (reading.to_confirm && reading.question) {
        notes.append(questionOf(reading, (c) => { addChosen(c); $("f-territories-note").focus(); }));
      }
      if (reading.notes.length) notes.append(notesList(reading.notes));
      renderChosen();
    }
    async function showAlternatives(reading, text, signal) {
      // other places for what was not read, for each fragment read, and for the whole text: the officer may
      // pick one instead (a homonym, a larger or smaller unit of the same name)
      const queries = [...new Set([...reading.unresolved, ...reading.units.map((u) => u.matched), text]
        .map((q) => q.trim().slice(0, 100)).filter((q) => q.length >= 2))];
      const seen = new Set(reading.units.map((u) => u.level + ":" + u.code));
      const found = [];
      for (const q of queries.slice(0, 5)) {
        const answer = await api("GET", "/api/v1/geocode/suggest?limit=5&q=" + encodeURIComponent(q), {signal, auth: false});
        if (!answer.ok) continue;
        for (const s of answer.data) {
          const key = s.level + ":" + s.code;
          if (!seen.has(key)) { seen.add(key); found.push(s); }
        }
      }
      const list = clear($("autres-liste"));
      $("autres-lieux").hidden = !found.length;
      for (const s of found.slice(0, 8)) {
        list.append(el("li", {}, el("span", {text: s.label}),
          el("button", {type: "button", class: "secondaire", "aria-label": "Choisir " + s.label + " à la place de la lecture",
            on: {click: () => { addChosen(s); $("f-territories-note").focus(); }}}, "Choisir")));
      }
    }
    form.elements.place_text.addEventListener("input", () => readPlace(false));

    // -- territories picked by the officer -------------------------------------------------------------------------
    function addChosen(item) {
      if (!chosen.some((t) => t.level === item.level && t.code === item.code)) {
        chosen.push({level: item.level, code: item.code, name: item.name});
      }
      renderChosen();
    }
    async function nameChosen() {
      for (const t of chosen) {
        if (t.name) continue;
        const answer = await api("GET", "/api/v1/territories/" + t.level + "/" + encodeURIComponent(t.code), {auth: false});
        t.name = answer.ok ? answer.data.name : t.code;
      }
      renderChosen();
    }
    function renderChosen() {
      const list = clear($("territoires-choisis"));
      $("nb-choisis").textContent = String(chosen.length);
      chosen.forEach((t, index) => {
        const label = (t.name || t.code) + " (" + (LEVEL_WORDS[t.level] || t.level) + ")";
        list.append(el("li", {}, el("span", {text: label}),
          el("button", {type: "button", title: "Retirer", "aria-label": "Retirer " + label, on: {click: () => {
            chosen.splice(index, 1);
            renderChosen();
            $("territoire-recherche").focus();
          }}}, "×")));
      });
      const replaced = $("lecture-remplacee");
      replaced.hidden = !chosen.length;
      replaced.textContent = "Lecture remplacée par votre choix : " +
        chosen.map((t) => t.name || t.code).join(", ") + " (la carte montre ce choix).";
      if (chosen.length) drawUnits(chosen, true);
      else drawUnits(lastReading ? lastReading.units : [], false);
    }
    suggestBox($("territoire-recherche"), $("territoire-propositions"), addChosen);

    // -- open, new, close ----------------------------------------------------------------------------------------
    function showEditor(title) {
      $("espace").classList.remove("seule");
      $("editeur").hidden = false;
      $("titre-editeur").textContent = title;
      clear($("fiche-erreurs")).hidden = true;
      $("conflit").hidden = true;
      minimap.invalidateSize();
    }
    function markOpened() {
      for (const li of $("liste").children) li.classList.toggle("ouvert", !!opened && li.dataset.id === opened.id);
    }
    function newProject() {
      opened = {id: null, etag: null, record: null, base: null};
      showEditor("Nouveau projet");
      $("editeur-id").textContent = "L'identifiant sera tiré du porteur et de l'intitulé.";
      $("supprimer").hidden = true;
      $("historique").hidden = true;
      clear($("fiche-message"));
      fillForm(valuesOf({}));
      markOpened();
      $("titre-editeur").focus();
    }
    // The stored record as it is at the version the ETag names: the project's ETag, then that version in the
    // history (which also says who wrote it). Returns null when the project is gone.
    async function fetchStored(id) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const feature = await api("GET", "/api/v1/projects/" + encodeURIComponent(id), {auth: false});
        if (!feature.ok) return {error: feature};
        const etag = feature.headers.get("ETag");
        const version = Number((/"(\d+)/.exec(etag || "") || [])[1]);
        const history = await api("GET", "/api/v1/projects/" + encodeURIComponent(id) + "/history");
        if (!history.ok) return {error: history};
        const found = history.data.versions.find((v) => v.version === version);
        if (found) return {etag, version, record: found.record, entry: found, history: history.data.versions, feature: feature.data};
      }
      return {error: new Answer(409, {detail: "le projet change sans cesse : réessayez"}, new Headers())};
    }
    async function openProject(id, message) {
      const stored = await fetchStored(id);
      if (stored.error) {
        $("liste-message").textContent = "Impossible d'ouvrir ce projet : " + frenchDetail(stored.error);
        return;
      }
      opened = {id, etag: stored.etag, record: stored.record, base: valuesOf(stored.record), feature: stored.feature};
      showEditor("Modifier : " + stored.record.name);
      $("editeur-id").textContent = "Identifiant : " + id + " — version " + stored.version;
      $("supprimer").hidden = false;
      fillForm(opened.base);
      renderHistory(stored.history);
      const box = clear($("fiche-message"));
      if (message) box.append(message);
      markOpened();
      $("titre-editeur").focus();
    }
    function closeEditor() {
      opened = null;
      $("editeur").hidden = true;
      $("espace").classList.add("seule");
      markOpened();
      if (lastTrigger && document.body.contains(lastTrigger)) lastTrigger.focus();
      else $("nouveau").focus();
    }
    $("nouveau").addEventListener("click", (e) => { lastTrigger = e.currentTarget; newProject(); });
    $("fermer").addEventListener("click", closeEditor);

    // -- saving ------------------------------------------------------------------------------------------------
    function showProblems(problems, title) {
      const box = clear($("fiche-erreurs"));
      box.hidden = false;
      box.append(el("p", {}, el("strong", {text: title})));
      const list = el("ul");
      for (const [field, text] of problems) {
        const item = el("li", {text});
        if (field && form.elements[field]) {
          form.elements[field].setAttribute("aria-invalid", "true");
          item.append(" ", el("a", {href: "#" + form.elements[field].id, text: "Corriger"}));
        }
        list.append(item);
      }
      box.append(list);
      box.focus();
    }
    function slug(text) {
      const base = fold(text).replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
      let cut = base.slice(0, 72);
      if (base.length > 72 && cut.includes("-")) cut = cut.slice(0, cut.lastIndexOf("-"));
      return cut || "projet";
    }
    // The id the record is known by, from porteur and intitulé: one no listed project has (a deleted project
    // keeps its id too: the store then answers 409 and the next number is tried).
    function freeId(values, skip) {
      const base = slug(values.organisation + " " + values.name);
      const used = new Set(projects.map((p) => p.id));
      for (let n = 1 + skip; ; n++) {
        const candidate = n === 1 ? base : base + "-" + n;
        if (!used.has(candidate)) return candidate;
      }
    }
    function savedMessage(feature, text) {
      const box = el("div", {class: "succes"}, el("p", {text}));
      const point = feature && feature.geometry && feature.geometry.coordinates;
      const href = point ? "/carte#11/" + point[1].toFixed(4) + "/" + point[0].toFixed(4) : "/carte";
      box.append(el("p", {}, el("a", {href, class: "voir-carte"}, "Voir sur la carte"),
        " (le projet figure aussi dans la liste des projets, sous la carte)"));
      return box;
    }
    async function save(values, changes) {
      for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
      const button = $("enregistrer");
      button.disabled = true;
      try {
        let answer;
        let id = opened.id;
        if (id === null) {
          for (let skip = 0; skip < 20; skip++) {
            id = freeId(values, skip);
            answer = await api("POST", "/api/v1/projects", {json: Object.assign({id}, values)});
            if (!(answer.status === 409 && /already used/.test(answer.detail || ""))) break;
          }
        } else {
          answer = await api("PATCH", "/api/v1/projects/" + encodeURIComponent(id),
            {json: changes, headers: {"If-Match": opened.etag}});
        }
        if (answer.status === 412) return conflict(values);
        if (!answer.ok) {
          const where = answer.status === 404 ? "Ce projet a été supprimé entre-temps ; restaurez-le ou créez-en un nouveau."
            : frenchDetail(answer);
          showProblems([[null, where]], "Le serveur a refusé l'enregistrement :");
          return;
        }
        await loadProjects();
        await openProject(id, savedMessage(answer.data, opened.id === null ? "Projet ajouté." : "Modifications enregistrées."));
      } finally {
        button.disabled = false;
      }
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clear($("fiche-erreurs")).hidden = true;
      for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
      const {values, problems} = readForm();
      if (problems.length) return showProblems(problems, "Le projet ne peut pas être enregistré :");
      if (lastReading && !lastReading.units.length && !chosen.length) {
        return showProblems([["place_text", "Le lieu n'est pas reconnu : corrigez-le ou choisissez les territoires."]],
          "Le projet ne peut pas être enregistré :");
      }
      let changes = null;
      if (opened.id !== null) {
        changes = {};
        for (const key of EDITED) if (!same(values[key], opened.base[key])) changes[key] = values[key];
        if (!Object.keys(changes).length) {
          clear($("fiche-message")).append(el("p", {text: "Aucun changement à enregistrer."}));
          return;
        }
      }
      await save(values, changes);
    });

    // -- a stale edit: both versions, and three ways out (nothing typed is lost) -----------------------------------
    async function conflict(mine) {
      const fresh = await fetchStored(opened.id);
      const box = clear($("conflit"));
      box.hidden = false;
      if (fresh.error) {
        box.append(el("h3", {text: "Ce projet a changé pendant votre modification"}),
          el("p", {text: "La version enregistrée n'a pas pu être relue : " + frenchDetail(fresh.error) +
            ". Vos saisies restent dans le formulaire."}));
        box.focus();
        return;
      }
      const theirs = valuesOf(fresh.record);
      const mineChanged = EDITED.filter((k) => !same(mine[k], opened.base[k]));
      const who = (fresh.entry.by ? "par le jeton « " + fresh.entry.by + " », " : "") + "le " + frenchMoment(fresh.entry.at);
      box.append(el("h3", {text: "Quelqu'un d'autre a enregistré ce projet pendant que vous le modifiiez"}),
        el("p", {text: "Votre version n'a pas été enregistrée. Une autre version (" + who + ") l'a été entre-temps. " +
          "Voici les champs où les deux versions diffèrent : rien de ce que vous avez saisi n'est perdu."}));
      const rows = differences(theirs, mine);
      if (!rows.length) box.append(el("p", {text: "Les deux versions sont identiques sur les champs du formulaire."}));
      for (const [path, label] of rows) {
        const who = [];
        if (!same(fieldOf(theirs, path), fieldOf(opened.base, path))) who.push("changé dans la version enregistrée");
        if (!same(fieldOf(mine, path), fieldOf(opened.base, path))) who.push("changé par vous");
        box.append(el("div", {class: "comparaison"}, el("h4", {text: label + (who.length ? " — " + who.join(", ") : "")}),
          el("div", {class: "deux-versions"},
            el("div", {class: "theirs"}, el("span", {class: "qui", text: "Version enregistrée"}), shown(path, fieldOf(theirs, path))),
            el("div", {class: "mine"}, el("span", {class: "qui", text: "Votre version"}), shown(path, fieldOf(mine, path))))));
      }
      const adopt = (values, base, message) => {
        opened = {id: opened.id, etag: fresh.etag, record: fresh.record, base, feature: fresh.feature};
        fillForm(values);
        box.hidden = true;
        $("editeur-id").textContent = "Identifiant : " + opened.id + " — version " + fresh.version;
        renderHistory(fresh.history);
        clear($("fiche-message")).append(el("p", {text: message}));
        $("titre-editeur").focus();
      };
      box.append(el("div", {class: "boutons"},
        el("button", {type: "button", id: "conflit-reappliquer", on: {click: () => {
          const merged = Object.assign({}, theirs);
          for (const key of mineChanged) merged[key] = mine[key];
          adopt(merged, theirs, "Vos changements (" + mineChanged.map((k) => FIELD_WORDS[k] || k).join(", ") +
            ") sont reportés sur la version enregistrée : vérifiez, puis enregistrez.");
        }}}, "Reporter mes changements sur la version enregistrée"),
        el("button", {type: "button", id: "conflit-garder-mienne", class: "secondaire", on: {click: async () => {
          adopt(mine, theirs, "Votre version remplace la version enregistrée…");
          const changes = {};
          for (const key of EDITED) if (!same(mine[key], theirs[key])) changes[key] = mine[key];
          if (Object.keys(changes).length) await save(mine, changes);
        }}}, "Enregistrer ma version à la place"),
        el("button", {type: "button", id: "conflit-garder-leur", class: "secondaire", on: {click: () => {
          adopt(theirs, theirs, "Le formulaire montre maintenant la version enregistrée ; vos saisies sont abandonnées.");
        }}}, "Garder la version enregistrée")));
      box.focus();
    }

    // -- delete, and undo -----------------------------------------------------------------------------------------
    $("supprimer").addEventListener("click", async () => {
      const {id, etag, record} = opened;
      const answer = await api("DELETE", "/api/v1/projects/" + encodeURIComponent(id), {headers: {"If-Match": etag}});
      if (answer.status === 412) {
        showProblems([[null, "Ce projet a été modifié entre-temps : rouvrez-le, vérifiez, puis supprimez-le si besoin."]],
          "Projet non supprimé.");
        return;
      }
      if (!answer.ok) return showProblems([[null, frenchDetail(answer)]], "Projet non supprimé.");
      closeEditor();
      await loadProjects();
      const message = clear($("liste-message"));
      const undo = el("button", {type: "button", id: "annuler-suppression", class: "secondaire", on: {click: async () => {
        undo.disabled = true;
        const restored = await api("POST", "/api/v1/projects/" + encodeURIComponent(id) + "/restore");
        if (!restored.ok) {
          message.textContent = "Restauration impossible : " + frenchDetail(restored);
          return;
        }
        message.textContent = "« " + record.name + " » est restauré.";
        await loadProjects();
        await openProject(id, el("p", {text: "Projet restauré."}));
      }}}, "Annuler");
      message.append(el("span", {text: "« " + record.name + " » est supprimé. "}), undo);
      undo.focus();
    });

    // -- history -------------------------------------------------------------------------------------------------
    const ACTION_WORDS = {seed: "version de la brochure", create: "création", update: "modification", import: "import",
      delete: "suppression", restore: "restauration"};
    function renderHistory(versions) {
      const list = clear($("historique-liste"));
      $("historique").hidden = false;
      const ordered = [...versions].sort((a, b) => a.version - b.version);
      ordered.forEach((v, index) => {
        const previous = index ? ordered[index - 1].record : null;
        const head = "Version " + v.version + " — " + (ACTION_WORDS[v.action] || v.action) + ", le " + frenchMoment(v.at) +
          (v.by ? ", par le jeton « " + v.by + " »" : "");
        const item = el("li", {}, el("strong", {text: head}));
        if (v.note) item.append(el("p", {class: "note", text: v.note}));
        if (!previous) item.append(el("p", {class: "note", text: "Première version."}));
        else {
          const changes = differences(previous, v.record);
          if (!changes.length) {
            item.append(el("p", {class: "note", text: v.action === "delete" ? "Projet retiré de la carte."
              : v.action === "restore" ? "Projet remis sur la carte." : "Aucun champ changé."}));
          } else {
            const ul = el("ul", {class: "changements"});
            for (const [path, label] of changes) {
              ul.append(el("li", {}, label + " : ", el("span", {class: "avant", text: shown(path, fieldOf(previous, path))}),
                " → ", el("span", {class: "apres", text: shown(path, fieldOf(v.record, path))})));
            }
            item.append(ul);
          }
        }
        list.prepend(item);
      });
    }

    // -- start ---------------------------------------------------------------------------------------------------
    onSignedIn = async (signedIn) => {
      if (!signedIn) { opened = null; $("editeur").hidden = true; return; }
      $("espace").classList.add("seule");
      await loadProjects();
      const wanted = new URLSearchParams(location.search).get("projet");
      if (wanted && projects.some((p) => p.id === wanted)) await openProject(wanted);
    };
  }

  // ===========================================================================================================
  // /edition/import: a spreadsheet, reviewed row by row
  // ===========================================================================================================
  function importPage() {
    let preview = null;
    const opened = new Set(); // rows whose « Corriger » the officer opened: kept open when the preview is redrawn
    const STATE_WORDS = {ok: "prête", error: "erreur", to_confirm: "à confirmer", excluded: "exclue"};
    const ACTION_WORDS = {create: "nouveau projet", update: "mise à jour d'un projet", unchanged: "inchangé"};

    $("envoi-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const file = $("fichier").files[0];
      const message = $("envoi-message");
      if (!file) {
        message.textContent = "Choisissez d'abord un fichier CSV ou XLSX.";
        $("fichier").focus();
        return;
      }
      message.textContent = "Lecture de « " + file.name + " »…";
      const body = new FormData();
      body.append("file", file, file.name);
      const answer = await api("POST", "/api/v1/imports", {body});
      if (!answer.ok) {
        message.textContent = "Le fichier n'a pas pu être lu : " + frenchDetail(answer);
        return;
      }
      message.textContent = "Fichier lu : vérifiez chaque ligne ci-dessous.";
      $("bilan").hidden = true;
      show(answer.data);
      $("titre-apercu").focus();
    });

    async function change(body, focusId) {
      const answer = await api("PATCH", "/api/v1/imports/" + encodeURIComponent(preview.id), {json: body});
      if (!answer.ok) {
        const box = clear($("import-erreurs"));
        box.hidden = false;
        box.append(el("p", {text: "Changement refusé : " + frenchDetail(answer)}));
        box.focus();
        return false;
      }
      clear($("import-erreurs")).hidden = true;
      show(answer.data);
      const again = focusId && $(focusId);
      if (again) again.focus();
      return true;
    }

    function show(data) {
      preview = data;
      $("apercu").hidden = false;
      const details = ["format " + String(data.format || "").toUpperCase()];
      if (data.encoding) details.push("encodage " + data.encoding);
      if (data.delimiter) details.push("séparateur « " + data.delimiter + " »");
      if (data.expires_at) details.push("aperçu gardé jusqu'au " + frenchMoment(data.expires_at));
      $("apercu-fichier").textContent = "Fichier « " + data.filename + " » : " + details.join(", ") + ".";
      const s = data.summary || {};
      $("apercu-resume").textContent = [plural(s.rows || 0, "ligne", "lignes"), plural(s.ok || 0, "prête", "prêtes"),
        plural(s.to_confirm || 0, "à confirmer", "à confirmer"), plural(s.errors || 0, "en erreur", "en erreur"),
        plural(s.duplicates || 0, "doublon probable", "doublons probables"),
        plural(s.excluded || 0, "exclue", "exclues")].join(" · ");
      renderMapping(data);
      renderRows(data);
      const kept = data.rows.filter((r) => !r.excluded && r.state !== "excluded");
      const inError = kept.filter((r) => r.state === "error");
      const button = $("importer");
      button.textContent = "Importer " + plural(kept.length, "projet", "projets");
      button.disabled = !kept.length || inError.length > 0 || data.committed;
      $("import-message").textContent = inError.length
        ? "Corrigez ou excluez les lignes en erreur (" + inError.map((r) => r.row).join(", ") + ") avant d'importer."
        : kept.length ? "" : "Toutes les lignes sont exclues : rien à importer.";
    }

    function renderMapping(data) {
      const box = clear($("colonnes"));
      data.columns.forEach((column, index) => {
        const id = "colonne-" + index;
        const select = el("select", {id, on: {change: () => change({mapping: {[column]: select.value || null}}, id)}},
          el("option", {value: "", text: "— ne pas importer —"}));
        for (const f of data.fields) {
          select.append(el("option", {value: f.field, text: f.label + (f.required ? " (obligatoire)" : "")}));
        }
        select.value = data.mapping[column] || "";
        box.append(el("div", {}, el("label", {for: id, text: "Colonne « " + column + " »"}), select));
      });
    }

    function readingText(reading) {
      if (!reading) return null;
      const parts = reading.units.map((u) => u.name + " (" + (LEVEL_WORDS[u.level] || u.level) + " " + u.code + ")");
      const head = reading.units.length
        ? plural(reading.communes, "commune", "communes") + " : " + parts.join(", ") +
          (reading.confidence != null ? " — certitude " + percent.format(reading.confidence) : "") +
          (reading.source === "manual" ? " — choix d'une personne" : "")
        : "Aucun territoire reconnu";
      return head;
    }

    function renderRows(data) {
      const list = clear($("lignes"));
      for (const row of data.rows) {
        const cells = row.cells || {};
        const record = row.record || {};
        const placeColumn = Object.keys(data.mapping).find((c) => data.mapping[c] === "place_text");
        const title = record.name || cells[Object.keys(data.mapping).find((c) => data.mapping[c] === "name")] || "";
        const organisation = record.organisation ||
          cells[Object.keys(data.mapping).find((c) => data.mapping[c] === "organisation")] || "";
        const state = row.excluded ? "excluded" : row.state;
        const item = el("li", {class: "etat-" + state, id: "ligne-" + row.row, dataset: {ligne: String(row.row)}});
        const heading = el("h4", {}, el("span", {text: "Ligne " + row.row}),
          el("span", {class: "etat", text: STATE_WORDS[state] || state}));
        if (row.duplicates && row.duplicates.length) heading.append(el("span", {class: "etat doublon", text: "doublon probable"}));
        if (row.action && state !== "excluded") heading.append(el("span", {class: "note", text: ACTION_WORDS[row.action] || row.action}));
        item.append(heading);
        item.append(el("p", {}, el("strong", {text: title || "(sans intitulé)"}), organisation ? " — " + organisation : ""));
        const place = record.place_text || (placeColumn ? cells[placeColumn] || "" : "");
        if (place) item.append(el("p", {text: "Lieu : « " + place + " »"}));
        const reading = readingText(row.reading);
        if (reading) item.append(el("p", {class: "lecture-ligne", text: "Lecture : " + reading}));
        if (row.reading && row.reading.unresolved && row.reading.unresolved.length) {
          item.append(el("p", {class: "erreur", text: "non reconnu : " + row.reading.unresolved.map((u) => "« " + u + " »").join(", ")}));
        }
        if (row.reading && row.reading.to_confirm && row.reading.question) {
          item.append(questionOf(row.reading, (c) => change({rows: {[row.row]: {territories: [{level: c.level, code: c.code}]}}}, "ligne-" + row.row)));
        }
        if (row.reading && row.reading.notes && row.reading.notes.length) item.append(notesList(row.reading.notes));
        if (row.errors && row.errors.length) {
          const errors = el("ul", {class: "erreurs"});
          for (const e of row.errors) {
            // the server's message names the row and column itself; otherwise say which column
            const named = !e.column || e.message.includes(e.column);
            errors.append(el("li", {text: (named ? "" : "Colonne « " + e.column + " » : ") + e.message}));
          }
          item.append(errors);
        }
        for (const d of row.duplicates || []) {
          item.append(el("p", {class: "doublon-texte", text: "Doublon probable de « " + d.name + " » (" + d.organisation + ", " +
            d.id + ") : " + d.why + "."}));
        }
        item.append(rowControls(row, state, place));
        list.append(item);
      }
    }

    function rowControls(row, state, placeText) {
      const n = row.row;
      const box = el("div", {class: "correction"});
      const exclude = el("input", {type: "checkbox", id: "exclure-" + n, checked: state === "excluded",
        on: {change: () => change({rows: {[n]: {exclude: exclude.checked}}}, "exclure-" + n)}});
      box.append(el("label", {class: "case", for: "exclure-" + n}, exclude, " Exclure cette ligne de l'import"));
      if (row.duplicates && row.duplicates.length && state !== "excluded") {
        const id = "comme-" + n;
        const select = el("select", {id, on: {change: () => change({rows: {[n]: {as_update_of: select.value || null}}}, id)}},
          el("option", {value: "", text: "un nouveau projet"}));
        for (const d of row.duplicates) select.append(el("option", {value: d.id, text: "une mise à jour de « " + d.name + " »"}));
        select.value = row.action === "update" && row.record ? row.record.id : "";
        box.append(el("label", {for: id, text: "Importer cette ligne comme"}), select);
      }
      if (state === "excluded") return box;
      // the controls that fix the reading: open where the row needs a person, or where the officer opened them
      const fixing = el("details", {class: "corriger", open: state === "error" || state === "to_confirm" || opened.has(n),
        on: {toggle: () => (fixing.open ? opened.add(n) : opened.delete(n))}},
      el("summary", {text: "Corriger la lecture du lieu"}));
      box.append(fixing);
      const placeId = "lieu-" + n;
      const place = el("input", {id: placeId, value: placeText, autocomplete: "off"});
      const form = el("form", {class: "ligne-lieu", on: {submit: (e) => {
        e.preventDefault();
        change({rows: {[n]: {place_text: place.value.trim()}}}, placeId);
      }}}, el("label", {for: placeId, text: "Corriger le lieu d'intervention de la ligne " + n}),
      el("div", {class: "ligne"}, place, el("button", {type: "submit", text: "Relire le lieu"})));
      fixing.append(form);
      const searchId = "territoire-" + n;
      const search = el("input", {id: searchId, type: "search", autocomplete: "off", spellcheck: "false"});
      const proposals = el("ul", {class: "propositions", "aria-label": "Territoires proposés pour la ligne " + n});
      if (row.reading && row.reading.source === "manual") {
        fixing.append(el("div", {class: "boutons"}, el("button", {type: "button", class: "secondaire", id: "lecture-" + n,
          on: {click: () => change({rows: {[n]: {territories: []}}}, "lieu-" + n)}},
        "Revenir à la lecture du lieu (retirer les territoires choisis)")));
      }
      fixing.append(el("label", {for: searchId, text: "Ou choisir le territoire de la ligne " + n + " (remplace la lecture)"}),
        search, proposals);
      suggestBox(search, proposals, (item) => {
        const current = row.reading && row.reading.source === "manual" ? row.reading.units.map((u) => ({level: u.level, code: u.code})) : [];
        current.push({level: item.level, code: item.code});
        change({rows: {[n]: {territories: current}}}, searchId);
      });
      return box;
    }

    $("importer").addEventListener("click", async () => {
      const button = $("importer");
      button.disabled = true;
      $("import-message").textContent = "Import en cours…";
      const answer = await api("POST", "/api/v1/imports/" + encodeURIComponent(preview.id) + "/commit");
      if (!answer.ok) {
        button.disabled = false;
        $("import-message").textContent = "";
        const box = clear($("import-erreurs"));
        box.hidden = false;
        box.append(el("p", {text: "Rien n'a été importé : " + frenchDetail(answer)}));
        box.focus();
        return;
      }
      const r = answer.data;
      $("apercu").hidden = true;
      $("bilan").hidden = false;
      $("bilan-resume").textContent = "« " + r.filename + " » : " + plural(r.created, "projet créé", "projets créés") + ", " +
        plural(r.updated, "projet mis à jour", "projets mis à jour") + ", " + plural(r.unchanged, "inchangé", "inchangés") + ".";
      const links = clear($("bilan-liens"));
      for (const id of r.projects) links.append(el("li", {}, el("a", {href: "/edition?projet=" + encodeURIComponent(id), text: id})));
      $("envoi-message").textContent = "";
      $("envoi-form").reset();
      preview = null;
      $("titre-bilan").focus();
    });
    $("abandonner").addEventListener("click", async () => {
      if (preview) await api("DELETE", "/api/v1/imports/" + encodeURIComponent(preview.id));
      preview = null;
      $("apercu").hidden = true;
      $("envoi-form").reset();
      $("envoi-message").textContent = "Import abandonné : rien n'a été enregistré.";
      $("fichier").focus();
    });
    onSignedIn = (signedIn) => {
      if (!signedIn) { preview = null; $("apercu").hidden = true; $("bilan").hidden = true; }
    };
  }

  // -- start ---------------------------------------------------------------------------------------------------
  if (VIEW === "projets") projectsPage();
  else importPage();
  const signedIn = !!token();
  showSignedIn(signedIn);
  if (signedIn) onSignedIn(true);
})();
