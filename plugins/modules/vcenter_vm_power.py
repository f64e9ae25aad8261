#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vcenter_vm_power
short_description: Power a vCenter VM on or off, suspend or reset it
version_added: 0.1.0
description:
  - Drives vCenter's hard power operations
    (C(POST /api/vcenter/vm/{vm}/power?action=start|stop|suspend|reset)), for example to bring a
    source VM back after a failed migration, or to stop it before one.
  - V(powered_on), V(powered_off) and V(suspended) are idempotent; vCenter's C(ALREADY_IN_DESIRED_STATE)
    answer counts as "unchanged". V(reset) always acts and needs the VM on.
author: day2ops team (@day2ops)
options:
  vm_id:
    description: The VM id (managed object id such as C(vm-1042)).
    type: str
  name:
    description: The exact VM name; it must match one VM.
    type: str
  state:
    description: The power state to reach, or V(reset) for a hard reset.
    type: str
    required: true
    choices: [powered_on, powered_off, suspended, reset]
extends_documentation_fragment:
  - day2ops.ahv.vcenter
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the power state and reports whether it would change, without acting.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Stop a source VM before its migration (vCenter from VMWARE_* variables)
  day2ops.ahv.vcenter_vm_power:
    name: fin-docs-stg-004
    state: powered_off
  register: stopped

- name: Start it again
  day2ops.ahv.vcenter_vm_power:
    vm_id: "{{ stopped.vm_id }}"
    state: powered_on
"""

RETURN = r"""
vm_id:
  description: The VM id.
  returned: always
  type: str
  sample: vm-1042
instance_uuid:
  description: The VM's vCenter instance UUID (the id Nutanix Move knows it by).
  returned: always
  type: str
power_state:
  description: The power state at the end as vCenter names it; the predicted one in check mode.
  returned: always
  type: str
  sample: POWERED_OFF
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._migration_module import vcenter_module

# state -> (vCenter action, resulting power state; None: unchanged)
ACTIONS = {
    "powered_on": ("start", "POWERED_ON"),
    "powered_off": ("stop", "POWERED_OFF"),
    "suspended": ("suspend", "SUSPENDED"),
    "reset": ("reset", None),
}


def find(client, vm_id, name):
    if vm_id:
        return vm_id
    found = client.list_vms(names=[name])
    if len(found) != 1:
        raise ApiError(
            "find vCenter VM '%s'" % name,
            "the name matched %d VMs" % len(found),
            hint="pass vm_id" if found else "check the name: vCenter matches names exactly",
        )
    return found[0]["vm"]


def ensure(module):
    params, client = module.params, module.client
    vm_id = find(client, params["vm_id"], params["name"])
    info = client.vm(vm_id)
    action, result = ACTIONS[params["state"]]
    current = info["power_state"]
    if action == "reset" and current != "POWERED_ON":
        raise ApiError(
            "reset vCenter VM '%s'" % info["name"],
            "the VM is %s; a reset needs it powered on" % current,
            hint="power it on with state: powered_on",
        )
    if action == "suspend" and current == "POWERED_OFF":
        raise ApiError(
            "suspend vCenter VM '%s'" % info["name"],
            "a powered-off VM cannot be suspended",
            hint="power it on first, or use state: powered_off",
        )
    changed = current != result
    if changed and not module.check_mode:
        changed = client.power(vm_id, action)
    return changed, dict(
        vm_id=vm_id,
        instance_uuid=info["identity"]["instance_uuid"],
        power_state=result or current,
    )


def main():
    vcenter_module(
        dict(
            vm_id=dict(type="str"),
            name=dict(type="str"),
            state=dict(type="str", required=True, choices=list(ACTIONS)),
        ),
        required_one_of=[("vm_id", "name")],
        mutually_exclusive=[("vm_id", "name")],
        supports_check_mode=True,
    ).run(ensure)


if __name__ == "__main__":
    main()
