"""What the map pages show: figures, filters, the list of projects, the legend and the JavaScript settings.

Pure functions over the loaded data; ``api/pages.py`` only renders them into the template. Everything a person
reads here is French, with numbers formatted the French way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from geo_service.errors import InvalidInputError, NotFoundError
from geo_service.formatting import fr_number, fr_percent
from geo_service.labels import MAX_ZOOM, MIN_ZOOM
from geo_service.maps.interactive import (
    ALL_LAYERS,
    COVERAGE_OVERLAYS,
    DEFAULT_LAYERS,
    OVERLAYS,
    MapParts,
    build_map,
)
from geo_service.parameters import CoverageParams
from geo_service.programme import Programme
from geo_service.projects.derive import ACTION_TYPES, AXES
from geo_service.projects.models import STATUS_WORDS, Project
from geo_service.service import ServiceData
from geo_service.territories import CHILD_LEVEL, CODE_EXAMPLES, CODE_PATTERNS, LEVELS, Boundaries, Territory
from geo_service.tiles.raster import COVERAGE_CLASSES
from geo_service.tiles.service import ATTRIBUTION, TileService

LEVEL_LABELS = {
    "commune": "Commune",
    "epci": "Intercommunalité",
    "arrondissement": "Arrondissement",
    "departement": "Département",
    "region": "Région",
}


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    detail: str = ""


@dataclass(frozen=True)
class Figure:
    """One figure of the band above the map: ``detail`` (a share, a total) and ``label`` give way to ``short``
    on a phone, where the band must stay a few lines high."""

    label: str
    value: str
    short: str
    detail: str = ""


@dataclass
class Page:
    title: str
    chrome: bool
    legend: bool
    parts: MapParts
    figures: list[Figure]
    projects: list[dict[str, Any]]
    config: dict[str, Any]
    territory: Territory | None = None
    filters: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    legend_items: list[tuple[str, str, str]] = field(default_factory=list)
    attribution: str = ""
    data_date: str = ""
    programme: list[tuple[str, str]] = field(default_factory=list)
    area_projects: list[dict[str, Any]] = field(default_factory=list)
    parents: list[Link] = field(default_factory=list)
    children: dict[str, Any] | None = None
    downloads: list[Link] = field(default_factory=list)
    status: str = ""  # a commune page: its coverage in words
    layer_choices: list[tuple[str, str, bool]] = field(default_factory=list)  # the embed builder's checkboxes
    # the same figures with département-wide actions counted: the page's checkbox shows one set or the other
    figures_departmental: list[Figure] = field(default_factory=list)
    full_map_url: str = "/carte"  # an embed's link to the full map of its territory
    place_name: str = ""  # the territory's name, or the région's

    @property
    def config_json(self) -> str:
        return script_json(self.config)


def script_json(value: object) -> str:
    """JSON to write inside a <script> element: "</script>" or "<!--" in the data would end or confuse the
    element, so '<', '>' and '&' are written as JSON escapes (the same string once parsed); so are U+2028 and
    U+2029, which end a line in a script read as JavaScript."""
    text = json.dumps(value, ensure_ascii=False)
    for character in "<>&\u2028\u2029":
        text = text.replace(character, f"\\u{ord(character):04x}")
    return text


# How pages name each level's codes and units in their French error messages.
LEVEL_WORDS = {
    "commune": ("de commune (code INSEE à 5 caractères)", "aucune commune"),
    "epci": ("d'intercommunalité (SIREN à 9 chiffres)", "aucune intercommunalité"),
    "arrondissement": ("d'arrondissement (3 caractères)", "aucun arrondissement"),
    "departement": ("de département (2 ou 3 caractères)", "aucun département"),
    "region": ("de région (2 chiffres)", "aucune région"),
}


def parse_territory(text: str) -> tuple[str, str]:
    """'epci:200035442' -> ('epci', '200035442'), or an error in French naming the parameter (pages show it)."""
    level, _, code = text.partition(":")
    if level not in LEVELS or not code:
        raise InvalidInputError(
            f"territoire={text!r} : attendu niveau:code, par exemple epci:200035442 (niveaux : {', '.join(LEVELS)})"
        )
    if not CODE_PATTERNS[level].fullmatch(code):
        raise InvalidInputError(
            f"territoire={text!r} : « {code} » n'est pas un code {LEVEL_WORDS[level][0]} "
            f"(exemple : {level}:{CODE_EXAMPLES[level]})"
        )
    return level, code


def require_territory(boundaries: Boundaries, level: str, code: str) -> None:
    if code not in boundaries.level(level).index:
        raise NotFoundError(
            f"territoire={level}:{code} : {LEVEL_WORDS[level][1]} n'a ce code dans les données de la carte "
            f"({boundaries.level('region')['name'].iloc[0]})"
        )


def parse_legend(text: str | None) -> bool:
    if text is None or text.lower() in {"1", "oui", "true"}:
        return True
    if text.lower() in {"0", "non", "false"}:
        return False
    raise InvalidInputError(f"legend={text!r} : attendu 1 (afficher la légende) ou 0 (la masquer)")


def parse_view(text: str | None) -> tuple[float, float, float] | None:
    """``vue=lat,lon,zoom``: checked here, applied by the page's script (the map zooms by quarters: 8.75 is one)."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        lat, lon, zoom = float(parts[0]), float(parts[1]), float(parts[2])
        valid = len(parts) == 3 and -90 <= lat <= 90 and -180 <= lon <= 180 and MIN_ZOOM <= zoom <= MAX_ZOOM
    except (ValueError, IndexError):
        valid = False
    if not valid:
        raise InvalidInputError(
            f"vue={text!r} : attendu latitude,longitude,zoom (zoom de {MIN_ZOOM} à {MAX_ZOOM}), par exemple "
            "vue=49.9,2.3,10"
        )
    return lat, lon, zoom


REACH_LABELS = {"direct": "accès direct", "support": "appui aux acteurs"}


def parse_layers(text: str | None) -> tuple[str, ...]:
    if not text:
        return DEFAULT_LAYERS
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in ALL_LAYERS]
    if unknown:
        raise InvalidInputError(f"layers : couche inconnue {', '.join(unknown)} (couches : {', '.join(ALL_LAYERS)})")
    return names


def projects_reaching(data: ServiceData, level: str, code: str) -> list[Project]:
    communes = data.geocoder.gazetteer.units[level, code].communes
    return [p for p in data.projects.projects.values() if communes.intersection(p.communes)]


def fr_euros(amount: float) -> str:
    """An amount in euros: 120 000 € (cents only when there are some: 1 234,50 €)."""
    return f"{fr_number(amount, 0 if float(amount).is_integer() else 2)}\u00a0€"


def duration_text(years: int | None) -> str:
    return "non renseignée" if years is None else f"{years} an{'s' if years > 1 else ''}"


# The status filter's values (as /api/v1/projects takes them) and the words pages show for them.
STATUS_FILTER_WORDS = {key or "unknown": word for key, word in STATUS_WORDS.items()}


def _row(project: Project, departements: dict[str, str]) -> dict[str, Any]:
    reached = sorted({departements[c] for c in project.communes if c in departements})
    status = STATUS_WORDS[project.status]
    return {
        "id": project.id,
        "name": project.name,
        "organisation": project.organisation,
        "place": project.place_text,
        "duration": duration_text(project.duration_years),
        "years": ", ".join(map(str, project.funding_years)) or "non renseigné",
        "amount": fr_euros(project.amount_eur) if project.amount_eur is not None else "non renseigné",
        "status": status,
        "to_check": bool(project.to_check),
        "axes": ", ".join(str(a) for a in project.axes),
        "reach": REACH_LABELS[project.reach],
        "types": ", ".join(ACTION_TYPES[t][0] for t in project.action_types),
        "communes": fr_number(len(project.communes)),
        "departements": " ".join(reached),
        "axes_raw": " ".join(str(a) for a in project.axes),
        "types_raw": " ".join(project.action_types),
    }


def _figures(
    data: ServiceData, projects: list[Project], communes: set[str] | None, params: CoverageParams
) -> list[Figure]:
    """The figures of the band above the map, counted under ``params``."""
    frame = data.coverage.figures(params)
    if communes is not None:
        frame = frame[frame["code"].isin(communes)]
    local = frame["best_scope"] == "local"
    if params.count_departmental:  # as the rule counts them (see geo_service.coverage): reached, not only local
        local = local | (frame["best_scope"] == "departement")
    zones = frame["zone_blanche"]
    population = int(frame["population"].sum())
    listed = "Projets présentés dans la brochure" if communes is None else "Projets atteignant ce territoire"
    kind = "locale ou départementale" if params.count_departmental else "locale"
    reached_people = frame.loc[local, "population"].sum()
    return [
        Figure(listed, fr_number(len(projects)), "projets"),
        Figure(
            "Dont accès direct à l'alimentation", fr_number(sum(p.reach == "direct" for p in projects)), "accès direct"
        ),
        Figure(
            f"Communes atteintes par une action {kind}"
            + (" d'accès direct" if params.reach == "direct" else " (accès direct ou appui)"),
            fr_number(int(local.sum())),
            "communes atteintes",
            f"sur {fr_number(len(frame))}",
        ),
        Figure(
            "Habitants de ces communes",
            fr_number(int(reached_people)),
            "habitants atteints",
            f"({fr_percent(reached_people / population) if population else '—'})",
        ),
        Figure("Communes en zone blanche", fr_number(int(zones.sum())), "communes en zone blanche"),
        Figure(
            "Habitants en zone blanche",
            fr_number(int(frame.loc[zones, "population"].sum())),
            "habitants en zone blanche",
        ),
    ]


def programme_figures(programme: Programme) -> list[tuple[str, str]]:
    """The programme's budget per year, in words, as the brochure gives it."""
    rows = []
    for year in programme.years:
        text = f"{fr_number(year.amount_eur)} €"
        if year.projects_selected is not None:
            count = fr_number(year.projects_selected)
            text += (
                ", une trentaine d'actions"
                if year.projects_approximate and year.projects_selected == 30
                else f", environ {count} actions"
                if year.projects_approximate
                else f", {count} projets retenus"
            )
        if year.applications is not None:
            text += f" sur {fr_number(year.applications)} dossiers déposés"
        if year.amount_requested_eur is not None:
            text += f" ({fr_number(year.amount_requested_eur / 1e6)} M€ demandés)"
        rows.append((str(year.year), text))
    return rows


SCOPE_LABELS = {"departement": "Action à l'échelle du département", "region": "Action à l'échelle de la région"}


def area_project(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "organisation": project.organisation,
        "scope": SCOPE_LABELS[project.scope],
        "territories": ", ".join(t.name for t in project.territories),
        "communes": fr_number(len(project.communes)),
        "reach": REACH_LABELS[project.reach],
    }


def _parents(info: Territory) -> list[Link]:
    return [
        Link(LEVEL_LABELS[level], f"/territoires/{level}/{ref['code']}", ref["name"])
        for level in ("epci", "arrondissement", "departement", "region")
        if (ref := info.parents.get(level)) is not None
    ]


# A commune's status in words, wherever a page says it: the tables and the commune page here, the cards of the
# page's script and the offline file's tooltips (the page's settings carry them: config communeStatus). The first
# five by its coverage (zone blanche, else its best scope); the last two for a card under the page's choices
# (département-wide actions counted, a selection of projects).
COMMUNE_STATUS = {
    "zone_blanche": "Zone blanche",
    "local": "Atteinte par une action locale",
    "departement": "Action départementale seulement",
    "region": "Action régionale seulement",
    "none": "Aucune action",
    "departement_counted": "Atteinte par une action départementale (comptée)",
    "not_local": "Pas d'action locale ici",
}


def commune_status(row: Any) -> str:
    return COMMUNE_STATUS["zone_blanche" if row["zone_blanche"] else row["best_scope"]]


def _children(data: ServiceData, info: Territory, params: CoverageParams) -> dict[str, Any] | None:
    """The units just below a territory, with their coverage: communes one by one, larger units as totals."""
    frame = data.boundaries.children(info.level, info.code)
    if frame.empty:
        return None
    level = CHILD_LEVEL[info.level]
    coverage = data.coverage.figures(params)
    rows = []
    if level == "commune":
        for code, name in zip(frame["code"], frame["name"], strict=True):
            row = coverage.loc[code]
            rows.append(
                {
                    "name": name,
                    "url": f"/territoires/commune/{code}",
                    "population": (fr_number(int(row["population"])), int(row["population"])),
                    "density": (f"{fr_number(float(row['density']), 1)} hab/km²", float(row["density"])),
                    "status": (commune_status(row), commune_status(row)),
                }
            )
        columns = [("population", "Population"), ("density", "Densité"), ("status", "Couverture")]
    else:
        for code, name in zip(frame["code"], frame["name"], strict=True):
            inside = coverage[coverage["code"].isin(data.geocoder.gazetteer.units[level, code].communes)]
            population, zones = int(inside["population"].sum()), int(inside["zone_blanche"].sum())
            rows.append(
                {
                    "name": name,
                    "url": f"/territoires/{level}/{code}",
                    "population": (fr_number(population), population),
                    "communes": (fr_number(len(inside)), len(inside)),
                    "zones": (fr_number(zones), zones),
                }
            )
        columns = [("population", "Population"), ("communes", "Communes"), ("zones", "Communes en zone blanche")]
    return {"level": LEVEL_PLURALS[level], "rows": rows, "columns": columns}


LEVEL_PLURALS = {
    "commune": "Communes",
    "epci": "Intercommunalités",
    "arrondissement": "Arrondissements",
    "departement": "Départements",
}


def _downloads(info: Territory | None) -> list[Link]:
    # People open a CSV in a French spreadsheet: the French CSV (';', decimal comma, BOM, French headers); the
    # machine CSV (format=csv) stays on the API for programs.
    if info is None:
        return [Link("Couverture des communes de la région (tableur, CSV)", "/api/v1/coverage/communes?format=csv-fr")]
    if info.level == "commune":
        return [
            Link("Carte de la commune (image PNG)", f"/api/v1/maps/commune/{info.code}.png"),
            Link(
                "Couverture de la commune (données JSON, pour les programmes)", f"/api/v1/coverage/communes/{info.code}"
            ),
        ]
    query = "" if info.level == "region" else f"&{info.level}={info.code}"
    return [
        Link("Couverture de ses communes (tableur, CSV)", f"/api/v1/coverage/communes?format=csv-fr{query}"),
        Link("Carte du territoire (image PNG)", f"/api/v1/maps/{info.level}/{info.code}.png"),
    ]


# Marker colour of a project: its first action type (the card and the table give them all). Dark enough for
# white outlines and AA contrast against the map.
TYPE_COLOURS = {
    "epicerie_solidaire": "#1b5e20",
    "epicerie_mobile": "#00695c",
    "cheques_bons": "#6a1b9a",
    "paniers": "#e65100",
    "ateliers_cuisine_nutrition": "#ad1457",
    "jardins": "#558b2f",
    "coordination": "#1565c0",
    "lieu_alimentation": "#4e342e",
    "logistique_transformation": "#37474f",
    "formation": "#283593",
    "plateforme_numerique": "#00838f",
}


def legend_items(clusters: bool = True) -> list[tuple[str, str, str]]:
    """The legend's lines (class key, French label, CSS colour): the coverage classes, the projects' colours, and
    the clusters' when the map groups its markers."""
    items = []
    for key, (label, style) in COVERAGE_CLASSES.items():
        red, green, blue, alpha = style.fill or (0, 0, 0, 0)
        items.append((key, label, f"rgba({red},{green},{blue},{alpha / 255:.2f})"))
    for slug, colour in TYPE_COLOURS.items():
        items.append(("project", f"Projet : {ACTION_TYPES[slug][0].lower()}", colour))
    if clusters:
        items.append(("cluster", "Projets proches regroupés (cliquer)", "#9ccc65"))
    return items


def page_words() -> dict[str, Any]:
    """The words and figures the page's script shows, from here and nowhere else: levels, axes, action types and
    their marker colours, a project's status, a commune's status, and the rule's defaults, as the page's note
    states it (the map draws under them)."""
    return {
        "actionTypes": {slug: label for slug, (label, _) in ACTION_TYPES.items()},
        "typeColours": TYPE_COLOURS,
        "axes": {str(a): label for a, (label, _) in AXES.items()},
        "levels": LEVEL_LABELS,
        "statusWords": STATUS_FILTER_WORDS,
        "communeStatus": COMMUNE_STATUS,
        "maxKm": CoverageParams().max_km,
        "ruralMaxDensity": CoverageParams().rural_max_density,
    }


def map_page(
    data: ServiceData,
    *,
    chrome: bool,
    layers: tuple[str, ...],
    legend: bool,
    territory: tuple[str, str] | None,
    basemap_url: str = "",
    basemap_attribution: str = "",
    tiles: TileService | None = None,
    reach: str = "direct",
    programme: Programme | None = None,
) -> Page:
    """The page's content; ``tiles`` gives the territory's outline, simplified for the map's zoom; ``reach``
    chooses which actions the coverage layers and figures count (see ``geo_service.coverage``)."""
    params = CoverageParams(reach=reach)
    boundaries = data.boundaries
    region = boundaries.level("region").iloc[0]
    if territory is not None:
        require_territory(boundaries, *territory)
        info = boundaries.get(*territory)
        bounds = info.bbox or tuple(boundaries.level("region").total_bounds)
        listed = projects_reaching(data, *territory)
        communes = set(data.geocoder.gazetteer.units[territory].communes)
        title = f"{LEVEL_LABELS[info.level]} : {info.name}"
    else:
        info, communes = None, None
        bounds = tuple(float(v) for v in boundaries.level("region").total_bounds)
        listed = list(data.projects.projects.values())
        title = f"L'aide alimentaire financée en {region['name']}"
    departements = dict(
        zip(boundaries.level("commune")["code"], boundaries.level("commune")["departement"], strict=True)
    )
    outline = None
    if info is not None and tiles is not None:
        outline = {"type": "FeatureCollection", "features": [tiles.outline(info.level, info.code, 10)]}
    parts = build_map(
        bounds,
        layers,
        basemap_url,
        basemap_attribution,
        outline,
        f"Limite : {info.name}" if info is not None else "",
        coverage_query="" if reach == CoverageParams().reach else f"reach={reach}",
        versions=None
        if tiles is None
        else {
            layer: tiles.layer_version(layer, params if layer in COVERAGE_OVERLAYS else None)
            for _, layer in OVERLAYS.values()
        },
    )
    status = ""
    if info is not None and info.level == "commune":
        row = data.coverage.compute(params).loc[info.code]
        status = f"{commune_status(row)} — {row['reason']}"
    cog_year = boundaries.manifest["cog_year"]
    return Page(
        title=title,
        chrome=chrome,
        legend=legend,
        parts=parts,
        figures=_figures(data, listed, communes, params),
        figures_departmental=_figures(data, listed, communes, params.replace(count_departmental=True)),
        full_map_url="/carte" if info is None else f"/territoires/{info.level}/{info.code}",
        place_name=info.name if info is not None else str(region["name"]),
        projects=[_row(p, departements) for p in listed],
        territory=info,
        filters={
            "axe": [(str(a), f"Axe {a} : {label}") for a, (label, _) in AXES.items()],
            "type": [(slug, label) for slug, (label, _) in ACTION_TYPES.items()],
            "departement": [
                (c, f"{c} {n}")
                for c, n in zip(
                    boundaries.level("departement")["code"], boundaries.level("departement")["name"], strict=True
                )
            ],
            # the years of the calls the listed projects give: a year no project names would select nothing
            "year": [(str(y), str(y)) for y in sorted({y for p in listed for y in p.funding_years})],
            "status": list(STATUS_FILTER_WORDS.items()),
        },
        legend_items=legend_items(),
        config={
            **parts.config,  # the map Folium wrote, its overlays, the territory's bounds and outline
            **page_words(),
            "projectIds": [p.id for p in listed],
            "showProjects": "projects" in layers,
            "layers": list(layers),
            "territory": None if info is None else f"{info.level}:{info.code}",
            "embed": not chrome,
            "reach": reach,
            "territoryName": info.name if info is not None else None,
            "commune": info.code if info is not None and info.level == "commune" else None,
        },
        layer_choices=[
            (key, "Projets (actions locales)" if key == "projects" else OVERLAYS[key][0], key in layers)
            for key in ALL_LAYERS
        ],
        attribution=ATTRIBUTION,
        data_date=(
            f"Découpage administratif au 1er janvier {cog_year} (COG {cog_year}) ; "
            f"{fr_number(len(data.projects.projects))} projets de la brochure de la DREETS Hauts-de-France"
        ),
        programme=programme_figures(programme) if programme is not None and info is None else [],
        area_projects=[area_project(p) for p in listed if p.scope != "local"],
        parents=_parents(info) if info is not None else [],
        children=_children(data, info, params) if info is not None else None,
        downloads=_downloads(info),
        status=status,
    )
