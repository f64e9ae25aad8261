#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_power
short_description: Power an AHV VM on, off, shut it down, reboot or reset it
version_added: 0.1.0
description:
  - Drives the VM power actions of Prism Central's vmm v4 API (C($actions/power-on), C(power-off),
    C(guest-shutdown), C(shutdown), C(guest-reboot), C(reboot), C(reset)), each with the VM's fresh ETag.
  - V(powered_on), V(powered_off) and V(shutdown) are idempotent on the current power state;
    V(reboot) and V(reset) always act, and need the VM to be on.
  - V(shutdown) and V(reboot) go through Nutanix Guest Tools when they are installed, enabled and
    reachable, otherwise through ACPI. A shutdown that fails or outlasts O(timeout) fails the task,
    unless O(force_off=true) asks to power the VM off instead.
author: day2ops team (@day2ops)
options:
  state:
    description:
      - V(powered_on) and V(powered_off) switch the power directly (power-off is a hard stop).
      - V(shutdown) asks the guest to shut down; V(reboot) asks it to restart; V(reset) is a hard reset.
      - The values are words, not C(on)/C(off), because YAML reads those as booleans.
    type: str
    required: true
    choices: [powered_on, powered_off, shutdown, reboot, reset]
  force_off:
    description:
      - With O(state=shutdown), power the VM off when the guest shutdown fails or times out.
      - The result then says so in RV(forced_off) and a warning.
    type: bool
    default: false
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.vm
  - day2ops.ahv.prism.wait
  - day2ops.ahv.prism.change
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Shut a VM down cleanly, powering it off if the guest does not comply
  day2ops.ahv.vm_power:
    name: hr-portal-tst-app-071
    state: shutdown
    force_off: true
    timeout: 300
  register: stopped

- name: Start it again
  day2ops.ahv.vm_power:
    ext_id: "{{ stopped.ext_id }}"
    state: powered_on

- name: Reboot it
  day2ops.ahv.vm_power:
    name: hr-portal-tst-app-071
    state: reboot
"""

RETURN = r"""
ext_id:
  description: The VM's ext_id.
  returned: always
  type: str
task_ext_id:
  description: The ext_id of the last Prism task this run started; null when nothing was needed.
  returned: always
  type: str
task_ext_ids:
  description: Every Prism task this run started, in order (a forced power-off adds a second).
  returned: always
  type: list
  elements: str
power_state:
  description: The VM's power state at the end (as Prism names it); the predicted one in check mode.
  returned: always
  type: str
  sample: "OFF"
forced_off:
  description: Whether a failed or slow guest shutdown was replaced by a power-off.
  returned: always
  type: bool
vm:
  description: The VM as Prism Central returns it (C(vmm.v4.ahv.config.Vm)), read after the change.
  returned: always
  type: dict
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import find_vm
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import (
    VM_CHOICE,
    VM_SPEC,
    WAIT_SPEC,
    PrismModule,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._vmm import change_vm, power_vm, read_vm
from ansible_collections.day2ops.ahv.plugins.module_utils._vms import ensure_power, ngt_ready

# state -> (states that need no action, resulting power state)
TARGET = {
    "powered_on": (("ON",), "ON"),
    "powered_off": (("OFF",), "OFF"),
    "shutdown": (("OFF",), "OFF"),
    "reboot": ((), "ON"),
    "reset": ((), "ON"),
}


def action_for(state, vm):
    """The $actions verb that takes this VM to `state`, or None when it is there already."""
    done = TARGET[state][0]
    power = vm.get("powerState")
    if power in done:
        return None
    if state in ("shutdown", "reboot", "reset") and power != "ON":
        raise ApiError(
            "%s VM '%s'" % (state, vm.get("name")),
            "the VM is %s; %s needs it ON" % (power, state),
            hint="power it on first with state: powered_on",
        )
    guest = ngt_ready(vm)
    return {
        "powered_on": "power-on",
        "powered_off": "power-off",
        "shutdown": "guest-shutdown" if guest else "shutdown",
        "reboot": "guest-reboot" if guest else "reboot",
        "reset": "reset",
    }[state]


def ensure(module):
    params, client = module.params, module.client
    vm = find_vm(client, params["ext_id"], params["name"])
    ext_id, state, name = vm["extId"], params["state"], vm.get("name")
    label = "%s VM '%s' (%s)" % (state.replace("_", " "), name, ext_id)
    before = vm.get("powerState")
    needed = action_for(state, vm) is not None
    result = dict(
        ext_id=ext_id, task_ext_id=None, task_ext_ids=[], forced_off=False, vm=vm, power_state=before
    )
    if needed:
        result["power_state"] = TARGET[state][1]
    if module.diff:
        result["diff"] = dict(before={"power_state": before}, after={"power_state": result["power_state"]})
    if not needed or module.check_mode:
        return needed, result

    def decide(current):
        verb = action_for(state, current)
        return verb and power_vm(current["extId"], verb)

    _entity, change, task_ext_id = change_vm(client, ext_id, label, decide)
    result["task_ext_ids"] = [task_ext_id] if task_ext_id else []
    result["task_ext_id"] = task_ext_id
    if not (params["wait"] and task_ext_id):
        return change is not None, result
    try:
        client.wait_task(task_ext_id, params["timeout"], label)
    except ApiError as err:
        if state != "shutdown":
            module.fail_api(err, **result)
        if not params["force_off"]:
            err.hint = "set force_off: true to power the VM off when its guest does not shut down"
            module.fail_api(err, **result)
        module.ansible.warn(
            "Guest shutdown of '%s' did not complete (%s); powering it off." % (name, err.message)
        )
        power_off = "power off VM '%s' (%s)" % (name, ext_id)
        forced = ensure_power(client, ext_id, "OFF", power_off, params["timeout"])
        if forced:
            result["task_ext_ids"].append(forced)
            result.update(task_ext_id=forced, forced_off=True)
    result["vm"], _etag = read_vm(client, ext_id, label)
    result["power_state"] = result["vm"].get("powerState")
    return True, result


def main():
    spec = dict(
        state=dict(type="str", required=True, choices=sorted(TARGET)),
        force_off=dict(type="bool", default=False),
    )
    spec.update(VM_SPEC)
    spec.update(WAIT_SPEC)
    PrismModule(spec, supports_check_mode=True, **VM_CHOICE).run(ensure)


if __name__ == "__main__":
    main()
