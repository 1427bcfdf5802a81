"""The catalogue after a write finds in the memo what the write left unchanged, and keeps no more than it uses."""

from __future__ import annotations

from geo_service.geocoding import Geocoder
from geo_service.memo import Memo
from geo_service.projects.catalogue import ProjectCatalogue, read_records
from geo_service.settings import REPO_DATA_DIR
from geo_service.territories import Boundaries


class CountingGeocoder:
    """The geocoder, counting the place texts it is asked to read."""

    def __init__(self, geocoder: Geocoder) -> None:
        self.geocoder, self.asked = geocoder, []
        self.gazetteer = geocoder.gazetteer

    def geocode(self, text: str, **kwargs):
        self.asked.append(text)
        return self.geocoder.geocode(text, **kwargs)


def _records():
    return [record for _, record in read_records(REPO_DATA_DIR / "projects")]


def test_an_edit_that_keeps_the_place_geocodes_nothing_and_the_projects_equal_a_fresh_build(
    boundaries: Boundaries, geocoder: Geocoder
) -> None:
    counting, memo = CountingGeocoder(geocoder), Memo()
    records = _records()
    ProjectCatalogue.from_records(records, boundaries, counting, memo=memo)
    assert len(counting.asked) == len(records)  # the 28 brochure records, each read once
    renamed = [r.model_copy(update={"name": r.name + " (renommée)"}) if i == 0 else r for i, r in enumerate(records)]
    after = ProjectCatalogue.from_records(renamed, boundaries, counting, memo=memo)
    assert len(counting.asked) == len(records)  # the renamed record's place was read before: not again
    fresh = ProjectCatalogue.from_records(renamed, boundaries, geocoder)
    assert after.version == fresh.version
    assert {i: p.model_dump() for i, p in after.projects.items()} == {
        i: p.model_dump() for i, p in fresh.projects.items()
    }


def test_the_memo_keeps_the_search_texts_of_the_latest_catalogue_only(
    boundaries: Boundaries, geocoder: Geocoder
) -> None:
    memo, records = Memo(), _records()
    for step in range(5):  # five writes, each renaming every project
        edited = [r.model_copy(update={"name": f"{r.name} {step}"}) for r in records]
        ProjectCatalogue.from_records(edited, boundaries, geocoder, memo=memo)
    assert memo.sizes()["catalogue.search_text"] == len(records)
