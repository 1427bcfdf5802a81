"""Coverage of the communes and zones blanches; the rule is documented in ``geo_service.coverage``, its
parameters (read by ``geo_service.api.deps.coverage_params``, from ``geo_service.parameters``) in the OpenAPI."""

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from geo_service import frcsv
from geo_service.api.deps import CoverageParamsDep, DataDep
from geo_service.api.errors import errors
from geo_service.api.limits import costly_slot
from geo_service.api.schemas import CommuneCoverage, CoverageSummary
from geo_service.coverage import __doc__ as RULE
from geo_service.parameters import CoverageParams
from geo_service.territories import Boundaries, check_code

# every route takes the coverage parameters: other than the defaults, costly work that may be refused (429)
router = APIRouter(prefix="/api/v1/coverage", tags=["coverage"], responses=errors(429))


async def limited_params(request: Request, params: CoverageParamsDep) -> AsyncIterator[CoverageParams]:
    """The parameters; other than the defaults (computed at each write, always at hand), the request is costly
    work and waits for a place (see api.limits)."""
    if params == CoverageParams():
        yield params
        return
    async with costly_slot(request):
        yield params


ParamsDep = Annotated[CoverageParams, Depends(limited_params)]
# for routes that hold a place anyway (ExpensiveDep): the parameters alone, so as not to take two places
PlainParamsDep = CoverageParamsDep


def _filters(boundaries: Boundaries, **codes: str | None) -> None:
    for level, code in codes.items():
        if code is not None:
            boundaries.require(level, code, parameter=level)


@router.get(
    "/communes",
    summary="Coverage of every commune (GeoJSON; CSV with format=csv, or csv-fr for French spreadsheets)",
    description=RULE,
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}, "text/csv": {}}}},
)
def communes(
    data: DataDep,
    params: ParamsDep,
    format: Annotated[
        Literal["geojson", "csv", "csv-fr"],
        Query(
            description="csv: for programs (',', decimal point, English headers); csv-fr: for people (';', decimal "
            "comma, UTF-8 BOM, French headers and words, as French spreadsheets open it)"
        ),
    ] = "geojson",
    departement: Annotated[str | None, Query(examples=["02"])] = None,
    epci: Annotated[str | None, Query(examples=["200035442"])] = None,
    arrondissement: Annotated[str | None, Query(examples=["801"])] = None,
) -> Response:
    _filters(data.boundaries, departement=departement, epci=epci, arrondissement=arrondissement)
    if format == "csv-fr":
        frame = data.coverage.communes_frame(params, departement, epci, arrondissement)
        return Response(
            frcsv.coverage_csv(frame, data.coverage.name_of),
            media_type=frcsv.MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="couverture-communes.csv"'},
        )
    body = data.coverage.export(params, format, departement, epci, arrondissement)
    if format == "csv":
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="couverture-communes.csv"'},
        )
    return Response(body, media_type="application/geo+json")


@router.get(
    "/communes/{code}",
    response_model=CommuneCoverage,
    summary="One commune's coverage, with the projects reaching it",
    responses=errors(404),
)
def commune(
    data: DataDep,
    params: ParamsDep,
    code: Annotated[str, Path(examples=["80155"], description="INSEE code")],
) -> dict[str, Any]:
    """The commune's row of the coverage (status, reason in French words, distance...), its EPCI and département
    named, and every project reaching it: `counted` says whether these parameters count it as reaching."""
    check_code("commune", code)
    return data.coverage.commune(params, code)


@router.get(
    "/summary",
    response_model=CoverageSummary,
    summary="Per EPCI or département: communes and people in zones blanches, actions, reach",
)
def summary(data: DataDep, params: ParamsDep, level: Literal["epci", "departement"] = "departement") -> dict[str, Any]:
    items = data.coverage.summary(params, level)
    totals = items.drop(columns=["code", "name", "local_actions", "actions", "population_reached_share"]).sum()
    totals_out = {key: int(value) for key, value in totals.items()}
    totals_out["population_reached_share"] = round(totals_out["population_reached"] / totals_out["population"], 4)
    return {
        "level": level,
        "params": params.model_dump(),
        "items": items.to_dict(orient="records"),
        "totals": totals_out,
    }


@router.get(
    "/zones-blanches",
    summary="Zone-blanche communes (GeoJSON); dissolve=true merges neighbours",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def zones_blanches(
    data: DataDep,
    params: ParamsDep,
    dissolve: Annotated[bool, Query(description="merge touching zone-blanche communes into areas")] = False,
) -> Response:
    return Response(data.coverage.zones_blanches_geojson(params, dissolve), media_type="application/geo+json")
