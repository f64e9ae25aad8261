#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: recovery_point_restore
short_description: Revert an AHV VM in place to a recovery point, or restore it as a new VM
version_added: 0.1.0
description:
  - Two different operations, chosen with O(mode).
  - V(revert) puts the B(same) VM back to its VM recovery point, in place (vmm v4
    C(vms/{extId}/$actions/revert)). The VM keeps its ext_id, name, NICs and MAC addresses, Categories,
    owner, protection policy and history; only its disks (and CPU and memory) go back. This is
    what a rollback after a failed change wants, and what the C(safe_patch) role does. AHV leaves a
    reverted VM powered off; with O(power_on=true) (the default) the module powers it on again when
    it was on before, and says so in RV(power_state) and RV(task_ext_ids).
  - V(restore) makes B(new) VMs from the recovery point (dataprotection v4
    C(recovery-points/{extId}/$actions/restore)), on the point's own cluster or on O(cluster), with
    new ext_ids and MAC addresses, powered off unless O(power_on=true). The original VM is untouched.
    Use it for DR drills, to recover a deleted VM, or to look at old data beside the live VM. It
    always creates VMs; running it twice makes two sets.
  - O(new_name) and O(categories) go into the restore itself (C(vmOverrideSpec)) where the
    dataprotection API version called has it (v4.1 and later). At v4.0, the default, Prism restores the
    captured name and Categories, so the module renames and re-tags the new VMs through vmm before
    powering them on; that needs O(wait=true).
author: day2ops team (@day2ops)
options:
  mode:
    description:
      - V(revert) the VM in place, or V(restore) new VMs from the recovery point.
    type: str
    choices: [revert, restore]
    required: true
  ext_id:
    description: The recovery point's ext_id. Required unless O(vm_recovery_point_ext_id) is given.
    type: str
  vm_recovery_point_ext_id:
    description:
      - The VM recovery point to use (an element of the recovery point's C(vmRecoveryPoints)), when it
        is known already. A recovery point's own ext_id is not a VM recovery point's.
      - With O(mode=revert) it needs O(vm_ext_id) or O(vm_name) too.
    type: str
  vm_ext_id:
    description:
      - The VM. For V(revert), the VM to put back; for V(restore), the VM whose recovery point to
        restore (all VMs in the point when neither this nor O(vm_name) is set).
    type: str
  vm_name:
    description: The VM by name, instead of O(vm_ext_id).
    type: str
  power_on:
    description:
      - With V(revert) (default true), power the VM on after the revert when it was on before.
      - With V(restore) (default false), power the new VMs on.
    type: bool
  cluster:
    description:
      - With O(mode=restore), the cluster (name or ext_id) for the new VMs; the point's own by default.
    type: str
  new_name:
    description: With O(mode=restore) of one VM, the new VM's name (the captured VM's name by default).
    type: str
  categories:
    description:
      - "With O(mode=restore), the Categories of the new VMs instead of the captured ones, as
        C({key: value}) or C({key: [values]}). Tag drill VMs so nobody mistakes them for production."
    type: dict
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.wait
  - day2ops.ahv.prism.change
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Take a recovery point before a risky change
  day2ops.ahv.recovery_point:
    name: before-change-hr-portal-tst-app-071
    vm_names: [hr-portal-tst-app-071]
    retention: 1d
  register: rp

- name: Roll the VM back in place; it keeps its identity and is powered on again
  day2ops.ahv.recovery_point_restore:
    mode: revert
    ext_id: "{{ rp.ext_id }}"
    vm_name: hr-portal-tst-app-071

- name: Restore a copy beside it, tagged as a drill
  day2ops.ahv.recovery_point_restore:
    mode: restore
    ext_id: "{{ rp.ext_id }}"
    new_name: hr-portal-tst-app-071-copy
    categories:
      Environment: Test
"""

RETURN = r"""
mode:
  description: V(revert) or V(restore), as asked.
  returned: always
  type: str
recovery_point_ext_id:
  description: The recovery point used.
  returned: always
  type: str
vm_recovery_point_ext_ids:
  description: The VM recovery points used.
  returned: always
  type: list
  elements: str
vm_ext_id:
  description: V(revert) the reverted VM; V(restore) the first new VM (null in check mode).
  returned: always
  type: str
vm_ext_ids:
  description: V(revert) the reverted VM; V(restore) every new VM.
  returned: always
  type: list
  elements: str
task_ext_id:
  description: The revert or restore task.
  returned: always
  type: str
task_ext_ids:
  description:
    - Every Prism task this run started, in order (rename, Category and power-on tasks after the first).
  returned: always
  type: list
  elements: str
power_state:
  description: V(revert) the VM's power state at the end; V(restore) that of the new VMs.
  returned: always
  type: str
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._dataprotection import api_version
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import (
    CategoryIndex,
    cluster_ext_id,
    find_vm,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import (
    affected,
    task_completion,
    version_minor,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import WAIT_SPEC, PrismModule
from ansible_collections.day2ops.ahv.plugins.module_utils._recovery_points import (
    AHV_OVERRIDE_TYPE,
    act,
    read,
    vm_point,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._vmm import VM_REL, change_vm, read_vm, revert_vm
from ansible_collections.day2ops.ahv.plugins.module_utils._vms import ensure_power, set_identity


def revert(module, client, result):
    params = module.params
    vm = find_vm(client, params["vm_ext_id"], params["vm_name"])
    if params["vm_recovery_point_ext_id"]:
        point_id = params["vm_recovery_point_ext_id"]
    else:
        point_id = vm_point(read(client, params["ext_id"])[0], vm["extId"])["extId"]
    was_on = vm.get("powerState") == "ON"
    label = "revert VM '%s' (%s) to VM recovery point %s" % (vm.get("name"), vm["extId"], point_id)
    result.update(vm_ext_id=vm["extId"], vm_ext_ids=[vm["extId"]], vm_recovery_point_ext_ids=[point_id])
    result["power_state"] = vm.get("powerState") if params["power_on"] is not False else "OFF"
    if module.check_mode:
        return True, result
    _vm, _change, task_ext_id = change_vm(
        client, vm["extId"], label, lambda current: revert_vm(current["extId"], point_id)
    )
    result.update(task_ext_id=task_ext_id, task_ext_ids=[task_ext_id])
    if not params["wait"]:
        return True, result
    try:
        client.wait_task(task_ext_id, params["timeout"], label)
        if was_on and params["power_on"] is not False:
            label = "power on VM '%s' after its revert" % vm.get("name")
            started = ensure_power(client, vm["extId"], "ON", label, params["timeout"])
            if started:
                result["task_ext_ids"].append(started)
    except ApiError as err:
        result["power_state"] = read_vm(client, vm["extId"], label)[0].get("powerState")
        module.fail_api(err, **result)
    result["power_state"] = read_vm(client, vm["extId"], label)[0].get("powerState")
    if was_on and result["power_state"] != "ON":
        module.ansible.warn(
            "VM '%s' was on before the revert and is %s now (power_on: false)."
            % (vm.get("name"), result["power_state"])
        )
    return True, result


def restore_body(client, params, rp):
    vm_ext_id = params["vm_ext_id"] or (
        params["vm_name"] and find_vm(client, name=params["vm_name"])["extId"]
    )
    if params["vm_recovery_point_ext_id"]:
        points = [params["vm_recovery_point_ext_id"]]
    elif vm_ext_id:
        points = [vm_point(rp, vm_ext_id)["extId"]]
    else:
        points = [p["extId"] for p in rp.get("vmRecoveryPoints") or []]
    if params["new_name"] and len(points) != 1:
        raise ApiError(
            "restore recovery point %s" % rp["extId"],
            "new_name names one VM, but %d would be restored" % len(points),
            hint="choose the VM with vm_name or vm_ext_id",
        )
    identity = {}
    if params["new_name"]:
        identity["name"] = params["new_name"]
    if params["categories"]:
        index = CategoryIndex.load(client, list(params["categories"]))
        identity["categories"] = [
            {"extId": ext_id} for ids in index.ext_ids(params["categories"]).values() for ext_id in ids
        ]
    spec = dict(identity, **{"$objectType": AHV_OVERRIDE_TYPE}) if overrides_supported(client) else {}
    body = {
        "vmRecoveryPointRestoreOverrides": [
            dict({"vmRecoveryPointExtId": p}, **({"vmOverrideSpec": spec} if identity and spec else {}))
            for p in points
        ]
    }
    if params["cluster"]:
        body["clusterExtId"] = cluster_ext_id(client, params["cluster"])
    # What Prism will not set itself at this version: applied through vmm once the VMs exist.
    return points, body, ({} if spec else identity)


def overrides_supported(client):
    """AhvVmOverrideSpec (name, Categories) arrived with dataprotection v4.1 (SDK 4.1.1); v4.0's
    VmRecoveryPointRestoreOverride has only vmRecoveryPointExtId (SDK 4.0.1). Two sources: both SDKs."""
    return version_minor(api_version(client)) >= 1


def restore(module, client, result):
    params = module.params
    rp, _etag = read(client, params["ext_id"])
    points, body, identity = restore_body(client, params, rp)
    if identity and not params["wait"]:
        raise ApiError(
            "restore recovery point %s" % rp["extId"],
            "new_name and categories are applied after the restore at dataprotection %s, which needs wait"
            % api_version(client),
            hint="set wait: true, or api_versions: {dataprotection: v4.1} where Prism Central serves it",
        )
    result.update(vm_recovery_point_ext_ids=points, power_state="ON" if params["power_on"] else "OFF")
    if module.check_mode:
        return True, result
    label = "restore recovery point '%s' (%s) as new VMs" % (rp.get("name"), rp["extId"])
    _point, task_ext_id = act(client, rp["extId"], label, "restore", body)
    result.update(task_ext_id=task_ext_id, task_ext_ids=[task_ext_id])
    if not params["wait"]:
        return True, result
    task = client.wait_task(task_ext_id, params["timeout"], label)
    listed = task_completion(task, "vmExtIds")
    new_ids = [v for v in (listed or "").split(",") if v] or affected(task, VM_REL)
    result.update(vm_ext_ids=new_ids, vm_ext_id=new_ids[0] if new_ids else None)
    for new_id in new_ids if identity else ():
        result["task_ext_ids"].extend(set_identity(client, new_id, identity, params["timeout"]))
    if params["power_on"]:
        for new_id in new_ids:
            started = ensure_power(
                client, new_id, "ON", "power on restored VM %s" % new_id, params["timeout"]
            )
            if started:
                result["task_ext_ids"].append(started)
    return True, result


def ensure(module):
    params = module.params
    if not params["ext_id"] and not params["vm_recovery_point_ext_id"]:
        raise ApiError("choose a recovery point", "ext_id or vm_recovery_point_ext_id is required")
    if params["mode"] == "revert" and not (params["vm_ext_id"] or params["vm_name"]):
        raise ApiError("revert a VM", "vm_ext_id or vm_name is required", hint="name the VM to put back")
    if params["mode"] == "restore" and not params["ext_id"]:
        raise ApiError("restore new VMs", "ext_id (the recovery point) is required for mode: restore")
    for option in ("cluster", "new_name", "categories"):
        if params["mode"] == "revert" and params[option]:
            raise ApiError(
                "revert a VM",
                "%s applies to mode: restore only" % option,
                hint="a revert keeps the VM where and what it is; use mode: restore for a new VM",
            )
    result = dict(
        mode=params["mode"],
        recovery_point_ext_id=params["ext_id"],
        vm_recovery_point_ext_ids=[],
        vm_ext_id=None,
        vm_ext_ids=[],
        task_ext_id=None,
        task_ext_ids=[],
        power_state=None,
    )
    return (revert if params["mode"] == "revert" else restore)(module, module.client, result)


def main():
    spec = dict(
        mode=dict(type="str", required=True, choices=["revert", "restore"]),
        ext_id=dict(type="str"),
        vm_recovery_point_ext_id=dict(type="str"),
        vm_ext_id=dict(type="str"),
        vm_name=dict(type="str"),
        power_on=dict(type="bool"),
        cluster=dict(type="str"),
        new_name=dict(type="str"),
        categories=dict(type="dict"),
    )
    spec.update(WAIT_SPEC)
    PrismModule(spec, supports_check_mode=True, mutually_exclusive=[("vm_ext_id", "vm_name")]).run(ensure)


if __name__ == "__main__":
    main()
