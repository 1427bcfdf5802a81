"""All configuration, read once from ``GEO_SERVICE_*`` environment variables (and a ``.env`` file)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_DIR = Path(__file__).resolve().parent.parent
REPO_DATA_DIR = REPO_DIR / "data"


class Settings(BaseSettings):
    """Service settings; every field maps to ``GEO_SERVICE_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="GEO_SERVICE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=REPO_DATA_DIR, description="Folder holding boundaries/, projects/ and geocoder/.")
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "geo-service",
        description="Where the pinned source packages are downloaded for a boundaries build.",
    )
    cors_origins: list[str] = Field(default=["*"], description="Origins allowed to read the API (GET only).")
    cache_control: str = Field(
        default="no-cache",
        description="Cache-Control of tiles and layers; ETags follow the data version, so revalidation is cheap.",
    )
    tile_cache_mb: int = Field(default=256, ge=0, description="Memory for encoded tiles (LRU).")
    benchmark_routes: bool = Field(default=False, description="Serve /_bench/fixed/... (fixed bytes) for bench/.")
    node_modules_dir: Path = Field(
        default=REPO_DIR / "node_modules", description="Where 'npm ci' installed the front-end libraries."
    )
    frame_ancestors: str = Field(
        default="*",
        description="Who may show the pages in an <iframe> (CSP frame-ancestors), e.g. 'self' https://pat.fr",
    )
    basemap_url: str = Field(
        default="",
        description="Opt-in XYZ basemap under the map (e.g. the IGN plan); empty: none, no third-party request.",
    )
    basemap_attribution: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"

    @property
    def boundaries_dir(self) -> Path:
        return self.data_dir / "boundaries"

    @property
    def projects_dir(self) -> Path:
        return self.data_dir / "projects"

    @property
    def pays_aliases_path(self) -> Path:
        return self.data_dir / "geocoder" / "pays.yaml"


@lru_cache
def get_settings() -> Settings:
    return Settings()
