"""Pure territory logic: code validation and lookups on the committed data."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boundaries.build import repack
from geo_service.errors import DataError, InvalidInputError, NotFoundError
from geo_service.territories import CODE_EXAMPLES, LEVELS, Boundaries, check_code


@pytest.mark.parametrize("level", LEVELS)
def test_documented_examples_are_valid_codes(level: str) -> None:
    assert check_code(level, CODE_EXAMPLES[level]) == CODE_EXAMPLES[level]


@given(level=st.sampled_from(LEVELS), code=st.text(max_size=12))
def test_any_text_is_either_a_valid_code_or_a_named_error(level: str, code: str) -> None:
    try:
        check_code(level, code)
    except InvalidInputError as exc:
        assert repr(code) in str(exc) and level in str(exc)


def test_corsican_and_overseas_codes_are_well_formed() -> None:
    assert check_code("commune", "2A004") and check_code("departement", "971")
    with pytest.raises(InvalidInputError):
        check_code("departement", "2C")


def test_unknown_level_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="unknown level 'canton'"):
        check_code("canton", "1")


def test_parents_and_children(boundaries: Boundaries) -> None:
    amiens = boundaries.get("commune", "80021")
    assert amiens.name == "Amiens"
    assert amiens.parents["departement"] == {"code": "80", "name": "Somme"}
    assert amiens.parents["epci"]["code"] == "248000531"  # CA Amiens Métropole
    region = boundaries.get("region", "32")
    assert (region.children_level, region.children_count) == ("departement", 5)
    assert boundaries.get("departement", "80").children_count == 4  # Abbeville, Amiens, Montdidier, Péronne


def test_a_data_file_edited_behind_the_manifest_is_refused(data_copy: Path) -> None:
    communes = data_copy / "boundaries" / "commune.geojson"
    communes.write_text(communes.read_text("utf-8").replace('"Amiens"', '"Amiens-Ville"'), "utf-8")
    with pytest.raises(DataError, match=r"commune\.geojson does not match the checksum"):
        Boundaries.load(data_copy / "boundaries")


@pytest.mark.slow  # repacks the région's communes (see MARKERS in tests/conftest.py)
def test_data_version_follows_the_data(data_copy: Path, boundaries: Boundaries) -> None:
    folder = data_copy / "boundaries"
    assert Boundaries.load(folder).version == boundaries.version
    communes = folder / "commune.geojson"
    communes.write_text(communes.read_text("utf-8").replace('"Amiens"', '"Amiens-Ville"'), "utf-8")
    repack(folder, progress=lambda _: None)
    edited = Boundaries.load(folder)
    assert edited.version != boundaries.version
    assert edited.get("commune", "80021").name == "Amiens-Ville"
