"""Planning the next call for projects: simulate hypothetical actions, rank where one would help most.

Read-only and open to anyone: nothing is stored. Each request is costly work and holds one of the places that
``api.limits`` bounds (429 with Retry-After when none is free). The method and its limits are documented in
``geo_service.planning``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from geo_service import frcsv, planning
from geo_service.api.coverage import PlainParamsDep
from geo_service.api.deps import DataDep, current_snapshot
from geo_service.api.errors import errors
from geo_service.api.limits import ExpensiveDep
from geo_service.api.schemas import Opportunities, SimulationIn, SimulationOut
from geo_service.coverage import plain_record
from geo_service.errors import InvalidInputError
from geo_service.maps.picture import simulation_picture
from geo_service.planning import ActionSpec
from geo_service.snapshot import Snapshot

router = APIRouter(prefix="/api/v1/coverage", tags=["planning"], responses=errors(429))
CSV = {200: {"content": {"application/json": {}, "text/csv": {}}}}
SIMULATION_FORMATS = {
    200: {
        "description": "JSON; the communes leaving as CSV (csv: for programs; csv-fr: for French spreadsheets, ';', "
        "decimal comma, UTF-8 BOM, French headers and words); a picture for a report (PNG); or the communes the "
        "actions reach and those leaving the zones blanches as GeoJSON, for a map overlay",
        "content": {"application/json": {}, "text/csv": {}, "image/png": {}, "application/geo+json": {}},
    }
}
SimulationFormat = Literal["json", "csv", "csv-fr", "png", "geojson"]


def link_actions(
    territory: Annotated[
        list[str],
        Query(max_length=planning.MAX_ACTIONS, description="one direct action per value, as 'level:code'"),
    ] = [],  # noqa: B006 (FastAPI copies defaults)
    support: Annotated[
        list[str],
        Query(max_length=planning.MAX_ACTIONS, description="one support action per value, as 'level:code'"),
    ] = [],  # noqa: B006 (FastAPI copies defaults)
) -> list[ActionSpec]:
    """Actions given in a URL, one territory each: ``territory`` for direct access, ``support`` for the others."""
    specs = [ActionSpec(territories=(reference,)) for reference in territory]
    return specs + [ActionSpec(territories=(reference,), reach="support") for reference in support]


LinkActionsDep = Annotated[list[ActionSpec], Depends(link_actions)]


def _simulation(
    snapshot: Snapshot, params, specs: list[ActionSpec], format: SimulationFormat
) -> Response | dict[str, Any]:
    data = snapshot.data
    actions = [planning.resolve(spec, data.boundaries, data.geocoder) for spec in specs]
    result = planning.simulate(data.coverage, params, actions)
    units = data.geocoder.gazetteer.units
    if format == "csv-fr":
        return Response(
            frcsv.simulation_csv(result.leaving, planning.outside_communes(result, units), data.coverage.name_of),
            media_type=frcsv.MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="simulation-communes.csv"'},
        )
    if format == "csv":
        return Response(
            planning.simulation_csv(result),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="simulation-communes.csv"'},
        )
    if format == "png":
        return Response(
            simulation_picture(data, snapshot.tiles, result),
            media_type="image/png",
            headers={"Content-Disposition": 'inline; filename="simulation.png"'},
        )
    if format == "geojson":
        return Response(planning.simulation_geojson(result, data.boundaries), media_type="application/geo+json")
    leaving = result.leaving
    return {
        "params": vars(params),
        "actions": [
            {
                "label": a.label,
                "territories": [
                    {
                        "level": level,
                        "code": code,
                        "name": name,
                        "outside": planning.outside_of(leaving, units[level, code].communes),
                    }
                    for level, code, name in a.territories
                ],
                "communes": len(a.communes),
                "scope": a.scope,
                "reach": a.reach,
                "mobile": a.mobile,
                "counted": a.counted(params),
                "notes": list(a.notes),
            }
            for a in actions
        ],
        "before": vars(result.before),
        "after": vars(result.after),
        "gained": {"communes": len(leaving), "population": int(leaving["population"].sum())},
        "by_departement": result.by_departement,
        "by_epci": result.by_epci,
        "communes": [plain_record(row) for row in leaving.to_dict(orient="records")],
        "reached": result.reached,
    }


@router.post(
    "/simulate",
    response_model=SimulationOut,
    summary="Coverage if these hypothetical actions were funded: who leaves the zones blanches (nothing is stored)",
    description=planning.__doc__,
    responses={**SIMULATION_FORMATS, **errors(400, 413)},
)
def simulate(
    request: Request,
    _: ExpensiveDep,
    params: PlainParamsDep,
    body: SimulationIn,
    format: SimulationFormat = "json",
) -> Any:
    specs = [
        ActionSpec(
            territories=tuple(a.territories),
            place_text=a.place_text,
            reach=a.reach,
            communes_served=tuple(a.communes_served),
            label=a.label,
        )
        for a in body.actions
    ]
    return _simulation(current_snapshot(request), params, specs, format)


@router.get(
    "/simulate",
    response_model=SimulationOut,
    summary="The same for direct actions given in the URL (a link to share, a CSV, a picture, a map overlay)",
    responses=SIMULATION_FORMATS,
)
def simulate_link(
    request: Request,
    _: ExpensiveDep,
    params: PlainParamsDep,
    specs: LinkActionsDep,
    place: Annotated[str | None, Query(max_length=500, description="one more action where this text points")] = None,
    format: SimulationFormat = "json",
) -> Any:
    if place and place.strip():
        specs.append(ActionSpec(place_text=place))
    if not specs:
        raise InvalidInputError("give at least one territory=level:code, support=level:code or a place")
    return _simulation(current_snapshot(request), params, specs, format)


@router.get(
    "/opportunities",
    response_model=Opportunities,
    summary="Where one new direct action would take the most people out of zones blanches (greedy, k steps)",
    description=planning.__doc__,
    responses=CSV,
)
def opportunities(
    data: DataDep,
    _: ExpensiveDep,
    params: PlainParamsDep,
    funded: LinkActionsDep,
    level: Literal["epci", "commune", "arrondissement"] = "epci",
    k: Annotated[int, Query(ge=1, le=planning.MAX_K)] = 5,
    departement: Annotated[str | None, Query(max_length=3, description="candidates in this département")] = None,
    format: Literal["json", "csv", "csv-fr"] = "json",
) -> Any:
    """With ``territory`` or ``support`` (as for /simulate), those hypothetical actions count as funded first: the
    ranking says where to act next, after them, and ``before`` is the coverage once they are."""
    actions = [planning.resolve(spec, data.boundaries, data.geocoder) for spec in funded]
    ranking = planning.opportunities(data.coverage, data.boundaries, params, level, k, departement, actions)
    if format == "csv-fr":
        return Response(
            frcsv.ranking_csv(planning.ranking_rows(ranking, joiner=", ")),
            media_type=frcsv.MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="opportunites.csv"'},
        )
    if format == "csv":
        return Response(
            planning.ranking_csv(ranking),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="opportunites.csv"'},
        )
    frame = data.boundaries.level(level)

    def out(candidate: planning.Candidate) -> dict[str, Any]:
        geometry = frame.geometry[candidate.code]
        return {
            "level": candidate.level,
            "code": candidate.code,
            "name": candidate.name,
            "population": candidate.population,
            "communes": list(candidate.communes),
            "cumulative_population": candidate.cumulative_population,
            "bbox": None if geometry is None else [round(float(v), 5) for v in geometry.bounds],
        }

    return {
        "params": vars(params),
        "level": level,
        "k": k,
        "departement": departement,
        "candidates": ranking.candidates,
        "before": vars(ranking.before),
        "best": [out(c) for c in ranking.best],
        "sequence": [out(c) for c in ranking.sequence],
        "method": planning.METHOD,
    }
