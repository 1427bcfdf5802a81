"""The programme's own figures: budget per year and projects selected, as the brochure gives them."""

from fastapi import APIRouter

from geo_service.api.deps import DataDep
from geo_service.api.errors import errors
from geo_service.errors import DataError
from geo_service.programme import Programme

router = APIRouter(prefix="/api/v1", tags=["programme"])


@router.get(
    "/programme",
    response_model=Programme,
    summary="Budget per year and projects selected, with the source",
    responses=errors(503),
)
def programme(data: DataDep) -> Programme:
    """From `data/programme.yaml` (the brochure's introduction). `projects_approximate` marks a count the brochure
    gives as "about" (2024: "une trentaine d'actions")."""
    if data.programme is None:
        raise DataError("the programme's figures are not loaded (data served without data/programme.yaml)")
    return data.programme
