"""Per VM progress of a run, from its stored events and evidence: the steps each host went through,
each with its outcome and the Prism task ids it started (each VM its own, where a batch module said which
were whose)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from day2ops_app.audit.store import TERMINAL
from day2ops_app.db.tables import Event, Evidence, Execution

RESULTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}
CONTROLLER = ("localhost", "127.0.0.1")
# Beside the run's private directory: per event, what its module result said of each VM (story.vm_results).
# The chained evidence keeps every id of a batch together; this file only says whose each one is.
VM_RESULTS = "vm_results.jsonl"


def vm_results_file(run_dir: Path) -> Path:
    return run_dir / VM_RESULTS


def read_vm_results(run_dir: Path) -> dict[tuple[str, str], dict]:
    """(event uuid, VM ext_id) -> that VM's part of the event's module result."""
    path = vm_results_file(run_dir)
    found = {}
    for line in path.read_text().splitlines() if path.is_file() else []:
        kept = json.loads(line)
        for vm in kept["vms"]:
            found[(kept["uuid"], vm["ext_id"])] = vm
    return found


def _step(task: str, status: str, evidence: Evidence | None, own: dict | None = None) -> dict:
    """One step; `own` is this VM's part of a batch result: its tasks and outcome, not the batch's."""
    if own is not None and own.get("status") == "failed":
        status = "failed"
    return {
        "task": task,
        "status": status,
        "task_ext_ids": own["task_ext_ids"] if own else list(evidence.task_ext_ids) if evidence else [],
        "recovery_point_ext_ids": (
            [own["recovery_point_ext_id"]]
            if own and own.get("recovery_point_ext_id")
            else list(evidence.recovery_point_ext_ids)
            if evidence
            else []
        ),
    }


def host_progress(session: Session, execution_id: str, per_vm: dict | None = None) -> dict:
    """{"rows": [{host, status, percent, steps}]}. Hosts are the run's inventory hosts (the VMs); a run
    on the controller alone (DR, chargeback) gets a row per VM its evidence names instead, each step
    with that VM's own part of the result where `per_vm` (read_vm_results) has it."""
    per_vm = per_vm or {}
    execution = session.get(Execution, execution_id)
    events = session.scalars(
        select(Event).where(Event.execution_id == execution_id).order_by(Event.counter)
    ).all()
    evidence = {
        e.event_uuid: e
        for e in session.scalars(
            select(Evidence).where(Evidence.execution_id == execution_id).order_by(Evidence.id)
        )
    }
    rows: dict[str, list[dict]] = {}
    running: dict[str, str] = {}
    for event in events:
        if not event.host:
            continue
        if event.event == "runner_on_start":
            running[event.host] = event.task or ""
            continue
        status = RESULTS.get(event.event)
        if status is None:
            continue
        if status == "ok" and event.stdout.startswith("changed"):
            status = "changed"
        running.pop(event.host, None)
        rows.setdefault(event.host, []).append(_step(event.task or "", status, evidence.get(event.uuid)))
    if not set(rows) - set(CONTROLLER):
        rows = {}
        for found in evidence.values():
            for vm in found.vm_ext_ids:
                own = per_vm.get((found.event_uuid, vm))
                rows.setdefault(vm, []).append(_step(found.task, found.status, found, own))
    else:
        rows = {h: steps for h, steps in rows.items() if h not in CONTROLLER}
    ended = execution.status in TERMINAL
    most = max((len(steps) for steps in rows.values()), default=0)
    return {
        "status": execution.status,
        "rows": [
            _row(host, steps, None if ended else running.get(host), ended, most)
            for host, steps in sorted(rows.items())
        ],
    }


def _row(host: str, steps: list[dict], current: str | None, ended: bool, most: int) -> dict:
    """One VM: `failed` or `unreachable` as its last step ended; `recovered` when a step failed and the
    run went on for it; the bar relative to the furthest VM, full only for a VM that got through."""
    done = len(steps)
    share = round(100 * done / max(most, 1))
    if current:
        steps = [*steps, _step(current, "running", None)]
    last = steps[-1]["status"] if steps else None
    failed_last = last in ("failed", "unreachable")
    failed_any = any(s["status"] in ("failed", "unreachable") for s in steps)
    return {
        "host": host,
        "status": last if failed_last else ("done" if ended else "running"),
        "recovered": failed_any and not failed_last,
        "percent": min(share, 99) if failed_last else 100 if ended else share,
        "steps": steps,
    }
