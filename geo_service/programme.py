"""The programme's own figures (budget per year, projects selected), from ``data/programme.yaml``.

They come from the brochure's introduction and are kept as data, with their source, rather than written into
pages: the map shows them, the API serves them, and a new year is a new entry in the file.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from geo_service.errors import DataError
from geo_service.projects.models import describe_validation_error


class ProgrammeYear(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2022, le=2100)
    amount_eur: int = Field(ge=0, description="State funding for Hauts-de-France that year")
    projects_selected: int | None = Field(default=None, ge=0)
    projects_approximate: bool = Field(default=False, description="true when the source says 'about'")
    applications: int | None = Field(default=None, ge=0, description="applications received (dossiers déposés)")
    amount_requested_eur: int | None = Field(default=None, ge=0)


class Programme(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str
    national_fund_eur: int | None = None
    projects_in_brochure: int
    years: list[ProgrammeYear]

    @property
    def total_eur(self) -> int:
        return sum(year.amount_eur for year in self.years)


def load_programme(path: Path) -> Programme:
    try:
        return Programme.model_validate(yaml.safe_load(path.read_text("utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"cannot read the programme figures {path}: {exc}") from exc
    except ValidationError as exc:
        raise DataError(f"{path.name}: {describe_validation_error(exc)}") from exc
