"""The stage times of the last `make test` on this machine, as scripts/test-stages.sh recorded them
(build/test-stages.json); nothing when the suite has not run here since."""

import json
from pathlib import Path

from table import Figure

RECORD = Path(__file__).resolve().parents[2] / "build" / "test-stages.json"
TARGET_S = 20 * 60


def figures() -> list[Figure]:
    if not RECORD.is_file():
        return []
    record = json.loads(RECORD.read_text())
    rows = [Figure("make test", f"stage {s['stage']}", s["seconds"], "s") for s in record["stages"]]
    total = record["total_seconds"]
    complete = record["complete"]
    rows.append(
        Figure(
            "make test",
            f"whole suite ({record['workers']} workers, {'all stages' if complete else 'stopped early'})",
            total,
            "s",
            TARGET_S,
            "20 minutes",
            "<= 20 min",
            complete and total <= TARGET_S,
        )
    )
    return rows
