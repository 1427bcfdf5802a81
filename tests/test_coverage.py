"""Coverage and the zones blanches rule: invariants over parameters and project sets, and the brochure's picture."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo_service.coverage import Coverage, _nearest_point_distance
from geo_service.errors import InvalidInputError
from geo_service.parameters import CoverageParams
from geo_service.projects.catalogue import ProjectCatalogue, project_scope, read_records
from geo_service.service import ServiceData
from geo_service.settings import REPO_DATA_DIR

params_strategy = st.builds(
    CoverageParams,
    rural_max_density=st.floats(min_value=1, max_value=5000),
    max_km=st.floats(min_value=0, max_value=80),
    count_departmental=st.booleans(),
    reach=st.sampled_from(["direct", "all"]),
    distance_to=st.sampled_from(["townhall", "territory"]),
)
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _zones(coverage: Coverage, params: CoverageParams) -> set[str]:
    frame = coverage.compute(params)
    return set(frame.loc[frame["zone_blanche"], "code"])


def _local_communes(catalogue: ProjectCatalogue, params: CoverageParams) -> set[str]:
    """The communes of the local projects these parameters count (every reach, or direct food access only)."""
    return {
        c
        for p in catalogue.projects.values()
        if project_scope([t.level for t in p.territories]) == "local" and (params.reach == "all" or p.reach == "direct")
        for c in p.communes
    }


@SLOW
@given(params=params_strategy)
def test_a_commune_reached_by_a_local_action_is_never_a_zone_blanche(service_data: ServiceData, params) -> None:
    assert not _zones(service_data.coverage, params) & _local_communes(service_data.projects, params)


@SLOW
@given(params=params_strategy, extra=st.floats(min_value=0, max_value=50))
def test_raising_max_km_never_adds_zones_blanches(service_data: ServiceData, params, extra: float) -> None:
    wider = params.replace(max_km=params.max_km + extra)
    assert _zones(service_data.coverage, wider) <= _zones(service_data.coverage, params)


@SLOW
@given(params=params_strategy, factor=st.floats(min_value=0.01, max_value=1))
def test_lowering_rural_density_never_adds_zones_blanches(service_data: ServiceData, params, factor: float) -> None:
    stricter = params.replace(rural_max_density=params.rural_max_density * factor)
    assert _zones(service_data.coverage, stricter) <= _zones(service_data.coverage, params)


@SLOW
@given(params=params_strategy)
def test_counting_departmental_actions_never_adds_zones_blanches(service_data: ServiceData, params) -> None:
    off = params.replace(count_departmental=False)
    on = params.replace(count_departmental=True)
    assert _zones(service_data.coverage, on) <= _zones(service_data.coverage, off)


@SLOW
@given(params=params_strategy)
def test_counting_support_actions_never_adds_zones_blanches(service_data: ServiceData, params) -> None:
    direct, every = params.replace(reach="direct"), params.replace(reach="all")
    assert _zones(service_data.coverage, every) <= _zones(service_data.coverage, direct)


@SLOW
@given(params=params_strategy)
def test_measuring_to_the_outline_never_adds_zones_blanches(service_data: ServiceData, params) -> None:
    townhall, territory = params.replace(distance_to="townhall"), params.replace(distance_to="territory")
    assert _zones(service_data.coverage, territory) <= _zones(service_data.coverage, townhall)


def test_the_outline_is_never_farther_than_its_town_hall(service_data: ServiceData) -> None:
    # a reached commune's town hall lies in its outline (give or take 250 m of simplified border), so the nearest
    # outline is at most as far as the nearest town hall
    townhall = service_data.coverage.compute(CoverageParams())["distance_km"]
    territory = service_data.coverage.compute(CoverageParams(distance_to="territory"))["distance_km"]
    assert (territory <= townhall + 0.3).all()
    assert (territory < townhall - 1).sum() > 100  # and often much nearer: the rule matters


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_invariants_hold_for_any_set_of_projects(service_data: ServiceData, data) -> None:
    catalogue = service_data.projects
    ids = data.draw(st.lists(st.sampled_from(sorted(catalogue.projects)), unique=True, max_size=10))
    subset = ProjectCatalogue(
        [catalogue.projects[i] for i in ids], {i: catalogue.areas[i] for i in ids}, service_data.boundaries, "test"
    )
    coverage = Coverage(service_data.boundaries, subset)
    params = data.draw(params_strategy)
    assert not _zones(coverage, params) & _local_communes(subset, params)
    more = data.draw(st.sampled_from(sorted(set(catalogue.projects) - set(ids))))
    bigger = ProjectCatalogue(
        [*subset.projects.values(), catalogue.projects[more]],
        {**subset.areas, more: catalogue.areas[more]},
        service_data.boundaries,
        "test",
    )
    # funding one more project never creates a zone blanche
    assert _zones(Coverage(service_data.boundaries, bigger), params) <= _zones(coverage, params)


@pytest.mark.parametrize("level", ["departement", "epci"])
@pytest.mark.parametrize(
    "params", [CoverageParams(), CoverageParams(rural_max_density=80, max_km=5, count_departmental=True)]
)
def test_summary_totals_equal_the_sum_over_communes(service_data: ServiceData, level: str, params) -> None:
    frame = service_data.coverage.compute(params)
    summary = service_data.coverage.summary(params, level)
    assert summary["communes"].sum() == len(frame) == 3782
    assert summary["population"].sum() == frame["population"].sum()
    assert summary["communes_zone_blanche"].sum() == frame["zone_blanche"].sum()
    assert summary["population_zone_blanche"].sum() == frame.loc[frame["zone_blanche"], "population"].sum()


def test_the_rule_on_the_brochure_data(service_data: ServiceData) -> None:
    coverage = service_data.coverage
    default = coverage.compute(CoverageParams())
    by_departement = default.groupby("departement")["zone_blanche"].sum()
    # the Aisne's two projects are département-wide: not counted, its countryside is mostly zone blanche
    assert by_departement["02"] == by_departement.max()
    counted = coverage.compute(CoverageParams(count_departmental=True)).groupby("departement")["zone_blanche"].sum()
    assert counted["02"] == 0 and counted["59"] == 0 and counted["62"] == 0  # VRAC covers the Nord and Pas-de-Calais
    # Bapaume's only local project (Sud-Artois) is a study and a space of exchanges: support, counted only with all
    bapaume = default.loc["62080"]
    assert bapaume["best_scope"] == "departement" and bapaume["support_projects"] == 1
    assert "1 action d'appui" in bapaume["reason"]
    bapaume = coverage.compute(CoverageParams(reach="all")).loc["62080"]
    assert bapaume["best_scope"] == "local" and bapaume["distance_km"] == 0 and not bapaume["zone_blanche"]


def test_zone_blanche_reason_is_in_french_with_figures(service_data: ServiceData) -> None:
    frame = service_data.coverage.compute(CoverageParams())
    row = frame[frame["zone_blanche"]].iloc[0]
    assert row["reason"].startswith("commune rurale (") and "zone blanche (> 10 km)" in row["reason"]
    assert "," in row["reason"].split("hab/km²")[0]  # decimal comma
    assert row["distance_km"] > 10 and row["rural"]


def test_distances_are_real_kilometres(service_data: ServiceData) -> None:
    frame = service_data.coverage.compute(CoverageParams())
    # Amiens (reached) and Longueau's neighbour: every unreached town hall is within the région's span
    unreached = frame[frame["distance_km"] > 0]["distance_km"]
    assert 0 < unreached.min() < 5 and unreached.max() < 120
    assert np.isfinite(frame["distance_km"]).all()


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"max_km": -1}, "max_km"),
        ({"rural_max_density": 0}, "rural"),
        ({"max_km": float("nan")}, "max_km"),
        ({"reach": "support"}, "reach.*'support'"),
        ({"distance_to": "edge"}, "distance_to.*'edge'"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict, named: str) -> None:
    with pytest.raises(InvalidInputError, match=named):
        CoverageParams(**kwargs)


def test_results_are_cached_per_parameters(service_data: ServiceData) -> None:
    coverage = service_data.coverage
    assert coverage.compute(CoverageParams(rural_max_density=99, max_km=7)) is coverage.compute(
        CoverageParams(rural_max_density=99, max_km=7)
    )
    assert coverage.export(CoverageParams(), "csv") is coverage.export(CoverageParams(), "csv")


def test_an_edit_that_moves_no_project_keeps_the_figures_and_one_that_does_recomputes_them(
    service_data: ServiceData,
) -> None:
    records = [record for _, record in read_records(REPO_DATA_DIR / "projects")]
    params = CoverageParams()
    before = service_data.coverage.figures(params)
    longer = [r.model_copy(update={"duration_years": 5}) if i == 0 else r for i, r in enumerate(records)]
    renamed = service_data.with_records(longer, service_data.revision + 1)
    assert renamed.coverage.figures(params) is before  # a duration does not move aid: nothing recomputed
    # an Aisne-wide project brought down to Laon: the communes of the Aisne lose a département-wide action
    aisne = next(r for r in records if r.place_text == "Département de l'Aisne")
    moved = [r.model_copy(update={"place_text": "Ville de Laon"}) if r is aisne else r for r in records]
    after = service_data.with_records(moved, service_data.revision + 1).coverage.figures(params)
    assert after is not before
    assert (after["best_scope"] != before["best_scope"]).any()


@pytest.mark.parametrize("distance_to", ["townhall", "territory"])
def test_distances_after_a_new_project_are_those_of_a_coverage_computed_afresh(
    service_data: ServiceData, distance_to: str
) -> None:
    records = [record for _, record in read_records(REPO_DATA_DIR / "projects")]
    params = CoverageParams(distance_to=distance_to)
    service_data.coverage.figures(params)  # what the next coverage starts from
    new = records[0].model_copy(
        update={"id": "epicerie-ternois", "name": "Épicerie solidaire", "place_text": "CC du Ternois"}
    )
    added = service_data.with_records([*records, new], service_data.revision + 1)
    afresh = Coverage(added.boundaries, added.projects)
    after, expected = added.coverage.figures(params), afresh.figures(params)
    assert (after["distance_km"].fillna(-1) == expected["distance_km"].fillna(-1)).all()
    assert (after["zone_blanche"] == expected["zone_blanche"]).all()
    assert after["zone_blanche"].sum() < service_data.coverage.figures(params)["zone_blanche"].sum()


def _epicerie(records: list, number: int, place: str):
    return records[0].model_copy(
        update={"id": f"epicerie-{number}", "name": f"Épicerie solidaire {number}", "place_text": place}
    )


@pytest.mark.parametrize("distance_to", ["townhall", "territory"])
def test_distances_after_a_series_of_writes_are_those_of_a_coverage_computed_afresh(
    service_data: ServiceData, distance_to: str
) -> None:
    """Each coverage starts from the distances of the one before (carried over an edit that moves nothing), and
    searches only the town halls the added communes may be nearer to, a few targets at a time without a tree:
    after every write, each distance must be exactly the one measured from scratch."""
    records = [record for _, record in read_records(REPO_DATA_DIR / "projects")]
    every = [
        CoverageParams(distance_to=distance_to),
        CoverageParams(distance_to=distance_to, reach="all", count_departmental=True),
    ]
    data = service_data
    for params in every:
        data.coverage.figures(params)
    steps = [[*records, _epicerie(records, 1, "CC du Ternois")]]
    steps.append([r.model_copy(update={"duration_years": 4}) if r.id == "epicerie-1" else r for r in steps[-1]])
    steps.append([*steps[-1], _epicerie(records, 2, "Ville d'Amiens")])
    steps.append([*steps[-1], _epicerie(records, 3, "Lille, Amiens et Senlis")])
    steps.append([*steps[-1], _epicerie(records, 4, "62140")])
    steps.append([r for r in steps[-1] if r.id != "epicerie-1"])  # communes no longer reached: farther again
    steps.append([*steps[-1], _epicerie(records, 5, "CC des 7 Vallées")])
    for step, written in enumerate(steps):
        before = data.coverage
        data = data.with_records(written, data.revision + 1)
        if step == 1:  # the duration moves no commune: the same figures, found again rather than computed
            assert all(data.coverage.figures(params) is before.figures(params) for params in every)
        afresh = Coverage(data.boundaries, data.projects)
        for params in every:
            assert np.array_equal(data.coverage.distances(params), afresh.distances(params), equal_nan=True), (
                step,
                params,
            )
            after, expected = data.coverage.figures(params), afresh.figures(params)
            assert after.equals(expected), (step, params)


def test_nearest_town_halls_without_a_tree_are_those_the_tree_finds() -> None:
    # town halls in metres as Lambert-93 gives them (hundreds of km, to the millimetre), a few targets at a time
    rng = np.random.default_rng(3)
    points = np.round(rng.uniform([600_000, 6_900_000], [750_000, 7_120_000], size=(3_000, 2)), 3)
    for size in (1, 2, 7, 40):
        targets = rng.choice(len(points), size, replace=False)
        sources = np.setdiff1d(np.arange(len(points)), targets)
        tree = shapely.STRtree(shapely.points(points[targets]))
        _, metres = tree.query_nearest(shapely.points(points[sources]), return_distance=True, all_matches=False)
        assert np.array_equal(_nearest_point_distance(points[sources], points[targets]), metres)
