#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: recovery_point
short_description: Create, expire or delete a recovery point of one or more AHV VMs
version_added: 0.1.0
description:
  - Creates a recovery point (Prism Central dataprotection v4 C(config/recovery-points)) of one or
    several VMs, crash-consistent or application-consistent, with an expiration time; moves the
    expiration time of an existing one; or deletes one.
  - With O(state=present) and a O(name) that a recovery point of the same VMs already has, that one
    is kept (its expiration time is moved if it differs), so re-running a play does not pile up copies.
    Give each change window its own name to take a new point each time.
  - Application-consistent points quiesce the guest through Nutanix Guest Tools. Prism fails them when
    NGT is not installed, enabled and reachable with its VSS capability; this module then fails with
    Prism's reason and takes no crash-consistent point in its place.
  - A recovery point whose task fails or outlasts O(timeout) is reported with its RV(task_ext_id) and
    O(name), so it can be found and deleted later; nothing is left unreported.
author: day2ops team (@day2ops)
options:
  state:
    description:
      - V(present) creates the recovery point, or sets the expiration time of an existing one.
      - V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  ext_id:
    description:
      - The ext_id of an existing recovery point, to change its expiration time or delete it.
    type: str
  name:
    description:
      - The recovery point's name. Required to create one.
      - With O(state=absent) and no O(ext_id), the point of that name (of O(vm_ext_ids)/O(vm_names) when
        given) is deleted; a name matching several points is an error listing them.
    type: str
  vm_ext_ids:
    description:
      - The VMs to capture, by ext_id. Together with O(vm_names), at most 30 VMs, all on one cluster.
    type: list
    elements: str
    default: []
  vm_names:
    description:
      - The VMs to capture, by name; a name matching two VMs is an error listing both.
    type: list
    elements: str
    default: []
  consistency:
    description:
      - V(crash_consistent) captures the disks as they are, like pulling the plug.
      - V(application_consistent) asks the guest, through NGT, to flush and freeze its applications
        first (VSS on Windows, freeze/thaw scripts on Linux). Use it for databases.
    type: str
    choices: [crash_consistent, application_consistent]
    default: crash_consistent
  vss_backup_type:
    description:
      - The VSS backup type of an application-consistent point. V(copy_backup) leaves the
        applications' own backup history (for example SQL Server log chains) untouched.
    type: str
    choices: [full_backup, copy_backup]
    default: full_backup
  expiration_time:
    description:
      - When Prism deletes the recovery point, as an RFC 3339 time such as C(2026-12-31T00:00:00Z).
      - Without it and without O(retention), the point never expires.
    type: str
  retention:
    description:
      - How long to keep the recovery point from now, as a whole number and a unit
        (C(m) minutes, C(h) hours, C(d) days, C(w) weeks), for example C(14d).
    type: str
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.wait
  - day2ops.ahv.prism.change
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Crash-consistent recovery point of a web VM, kept three days
  day2ops.ahv.recovery_point:
    name: pre-patch-hr-portal-tst-app-071
    vm_names: [hr-portal-tst-app-071]
    retention: 3d
  register: rp

- name: Keep it a week instead
  day2ops.ahv.recovery_point:
    ext_id: "{{ rp.ext_id }}"
    retention: 7d

- name: Delete it
  day2ops.ahv.recovery_point:
    ext_id: "{{ rp.ext_id }}"
    state: absent
"""

RETURN = r"""
ext_id:
  description: The recovery point's ext_id; null when it was never created (check mode, or a failed task).
  returned: always
  type: str
name:
  description: The recovery point's name.
  returned: always
  type: str
task_ext_id:
  description: The ext_id of the Prism task this run started; null when nothing was needed.
  returned: always
  type: str
vm_ext_ids:
  description: The ext_ids of the VMs in the recovery point.
  returned: always
  type: list
  elements: str
vm_recovery_points:
  description:
    - One entry per VM, with C(ext_id) (the VM recovery point, which a revert takes), C(vm_ext_id),
      C(name), C(location_agnostic_id) and C(vm_categories) (C(key/value) strings).
  returned: when the recovery point exists
  type: list
  elements: dict
expiration_time:
  description: When the recovery point expires (RFC 3339), or null if it never does.
  returned: always
  type: str
recovery_point_type:
  description: C(CRASH_CONSISTENT) or C(APPLICATION_CONSISTENT).
  returned: when the recovery point exists
  type: str
location_ext_ids:
  description: The clusters the recovery point lives on.
  returned: when the recovery point exists
  type: list
  elements: str
recovery_point:
  description: The recovery point as Prism Central returns it (C(dataprotection.v4.config.RecoveryPoint)).
  returned: when the recovery point exists
  type: dict
"""

from datetime import timedelta

from ansible_collections.day2ops.ahv.plugins.module_utils._dataprotection import create_recovery_point
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import find_vm
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import parse_time, task_completion
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import WAIT_SPEC, PrismModule
from ansible_collections.day2ops.ahv.plugins.module_utils._recovery_points import (
    CONSISTENCY,
    act,
    VSS_TYPE,
    expiration_time,
    find,
    read,
    same_time,
    summary,
)


RETENTION_SLACK = timedelta(minutes=10)


def vm_ids(client, params):
    ids = list(params["vm_ext_ids"])
    ids.extend(find_vm(client, name=name)["extId"] for name in params["vm_names"])
    return list(dict.fromkeys(ids))


def create_body(params, vms, expires):
    rp_type = CONSISTENCY[params["consistency"]]
    members = []
    for vm_ext_id in vms:
        member = {"vmExtId": vm_ext_id}
        if rp_type == "APPLICATION_CONSISTENT":
            member["applicationConsistentProperties"] = {
                "$objectType": VSS_TYPE,
                "backupType": params["vss_backup_type"].upper(),
                "shouldStoreVssMetadata": False,
            }
        members.append(member)
    body = {"name": params["name"], "recoveryPointType": rp_type, "vmRecoveryPoints": members}
    if expires:
        body["expirationTime"] = expires
    return body


def result_of(rp, task_ext_id=None):
    out = summary(rp)
    out["task_ext_id"] = task_ext_id
    return out


def created(module, client, body, vms):
    params = module.params
    label = "create recovery point '%s' of %d VM(s)" % (params["name"], len(vms))
    result = dict(
        ext_id=None,
        name=params["name"],
        task_ext_id=None,
        vm_ext_ids=vms,
        expiration_time=body.get("expirationTime"),
    )
    if module.check_mode:
        return True, result
    task_ext_id = create_recovery_point(client, body, label)
    result["task_ext_id"] = task_ext_id
    if not params["wait"]:
        return True, result
    try:
        task = client.wait_task(task_ext_id, params["timeout"], label)
    except ApiError as err:
        err.hint = (
            "nothing was created if the task FAILED; if it is still running, the recovery point will "
            "appear as '%s' (find it with day2ops.ahv.recovery_point_info name=%s)"
            % (params["name"], params["name"])
        )
        module.fail_api(err, **result)
    rp, _etag = read(client, task_completion(task, "recoveryPointExtId"))
    return True, result_of(rp, task_ext_id)


def wait_if(module, client, task_ext_id, label):
    if module.params["wait"] and task_ext_id:
        client.wait_task(task_ext_id, module.params["timeout"], label)


def existing_point(client, params, vms):
    """The recovery point this call is about, or None. By name, only a point of the same VMs counts."""
    if params["ext_id"]:
        return find(client, ext_id=params["ext_id"], required=params["state"] == "present")
    rp = find(client, name=params["name"], vm_ext_id=vms[0] if vms else None, required=False)
    if (
        rp is not None
        and vms
        and sorted(p.get("vmExtId") for p in rp.get("vmRecoveryPoints") or []) != sorted(vms)
    ):
        return None
    return rp


def expiry_change(existing, params, expires):
    """The expirationTime to set on an existing point, or None when it has it already.

    A retention counts from the point's creation. Prism stamps creationTime when its task runs, a
    moment after the expiry was computed, so a difference under RETENTION_SLACK is no difference.
    """
    current = existing.get("expirationTime")
    if params["retention"] and existing.get("creationTime"):
        expires = expiration_time(retention=params["retention"], since=parse_time(existing["creationTime"]))
        if current and abs(parse_time(current) - parse_time(expires)) <= RETENTION_SLACK:
            return None
        return expires
    return None if not expires or same_time(current, expires) else expires


def deleted(module, client, existing, vms):
    """state: absent, for the point found (or None)."""
    params = module.params
    if existing is None:
        return False, dict(
            ext_id=params["ext_id"],
            name=params["name"],
            task_ext_id=None,
            vm_ext_ids=vms,
            expiration_time=None,
        )
    result = result_of(existing)
    if module.check_mode:
        return True, result
    label = "delete recovery point '%s' (%s)" % (existing.get("name"), existing["extId"])
    _point, task_ext_id = act(client, existing["extId"], label)
    result["task_ext_id"] = task_ext_id
    wait_if(module, client, task_ext_id, label)
    return True, result


def ensure(module):
    params, client = module.params, module.client
    expires = expiration_time(params["expiration_time"], params["retention"])
    vms = vm_ids(client, params)
    existing = existing_point(client, params, vms)
    if params["state"] == "absent":
        return deleted(module, client, existing, vms)
    if existing is None:
        if not params["name"]:
            raise ApiError(
                "create a recovery point", "name is required", hint="set name (and vm_names or vm_ext_ids)"
            )
        if not vms:
            raise ApiError(
                "create recovery point '%s'" % params["name"],
                "no VMs given",
                hint="set vm_names or vm_ext_ids (at most 30 VMs, on one cluster)",
            )
        return created(module, client, create_body(params, vms, expires), vms)

    result = result_of(existing)
    expires = expiry_change(existing, params, expires)
    if expires is None:
        return False, result
    label = "set the expiration time of recovery point '%s' (%s)" % (existing.get("name"), existing["extId"])
    if module.diff:
        result["diff"] = dict(
            before={"expiration_time": existing.get("expirationTime")}, after={"expiration_time": expires}
        )
    result["expiration_time"] = expires
    if module.check_mode:
        return True, result

    _point, task_ext_id = act(
        client,
        existing["extId"],
        label,
        "set-expiration-time",
        {"expirationTime": expires},
        needed=lambda current: not same_time(current.get("expirationTime"), expires),
    )
    wait_if(module, client, task_ext_id, label)
    if task_ext_id and module.params["wait"]:
        result.update(result_of(read(client, existing["extId"])[0]))
    result["task_ext_id"] = task_ext_id
    return task_ext_id is not None, result


def main():
    spec = dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        ext_id=dict(type="str"),
        name=dict(type="str"),
        vm_ext_ids=dict(type="list", elements="str", default=[]),
        vm_names=dict(type="list", elements="str", default=[]),
        consistency=dict(type="str", default="crash_consistent", choices=sorted(CONSISTENCY)),
        vss_backup_type=dict(type="str", default="full_backup", choices=["full_backup", "copy_backup"]),
        expiration_time=dict(type="str"),
        retention=dict(type="str"),
    )
    spec.update(WAIT_SPEC)
    PrismModule(
        spec,
        supports_check_mode=True,
        mutually_exclusive=[("expiration_time", "retention")],
        required_one_of=[("ext_id", "name")],
    ).run(ensure)


if __name__ == "__main__":
    main()
