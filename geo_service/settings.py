"""All configuration, read once from ``GEO_SERVICE_*`` environment variables (and a ``.env`` file)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_DIR = Path(__file__).resolve().parent.parent
REPO_DATA_DIR = REPO_DIR / "data"


def without_password(url: str) -> str:
    """A database URL as logs and error messages may show it."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


MIN_TOKEN_LENGTH = 16


def _check_token(where: str, token: str) -> None:
    """A write token short enough to guess is refused at start, with how to make a good one."""
    if token and len(token) < MIN_TOKEN_LENGTH:  # empty: no token, writes disabled
        raise ValueError(
            f"{where} has {len(token)} characters: write tokens need at least {MIN_TOKEN_LENGTH} "
            "(make one with: python -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )


class Settings(BaseSettings):
    """Service settings; every field maps to ``GEO_SERVICE_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="GEO_SERVICE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=REPO_DATA_DIR, description="Folder holding boundaries/, projects/ and geocoder/.")
    boundaries_dir: Path = Field(
        default_factory=lambda fields: fields["data_dir"] / "boundaries",
        description="Built boundaries (default: DATA_DIR/boundaries), e.g. a national build-boundaries output.",
    )
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "geo-service",
        description="Where the pinned source packages are downloaded for a boundaries build.",
    )
    database_url: str = Field(
        default="",
        description="Where projects (and, with PostGIS, boundaries) live: sqlite:///PATH (default: "
        "DATA_DIR/projects.sqlite3, seeded from projects/) or postgresql://USER:PASSWORD@HOST:PORT/DATABASE.",
    )
    admin_token: SecretStr | None = Field(default=None, description="Bearer token allowed to write (named 'admin').")
    admin_tokens: dict[str, SecretStr] = Field(
        default_factory=dict, description='Named write tokens, JSON: {"dreets": "...", "ddets80": "..."}.'
    )
    max_body_kb: int = Field(default=256, ge=1, description="Largest request body accepted (413 beyond).")
    import_ttl_s: int = Field(
        default=86400, ge=1, description="How long a spreadsheet import's preview is kept before it expires (s)."
    )
    cors_origins: list[str] = Field(
        default=["*"], description="Origins whose pages may read the API from a browser (GET and HEAD)."
    )
    write_origins: list[str] = Field(
        default_factory=list,
        description="Origins whose pages may also write from a browser (with a token); default none.",
    )
    public_url: str = Field(
        default="",
        description="The service's public address (e.g. https://carte.example.fr/): absolute URLs are built from "
        "it, never from the Host header, and only its host (and loopback) is answered.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names answered (400 for others); default: any, or the public URL's host and loopback.",
    )
    cache_control: str = Field(
        default="no-cache",
        description="Cache-Control of tiles and layers; ETags follow the data version, so revalidation is cheap.",
    )
    tile_cache_mb: int = Field(default=256, ge=0, description="Memory for encoded tiles (LRU).")
    expensive_running: int = Field(
        default=1,
        ge=1,
        description="Costly requests (pictures, new coverage parameters) computed at once: one by default, as they "
        "share one interpreter lock (bench/redteam.py: /healthz p50 35 ms with one, 88 ms with two).",
    )
    expensive_waiting: int = Field(
        default=32, ge=0, description="Costly requests that may wait their turn (429 beyond)."
    )
    expensive_per_client: int = Field(
        default=8, ge=1, description="Costly requests one client address may have running or waiting (429 beyond)."
    )
    # HTTP limits at the edge of the process (geo_service.server), for `geo-service serve` and the Docker image
    edge_max_header_kb: int = Field(
        default=16, ge=1, le=1024, description="Largest request head (request line and headers), in KB (431 beyond)."
    )
    edge_max_headers: int = Field(default=100, ge=1, le=10_000, description="Most header fields (431 beyond).")
    edge_header_timeout_s: float = Field(
        default=10.0, ge=0, description="Time for a request's head to arrive (408 beyond; 0: no limit)."
    )
    edge_body_timeout_s: float = Field(
        default=30.0, ge=0, description="Time for a request's body to arrive after its head (408 beyond; 0: none)."
    )
    edge_connections_per_address: int = Field(
        default=64,
        ge=0,
        description="Connections one client address may hold open per worker (503 beyond; 0: no limit). Behind a "
        "reverse proxy all come from the proxy: raise it, or let the proxy count (deploy/nginx).",
    )
    edge_keep_alive_s: float = Field(default=5.0, gt=0, description="Idle kept-alive connections close after this.")
    edge_limit_concurrency: int = Field(
        default=2000, ge=0, description="Connections and tasks at once per worker (503 beyond; 0: no limit)."
    )
    edge_graceful_shutdown_s: float = Field(
        default=5.0, gt=0, description="On SIGTERM, how long in-flight requests may finish before the process ends."
    )
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

    @field_validator("admin_token")
    @classmethod
    def _strong_token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None:
            _check_token("the token", token.get_secret_value())
        return token

    @field_validator("admin_tokens")
    @classmethod
    def _strong_tokens(cls, tokens: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, token in tokens.items():
            _check_token(f"token {name!r}", token.get_secret_value())
        return tokens

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, url: str) -> str:
        if not url:
            return url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"expected http(s)://host[:port][/path], got {url!r}")
        return url if url.endswith("/") else url + "/"

    def hosts(self) -> list[str]:
        """The host names answered; ``["*"]`` for any."""
        if self.allowed_hosts:
            return [host.lower() for host in self.allowed_hosts]
        if self.public_url:
            return [str(urlsplit(self.public_url).hostname).lower(), "127.0.0.1", "localhost", "::1"]
        return ["*"]

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if url and not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            scheme = url.split(":", 1)[0]
            raise ValueError(f"scheme {scheme!r} is not supported: use sqlite:///PATH or postgresql://...")
        return url

    @property
    def database_backend(self) -> Literal["sqlite", "postgis"]:
        return "postgis" if self.database_url.startswith(("postgresql://", "postgres://")) else "sqlite"

    @property
    def database_description(self) -> str:
        """The store as logs may show it (no password)."""
        if self.database_backend == "sqlite":
            return f"SQLite {self.database_path}"
        return f"PostGIS {without_password(self.database_url)}"

    @property
    def database_path(self) -> Path:
        """The SQLite file (the embedded backend only)."""
        if not self.database_url:
            return self.data_dir / "projects.sqlite3"
        return Path(self.database_url.removeprefix("sqlite:///"))

    def write_tokens(self) -> dict[str, str]:
        """Token value -> the name recorded in the history."""
        tokens = {secret.get_secret_value(): name for name, secret in self.admin_tokens.items()}
        if self.admin_token is not None:
            tokens[self.admin_token.get_secret_value()] = "admin"
        return {token: name for token, name in tokens.items() if token}

    @property
    def projects_dir(self) -> Path:
        return self.data_dir / "projects"

    @property
    def pays_aliases_path(self) -> Path:
        return self.data_dir / "geocoder" / "pays.yaml"

    @property
    def programme_path(self) -> Path:
        return self.data_dir / "programme.yaml"


@lru_cache
def get_settings() -> Settings:
    return Settings()
