"""A writer killed with SIGKILL at random moments loses nothing it acknowledged, and the store still opens:
the store driven directly, then the service itself killed while a client posts projects."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from geo_service.store import SqliteStore
from tests.servers import free_port, serve, wait_for

pytestmark = pytest.mark.slow  # kills processes it started (see MARKERS in tests/conftest.py): not the inner loop

WRITER = r"""
import sys
from pathlib import Path
from geo_service.projects.models import ProjectRecord
from geo_service.store import SqliteStore

store = SqliteStore(Path(sys.argv[1]))
start = int(sys.argv[2])
for n in range(start, start + 100000):
    record = ProjectRecord(id=f"ecriture-{n}", organisation="Test", name=f"Écriture {n}", duration_years=1,
                           place_text="Ville d'Amiens", actions=["x" * 2000])
    if n % 3 == 0 and n > start:
        store.replace(f"ecriture-{n - 1}", record.model_copy(update={"id": f"ecriture-{n - 1}"}), "crash-test")
    store.create(record, "crash-test")
    print(record.id, flush=True)  # acknowledged: committed before this line is written
"""


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    acknowledged: list[str] = []
    rng = random.Random(20261125)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    for round_number in range(6):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(round_number * 10000)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        # the kill lands after a random number of acknowledged writes, whatever the machine's speed, while the
        # writer is already in its next transaction
        assert writer.stdout is not None
        for _ in range(rng.randint(1, 40)):
            line = writer.stdout.readline()
            assert line, f"round {round_number}: the writer stopped before it was killed"
            acknowledged.append(line.strip())
        writer.send_signal(signal.SIGKILL)
        out, _ = writer.communicate()
        acknowledged.extend(line for line in out.splitlines() if line.startswith("ecriture-"))
        store = SqliteStore(path)  # reopens after a crash: WAL recovery
        assert store.integrity_ok()
        stored = {record.id for record in store.records()}
        missing = [project_id for project_id in acknowledged if project_id not in stored]
        store.close()
        assert missing == [], f"round {round_number}: acknowledged but lost: {missing[:5]}"
    assert len(acknowledged) >= 6  # at least one acknowledged write per round, by construction


def test_writes_acknowledged_over_http_survive_a_killed_server(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite3"
    acknowledged: list[str] = []
    rng = random.Random(7)
    port = free_port()
    env = {"GEO_SERVICE_DATABASE_URL": f"sqlite:///{store}", "GEO_SERVICE_ADMIN_TOKEN": "crash-test-token-1234"}
    for round_number in range(3):
        server = serve(port, env)
        stop = threading.Event()

        def post_until_killed(first: int = round_number * 1000, stop: threading.Event = stop) -> None:
            for n in range(first, first + 1000):
                if stop.is_set():
                    return
                body = json.dumps(
                    {
                        "id": f"http-{n}",
                        "organisation": "Test",
                        "name": f"Projet {n}",
                        "duration_years": 1,
                        "place_text": "Ville de Longueau",
                    }
                ).encode()
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v1/projects",
                    data=body,
                    method="POST",
                    headers={"Authorization": "Bearer crash-test-token-1234", "Content-Type": "application/json"},
                )
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        if 200 <= response.status < 300:
                            acknowledged.append(f"http-{n}")
                except OSError:
                    return  # the server died mid-request: not acknowledged

        client = threading.Thread(target=post_until_killed)
        client.start()
        # the kill lands after a random number of acknowledged writes (not after a time: CI machines are loaded),
        # while the client is already sending the next one
        wanted = len(acknowledged) + rng.randint(1, 10)

        def enough(wanted: int = wanted, client: threading.Thread = client) -> bool:
            return len(acknowledged) >= wanted or not client.is_alive()

        wait_for(enough, "acknowledged writes", 120)
        server.send_signal(signal.SIGKILL)
        server.wait()
        stop.set()
        client.join(timeout=20)
    reopened = SqliteStore(store)
    assert reopened.integrity_ok()
    stored = {record.id for record in reopened.records()}
    assert acknowledged and [i for i in acknowledged if i not in stored] == []
