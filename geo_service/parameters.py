"""The parameters shared by every way of asking the service: the coverage rule (which communes count as reached
and which are zones blanches) and the selection of projects it counts.

One definition: the API routes, tiles, OGC collections, pages, pictures and commands all read these, so a value
refused here is refused everywhere with the same message."""

from __future__ import annotations

from dataclasses import dataclass, replace

from geo_service.errors import InvalidInputError
from geo_service.projects.catalogue import check_selection

# The rule's bounds, the same on every route, tile and command: a zone blanche is about access without a car, and
# 200 km is already across a whole région; Paris, the densest commune, has about 20 000 people per km².
MAX_KM = 200.0
MAX_RURAL_DENSITY = 100_000.0
REACH_MODES = ("direct", "all")
DISTANCE_TARGETS = ("townhall", "territory")


@dataclass(frozen=True)
class CoverageParams:
    rural_max_density: float = 150.0
    max_km: float = 10.0
    count_departmental: bool = False
    reach: str = "direct"
    distance_to: str = "townhall"
    # Which projects count: those funded by the call of ``year`` and/or of ``status`` ('unknown': none given), so
    # that an officer compares the coverage of 2023 with 2025, or of the actions running today. None: all.
    year: int | None = None
    status: str | None = None

    @property
    def selects(self) -> bool:
        return self.year is not None or self.status is not None

    def unselected(self) -> CoverageParams:
        """The same rule over every project (what a selection's own coverage is asked)."""
        return replace(self, year=None, status=None)

    def replace(self, **changes) -> CoverageParams:
        """The same parameters with these changed (checked again)."""
        return replace(self, **changes)

    def __post_init__(self) -> None:
        check_selection(self.year, self.status)
        if self.reach not in REACH_MODES:
            raise InvalidInputError(f"reach must be one of {', '.join(REACH_MODES)}, got {self.reach!r}")
        if self.distance_to not in DISTANCE_TARGETS:
            raise InvalidInputError(
                f"distance_to must be one of {', '.join(DISTANCE_TARGETS)}, got {self.distance_to!r}"
            )
        if not (0 < self.rural_max_density <= MAX_RURAL_DENSITY):
            raise InvalidInputError(
                f"rural_max_density must be above 0 and at most {MAX_RURAL_DENSITY:g}, got {self.rural_max_density}"
            )
        if not (0 <= self.max_km <= MAX_KM):
            raise InvalidInputError(f"max_km must be between 0 and {MAX_KM:g}, got {self.max_km}")
