"""Per VM progress of a run, from its stored events and evidence: the steps each host went through,
each with its outcome and the Prism task ids it started."""

from __future__ import annotations

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


def _step(task: str, status: str, evidence: Evidence | None) -> dict:
    return {
        "task": task,
        "status": status,
        "task_ext_ids": list(evidence.task_ext_ids) if evidence else [],
        "recovery_point_ext_ids": list(evidence.recovery_point_ext_ids) if evidence else [],
    }


def host_progress(session: Session, execution_id: str) -> dict:
    """{"rows": [{host, status, percent, steps}]}. Hosts are the run's inventory hosts (the VMs); a run
    on the controller alone (DR, chargeback) gets a row per VM its evidence names instead."""
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
                rows.setdefault(vm, []).append(_step(found.task, found.status, found))
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
    """One VM: `failed` when its last step failed; `recovered` when a step failed and the run went on
    for it (a safe patch's revert after a failed probe); the bar relative to the furthest VM."""
    done = len(steps)
    if current:
        steps = [*steps, _step(current, "running", None)]
    failed_last = bool(steps) and steps[-1]["status"] in ("failed", "unreachable")
    failed_any = any(s["status"] in ("failed", "unreachable") for s in steps)
    return {
        "host": host,
        "status": "failed" if failed_last else ("done" if ended else "running"),
        "recovered": failed_any and not failed_last,
        "percent": 100 if ended else round(100 * done / max(most, 1)),
        "steps": steps,
    }
