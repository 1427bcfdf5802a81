"""The programme's own figures: budget per year and projects selected, as the brochure gives them."""

from fastapi import APIRouter, Request

from geo_service.api.errors import errors
from geo_service.programme import Programme, load_programme

router = APIRouter(prefix="/api/v1", tags=["programme"])


@router.get(
    "/programme",
    response_model=Programme,
    summary="Budget per year and projects selected, with the source",
    responses=errors(503),  # the figures are read from their file at each request
)
def programme(request: Request) -> Programme:
    """From `data/programme.yaml` (the brochure's introduction). `projects_approximate` marks a count the brochure
    gives as "about" (2024: "une trentaine d'actions")."""
    return load_programme(request.app.state.settings.programme_path)
