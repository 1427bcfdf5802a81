"""The preview of a spreadsheet import, and what its commit writes.

An import is a document kept in the store (``imports`` table) from upload to commit, so that any worker can carry
it on: the table as read, the column mapping, the officer's decisions per row, and the preview computed from them
against the projects as they are (``compute``). The preview says, for each row, the record that would be written,
how the geocoder reads its place (or the territories the officer chose), its French errors, its likely duplicates,
and whether committing would create, update or leave a project unchanged. A commit writes exactly what the
officer reviewed, or nothing (``ProjectStore.commit_import``).

Decisions:

* a row that names the id of a live project (the officers' export does) updates it; its empty cells keep what the
  project has (an empty cell is « not given », never « erase »), so re-importing an export changes nothing;
* a row without an id gets one from its porteur and intitulé (``slug``), unique among every id the store ever gave
  (deleted projects keep theirs) and the other rows;
* a row whose porteur and intitulé (folded) are those of a live project, or of an earlier row, is a likely
  duplicate, excluded by default: the officer includes it as new (``exclude: false``) or as an update of that
  project (``as_update_of``);
* a place read with a unit of confidence under 0.8, a reading the geocoder asks about (several places fit, a
  spelling farther than a typo: its ``question``), or words left unread, is « to_confirm »: it can be committed,
  but the officer is shown why to look;
* manual territories chosen in the preview are kept in the record's curation, with a note naming the file.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

from pydantic import ValidationError

from geo_service.errors import InvalidInputError
from geo_service.geocoding import Geocoder
from geo_service.geocoding.text import normalize
from geo_service.projects.models import Level, ProjectRecord
from geo_service.projects.spreadsheet_import import (
    FIELDS,
    Table,
    cells_of,
    check_mapping,
    fields_description,
    guess_mapping,
    parse_row,
    slug,
)
from geo_service.territories import Boundaries

LOW_CONFIDENCE = 0.8
ROW_KEYS = {"exclude", "place_text", "territories", "as_update_of"}
LEVELS_OF_MANUAL: tuple[str, ...] = get_args(Level)


def new_id() -> str:
    return "imp-" + secrets.token_urlsafe(12).replace("_", "x").replace("-", "y")


def new_document(table: Table, filename: str, ttl_s: int, by: str) -> dict[str, Any]:
    """An import as uploaded: its table, the guessed mapping, no decision yet (``compute`` adds the preview)."""
    mapping = guess_mapping(table.columns)
    check_mapping(table.columns, mapping)
    created = datetime.now(UTC)
    return {
        "id": new_id(),
        "filename": filename,
        "format": table.format,
        "encoding": table.encoding,
        "delimiter": table.delimiter,
        "created_at": created.isoformat(timespec="seconds"),
        "expires_at": (created + timedelta(seconds=ttl_s)).isoformat(timespec="seconds"),
        "created_by": by,
        "committed": False,
        "columns": table.columns,
        "table": {"rows": table.rows, "extra": {str(k): v for k, v in table.extra.items()}},
        "mapping": mapping,
        "decisions": {},
    }


def public(document: dict[str, Any]) -> dict[str, Any]:
    """The preview as the API answers it (the contract's shape): without the table and the internals."""
    keys = ("id", "filename", "format", "encoding", "delimiter", "created_at", "expires_at", "committed", "columns")
    answer = {key: document[key] for key in keys}
    answer["mapping"] = document["mapping"]
    answer["fields"] = fields_description()
    answer["rows"] = [{k: v for k, v in row.items() if not k.startswith("_")} for row in document["preview"]["rows"]]
    answer["summary"] = document["preview"]["summary"]
    if "result" in document:
        answer["result"] = document["result"]
    return answer


def apply_patch(document: dict[str, Any], patch: Any, live: dict[str, ProjectRecord], boundaries: Boundaries) -> None:
    """The officer's changes (a new mapping, decisions per row), checked; ``compute`` then recomputes."""
    if not isinstance(patch, dict) or not set(patch) <= {"mapping", "rows"}:
        raise InvalidInputError('attendu : {"mapping": {...}, "rows": {...}} (l\'un ou l\'autre, ou les deux)')
    if "mapping" in patch:
        mapping = patch["mapping"]
        if not isinstance(mapping, dict) or not all(isinstance(v, str | None) for v in mapping.values()):
            raise InvalidInputError('« mapping » : attendu {"<colonne>": "<champ>" ou null, ...}')
        merged = document["mapping"] | mapping
        check_mapping(document["columns"], merged)
        document["mapping"] = merged
    rows = patch.get("rows", {})
    if not isinstance(rows, dict):
        raise InvalidInputError('« rows » : attendu {"<numéro de ligne>": {...}, ...}')
    numbers = {str(number) for number, _ in document["table"]["rows"]}
    decisions = document["decisions"]
    for key, change in rows.items():
        if key not in numbers:
            raise InvalidInputError(f"il n'y a pas de ligne {key} dans le fichier")
        if not isinstance(change, dict) or not set(change) <= ROW_KEYS:
            raise InvalidInputError(f"ligne {key} : attendu des clés parmi {', '.join(sorted(ROW_KEYS))}")
        decision = dict(decisions.get(key, {}))
        if "exclude" in change:
            if not isinstance(change["exclude"], bool):
                raise InvalidInputError(f"ligne {key} : « exclude » vaut true ou false")
            decision["exclude"] = change["exclude"]
        if "place_text" in change:
            text = change["place_text"]
            if text is not None and (not isinstance(text, str) or not text.strip() or len(text) > 500):
                raise InvalidInputError(f"ligne {key} : le lieu d'intervention est un texte de 1 à 500 caractères")
            if isinstance(text, str) and not text.isprintable():  # NUL, lone surrogates: not storable text
                raise InvalidInputError(f"ligne {key} : le lieu d'intervention contient un caractère de contrôle")
            decision["place_text"] = text.strip() if isinstance(text, str) else None
        if "territories" in change:
            decision["territories"] = _checked_territories(key, change["territories"], boundaries)
        if "as_update_of" in change:
            target = change["as_update_of"]
            if target is not None and (not isinstance(target, str) or target not in live):
                raise InvalidInputError(f"ligne {key} : aucun projet en ligne n'a l'identifiant « {target} »")
            decision["as_update_of"] = target
            if target is not None and "exclude" not in change:
                decision["exclude"] = False  # choosing the project to update is choosing to import the row
        decisions[key] = decision


def _checked_territories(key: str, given: Any, boundaries: Boundaries) -> list[dict[str, str]]:
    if not isinstance(given, list) or len(given) > 200:
        raise InvalidInputError(f'ligne {key} : « territories » est une liste de {{"level": ..., "code": ...}}')
    chosen = []
    for item in given:
        if not isinstance(item, dict) or set(item) - {"level", "code"} or not {"level", "code"} <= set(item):
            raise InvalidInputError(f'ligne {key} : chaque territoire s\'écrit {{"level": "commune", "code": "80021"}}')
        level, code = item["level"], item["code"]
        if level not in LEVELS_OF_MANUAL or not isinstance(code, str):
            raise InvalidInputError(f"ligne {key} : niveau « {level} » inconnu ({', '.join(LEVELS_OF_MANUAL)})")
        if code not in boundaries.level(level).index:
            raise InvalidInputError(f"ligne {key} : pas de territoire {level} de code « {code} » dans la région")
        if {"level": level, "code": code} not in chosen:
            chosen.append({"level": level, "code": code})
    return chosen


def _key(organisation: Any, name: Any) -> str | None:
    if not organisation or not name:
        return None
    return normalize(str(organisation)) + "|" + normalize(str(name))


def state_digest(live: dict[str, ProjectRecord], versions: dict[str, int], boundaries_version: str) -> str:
    """What a preview depends on: the live projects at their versions, and the boundaries."""
    text = boundaries_version + ";" + ";".join(f"{i}:{versions.get(i, 0)}" for i in sorted(live))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def compute(
    document: dict[str, Any],
    live: dict[str, ProjectRecord],
    versions: dict[str, int],
    known_ids: set[str],
    boundaries: Boundaries,
    geocoder: Geocoder,
) -> None:
    """The preview of every row against these projects (``live``: by id; ``known_ids``: every id the store ever
    gave, deleted projects included), stored in ``document['preview']``."""
    columns, mapping, filename = document["columns"], document["mapping"], document["filename"]
    column_of = {name: column for column, name in mapping.items() if name is not None}
    by_key: dict[str, list[str]] = {}
    for record in live.values():
        key = _key(record.organisation, record.name)
        if key:
            by_key.setdefault(key, []).append(record.id)
    parsed = {
        number: parse_row(number, columns, cells, mapping, document["table"]["extra"].get(str(number), 0))
        for number, cells in document["table"]["rows"]
    }
    # ids the rows name themselves are theirs: generated ids avoid them, and every id the store ever gave
    taken = set(known_ids) | {p.fields["id"] for p in parsed.values() if "id" in p.fields}
    seen_ids: dict[str, int] = {}
    seen_keys: dict[str, tuple[int, str]] = {}
    rows = []
    for number, cells in document["table"]["rows"]:
        decision = document["decisions"].get(str(number), {})
        row = _row(
            number,
            cells_of(columns, cells),
            parsed[number],
            decision,
            column_of,
            filename,
            live,
            versions,
            known_ids,
            by_key,
            taken,
            seen_ids,
            seen_keys,
            boundaries,
            geocoder,
        )
        rows.append(row)
    summary = {
        "rows": len(rows),
        "ok": sum(r["state"] == "ok" for r in rows),
        "errors": sum(r["state"] == "error" for r in rows),
        "to_confirm": sum(r["state"] == "to_confirm" for r in rows),
        "duplicates": sum(bool(r["duplicates"]) for r in rows),
        "excluded": sum(r["excluded"] for r in rows),
        "create": sum(r["action"] == "create" for r in rows),
        "update": sum(r["action"] == "update" for r in rows),
        "unchanged": sum(r["action"] == "unchanged" for r in rows),
    }
    document["preview"] = {"rows": rows, "summary": summary}


def _row(
    number: int,
    cells: dict[str, Any],
    parsed: Any,
    decision: dict[str, Any],
    column_of: dict[str, str],
    filename: str,
    live: dict[str, ProjectRecord],
    versions: dict[str, int],
    known_ids: set[str],
    by_key: dict[str, list[str]],
    taken: set[str],
    seen_ids: dict[str, int],
    seen_keys: dict[str, tuple[int, str]],
    boundaries: Boundaries,
    geocoder: Geocoder,
) -> dict[str, Any]:
    fields = dict(parsed.fields)
    errors = list(parsed.errors)
    missing = False

    def error(name: str | None, message: str) -> None:
        column = column_of.get(name) if name else None
        where = f"ligne {number}, colonne « {column} »" if column else f"ligne {number}"
        errors.append({"column": column, "field": name, "message": f"{where} : {message}"})

    if decision.get("place_text"):
        fields["place_text"] = decision["place_text"]
    target: str | None = decision.get("as_update_of")
    duplicates: list[dict[str, Any]] = []
    given_id = fields.get("id")
    if target is not None and target not in live:
        error(None, f"le projet « {target} » choisi pour la mise à jour n'est plus en ligne")
        target = None
    if target is None and given_id is not None:
        if given_id in seen_ids:
            error("id", f"l'identifiant « {given_id} » figure déjà à la ligne {seen_ids[given_id]}")
        elif given_id in live:
            target = given_id
        elif given_id in known_ids:
            error("id", f"le projet « {given_id} » est supprimé : restaurez-le avant de l'importer à nouveau")
    key = _key(fields.get("organisation") or (live[target].organisation if target else None),
               fields.get("name") or (live[target].name if target else None))  # fmt: skip
    if target is None and key is not None:
        for other in by_key.get(key, []):
            record = live[other]
            why = "même porteur et même intitulé"
            duplicates.append({"id": other, "organisation": record.organisation, "name": record.name, "why": why})
    if key is not None and key in seen_keys and (target is None or seen_keys[key][1] == target):
        earlier, other_id = seen_keys[key]
        duplicates.append(
            {
                "id": other_id,
                "organisation": fields.get("organisation"),
                "name": fields.get("name"),
                "why": f"même porteur et même intitulé qu'à la ligne {earlier}",
                "row": earlier,
            }
        )
    # the record: the live one the row updates, with the cells given; or a new one
    if target is not None:
        record_id = target
        raw = live[target].model_dump(mode="json")
    else:
        record_id = given_id or _fresh_id(fields, taken)
        raw = {"id": record_id}
        for name in ("organisation", "name", "place_text"):
            if name not in fields and not (name == "place_text" and decision.get("territories")):
                missing = True
                error(name, f"vide : « {FIELDS[name].label} » est obligatoire pour un nouveau projet")
    if given_id is not None:
        seen_ids.setdefault(given_id, number)
    if key is not None:
        seen_keys.setdefault(key, (number, record_id))
    curation = raw.get("curation") or {}
    for name, value in fields.items():
        if name == "id":
            continue
        if name == "axes":
            current = curation.get("axes")
            if not current or sorted(current["values"]) != value:
                curation["axes"] = {"values": value, "note": f"colonne « {column_of['axes']} » du fichier {filename}"}
        elif name == "reach":
            current = curation.get("reach")
            if not current or current["value"] != value:
                curation["reach"] = {"value": value, "note": f"colonne « {column_of['reach']} » du fichier {filename}"}
        else:
            raw[name] = value
    if "territories" in decision:
        chosen = decision["territories"]
        note = f"choisi dans l'aperçu de l'import du fichier {filename}"
        curation["territories"] = [item | {"note": note} for item in chosen]
    if curation:
        raw["curation"] = curation
    if "place_text" not in raw and decision.get("territories"):
        raw["place_text"] = ", ".join(boundaries.name_of(t["level"], t["code"]) for t in decision["territories"])
    record = None
    if not missing:
        try:
            record = ProjectRecord.model_validate(raw)
        except ValidationError as exc:
            for item in exc.errors():
                name = str(item["loc"][0]) if item["loc"] else None
                name = name if name in FIELDS else ("axes" if name == "curation" else None)
                error(name, f"valeur refusée ({item['msg']})")
    reading = None
    if record is not None:
        reading = _reading(record, boundaries, geocoder)
        if not reading["units"]:
            error(
                "place_text",
                f"« {record.place_text} » ne correspond à aucun lieu connu de la région : corrigez le lieu ou "
                "choisissez les territoires",
            )
    excluded = decision.get("exclude", bool(duplicates) and target is None)
    action = None
    if record is not None and not errors and not excluded:
        action = "create" if target is None else "unchanged" if record == live[target] else "update"
    if excluded:
        state = "excluded"
    elif errors:
        state = "error"
    elif reading is not None and _doubtful(reading):
        state = "to_confirm"
    else:
        state = "ok"
    return {
        "row": number,
        "cells": cells,
        "record": None if record is None else record.model_dump(mode="json"),
        "state": state,
        "action": action,
        "errors": errors,
        "reading": reading,
        "duplicates": duplicates,
        "excluded": excluded,
        "_base": versions.get(target) if target is not None else None,
    }


def _fresh_id(fields: dict[str, Any], taken: set[str]) -> str:
    base = slug(f"{fields.get('organisation', '')} {fields.get('name', '')}", 76)
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _reading(record: ProjectRecord, boundaries: Boundaries, geocoder: Geocoder) -> dict[str, Any]:
    """How the place is read: the geocoder on the place text (with the same context the catalogue gives it), or
    the territories a person chose."""
    units = geocoder.gazetteer.units
    if record.curation.territories:
        chosen = [
            {
                "level": t.level,
                "code": t.code,
                "name": boundaries.name_of(t.level, t.code),
                "confidence": 1.0,
                "matched": None,
            }
            for t in record.curation.territories
        ]
        communes = set().union(*(units[t.level, t.code].communes for t in record.curation.territories))
        return {
            "units": chosen,
            "communes": len(communes),
            "confidence": 1.0,
            "notes": [],
            "unresolved": [],
            "source": "manual",
            "to_confirm": False,
            "question": None,
            "candidates": [],
        }
    context = " ".join([*record.indicators, *record.beneficiaries])
    answer = geocoder.geocode(record.place_text, context=context or None).as_dict()
    return {
        "units": answer["units"],
        "communes": len(answer["communes"]),
        "confidence": min((u["confidence"] for u in answer["units"]), default=None),
        "notes": answer["notes"],
        "unresolved": answer["unresolved"],
        "source": "geocoder",
        # the geocoder's own doubt: several places fit, or a spelling farther than a typo (its French question)
        "to_confirm": answer["to_confirm"],
        "question": answer["question"],
        "candidates": answer["candidates"],
    }


def _doubtful(reading: dict[str, Any]) -> bool:
    if reading["source"] != "geocoder":
        return False
    low = reading["confidence"] is not None and reading["confidence"] < LOW_CONFIDENCE
    return low or bool(reading["unresolved"]) or reading["to_confirm"]


def blocking_errors(document: dict[str, Any]) -> list[str]:
    """The rows that keep the import from being committed: in error and not excluded."""
    return [
        "; ".join(e["message"] for e in row["errors"]) for row in document["preview"]["rows"] if row["state"] == "error"
    ]


def writes_of(document: dict[str, Any]) -> list[tuple[int, ProjectRecord, str, int | None]]:
    """What the commit writes: (row, record, action, the version the update was computed on), in row order;
    unchanged rows are included (the store checks nothing moved under them, then writes nothing for them)."""
    out = []
    for row in document["preview"]["rows"]:
        if row["action"] in ("create", "update", "unchanged"):
            out.append((row["row"], ProjectRecord.model_validate(row["record"]), row["action"], row["_base"]))
    return out
