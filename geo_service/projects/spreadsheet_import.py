"""An officer's spreadsheet, read: bytes -> a table -> each row's cells as the fields of a project record, with a
French message for every cell that cannot be read; and the officers' export, written back in the same shape.

Pure: bytes in, values out. Nothing here knows the store, the web or the geocoder (``projects.imports`` builds the
preview from what this module reads).

Reading, as a DREETS/DDETS file comes:

* CSV with ``;`` or ``,`` (the one the header line uses most, outside quotes), in UTF-8 with or without the byte
  order mark, or else Windows-1252 (what Excel's « CSV (séparateur : point-virgule) » writes on a French Windows);
  XLSX: the first sheet, cells typed (numbers, dates) as the workbook has them.
* Refused whole (nothing stored): an empty file, a file over 20 MB or over 50 000 rows (``TooLargeError``, a 413),
  a binary file whatever its name (a picture, a PDF, an old .xls), a table whose columns give no place, porteur or
  intitulé.
* Formulas are never evaluated: a cell that starts with ``=`` (in CSV, or a formula cell in XLSX) is refused in its
  row, since the value the officer sees is the computed one and the text is not it; ``'=...`` (the apostrophe
  spreadsheets and our exports put before text that looks like a formula) is that text. Cells starting with
  ``+``, ``-`` or ``@`` (a phone number, a bullet) are kept as text; every CSV written goes through
  ``geo_service.spreadsheet.safe_cell``.
* Control characters (other than line breaks and tabs) are refused in their cell: the row is in error with the
  row and the column named; a file full of them is binary and refused whole.

Cells to fields (``parse_row``):

* amounts: ``12 000 €``, ``12 000,50``, ``12000.5``, ``12.000,50``, ``15 k€``; a comma is the decimal separator
  unless several appear (then thousands, as in ``1,234,567``); a single dot followed by exactly three digits is a
  thousands separator (``12.000`` is twelve thousand, as French officers write it), otherwise a decimal point;
* years: ``2024``, ``2023, 2024``, ``2023 et 2024``, ``2023-2024`` or ``2023 à 2024`` (every year of the span),
  ``AAP 2024``;
* durations: ``2``, ``2 ans``, ``18 mois``: months are rounded UP to whole years (an 18-month action runs into its
  second year, and the derived end date counts whole calendar years from the first funding year);
* status: prévue / à venir / planned, en cours / active, terminée / achevée / ended (any case or accents);
* dates: ``31/12/2025``, ``31-12-2025``, ``31.12.2025``, ``2025-12-31``, or an XLSX date;
* lists (actions, bénéficiaires, partenaires, objectifs, indicateurs): one item per line; a cell on one line is
  split on `` | `` or ``;``; a leading bullet (``-``, ``•``) is dropped;
* an empty cell means « not given ».
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from geo_service.errors import InvalidInputError
from geo_service.geocoding.text import normalize
from geo_service.projects.models import FIRST_CALL_YEAR, LAST_CALL_YEAR, STATUS_WORDS, ProjectRecord
from geo_service.spreadsheet import FORMULA_STARTS, safe_cell

MAX_FILE_BYTES = 20 * 2**20
MAX_ROWS = 50_000
MAX_COLUMNS = 200
MAX_UNPACKED_BYTES = 400 * 2**20  # an XLSX is a zip: a small file may unpack to gigabytes (a "zip bomb")
CSV_FIELD_LIMIT = 1_000_000  # characters in one CSV cell (Python's csv refuses over 131 072 by default)

Cell = str | int | float | None


class TooLargeError(InvalidInputError):
    """A file over the size or row limit: answered 413."""


@dataclass
class Table:
    """What a file holds: its headers as written (made unique) and its non-empty rows with their line numbers."""

    format: str  # csv, xlsx
    encoding: str | None
    delimiter: str | None
    columns: list[str]
    rows: list[tuple[int, list[Cell]]]
    extra: dict[int, int] = field(default_factory=dict)  # row number -> cells filled beyond the header


# -- fields -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    label: str  # French, for the editing space
    required: bool = False
    headers: tuple[str, ...] = ()  # French headers officers write, compared folded (accents, case, punctuation)


FIELDS: dict[str, FieldSpec] = {
    "id": FieldSpec("Identifiant", headers=("identifiant", "id", "identifiant du projet", "reference")),
    "organisation": FieldSpec(
        "Porteur / structure",
        True,
        ("porteur", "structure", "organisme", "porteur de projet", "porteur du projet", "structure porteuse"),
    ),
    "name": FieldSpec(
        "Intitulé du projet",
        True,
        ("intitule", "intitule du projet", "nom du projet", "projet", "titre", "titre du projet", "nom"),
    ),
    "place_text": FieldSpec(
        "Lieu d'intervention",
        True,
        (
            "lieu d intervention",
            "territoire",
            "territoires",
            "territoire d intervention",
            "commune",
            "communes",
            "commune s",
            "lieu",
            "lieux",
            "localisation",
        ),
    ),
    "actions": FieldSpec("Actions", headers=("actions", "action", "actions menees", "description des actions")),
    "beneficiaries": FieldSpec("Bénéficiaires", headers=("public", "publics", "beneficiaires", "public vise")),
    "partners": FieldSpec("Partenaires", headers=("partenaires", "partenaire")),
    "objectives": FieldSpec("Objectifs", headers=("objectifs", "objectif")),
    "indicators": FieldSpec("Indicateurs", headers=("indicateurs", "indicateur")),
    "funding_years": FieldSpec(
        "Année(s) de financement",
        headers=(
            "annee",
            "annees",
            "appel",
            "appel a projets",
            "millesime",
            "annee s de financement",
            "annees de financement",
            "annee de financement",
        ),
    ),
    "amount_eur": FieldSpec(
        "Montant accordé (€)",
        headers=(
            "montant",
            "montant accorde",
            "subvention",
            "montant de la subvention",
            "montant eur",
            "montant euros",
        ),
    ),
    "duration_years": FieldSpec("Durée (ans)", headers=("duree", "duree ans", "duree en annees", "duree du projet")),
    "status": FieldSpec("Statut", headers=("statut", "etat", "situation")),
    "end_date": FieldSpec("Date de fin", headers=("date de fin", "fin", "date fin")),
    "website": FieldSpec("Site internet", headers=("site", "site web", "site internet", "url", "lien")),
    "contact": FieldSpec("Contact", headers=("contact", "contacts")),
    "last_checked": FieldSpec(
        "Dernière vérification", headers=("verifie le", "derniere verification", "date de verification")
    ),
    "axes": FieldSpec("Axe(s) du programme", headers=("axe", "axes", "axe s", "axe du programme", "axes du programme")),
    "reach": FieldSpec("Portée", headers=("portee", "type d acces")),
}
REQUIRED = tuple(name for name, spec in FIELDS.items() if spec.required)
LIST_FIELDS = ("actions", "beneficiaries", "partners", "objectives", "indicators")
_HEADER_GUESS = {header: name for name, spec in FIELDS.items() for header in spec.headers}


def fields_description() -> list[dict[str, Any]]:
    return [{"field": name, "label": spec.label, "required": spec.required} for name, spec in FIELDS.items()]


def guess_mapping(columns: list[str]) -> dict[str, str | None]:
    """Each column's field, guessed from its header (folded); a field goes to its first column only."""
    mapping: dict[str, str | None] = {}
    taken: set[str] = set()
    for column in columns:
        guess = _HEADER_GUESS.get(normalize(column))
        if guess is None:  # "Montant accordé en 2024 (€)", "Lieu d'intervention du projet": the first words
            words = normalize(column).split()
            for size in range(len(words) - 1, 0, -1):
                guess = _HEADER_GUESS.get(" ".join(words[:size]))
                if guess is not None:
                    break
        if guess is not None and guess not in taken:
            taken.add(guess)
            mapping[column] = guess
        else:
            mapping[column] = None
    return mapping


def check_mapping(columns: list[str], mapping: dict[str, str | None]) -> None:
    """A mapping the preview can use: known columns and fields, each field once, the required ones there."""
    for column, name in mapping.items():
        if column not in columns:
            raise InvalidInputError(
                f"la colonne « {column} » n'est pas dans le fichier (colonnes : {_listed(columns)})"
            )
        if name is not None and name not in FIELDS:
            raise InvalidInputError(f"colonne « {column} » : champ inconnu « {name} » (champs : {', '.join(FIELDS)})")
    seen: dict[str, str] = {}
    for column, name in mapping.items():
        if name is None:
            continue
        if name in seen:
            raise InvalidInputError(
                f"les colonnes « {seen[name]} » et « {column} » donnent toutes deux « {FIELDS[name].label} » : "
                "gardez-en une"
            )
        seen[name] = column
    missing = [FIELDS[name].label for name in REQUIRED if name not in seen]
    if missing:
        raise InvalidInputError(
            f"aucune colonne ne donne : {', '.join(f'« {m} »' for m in missing)} (colonnes du fichier : "
            f"{_listed(columns)}) ; nommez ainsi la colonne qui les donne, ou associez-la dans l'aperçu"
        )


def _listed(columns: list[str]) -> str:
    shown = ", ".join(f"« {c} »" for c in columns[:30])
    return shown + (f" et {len(columns) - 30} autres" if len(columns) > 30 else "")


# -- reading a file ---------------------------------------------------------------------------------------------------

_MAGIC = {
    b"%PDF": "un PDF",
    b"\x89PNG": "une image PNG",
    b"\xff\xd8\xff": "une image JPEG",
    b"GIF8": "une image GIF",
    b"\xd0\xcf\x11\xe0": "un classeur Excel 97-2003 (.xls) ou un document Office ancien",
    b"\x1f\x8b": "une archive gzip",
    b"7z\xbc\xaf": "une archive 7z",
    b"Rar!": "une archive RAR",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def read_table(content: bytes, filename: str) -> Table:
    """The table a CSV or XLSX file holds (the format is told by the content, not the name)."""
    if len(content) > MAX_FILE_BYTES:
        raise TooLargeError(
            f"le fichier « {filename} » fait {len(content) / 2**20:.1f} Mo : un import accepte "
            f"{MAX_FILE_BYTES // 2**20} Mo au plus ; coupez-le en plusieurs fichiers"
        )
    if not content.strip():
        raise InvalidInputError(f"le fichier « {filename} » est vide")
    if content.startswith(b"PK\x03\x04"):
        return _read_xlsx(content, filename)
    for magic, what in _MAGIC.items():
        if content.startswith(magic):
            raise InvalidInputError(
                f"le fichier « {filename} » est {what}, pas un tableau : enregistrez-le en CSV ou en XLSX"
            )
    return _read_csv(content, filename)


def _not_a_table(filename: str) -> InvalidInputError:
    return InvalidInputError(
        f"le fichier « {filename} » n'est pas un tableau lisible (contenu binaire) : enregistrez-le en CSV "
        "(UTF-8 ou Windows-1252) ou en XLSX"
    )


def _decode(content: bytes, filename: str) -> tuple[str, str]:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInputError(
            f"le fichier « {filename} » est en UTF-16 : enregistrez-le en « CSV UTF-8 » ou en Windows-1252"
        )
    if b"\x00" in content:
        raise _not_a_table(filename)
    if content.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        try:
            content.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "windows-1252"
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError as exc:  # bytes Windows-1252 leaves undefined (0x81, 0x8D...): not a text file
        raise _not_a_table(filename) from exc
    controls = len(_CONTROL.findall(text))
    if controls > max(8, len(text) // 200):  # a few stray ones are named in their cells; this many is binary
        raise _not_a_table(filename)
    return text, encoding


def _delimiter(text: str) -> str:
    """The separator of the header line (the first line, outside quotes): ``;`` or ``,``, else a tab."""
    counts = {";": 0, ",": 0, "\t": 0}
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "\r\n":
            break
        elif not quoted and char in counts:
            counts[char] += 1
    if counts["\t"] > max(counts[";"], counts[","]):
        return "\t"
    return ";" if counts[";"] > counts[","] else ","


def _read_csv(content: bytes, filename: str) -> Table:
    text, encoding = _decode(content, filename)
    delimiter = _delimiter(text.lstrip("\r\n"))
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        records = list(_bounded(enumerate(reader, start=1), filename))
    except csv.Error as exc:
        raise InvalidInputError(f"le fichier « {filename} » n'est pas un CSV lisible : {exc}") from None
    return _table("csv", encoding, delimiter, records, filename)


def _bounded(numbered: Iterable[tuple[int, list[Cell]]], filename: str) -> Iterable[tuple[int, list[Cell]]]:
    """The non-empty rows, with a 413 once there are more than the header and MAX_ROWS."""
    count = 0
    for number, cells in numbered:
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
            continue
        count += 1
        if count > MAX_ROWS + 1:
            raise TooLargeError(
                f"le fichier « {filename} » a plus de {MAX_ROWS:,} lignes".replace(",", " ")
                + " : un import en accepte au plus autant ; coupez-le en plusieurs fichiers"
            )
        yield number, cells


def _read_xlsx(content: bytes, filename: str) -> Table:
    import openpyxl  # imported here: only an XLSX upload needs it

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise _not_a_table(filename) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise TooLargeError(
            f"le classeur « {filename} » occupe {unpacked / 2**20:.0f} Mo une fois décompressé (au plus "
            f"{MAX_UNPACKED_BYTES // 2**20} Mo) : coupez-le en plusieurs fichiers"
        )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds (KeyError, zip, XML errors) for what is not a workbook
        raise InvalidInputError(
            f"le fichier « {filename} » n'est pas un classeur XLSX lisible ({type(exc).__name__}) : "
            "enregistrez-le en XLSX ou en CSV"
        ) from None
    try:
        if not workbook.worksheets:
            raise InvalidInputError(f"le classeur « {filename} » n'a aucune feuille")
        sheet = workbook.worksheets[0]

        def rows() -> Iterable[tuple[int, list[Cell]]]:
            for number, row in enumerate(sheet.iter_rows(), start=1):
                yield number, [_xlsx_cell(cell) for cell in row[: MAX_COLUMNS + 1]]

        records = list(_bounded(rows(), filename))
    except InvalidInputError:
        raise
    except Exception as exc:  # a damaged sheet's XML
        raise InvalidInputError(
            f"la première feuille de « {filename} » ne se lit pas ({type(exc).__name__}) : enregistrez-la à nouveau"
        ) from None
    finally:
        workbook.close()
    return _table("xlsx", None, None, records, filename)


def _xlsx_cell(cell: Any) -> Cell:
    """A cell as text or number; a formula as its text (``=...``, refused in its row); text that starts like a
    formula gets the apostrophe that says it is text; a date as ``YYYY-MM-DD``."""
    value = cell.value
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    if isinstance(value, bool):
        return "vrai" if value else "faux"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if cell.data_type == "f":
        return text if text.startswith("=") else "=" + text
    return "'" + text if text.startswith("=") else text


def _table(kind: str, encoding: str | None, delimiter: str | None, records: list, filename: str) -> Table:
    if not records:
        raise InvalidInputError(f"le fichier « {filename} » est vide")
    _, header = records[0]
    while header and (header[-1] is None or str(header[-1]).strip() == ""):
        header = header[:-1]
    if len(header) > MAX_COLUMNS:
        raise InvalidInputError(f"le fichier « {filename} » a plus de {MAX_COLUMNS} colonnes")
    columns: list[str] = []
    for index, raw in enumerate(header):
        name = " ".join(str(raw if raw is not None else "").split()) or f"Colonne {_letters(index)}"
        name = _CONTROL.sub("", name)
        unique, n = name, 2
        while unique in columns:
            unique, n = f"{name} ({n})", n + 1
        columns.append(unique)
    rows = records[1:]
    if not rows:
        raise InvalidInputError(f"le fichier « {filename} » n'a qu'une ligne d'en-tête, aucune ligne de projet")
    width = len(columns)
    table_rows, beyond = [], {}
    for number, cells in rows:
        extra = [c for c in cells[width:] if c is not None and str(c).strip()]
        table_rows.append((number, list(cells[:width]) + [None] * (width - len(cells))))
        if extra:  # the row is refused, naming what is beyond the header
            beyond[number] = len(extra)
    return Table(kind, encoding, delimiter, columns, table_rows, beyond)


def _letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# -- cells to fields --------------------------------------------------------------------------------------------------


@dataclass
class ParsedRow:
    fields: dict[str, Any] = field(default_factory=dict)  # only the fields whose cell was given and readable
    errors: list[dict[str, str | None]] = field(default_factory=list)


def cells_of(columns: list[str], row: list[Cell]) -> dict[str, Cell]:
    return {column: row[i] for i, column in enumerate(columns)}


def parse_row(
    number: int, columns: list[str], row: list[Cell], mapping: dict[str, str | None], extra: int = 0
) -> ParsedRow:
    """The fields the mapped cells of row ``number`` give, and one French message per cell that cannot be read."""
    parsed = ParsedRow()
    if extra:
        count = extra
        parsed.errors.append(
            {
                "column": None,
                "field": None,
                "message": f"ligne {number} : {count} cellule(s) remplie(s) au-delà des colonnes de l'en-tête",
            }
        )
    for index, column in enumerate(columns):
        name = mapping.get(column)
        value = row[index] if index < len(row) else None
        if isinstance(value, str):
            if _CONTROL.search(value):
                char = _CONTROL.search(value).group()
                parsed.errors.append(
                    _error(number, column, name, f"caractère de contrôle interdit (U+{ord(char):04X}) ; retirez-le")
                )
                continue
            value = value.replace("\t", " ")
            if value.startswith("="):
                parsed.errors.append(
                    _error(
                        number,
                        column,
                        name,
                        f"« {_short(value)} » est une formule : elle n'est pas calculée ici ; "
                        "écrivez la valeur elle-même",
                    )
                )
                continue
            if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
                value = value[1:]  # text a spreadsheet or our export marked as text
            value = value.strip()
            if not value:
                value = None
        if name is None or value is None:
            continue
        try:
            parsed.fields[name] = PARSERS[name](value)
        except ValueError as exc:
            parsed.errors.append(_error(number, column, name, str(exc)))
    return parsed


def _error(number: int, column: str, name: str | None, message: str) -> dict[str, str | None]:
    return {"column": column, "field": name, "message": f"ligne {number}, colonne « {column} » : {message}"}


def _short(value: Any, size: int = 60) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _text(value: Cell) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split()) if not isinstance(value, str) else value.strip()


def _items(value: Cell) -> list[str]:
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\n" in text:
        parts = text.split("\n")
    elif " | " in text:
        parts = text.split(" | ")
    else:
        parts = text.split(";")
    items = []
    for part in parts:
        item = re.sub(r"^\s*(?:[-–—•*·]\s+|•)", "", part).strip()
        if item:
            items.append(" ".join(item.split()))
    return items


_AMOUNT_UNITS = re.compile(r"(k|m)?\s*(€|eur|euros?)?\s*$", re.IGNORECASE)


def parse_amount(value: Cell) -> float:
    """Euros from a number or a French-written amount (see the module docstring)."""
    bad = ValueError(f"« {_short(value)} » n'est pas un montant en euros (exemples : 12 000 €, 12 000,50, 15 k€)")
    if isinstance(value, int | float):
        amount = float(value)
    else:
        text = str(value).strip().replace("\u00a0", " ").replace("\u202f", " ")
        units = _AMOUNT_UNITS.search(text)
        factor = {"k": 1e3, "m": 1e6}.get((units.group(1) or "").lower(), 1.0) if units else 1.0
        number = text[: units.start()] if units else text
        number = number.replace(" ", "").replace("'", "")
        if not re.fullmatch(r"\d[\d.,]*", number):
            raise bad
        if "," in number and "." in number:
            decimal = "," if number.rfind(",") > number.rfind(".") else "."
            number = number.replace("." if decimal == "," else ",", "").replace(decimal, ".")
        elif number.count(",") > 1:
            number = number.replace(",", "")
        elif "," in number:
            number = number.replace(",", ".")
        elif number.count(".") > 1 or re.fullmatch(r"\d{1,3}\.\d{3}", number):
            number = number.replace(".", "")
        try:
            amount = float(number) * factor
        except ValueError:
            raise bad from None
    if not math.isfinite(amount) or amount < 0:
        raise bad
    if amount > 100_000_000:
        raise ValueError(f"« {_short(value)} » : plus de 100 millions d'euros, sans doute une faute de frappe")
    return round(amount, 2)


_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_SPAN = re.compile(r"(?<!\d)(\d{4})\s*(?:-|–|à|a|au)\s*(\d{4})(?!\d)")


def parse_years(value: Cell) -> list[int]:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    years: set[int] = set()
    for first, last in _SPAN.findall(text):
        a, b = int(first), int(last)
        if a <= b <= a + 20:
            years.update(range(a, b + 1))
    years.update(int(y) for y in _YEAR.findall(text))
    if not years:
        raise ValueError(f"« {_short(value)} » n'est pas une année d'appel à projets (exemples : 2024, 2023, 2024)")
    wrong = sorted(y for y in years if not FIRST_CALL_YEAR <= y <= LAST_CALL_YEAR)
    if wrong:
        raise ValueError(
            f"« {_short(value)} » : l'année {wrong[0]} n'est pas une année d'appel ({FIRST_CALL_YEAR}-{LAST_CALL_YEAR})"
        )
    return sorted(years)


def parse_duration(value: Cell) -> int:
    bad = ValueError(f"« {_short(value)} » n'est pas une durée (exemples : 2, 2 ans, 18 mois)")
    if isinstance(value, int | float):
        if not float(value).is_integer():
            raise bad
        years = int(value)
    else:
        found = re.fullmatch(r"(\d{1,3})\s*(ans?|années?|annees?|mois)?", normalize_spaces(str(value)).lower())
        if not found:
            raise bad
        amount, unit = int(found.group(1)), found.group(2) or "ans"
        years = math.ceil(amount / 12) if unit == "mois" else amount
    if not 1 <= years <= 10:
        raise ValueError(f"« {_short(value)} » : une durée va de 1 à 10 ans")
    return years


def normalize_spaces(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


STATUS_READ = {
    "planned": "planned",
    "prevue": "planned",
    "prevu": "planned",
    "a venir": "planned",
    "non demarree": "planned",
    "active": "active",
    "actif": "active",
    "en cours": "active",
    "demarree": "active",
    "ended": "ended",
    "terminee": "ended",
    "termine": "ended",
    "achevee": "ended",
    "acheve": "ended",
    "cloturee": "ended",
    "close": "ended",
    "finie": "ended",
}


def parse_status(value: Cell) -> str:
    found = STATUS_READ.get(normalize(str(value)))
    if found is None:
        raise ValueError(f"« {_short(value)} » n'est pas un statut : écrivez prévue, en cours ou terminée")
    return found


_DATE = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")


def parse_date(value: Cell) -> str:
    bad = ValueError(f"« {_short(value)} » n'est pas une date (exemples : 31/12/2025, 2025-12-31)")
    text = str(value).strip()
    try:
        found = _DATE.fullmatch(text)
        if found:
            day, month, year = (int(part) for part in found.groups())
            return date(year, month, day).isoformat()
        return date.fromisoformat(text[:10]).isoformat() if re.fullmatch(r"\d{4}-\d{2}-\d{2}( .*)?", text) else _no(bad)
    except ValueError:
        raise bad from None


def _no(error: ValueError) -> str:
    raise error


def parse_website(value: Cell) -> str:
    text = str(value).strip()
    if re.fullmatch(r"www\.[^\s/]+\.[a-z]{2,}(/\S*)?", text, re.IGNORECASE):
        text = "https://" + text  # what a browser does with it
    if not re.fullmatch(r"https?://[^\s<>\"']+", text):
        raise ValueError(f"« {_short(value)} » n'est pas une adresse web (http:// ou https://)")
    return text


def parse_axes(value: Cell) -> list[int]:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    numbers = re.findall(r"\d+", str(value))
    rest = re.sub(r"\d+|axes?|et|[,;/+\s]", "", normalize(str(value)))
    axes = sorted({int(n) for n in numbers})
    if not axes or rest or any(not 1 <= a <= 4 for a in axes):
        raise ValueError(f"« {_short(value)} » n'est pas un axe du programme (1 à 4 ; exemple : 1, 3)")
    return axes


REACH_READ = {"direct": "direct", "directe": "direct", "support": "support", "soutien": "support"}


def parse_reach(value: Cell) -> str:
    found = REACH_READ.get(normalize(str(value)))
    if found is None:
        raise ValueError(f"« {_short(value)} » : écrivez « directe » (accès direct) ou « soutien »")
    return found


def _slug_cell(value: Cell) -> str:
    text = _text(value)
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", text) or len(text) > 80:
        raise ValueError(
            f"« {_short(value)} » n'est pas un identifiant (minuscules, chiffres et tirets, 80 caractères au plus)"
        )
    return text


def _list_cell(value: Cell) -> list[str]:
    return _items(value)


PARSERS = {
    "id": _slug_cell,
    "organisation": _text,
    "name": _text,
    "place_text": _text,
    "actions": _list_cell,
    "beneficiaries": _list_cell,
    "partners": _list_cell,
    "objectives": _list_cell,
    "indicators": _list_cell,
    "funding_years": parse_years,
    "amount_eur": parse_amount,
    "duration_years": parse_duration,
    "status": parse_status,
    "end_date": parse_date,
    "website": parse_website,
    "contact": _text,
    "last_checked": parse_date,
    "axes": parse_axes,
    "reach": parse_reach,
}


def slug(text: str, max_length: int = 80) -> str:
    """An id from words: folded, lower case, words joined by hyphens, cut at a word under ``max_length``."""
    folded = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "oe")).encode("ascii", "ignore")
    words = re.findall(r"[a-z0-9]+", folded.decode().lower())
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > max_length:
            break
        out = candidate
    return out or "projet"


# -- the officers' export ---------------------------------------------------------------------------------------------

EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "Identifiant"),
    ("organisation", "Porteur"),
    ("name", "Intitulé du projet"),
    ("place_text", "Lieu d'intervention"),
    ("funding_years", "Année(s) de financement"),
    ("amount_eur", "Montant accordé (€)"),
    ("duration_years", "Durée (ans)"),
    ("status", "Statut"),
    ("end_date", "Date de fin"),
    ("website", "Site internet"),
    ("contact", "Contact"),
    ("last_checked", "Dernière vérification"),
    ("actions", "Actions"),
    ("beneficiaries", "Bénéficiaires"),
    ("partners", "Partenaires"),
    ("objectives", "Objectifs"),
    ("indicators", "Indicateurs"),
    ("axes", "Axe(s) du programme"),
    ("reach", "Portée"),
)
REACH_WORDS = {"direct": "directe", "support": "soutien"}


def _export_list(items: list[str]) -> str:
    """One item per line; a single item that holds a separator gets a line break after it, so that it is read
    back as one item."""
    text = "\n".join(items)
    if len(items) == 1 and (";" in text or " | " in text):
        text += "\n"
    return text


def export_values(record: ProjectRecord) -> list[Any]:
    """The record's cells, typed (numbers, dates), in the order of EXPORT_COLUMNS."""
    values: list[Any] = []
    for name, _ in EXPORT_COLUMNS:
        if name in LIST_FIELDS:
            values.append(_export_list(getattr(record, name)))
        elif name == "funding_years":
            values.append(", ".join(str(y) for y in record.funding_years))
        elif name == "status":
            values.append(STATUS_WORDS[record.status] if record.status else "")
        elif name == "axes":
            axes = record.curation.axes
            values.append(", ".join(str(a) for a in axes.values) if axes else "")
        elif name == "reach":
            reach = record.curation.reach
            values.append(REACH_WORDS[reach.value] if reach else "")
        else:
            value = getattr(record, name)
            values.append("" if value is None else value)
    return values


def _french_amount(amount: float) -> str:
    return f"{amount:.2f}".replace(".", ",").removesuffix(",00")


def export_csv(records: list[ProjectRecord]) -> bytes:
    """The officers' CSV: ``;``, UTF-8 with its byte order mark (Excel opens it as UTF-8), French decimal comma,
    dates as 31/12/2025, every text cell through safe_cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([label for _, label in EXPORT_COLUMNS])
    for record in records:
        row = []
        for (name, _), value in zip(EXPORT_COLUMNS, export_values(record), strict=True):
            if name == "amount_eur" and value != "":
                value = _french_amount(value)
            elif isinstance(value, date):
                value = value.strftime("%d/%m/%Y")
            row.append(safe_cell(value))
        writer.writerow(row)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export_xlsx(records: list[ProjectRecord]) -> bytes:
    """The officers' workbook: one sheet, typed cells (amount and duration numbers, dates), text never read as
    a formula."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    workbook = openpyxl.Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = "Projets"
    sheet.append([label for _, label in EXPORT_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for number, record in enumerate(records, start=2):
        for index, ((name, _), value) in enumerate(zip(EXPORT_COLUMNS, export_values(record), strict=True), 1):
            if value == "":
                continue
            cell = sheet.cell(row=number, column=index)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl takes text starting with '=' for a formula: it is text
                if "\n" in value:
                    cell.alignment = wrap
            elif name == "amount_eur":
                cell.number_format = '#,##0.00 "€"'
            elif isinstance(value, date):
                cell.number_format = "DD/MM/YYYY"
    sheet.freeze_panes = "A2"
    for index, (_, label) in enumerate(EXPORT_COLUMNS, 1):
        sheet.column_dimensions[_letters(index - 1)].width = max(12, min(40, len(label) + 4))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
