"""The coverage rule's one parameter model (issue 29): strict when built in Python, read from a query's text as
FastAPI reads it, every refusal an InvalidInputError naming the parameter and the value, hashable and equal by
value (it keys the computed coverage), and described in English and French."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from geo_service.errors import BadRequestError, InvalidInputError
from geo_service.parameters import CoverageParams

NAMES = ["rural_max_density", "max_km", "count_departmental", "reach", "distance_to", "year", "status"]


def test_the_defaults_are_the_documented_rule() -> None:
    params = CoverageParams()
    assert (params.rural_max_density, params.max_km, params.count_departmental) == (150, 10, False)
    assert (params.reach, params.distance_to, params.year, params.status) == ("direct", "townhall", None, None)
    assert list(CoverageParams.model_fields) == NAMES


def test_equal_by_value_and_hashable() -> None:
    assert CoverageParams(max_km=10) == CoverageParams() and hash(CoverageParams(max_km=10)) == hash(CoverageParams())
    assert CoverageParams(max_km=12) != CoverageParams()
    cache = {CoverageParams(max_km=12.0): "kept"}
    assert cache[CoverageParams(max_km=12)] == "kept"
    with pytest.raises(ValueError, match="frozen"):
        CoverageParams().max_km = 3  # type: ignore[misc]


def test_selection_and_changes() -> None:
    selected = CoverageParams(max_km=12, year=2024, status="active")
    assert selected.selects and not CoverageParams().selects
    assert selected.unselected() == CoverageParams(max_km=12)
    assert CoverageParams().replace(reach="all") == CoverageParams(reach="all")
    with pytest.raises(InvalidInputError, match="max_km must be between 0 and 200, got 300"):
        CoverageParams().replace(max_km=300)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_km": 500}, "max_km must be between 0 and 200, got 500"),
        ({"max_km": -0.5}, "max_km must be between 0 and 200, got -0.5"),
        ({"max_km": float("inf")}, "max_km must be between 0 and 200, got inf"),
        ({"max_km": True}, "max_km must be between 0 and 200, got True"),  # strict: a boolean is no number
        ({"max_km": "10"}, "max_km must be between 0 and 200, got 10"),  # nor is text, built in Python
        ({"rural_max_density": 0}, "rural_max_density must be above 0 and at most 100000, got 0"),
        ({"count_departmental": "yes"}, "count_departmental must be true or false, got 'yes'"),
        ({"count_departmental": 1}, "count_departmental must be true or false, got 1"),
        ({"reach": "support"}, "reach must be one of direct, all, got 'support'"),
        ({"distance_to": "edge"}, "distance_to must be one of townhall, territory, got 'edge'"),
        ({"year": 1999}, r"year=1999: expected a year of a call for projects \(2020-2100\)"),
        ({"year": 2024.0}, "year=2024.0: expected a year"),
        ({"status": "fini"}, "status='fini': expected one of planned, active, ended, unknown"),
        ({"radius": 3}, "radius: no such coverage parameter"),
    ],
)
def test_a_bad_value_is_an_invalid_input_naming_it(values: dict, message: str) -> None:
    with pytest.raises(InvalidInputError, match=f"^{message}"):
        CoverageParams(**values)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", CoverageParams()),
        ("max_km=12.5&rural_max_density=300", CoverageParams(max_km=12.5, rural_max_density=300)),
        ("max_km=1e2", CoverageParams(max_km=100)),
        ("max_km=%2020", CoverageParams(max_km=20)),
        ("count_departmental=true", CoverageParams(count_departmental=True)),
        ("count_departmental=Yes", CoverageParams(count_departmental=True)),
        ("count_departmental=on", CoverageParams(count_departmental=True)),
        ("count_departmental=1", CoverageParams(count_departmental=True)),
        ("count_departmental=off", CoverageParams()),
        ("count_departmental=FALSE", CoverageParams()),
        ("reach=all&distance_to=territory", CoverageParams(reach="all", distance_to="territory")),
        ("year=2024&status=unknown", CoverageParams(year=2024, status="unknown")),
        ("max_km=20&max_km=20.0", CoverageParams(max_km=20)),  # twice, one meaning
        ("format=csv&departement=80", CoverageParams()),  # other parameters are the routes' business
    ],
)
def test_a_query_is_read_as_fastapi_reads_it(query: str, expected: CoverageParams) -> None:
    assert CoverageParams.from_query(QueryParams(query)) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("max_km=abc", "max_km must be between 0 and 200, got 'abc'"),
        ("max_km=true", "max_km must be between 0 and 200, got 'true'"),
        ("max_km=", "max_km must be between 0 and 200, got ''"),
        ("max_km=nan", "max_km must be between 0 and 200, got nan"),
        ("max_km=5000", "max_km must be between 0 and 200, got 5000"),
        ("rural_max_density=1e9", "rural_max_density must be above 0 and at most 100000, got 1e9"),
        ("count_departmental=maybe", "count_departmental must be true or false, got 'maybe'"),
        ("count_departmental=", "count_departmental must be true or false, got ''"),
        ("reach=ALL", "reach must be one of direct, all, got 'ALL'"),
        ("year=deux-mille", "year='deux-mille': expected a year of a call for projects"),
        ("year=", "year='': expected a year"),
        ("status=", "status='': expected one of"),
        ("max_km=12&max_km=13", "max_km is given 2 times with different values: give it once"),
        ("max_km=abc&max_km=12", "max_km must be between 0 and 200, got 'abc'"),  # each value read
    ],
)
def test_a_query_value_refused_names_it(query: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        CoverageParams.from_query(QueryParams(query))
    assert str(refused.value).startswith(message)


def test_a_plain_mapping_is_read_too_and_a_conflict_may_be_another_error() -> None:
    assert CoverageParams.from_query({"max_km": "15", "reach": "all"}) == CoverageParams(max_km=15, reach="all")
    with pytest.raises(BadRequestError, match="reach is given 2 times"):
        CoverageParams.from_query(QueryParams("reach=all&reach=direct"), conflict=BadRequestError)


def test_the_query_names_and_values_as_understood() -> None:
    query = QueryParams("count_departmental=Yes&max_km=12.0&callback=evil&reach=all")
    assert CoverageParams.given(query) == ["max_km", "count_departmental", "reach"]
    params = CoverageParams.from_query(query)
    assert params.query_pairs(CoverageParams.given(query)) == [
        ("max_km", "12"),
        ("count_departmental", "true"),
        ("reach", "all"),
    ]


def test_every_field_is_described_in_english_and_french() -> None:
    for name, field in CoverageParams.model_fields.items():
        assert field.description and len(field.description) > 20, name
        assert len(CoverageParams.description_fr(name)) > 20, name
    schema = CoverageParams.model_json_schema()["properties"]
    assert schema["max_km"]["maximum"] == 200 and schema["max_km"]["minimum"] == 0
    assert "zone blanche" in schema["max_km"]["description_fr"]
    assert CoverageParams.field_schema("max_km") == {"type": "number", "minimum": 0, "maximum": 200}
    assert CoverageParams.choices("reach") == ("direct", "all") and CoverageParams.choices("max_km") is None
