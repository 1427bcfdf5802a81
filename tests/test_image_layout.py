"""The Docker image's layout, without Docker: the service started as the image starts it, from a read-only copy of
the application, as an unprivileged user, with the ENV of the Dockerfile's final stage (paths under its WORKDIR and
its VOLUME mapped into a temporary folder). The store must land in the volume; the old layout, which kept it in the
read-only data folder, must not start, and must say why."""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import free_port, stop

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"
# what the image copies into its WORKDIR and the service reads (node_modules only serves map pages: left out)
APP_PARTS = ("geo_service", "boundaries", "data")
START_DEADLINE_S = 30.0


@dataclass(frozen=True)
class FinalStage:
    """What the Dockerfile's last stage sets: its ENV, WORKDIR, VOLUME, USER, and who a RUN chowns the volume to."""

    env: dict[str, str]
    workdir: str
    volume: str | None
    user: str
    volume_owner: str | None


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each instruction, continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    logical.append(pending)
    split = (line.split(None, 1) for line in logical)
    return [(parts[0].upper(), parts[1] if len(parts) > 1 else "") for parts in split if parts]


def parse_final_stage(text: str) -> FinalStage:
    instructions = _instructions(text)
    starts = [i for i, (name, _) in enumerate(instructions) if name == "FROM"]
    assert starts, f"no FROM in {DOCKERFILE}"
    env: dict[str, str] = {}
    workdir = "/"
    volumes: list[str] = []
    user = "root"
    chowns: list[list[str]] = []
    for name, arguments in instructions[starts[-1] + 1 :]:
        if name == "ENV":
            words = shlex.split(arguments)
            if words and "=" not in words[0]:  # the legacy form: ENV KEY value with spaces
                env[words[0]] = arguments.split(None, 1)[1] if len(words) > 1 else ""
            else:
                for word in words:
                    key, separator, value = word.partition("=")
                    assert separator, f"ENV word {word!r} in {DOCKERFILE} is not KEY=VALUE"
                    env[key] = value
        elif name == "WORKDIR":
            workdir = arguments.strip()
        elif name == "VOLUME":
            volumes += re.findall(r"[^\s\[\]\",]+", arguments)
        elif name == "USER":
            user = arguments.split(":")[0].strip()
        elif name == "RUN":
            commands = (shlex.split(command) for command in re.split(r"&&|\|\||;", arguments))
            chowns += [words[1:] for words in commands if words and words[0] == "chown"]
    assert len(volumes) <= 1, f"expected one VOLUME in the final stage of {DOCKERFILE}, found {volumes}"
    volume = volumes[0].rstrip("/") if volumes else None
    # chown [-R] OWNER[:GROUP] PATH...: the owner of the last chown naming the volume
    owners = [next(w for w in words if not w.startswith("-")) for words in chowns if volume in words]
    volume_owner = owners[-1].split(":")[0] if owners else None
    return FinalStage(env, workdir.rstrip("/"), volume, user, volume_owner)


def test_parse_final_stage() -> None:
    text = """FROM node AS assets
ENV NOT_MINE=1
# ENV COMMENTED=1
FROM python
ENV A=1 \\
    B="two words" \\
    C=/app/data
ENV LEGACY some value
WORKDIR /app
RUN useradd geo && mkdir -p /var/lib/x \\
    && chown -R geo:geo /var/lib/x
VOLUME ["/var/lib/x"]
USER geo
"""
    stage = parse_final_stage(text)
    assert stage.env == {"A": "1", "B": "two words", "C": "/app/data", "LEGACY": "some value"}
    assert (stage.workdir, stage.volume, stage.user, stage.volume_owner) == ("/app", "/var/lib/x", "geo", "geo")
    assert parse_final_stage("FROM python\nVOLUME /var/lib/x\n").volume_owner is None
    assert parse_final_stage("FROM python\n").volume is None


@dataclass(frozen=True)
class Image:
    """The image's file system in a temporary folder: the read-only app, and the volume; ``user`` plays the image's
    USER, and owns the volume if the Dockerfile gives the volume to that USER."""

    root: Path
    app: Path
    volume: Path
    stage: FinalStage
    user: pwd.struct_passwd

    def env(self, **overrides: str | None) -> dict[str, str]:
        """The Dockerfile's ENV with its paths mapped here, and these changes (None: unset)."""

        def mapped(value: str) -> str:
            if self.stage.volume:
                value = value.replace(self.stage.volume, str(self.volume))
            if self.stage.workdir:  # "/app" and "/app/..." (not "/application")
                value = re.sub(rf"(?<![\w.]){re.escape(self.stage.workdir)}(?=/|$)", str(self.app), value)
            return value

        env = {key: mapped(value) for key, value in self.stage.env.items()}
        # not os.environ: the test session's own GEO_SERVICE_* (its store) must not leak into the "container"
        env |= {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(self.app), "HOME": str(self.root)}
        env["GEO_SERVICE_HOST"] = "127.0.0.1"  # the image listens on 0.0.0.0; here, loopback is enough
        for key, value in overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env


def _make_read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(stat.S_IMODE(path.stat().st_mode) & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


@pytest.fixture(scope="module")
def image() -> Iterator[Image]:
    if os.geteuid() != 0:
        pytest.skip(f"runs the service as another user, which needs root (euid {os.geteuid()}); CI runs as root")
    user = pwd.getpwnam("nobody")
    stage = parse_final_stage(DOCKERFILE.read_text(encoding="utf-8"))
    assert stage.user not in ("root", "0"), f"the image runs as USER {stage.user!r}: it should not be root"
    root = Path(tempfile.mkdtemp(prefix="geo-image-"))  # not pytest's tmp_path: that one is private to root
    try:
        root.chmod(0o755)
        app = root / "app"
        app.mkdir()
        ignore = shutil.ignore_patterns("__pycache__", "*.sqlite3*")
        for part in APP_PARTS:
            shutil.copytree(REPO / part, app / part, ignore=ignore)
        _make_read_only(app)  # /app is root's in the image, and the runtime user cannot write there
        volume = root / "volume"
        volume.mkdir()  # created by root, as the image's VOLUME or RUN mkdir does
        if stage.volume and stage.volume_owner == stage.user:  # the image's RUN chown USER
            os.chown(volume, user.pw_uid, user.pw_gid)
        yield Image(root, app, volume, stage, user)
    finally:
        shutil.rmtree(root)  # root removes read-only folders alike


@dataclass(frozen=True)
class AsUser:
    """How to run a program as the image's user: a command prefix, or Popen's own user switch."""

    prefix: list[str]
    ids: dict[str, object]

    def popen(self, command: list[str], **kwargs) -> subprocess.Popen:
        return subprocess.Popen([*self.prefix, *command], **self.ids, **kwargs)


@pytest.fixture(scope="module")
def as_user(image: Image) -> AsUser:
    """Runs programs as ``image.user`` with this interpreter. The interpreter may live where that user cannot go (a
    venv's python linked into root's private home): setpriv then gives the process CAP_DAC_READ_SEARCH, reading and
    searching anywhere, while its writes are still checked against its own rights (what this test is about)."""
    user = image.user
    candidates = [AsUser([], {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []})]
    tried: list[str] = []
    setpriv = shutil.which("setpriv")
    if setpriv:
        ids = [f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
        cap = "dac_read_search"
        caps = [f"--inh-caps=+{cap}", f"--ambient-caps=+{cap}", f"--bounding-set=-all,+{cap}"]
        candidates.append(AsUser([setpriv, *ids, *caps], {}))
    else:
        tried.append("setpriv (util-linux) is not installed")
    probe = [sys.executable, "-c", "import geo_service; print(geo_service.__file__)"]
    for candidate in candidates:
        how = candidate.prefix[0] if candidate.prefix else "Popen(user=...)"
        try:
            process = candidate.popen(
                probe, env=image.env(), cwd=image.app, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        except OSError as exc:
            tried.append(f"{how}: {exc}")
            continue
        try:
            out, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        if process.returncode == 0:
            imported = Path(out.strip())
            assert imported.is_relative_to(image.app), f"geo_service came from {imported}, not the copy {image.app}"
            return candidate
        tried.append(f"{how}: exit {process.returncode}, {err.strip()[-300:]}")
    pytest.skip(f"{sys.executable} cannot run as {user.pw_name}: " + "; ".join(tried))


def start(image: Image, as_user: AsUser, env: dict[str, str], log: Path) -> tuple[subprocess.Popen, int]:
    """The service as the image's CMD starts it, on a free port; its output (both streams) goes to ``log``."""
    port = free_port()
    with log.open("wb") as output:
        server = as_user.popen(
            [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port)],
            env=env,
            cwd=image.app,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return server, port


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_healthy(server: subprocess.Popen, port: int) -> bool:
    """True once /healthz answers 200; False if the server exits first or the deadline passes."""
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        try:
            if get(port, "/healthz")[0] == 200:
                return True
        except OSError:  # not listening yet
            pass
        try:
            server.wait(timeout=0.1)  # the pause between two polls, cut short if the server exits
            return False
        except subprocess.TimeoutExpired:
            pass
    return False


@pytest.mark.slow  # another process (see MARKERS in tests/conftest.py)
def test_store_in_the_volume(image: Image, as_user: AsUser) -> None:
    log = image.root / "serve.log"
    server, port = start(image, as_user, image.env(), log)
    try:
        healthy = wait_healthy(server, port)
        exit_code = server.poll()
        assert healthy, f"the service did not start as the image runs it (exit {exit_code}):\n{log.read_text()[-3000:]}"
        status, body = get(port, "/api/v1/projects")  # reads only
        assert status == 200, body[:500]
    finally:
        stop(server)
    url = image.stage.env.get("GEO_SERVICE_DATABASE_URL", "")
    assert image.stage.volume, f"no VOLUME in {DOCKERFILE} for the store (GEO_SERVICE_DATABASE_URL={url!r})"
    prefix = f"sqlite:///{image.stage.volume}/"
    assert url.startswith(prefix), f"GEO_SERVICE_DATABASE_URL={url!r} in {DOCKERFILE} is not in its VOLUME"
    store = image.volume / url.removeprefix(prefix)
    assert store.is_file(), f"no store {store} in the volume: {sorted(p.name for p in image.volume.iterdir())}"
    assert store.stat().st_uid == image.user.pw_uid
    assert not list(image.app.rglob("*.sqlite3*")), "the service wrote a store into the read-only app"


@pytest.mark.slow  # another process (see MARKERS in tests/conftest.py)
def test_store_in_the_read_only_app_fails_clearly(image: Image, as_user: AsUser) -> None:
    """The image before the volume: no GEO_SERVICE_DATABASE_URL, so the store defaults to DATA_DIR, read-only."""
    log = image.root / "serve-read-only.log"
    server, port = start(image, as_user, image.env(GEO_SERVICE_DATABASE_URL=None), log)
    try:
        healthy = wait_healthy(server, port)
    finally:
        stop(server)
    output = log.read_text()
    assert not healthy, "the service started with its store in a folder its user cannot write"
    assert server.returncode != 0
    expected = image.app / "data" / "projects.sqlite3"
    assert f"cannot open the project store {expected}" in output, output[-3000:]


# The image installs requirements/app.lock, without the PostgreSQL driver (the optional 'postgis' extra): the
# embedded store must not need it, and a postgresql:// URL must say which extra is missing. Both run in a fresh
# interpreter where importing psycopg fails, as in that image.
WITHOUT_DRIVER = """
import sys
sys.modules["psycopg"] = sys.modules["psycopg_pool"] = None  # any import of them now raises ImportError
"""


def _run_without_driver(code: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GEO_SERVICE_")}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_DRIVER + code],
        env={**env, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow  # another process (see MARKERS in tests/conftest.py)
def test_sqlite_service_runs_without_the_driver(tmp_path: Path) -> None:
    result = _run_without_driver(f"""
from fastapi.testclient import TestClient
from geo_service import cli  # noqa: F401
from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR, Settings

settings = Settings(data_dir=REPO_DATA_DIR, database_url="sqlite:///{tmp_path / "projects.sqlite3"}")
with TestClient(create_app(settings)) as client:
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/projects").status_code == 200
""")
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow  # another process (see MARKERS in tests/conftest.py)
def test_postgis_url_without_the_driver_names_the_extra() -> None:
    result = _run_without_driver("""
from geo_service.errors import DataError
from geo_service.settings import Settings
from geo_service.store import open_store

try:
    open_store(Settings(database_url="postgresql://geo:s3cret@db.invalid:5432/geo"))
except DataError as exc:
    print(exc)
else:
    raise SystemExit("open_store did not fail")
""")
    assert result.returncode == 0, result.stderr[-3000:]
    message = result.stdout
    assert "pip install 'geo-service[postgis]'" in message
    assert "postgresql://geo:***@db.invalid:5432/geo" in message and "s3cret" not in message
