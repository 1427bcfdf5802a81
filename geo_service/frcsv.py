"""CSV for people: the tables the pages link to, as a French spreadsheet opens them in one click.

French Excel and LibreOffice read a CSV with the list separator of the French locale, ``;``, and numbers with a
decimal comma; without a byte-order mark Excel reads UTF-8 as Windows-1252 (« Abbécourt » becomes « AbbÃ©court »).
So this CSV has a UTF-8 BOM, ``;`` between cells, decimal commas, French headers and French words (« oui » /
« non », « locale », « départementale »…), and every text cell goes through ``spreadsheet.safe_cell`` (no formula
runs on the computer of whoever opens it). Numbers stay plain numbers (no thousands separator), so that the
spreadsheet can add them up. The machine CSV (``format=csv``: ``,``, decimal point, English headers, true/false)
is unchanged next to it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

import pandas as pd

from geo_service.spreadsheet import safe_cell

BOM = "\ufeff"
MEDIA_TYPE = "text/csv; charset=utf-8"
YES_NO = {True: "oui", False: "non"}
SCOPE_WORDS = {"local": "locale", "departement": "départementale", "region": "régionale", "none": "aucune"}
REACH_WORDS = {"direct": "accès direct", "support": "appui aux acteurs"}
LEVEL_WORDS = {
    "commune": "commune",
    "epci": "intercommunalité",
    "arrondissement": "arrondissement",
    "departement": "département",
    "region": "région",
}

# The coverage of the communes (geo_service.coverage.COLUMNS), in the order and words of the French table.
COVERAGE_HEADERS = {
    "code": "Code INSEE",
    "name": "Commune",
    "departement": "Département",
    "departement_name": "Nom du département",
    "epci": "Code EPCI",
    "epci_name": "Intercommunalité",
    "population": "Population",
    "area_km2": "Superficie (km²)",
    "density": "Densité (hab/km²)",
    "rural": "Rurale",
    "local_projects": "Actions locales comptées",
    "best_scope": "Portée la plus locale",
    "support_projects": "Actions d'appui locales (non comptées)",
    "distance_km": "Distance à la commune atteinte la plus proche (km)",
    "zone_blanche": "Zone blanche",
    "projects": "Projets (identifiants)",
    "reason": "Explication",
}
SIMULATION_HEADERS = {
    "code": "Code INSEE",
    "name": "Commune",
    "departement": "Département",
    "epci": "Code EPCI",
    "epci_name": "Intercommunalité",
    "population": "Population",
    "distance_km_before": "Distance avant (km)",
    "distance_km_after": "Distance après (km)",
    "reached": "Atteinte par une action simulée",
    "outside": "Hors des territoires des actions",
}
RANKING_HEADERS = {
    "step": "Étape",
    "level": "Niveau",
    "code": "Code",
    "name": "Territoire",
    "population": "Habitants sortis des zones blanches",
    "communes": "Communes sorties des zones blanches",
    "cumulative_population": "Habitants sortis (cumul)",
    "commune_codes": "Codes INSEE des communes sorties",
}


def french_csv(frame: pd.DataFrame, headers: Mapping[str, str], words: Mapping[str, Callable] | None = None) -> bytes:
    """The ``headers`` columns of ``frame`` (in that order, renamed) as a French CSV; ``words`` maps a column to
    the function writing its values in words (booleans are « oui » / « non » unless said otherwise)."""
    out = frame[list(headers)].copy()
    for column, to_words in (words or {}).items():
        out[column] = out[column].map(to_words)
    for column in out.columns:
        if pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].map(YES_NO)
        elif pd.api.types.is_object_dtype(out[column]) or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(_text)
    buffer = io.StringIO()
    out.rename(columns=dict(headers)).to_csv(buffer, sep=";", decimal=",", index=False, lineterminator="\r\n")
    return (BOM + buffer.getvalue()).encode("utf-8")


def _text(value: object) -> object:
    """A text cell as a spreadsheet shows it: a boolean in words, a list joined by commas, formulas defused."""
    if isinstance(value, bool):
        return YES_NO[value]
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    return safe_cell(value)


def coverage_csv(frame: pd.DataFrame, name_of: Callable[[str, str], str]) -> bytes:
    """A communes frame of the coverage (``Coverage.communes_frame``) as the French table, EPCI and département
    named (``name_of(level, code)``)."""
    frame = frame.assign(
        departement_name=[name_of("departement", code) for code in frame["departement"]],
        epci_name=[None if code is None else name_of("epci", code) for code in frame["epci"]],
    )
    return french_csv(frame, COVERAGE_HEADERS, {"best_scope": SCOPE_WORDS.get})


def simulation_csv(leaving: pd.DataFrame, outside: set[str] | None, name_of: Callable[[str, str], str]) -> bytes:
    """The communes a simulation takes out of the zones blanches as the French table; ``outside``: those that lie
    outside every territory of the actions (the column is left empty when the actions name none)."""
    frame = leaving.assign(
        epci_name=[None if code is None else name_of("epci", code) for code in leaving["epci"]],
        outside=[None if outside is None else YES_NO[code in outside] for code in leaving["code"]],
    )
    return french_csv(frame, SIMULATION_HEADERS)


def ranking_csv(rows: list[dict]) -> bytes:
    """The greedy sequence of an opportunities ranking as the French table (``planning.ranking_rows``)."""
    frame = pd.DataFrame(rows, columns=list(RANKING_HEADERS))
    return french_csv(frame, RANKING_HEADERS, {"level": LEVEL_WORDS.get})
