"""The evidence one module result carries, in the audit record's shape: which Prism (or Move) tasks
ran, which entities they touched. The app's runs and the collection's `audit` callback both store
results through the audit store, which reads them with this one function, so a run recorded either
way has the same record.
"""

from __future__ import annotations

# Keys whose values are ids, by the evidence field they belong to. `ext_id` alone is the entity the
# module acts on; its kind comes from the module's name (see _ENTITY_BY_MODULE).
_TASK_KEYS = ("task_ext_id", "task_ext_ids", "revert_task_ext_id", "power_task_ext_ids")
_VM_KEYS = ("vm_ext_id", "vm_ext_ids", "restored_vm_ext_ids")
_RECOVERY_POINT_KEYS = (
    "recovery_point_ext_id",
    "recovery_point_ext_ids",
    "replica_ext_id",
    "vm_recovery_point_ext_id",
    "vm_recovery_point_ext_ids",
)
_MIGRATION_KEYS = (
    "plan_uuid",
    "workload_uuid",
    "workload_uuids",
    "source_vm_id",
    "source_vm_name",
    "source_instance_uuid",
    "target_vm_ext_id",
    "target_vm_ext_ids",
    "provider_uuid",
)
# Result keys that carry a migration id under vCenter's own name, per module.
_MIGRATION_ALIASES = {"vcenter_vm_power": {"vm_id": "source_vm_id", "instance_uuid": "source_instance_uuid"}}
# The AHV VMs a migration made are VMs like any other in the record, besides the migration's ids.
_TARGET_VM_KEYS = ("target_vm_ext_id", "target_vm_ext_ids")
# Entities with no evidence field of their own (templates, their versions): kept as plain ext_ids.
_ENTITY_KEYS = ("ext_id", "ext_ids", "version_ext_id")
_EXT_ID_FIELD = {
    "recovery_point": "recovery_point_ext_ids",
    "vm": "vm_ext_ids",
    "vm_power": "vm_ext_ids",
    "vm_categories": "vm_ext_ids",
}
# Results stay small (ansible-runner drops event payloads past MAX_EVENT_RES), yet a batch module may
# still list hundreds of VMs: bound the walk so one result never costs more than this many ids a field.
MAX_IDS = 5000
MAX_DEPTH = 5


def _add(found, field, value):
    values = value if isinstance(value, list) else [value]
    bucket = found[field]
    for item in values:
        if isinstance(item, str) and item and item not in bucket and len(bucket) < MAX_IDS:
            bucket.append(item)


def _add_migration(found, key, value):
    """One id kept as a string; a second, different one (a wave of VMs) turns the entry into a list."""
    key = key[:-1] if key.endswith("_ids") or key.endswith("_uuids") else key
    values = value if isinstance(value, list) else [value]
    for item in values:
        if not isinstance(item, str) or not item:
            continue
        current = found["migration"].get(key)
        if current is None:
            found["migration"][key] = item
        elif isinstance(current, list):
            if item not in current and len(current) < MAX_IDS:
                current.append(item)
        elif current != item:
            found["migration"][key] = [current, item]


def _walk(value, found, depth):
    if depth > MAX_DEPTH:
        return
    if isinstance(value, list):
        for item in value:
            _walk(item, found, depth + 1)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key in _TASK_KEYS:
            _add(found, "task_ext_ids", item)
        elif key in _MIGRATION_KEYS:
            _add_migration(found, key, item)
            if key in _TARGET_VM_KEYS:
                _add(found, "vm_ext_ids", item)
        elif key in _VM_KEYS:
            _add(found, "vm_ext_ids", item)
        elif key in _RECOVERY_POINT_KEYS:
            _add(found, "recovery_point_ext_ids", item)
        elif key in _ENTITY_KEYS:
            _add(found, "ext_ids", item)
        elif isinstance(item, (dict, list)) and key not in ("invocation", "diff"):
            _walk(item, found, depth + 1)


def module_short_name(action):
    """`day2ops.ahv.recovery_point` -> `recovery_point`; other collections' actions are returned whole."""
    prefix = "day2ops.ahv."
    return action[len(prefix) :] if action and action.startswith(prefix) else action or ""


def evidence_from_result(action, result, failed=False):
    """The ids in one module result that changed something, failed or ran a task; None otherwise (a
    debug, a template, an info module listing VMs: not evidence of what was done). `failed` comes from
    the event: ansible-core 2.19 no longer puts `failed` in every failed result."""
    if not isinstance(result, dict):
        return None
    if not (failed or any(result.get(key) for key in ("changed", "failed", "task_ext_id", "task_ext_ids"))):
        return None
    found = {
        "task_ext_ids": [],
        "ext_ids": [],
        "vm_ext_ids": [],
        "recovery_point_ext_ids": [],
        "migration": {},
    }
    _walk(result, found, 0)
    # Only the result's own ext_id is the entity the module acted on; nested ones (a recovery point's
    # VM recovery points, say) stay plain ext_ids.
    short = module_short_name(action)
    for key, name in _MIGRATION_ALIASES.get(short, {}).items():
        _add_migration(found, name, result.get(key))
    field = _EXT_ID_FIELD.get(short)
    if field:
        _add(found, field, result.get("ext_id") or [])
        _add(found, field, result.get("ext_ids") or [])
    if not any(found.values()):
        return None
    return found


def task_status(event, result):
    """ok, changed, failed, skipped or unreachable, as ansible-runner and the callback API name them."""
    if event in ("runner_on_failed", "v2_runner_on_failed"):
        return "failed"
    if event in ("runner_on_unreachable", "v2_runner_on_unreachable"):
        return "unreachable"
    if event in ("runner_on_skipped", "v2_runner_on_skipped"):
        return "skipped"
    if isinstance(result, dict) and result.get("changed"):
        return "changed"
    return "ok"
