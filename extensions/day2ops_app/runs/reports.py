"""A run's reports: the files its playbook wrote into the app's state directory (DAY2OPS_STATE_DIR) for
people to read (DR and drill reports, template releases, migration waves, chargeback), copied into the
run's own directory when it ends and served only from there."""

from __future__ import annotations

import re
from pathlib import Path

REPORTS = "reports"
# What people read; journals (.jsonl) and the chargeback trend are the state the next run reads.
SUFFIXES = (".json", ".md", ".csv", ".html")
SHARED = ("trend.csv",)
MAX_REPORTS = 50


def _is_report(path: Path) -> bool:
    return path.is_file() and path.suffix in SUFFIXES and path.name not in SHARED


def run_reports(state_dir: Path, execution_id: str, stdout: list[str]) -> list[Path]:
    """The reports of one run: the files under the state directory whose name carries the run's id (the
    roles name their reports by DAY2OPS_RUN_ID), and those its output names (a chargeback's, by date)."""
    if not state_dir.is_dir():
        return []
    state = state_dir.resolve()
    found = {p for p in state.rglob(f"*{execution_id}*") if _is_report(p)}
    named = re.compile(re.escape(str(state)) + r"/[^\s'\",()\]\\]+")
    for line in stdout:
        for match in named.findall(line):
            path = Path(match).resolve()
            if path.is_relative_to(state) and _is_report(path):
                found.add(path)
    return sorted(found)[:MAX_REPORTS]


def list_reports(run_dir: Path) -> list[dict]:
    directory = run_dir / REPORTS
    files = sorted(p for p in directory.iterdir() if p.is_file()) if directory.is_dir() else []
    return [{"name": p.name, "bytes": p.stat().st_size} for p in files]


def report_file(run_dir: Path, name: str) -> Path | None:
    """The report of that name in the run's own report directory; None for any other path (`../`, an
    absolute path, a link out of it)."""
    directory = (run_dir / REPORTS).resolve()
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        return None
    path = (directory / name).resolve()
    return path if path.parent == directory and path.is_file() else None
