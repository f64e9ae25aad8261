"""What a run's record says in people's words: why a task failed (the module's msg in the event's output),
the per-VM part of a batch module's result (each VM its own Prism tasks, its recovery point and when it
expires), and the failure summary a run page leads with. Pure functions over ansible-runner events and
module results, so they are tested with the shapes runner and the modules produce."""

from __future__ import annotations

import json

FAILED = ("failed", "unreachable")
# The per-VM keys a result entry may carry, as the collection's modules name them.
_VM_FIELDS = (
    "vm_name",
    "status",
    "reason",
    "recovery_point_ext_id",
    "recovery_point_name",
    "expiration_time",
    "power_state",
)


def failure_reason(stdout: str) -> str:
    """The module's msg in a failed or unreachable event's output (`fatal: [web01]: FAILED! => {...}`);
    the output's first line when it carries no result."""
    start = stdout.find("=> {")
    if start >= 0:
        try:
            result, _ = json.JSONDecoder().raw_decode(stdout, start + 3)
        except ValueError:
            result = None
        if isinstance(result, dict):
            text = result.get("msg") or result.get("stderr") or result.get("reason") or ""
            return " ".join(str(text).split())
    return stdout.strip().splitlines()[0] if stdout.strip() else ""


def _task_ids(entry: dict) -> list[str]:
    ids = [entry.get("task_ext_id"), entry.get("revert_task_ext_id"), *(entry.get("task_ext_ids") or [])]
    return list(dict.fromkeys(i for i in ids if isinstance(i, str) and i))


def _vm_entry(ext_id: str, entry: dict) -> dict:
    found = {"ext_id": ext_id, "task_ext_ids": _task_ids(entry)}
    found.update({k: entry[k] for k in _VM_FIELDS if entry.get(k) not in (None, "")})
    return found


def vm_results(result) -> list[dict]:
    """Per VM, what one module result says of it: a batch's `results` entries (each VM its own tasks,
    status, reason, recovery point), or a recovery point or revert of one VM. [] when it names no VM."""
    if not isinstance(result, dict):
        return []
    entries = [e for e in result.get("results") or [] if isinstance(e, dict) and e.get("vm_ext_id")]
    if entries:
        return [_vm_entry(e["vm_ext_id"], e) for e in entries]
    if result.get("vm_ext_id"):
        return [_vm_entry(result["vm_ext_id"], result)]
    vms = result.get("vm_ext_ids") or []
    if result.get("expiration_time") is not None and result.get("ext_id") and len(vms) == 1:
        point = {"recovery_point_ext_id": result["ext_id"], "recovery_point_name": result.get("name")}
        return [_vm_entry(vms[0], {**result, **point})]
    return []


def _failures(events: list[dict]) -> dict[str, dict]:
    """Per host, its last failure that was not ignored: task, status and the module's reason."""
    found = {}
    for event in events:
        status = {"runner_on_failed": "failed", "runner_on_unreachable": "unreachable"}.get(event["event"])
        if status and event.get("host") and "...ignoring" not in (event.get("stdout") or ""):
            reason = failure_reason(event.get("stdout") or "")
            found[event["host"]] = {"task": event.get("task") or "", "status": status, "reason": reason}
    return found


def _left_behind(details: list[dict], names: dict[str, str]) -> list[dict]:
    """Recovery points the run took and keeps until they expire, and VMs it last saw powered off."""
    left, seen = [], set()
    for vm in details:
        point = vm.get("recovery_point_ext_id")
        if point and point not in seen and vm.get("status") != "failed":
            seen.add(point)
            left.append(
                {
                    "kind": "recovery_point",
                    "ext_id": point,
                    "name": vm.get("recovery_point_name") or point,
                    "vm": names.get(vm["ext_id"], vm.get("vm_name") or vm["ext_id"]),
                    "vm_ext_id": vm["ext_id"],
                    "expiration_time": vm.get("expiration_time"),
                }
            )
    power = {vm["ext_id"]: vm["power_state"] for vm in details if vm.get("power_state")}
    left += [
        {"kind": "powered_off", "vm": names.get(ext_id, ext_id), "vm_ext_id": ext_id}
        for ext_id, state in power.items()
        if state == "OFF"
    ]
    return left


def summarize(status: str, events: list[dict], rows: list[dict], details: list[dict], names: dict) -> dict:
    """The failure summary of an ended run: which VMs failed (name, step, the module's reason), which
    were rolled back after a failure, what failed on the controller, and what the run left behind.
    `rows` are the per-VM rows (host_progress), `details` the per-VM module results (vm_results),
    `names` VM ext_id -> name."""
    failures = _failures(events)
    by_host = {row["host"]: row for row in rows}
    failed = [
        {"host": host, "vm": by_host[host].get("name") or host, **found}
        for host, found in failures.items()
        if by_host.get(host, {}).get("status") in FAILED
    ]
    failed += [
        {
            "host": vm["ext_id"],
            "vm": names.get(vm["ext_id"], vm.get("vm_name") or vm["ext_id"]),
            "task": "",
            "status": "failed",
            "reason": vm.get("reason") or "",
        }
        for vm in details
        if vm.get("status") == "failed" and vm["ext_id"] not in {f["host"] for f in failed}
    ]
    controller = [
        {"host": host, **found}
        for host, found in failures.items()
        if host not in by_host and not any(f["host"] == host for f in failed)
    ]
    return {
        "status": status,
        "failed": failed,
        "recovered": [row["name"] or row["host"] for row in rows if row.get("recovered")],
        "controller": controller,
        "left_behind": _left_behind(details, names) if (failed or controller or status == "failed") else [],
    }
