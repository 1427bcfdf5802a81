"""Folding makes the spellings people use for one name the same key."""

from hypothesis import given
from hypothesis import strategies as st

from geo_service.geocoding.text import normalize, tokenize


def test_accents_case_hyphens_apostrophes_and_saint() -> None:
    assert normalize("Hénin-Carvin") == normalize("HENIN CARVIN") == "henin carvin"
    assert normalize("Communauté d’agglomération") == "communaute d agglomeration"
    assert normalize("St-Quentin") == normalize("Saint Quentin") == "saint quentin"
    assert normalize("Cœur d'Ostrevent") == "coeur d ostrevent"


def test_tokens_keep_their_place_in_the_original_text() -> None:
    text = "Ville d'Amiens, Lille"
    assert [text[t.start : t.end] for t in tokenize(text)] == ["Ville", "d", "Amiens", ",", "Lille"]


@given(st.text(max_size=60))
def test_normalize_is_idempotent_and_never_fails(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert once == once.strip() and "  " not in once
