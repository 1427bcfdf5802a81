"""A writer killed with SIGKILL at random moments loses nothing it acknowledged, and the store still opens."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from geo_service.store import ProjectStore

WRITER = r"""
import sys
from pathlib import Path
from geo_service.projects.models import ProjectRecord
from geo_service.store import ProjectStore

store = ProjectStore(Path(sys.argv[1]))
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
        time.sleep(rng.uniform(0.3, 1.2))
        writer.send_signal(signal.SIGKILL)
        out, _ = writer.communicate()
        acknowledged.extend(line for line in out.splitlines() if line.startswith("ecriture-"))
        store = ProjectStore(path)  # reopens after a crash: WAL recovery
        assert store.integrity_ok()
        stored = {record.id for record in store.records()}
        missing = [project_id for project_id in acknowledged if project_id not in stored]
        store.close()
        assert missing == [], f"round {round_number}: acknowledged but lost: {missing[:5]}"
    assert len(acknowledged) > 60  # the writer did get work done between kills
