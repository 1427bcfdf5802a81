"""Simulating actions and ranking opportunities: brute-force recounts, and invariants any answer must keep."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from geo_service import planning
from geo_service.coverage import Coverage
from geo_service.errors import CostLimitError, InvalidInputError
from geo_service.parameters import CoverageParams
from geo_service.planning import ActionSpec
from geo_service.projects.catalogue import ProjectCatalogue
from geo_service.service import ServiceData

SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _lambert93(service_data: ServiceData) -> np.ndarray:
    """Town halls in metres (Lambert-93), projected here rather than taken from the code under test."""
    communes = service_data.boundaries.level("commune")
    lonlat = np.array([p if p is not None else (np.nan, np.nan) for p in communes["townhall"]], dtype=float)
    x, y = Transformer.from_crs(4326, 2154, always_xy=True).transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def _brute_force_gain(service_data, params: CoverageParams, members: np.ndarray, white: np.ndarray, xy) -> set[int]:
    """The zone-blanche rows one direct action on these commune rows takes out: a member, or a town hall within
    max_km of a member's (every pair measured)."""
    rows = np.flatnonzero(white)
    dx = xy[rows, None, 0] - xy[None, members, 0]
    dy = xy[rows, None, 1] - xy[None, members, 1]
    near = (np.hypot(dx, dy) <= params.max_km * 1000).any(axis=1)
    return set(rows[near]) | (set(members) & set(rows))


@pytest.mark.parametrize("chunk_pairs", [None, 50])  # 50: pairs searched a few sources at a time
@pytest.mark.parametrize("params", [CoverageParams(), CoverageParams(max_km=5, rural_max_density=300)])
def test_every_epci_gain_is_a_brute_force_recount(
    service_data: ServiceData, params: CoverageParams, chunk_pairs: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if chunk_pairs is not None:
        monkeypatch.setattr("geo_service.coverage.CHUNK_PAIRS", chunk_pairs)
    coverage, boundaries = service_data.coverage, service_data.boundaries
    figures = coverage.figures(params)
    white = figures["zone_blanche"].to_numpy()
    population = figures["population"].to_numpy()
    xy = _lambert93(service_data)
    epci_of = boundaries.level("commune")["epci"].to_numpy()
    expected = {}
    for code in boundaries.level("epci")["code"]:
        taken = _brute_force_gain(service_data, params, np.flatnonzero(epci_of == code), white, xy)
        expected[code] = int(population[list(taken)].sum()) if taken else 0
    ranking = planning.opportunities(coverage, boundaries, params, "epci", k=planning.MAX_K)
    assert ranking.best, "the région has zones blanches under these parameters"
    for candidate in ranking.best:
        assert candidate.population == expected[candidate.code], candidate.name
    top = sorted(expected.values(), reverse=True)[: len(ranking.best)]
    assert [c.population for c in ranking.best] == top


def test_the_greedy_sequence_is_a_brute_force_greedy(service_data: ServiceData) -> None:
    """Recounted with sets: each step takes the commune whose neighbours within max_km hold the most people of
    zones blanches not taken out yet."""
    params = CoverageParams()
    coverage = service_data.coverage
    figures = coverage.figures(params)
    white = figures["zone_blanche"].to_numpy()
    population = figures["population"].to_numpy()
    codes = figures["code"].to_numpy()
    xy = _lambert93(service_data)
    rows = np.flatnonzero(white)
    # for every commune, the white rows it would take out
    distance = np.hypot(xy[:, None, 0] - xy[None, rows, 0], xy[:, None, 1] - xy[None, rows, 1])
    takes = [set(rows[distance[c] <= params.max_km * 1000]) | ({c} & set(rows)) for c in range(len(codes))]
    ranking = planning.opportunities(coverage, service_data.boundaries, params, "commune", k=4)
    row_of = {code: i for i, code in enumerate(codes)}
    left = set(rows)
    for step in ranking.sequence:
        gains = [sum(population[r] for r in t & left) for t in takes]
        best = max(gains)
        # the service's pick is one of the best (ties may go either way), with the people it says
        assert step.population == best and gains[row_of[step.code]] == best
        assert set(step.communes) == {codes[r] for r in takes[row_of[step.code]] & left}
        left -= takes[row_of[step.code]]
    assert len(ranking.sequence) == 4


def test_greedy_gains_never_increase_and_add_up(service_data: ServiceData) -> None:
    for level in planning.RANKING_LEVELS:
        ranking = planning.opportunities(service_data.coverage, service_data.boundaries, CoverageParams(), level, k=8)
        gains = [c.population for c in ranking.sequence]
        assert gains and all(g > 0 for g in gains)
        assert gains == sorted(gains, reverse=True)
        assert [c.cumulative_population for c in ranking.sequence] == list(np.cumsum(gains))
        assert ranking.sequence[0].code == ranking.best[0].code
        assert len({c.code for c in ranking.sequence}) == len(gains)


def test_simulating_the_best_opportunity_gains_what_the_ranking_says(service_data: ServiceData) -> None:
    """Two computations: the ranking counts neighbours within max_km, the simulation recomputes distances."""
    params = CoverageParams(distance_to="territory")
    ranking = planning.opportunities(service_data.coverage, service_data.boundaries, params, "epci", k=3)
    actions = []
    for step in ranking.sequence:
        spec = ActionSpec(territories=(f"epci:{step.code}",))
        actions.append(planning.resolve(spec, service_data.boundaries, service_data.geocoder))
        result = planning.simulate(service_data.coverage, params, actions)
        assert int(result.leaving["population"].sum()) == step.cumulative_population
    assert result.before.population_zone_blanche - result.after.population_zone_blanche == (
        ranking.sequence[-1].cumulative_population
    )


def test_simulating_a_funded_projects_own_territories_changes_nothing(service_data: ServiceData) -> None:
    params = CoverageParams()
    funded = [p for p in service_data.projects.projects.values() if p.scope == "local" and p.reach == "direct"]
    assert funded
    for project in funded[:10]:
        spec = ActionSpec(territories=tuple(f"{t.level}:{t.code}" for t in project.territories))
        result = planning.simulate(
            service_data.coverage, params, [planning.resolve(spec, service_data.boundaries, service_data.geocoder)]
        )
        assert result.after == result.before and result.leaving.empty, project.id


@SLOW
@given(data=st.data())
def test_a_simulation_is_the_coverage_computed_with_the_action_funded(service_data: ServiceData, data) -> None:
    """Against a coverage computed afresh from a catalogue holding a real project on the same communes."""
    boundaries, catalogue = service_data.boundaries, service_data.projects
    level = data.draw(st.sampled_from(["commune", "epci", "arrondissement"]))
    codes = data.draw(st.lists(st.sampled_from(sorted(boundaries.level(level)["code"])), min_size=1, max_size=3))
    params = data.draw(
        st.builds(
            CoverageParams,
            rural_max_density=st.floats(min_value=20, max_value=2000),
            max_km=st.floats(min_value=0, max_value=30),
            distance_to=st.sampled_from(["townhall", "territory"]),
        )
    )
    action = planning.resolve(
        ActionSpec(territories=tuple(f"{level}:{c}" for c in codes)), boundaries, service_data.geocoder
    )
    result = planning.simulate(service_data.coverage, params, [action])
    # a funded direct project on the same communes: the catalogue's first local direct project, moved there
    model = next(p for p in catalogue.projects.values() if p.scope == "local" and p.reach == "direct")
    moved = model.model_copy(update={"id": "simulated", "communes": list(action.communes)})
    funded = ProjectCatalogue(
        [*catalogue.projects.values(), moved],
        {**catalogue.areas, "simulated": catalogue.areas[model.id]},
        boundaries,
        "t",
    )
    fresh = Coverage(boundaries, funded).figures(params)
    assert result.after.communes_zone_blanche == int(fresh["zone_blanche"].sum())
    before = service_data.coverage.figures(params)
    expected = set(before.loc[before["zone_blanche"] & ~fresh["zone_blanche"], "code"])
    assert set(result.leaving["code"]) == expected
    assert result.after.communes_zone_blanche <= result.before.communes_zone_blanche  # never adds one


def test_how_actions_count_follows_the_rule(service_data: ServiceData) -> None:
    boundaries, geocoder, coverage = service_data.boundaries, service_data.geocoder, service_data.coverage
    # where an action counted under reach=all would take the most people out: a support action there does so
    # under reach=all, and takes nobody out under the default reach (direct only)
    best = planning.opportunities(coverage, boundaries, CoverageParams(reach="all"), "epci", k=1).best[0]
    support = planning.resolve(ActionSpec(territories=(f"epci:{best.code}",), reach="support"), boundaries, geocoder)
    assert planning.simulate(coverage, CoverageParams(), [support]).leaving.empty  # support is not food access
    assert not planning.simulate(coverage, CoverageParams(reach="all"), [support]).leaving.empty
    counting = CoverageParams(count_departmental=True)
    figures = coverage.figures(counting)
    taken_out = 0
    for code in sorted(boundaries.level("departement")["code"]):
        departement = planning.resolve(ActionSpec(territories=(f"departement:{code}",)), boundaries, geocoder)
        assert departement.scope == "departement"
        assert planning.simulate(coverage, CoverageParams(), [departement]).leaving.empty  # not counted
        # counted: every zone blanche of the département is reached
        counted = planning.simulate(coverage, counting, [departement])
        white = figures["zone_blanche"] & (figures["departement"] == code)
        assert set(counted.leaving["code"]) >= set(figures.loc[white, "code"])
        taken_out += len(counted.leaving)
    assert taken_out > 0


def test_a_mobile_action_reaches_its_stops_only(service_data: ServiceData) -> None:
    boundaries, geocoder = service_data.boundaries, service_data.geocoder
    best = planning.opportunities(service_data.coverage, boundaries, CoverageParams(), "commune", k=1).best[0]
    stop = best.code
    action = planning.resolve(
        ActionSpec(territories=("departement:62",), communes_served=(stop,)), boundaries, geocoder
    )
    assert action.communes == (stop,) and action.mobile
    result = planning.simulate(service_data.coverage, CoverageParams(), [action])
    assert int(result.leaving["population"].sum()) == best.population


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        (ActionSpec(territories=("epci",)), "'epci'"),
        (ActionSpec(territories=("canton:123",)), "'canton'"),
        (ActionSpec(territories=("epci:12",)), "'12'"),
        (ActionSpec(territories=("commune:99999",)), "'commune:99999'"),
        (ActionSpec(place_text="xqzw vbnm"), "'xqzw vbnm'"),
        (ActionSpec(communes_served=("80999",)), "'80999'"),
        (ActionSpec(), "territories"),
        (ActionSpec(territories=("commune:80021",), reach="maybe"), "'maybe'"),
    ],
)
def test_bad_actions_are_named(service_data: ServiceData, spec: ActionSpec, named: str) -> None:
    with pytest.raises(InvalidInputError, match=named):
        planning.resolve(spec, service_data.boundaries, service_data.geocoder)


def test_a_ranking_within_one_departement_keeps_its_candidates(service_data: ServiceData) -> None:
    ranking = planning.opportunities(
        service_data.coverage, service_data.boundaries, CoverageParams(), "commune", k=5, departement="80"
    )
    assert ranking.sequence and all(c.code.startswith("80") for c in ranking.sequence)
    with pytest.raises(InvalidInputError, match="level='canton'"):
        planning.opportunities(service_data.coverage, service_data.boundaries, CoverageParams(), "canton")


def test_an_epci_across_the_departements_border_is_scored_whole(service_data: ServiceData) -> None:
    """Keeping one département's candidates must not cut an EPCI that crosses its border: its action reaches all
    its communes, as a simulation of it says."""
    boundaries, coverage, geocoder = service_data.boundaries, service_data.coverage, service_data.geocoder
    communes = boundaries.level("commune")
    spans = communes.groupby("epci")["departement"].nunique()
    across = sorted(spans[spans > 1].index)
    assert across, "the région has EPCI across départements (the CC du Ternois reaches into the Somme)"
    checked = 0
    for code in across:
        for departement in sorted(set(communes.loc[communes["epci"] == code, "departement"])):
            ranking = planning.opportunities(
                coverage, boundaries, CoverageParams(), "epci", k=planning.MAX_K, departement=departement
            )
            scored = {c.code: c.population for c in ranking.best}
            if code not in scored:
                continue
            action = planning.resolve(ActionSpec(territories=(f"epci:{code}",)), boundaries, geocoder)
            simulated = planning.simulate(coverage, CoverageParams(), [action])
            assert scored[code] == int(simulated.leaving["population"].sum()), (code, departement)
            checked += 1
    assert checked


def test_a_ranking_after_funded_actions_starts_where_they_leave_off(service_data: ServiceData) -> None:
    """Ranking after the first step is funded gives the rest of the greedy sequence (the same gains, in order)."""
    boundaries, coverage, geocoder = service_data.boundaries, service_data.coverage, service_data.geocoder
    plain = planning.opportunities(coverage, boundaries, CoverageParams(), "epci", k=4)
    first = planning.resolve(ActionSpec(territories=(f"epci:{plain.sequence[0].code}",)), boundaries, geocoder)
    after = planning.opportunities(coverage, boundaries, CoverageParams(), "epci", k=3, funded=[first])
    assert [c.population for c in after.sequence] == [c.population for c in plain.sequence[1:]]
    assert after.before.population_zone_blanche == (plain.before.population_zone_blanche - plain.sequence[0].population)
    assert plain.sequence[0].code not in {c.code for c in after.best}  # nothing left for it to take out


@pytest.mark.parametrize("distance_to", ["townhall", "territory"])
def test_within_decides_as_the_rule_at_a_distance_equal_to_max_km(service_data: ServiceData, distance_to: str) -> None:
    """At max_km equal to a real distance (and the floats either side), a ranking's pairs and the rule agree:
    reaching the commune brings the town hall within max_km exactly when the rule's kilometres say so."""
    coverage = service_data.coverage
    communes = service_data.boundaries.level("commune")
    xy = _lambert93(service_data)
    rng = np.random.default_rng(7)
    disagreements = 0
    for _ in range(60):
        source, target = (int(r) for r in rng.choice(len(communes), 2, replace=False))
        if distance_to == "townhall":
            metres = float(np.hypot(*(xy[source] - xy[target])))
        else:  # the outline in Lambert-93, projected by the test
            outline = communes.geometry.iloc[[target]].to_crs(2154).iloc[0]
            metres = float(outline.distance(shapely.Point(xy[source])))
        if metres == 0:
            continue
        for km in (metres / 1000.0, np.nextafter(metres / 1000.0, 0), np.nextafter(metres / 1000.0, 1)):
            sources = np.zeros(len(communes), dtype=bool)
            sources[source] = True
            found, commune = coverage.within(sources, float(km), distance_to)
            paired = bool(((found == source) & (commune == target)).any())
            # the service's own kilometres for this pair, as the rule compares them
            lowered = np.full(len(communes), np.nan)
            targets = np.zeros(len(communes), dtype=bool)
            targets[target] = True
            coverage.lower(lowered, targets, sources, distance_to)
            disagreements += paired != bool(lowered[source] <= km)
    assert disagreements == 0


def test_a_ranking_beyond_the_pair_bound_is_refused_before_searching(
    service_data: ServiceData, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = CoverageParams(max_km=30)
    white = service_data.coverage.figures(params)["zone_blanche"].to_numpy()
    xy = _lambert93(service_data)
    rows = np.flatnonzero(white)
    # the pairs the ranking would compare, counted here: every (zone blanche, town hall within max_km) pair
    exact = sum(int((np.hypot(*(xy - xy[r]).T) <= 30_000).sum()) for r in rows)
    estimate = service_data.coverage.estimate_pairs(white, 30, "townhall")
    assert abs(estimate - exact) <= 0.1 * exact, (estimate, exact)
    monkeypatch.setattr(planning, "MAX_PAIRS", exact // 2)
    with pytest.raises(CostLimitError, match=r"max_km=30: .* pairs of communes, more than the"):
        planning.opportunities(service_data.coverage, service_data.boundaries, params, "epci", k=1)
