#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_power
short_description: Power AHV VMs on, off, shut them down, reboot or reset them
version_added: 0.1.0
description:
  - Drives the VM power actions of Prism Central's vmm v4 API (C($actions/power-on), C(power-off),
    C(guest-shutdown), C(shutdown), C(guest-reboot), C(reboot), C(reset)), each with the VM's fresh ETag.
  - One VM (O(ext_id) or O(name)), or many (O(vm_ext_ids), O(vm_names)). Many VMs are not a loop of
    wait-for-each. Each VM's action is its own task sent with its own ETag, at most O(concurrency) calls
    at a time; their tasks are polled together, a few list calls per round; each VM is reported in
    RV(results), and a VM that fails does not stop the others.
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
  - day2ops.ahv.prism.vm_batch
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

- name: Power a tier on at once, and see which VMs did not start
  day2ops.ahv.vm_power:
    vm_names: [hr-portal-tst-app-071, hr-portal-tst-app-141]
    state: powered_on
    fail_on_error: false
  register: tier

- name: The VMs that did not start, with Prism's reason
  ansible.builtin.debug:
    msg: >-
      {{ tier.results | selectattr('status', 'equalto', 'failed')
         | items2dict(key_name='vm_name', value_name='reason') }}
"""

RETURN = r"""
ext_id:
  description: The VM's ext_id.
  returned: with O(ext_id) or O(name)
  type: str
task_ext_id:
  description: The ext_id of the last Prism task this run started; null when nothing was needed.
  returned: with O(ext_id) or O(name)
  type: str
task_ext_ids:
  description:
    - Every Prism task this run started, in order (a forced power-off adds a second); with many VMs,
      every VM's.
  returned: always
  type: list
  elements: str
power_state:
  description: The VM's power state at the end (as Prism names it); the predicted one in check mode.
  returned: with O(ext_id) or O(name)
  type: str
  sample: "OFF"
forced_off:
  description: Whether a failed or slow guest shutdown was replaced by a power-off.
  returned: with O(ext_id) or O(name)
  type: bool
vm:
  description: The VM as Prism Central returns it (C(vmm.v4.ahv.config.Vm)), read after the change.
  returned: with O(ext_id) or O(name)
  type: dict
results:
  description:
    - One entry per VM, in the order given (O(vm_ext_ids), then O(vm_names)), with C(vm_ext_id),
      C(vm_name), C(status) (C(changed), C(unchanged) or C(failed); what would happen in check mode),
      C(reason) (Prism's words for a failure, else null), C(task_ext_ids) (this VM's tasks),
      C(power_state) (at the end, as Prism names it; read again after a failure, null when unreadable) and
      C(forced_off).
  returned: with O(vm_ext_ids) or O(vm_names)
  type: list
  elements: dict
  sample:
    - {vm_ext_id: 6c1b2c4e-..., vm_name: fin-web-01, status: changed, reason: null, task_ext_ids: [ZXJn...],
       power_state: "ON", forced_off: false}
counts:
  description: How many VMs ended in each status.
  returned: with O(vm_ext_ids) or O(vm_names)
  type: dict
  sample: {changed: 198, failed: 2}
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import find_vm
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import (
    VM_SPEC,
    WAIT_SPEC,
    PrismModule,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._vm_batch import (
    BATCH_SPEC,
    VMS_CHOICE,
    VmBatch,
    batch_outcome,
    vm_changes,
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
# state -> the words of its step in a batch's messages ("power on VM 'web01' (...)")
VERB = {
    "powered_on": "power on",
    "powered_off": "power off",
    "shutdown": "shut down",
    "reboot": "reboot",
    "reset": "reset",
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


def ensure_one(module):
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
    _entity, change, task_ext_id = change_vm(client, ext_id, label, decide_for(state))
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


def decide_for(state):
    """The power Change a VM needs to reach `state` as it is when read, or None."""

    def decide(current):
        verb = action_for(state, current)
        return verb and power_vm(current["extId"], verb)

    return decide


def power_batch(module, vms, state):
    """Take every VM to `state`; the ext_ids of the VMs whose failed guest shutdown was replaced by a
    power-off (with force_off)."""
    params, client = module.params, module.client
    batch = VmBatch(client, [(VERB[state], decide_for(state))], params["timeout"], params["wait"])
    if module.check_mode:
        batch.check(vms)
        return set()
    batch.run(vms)
    stuck = [vm for vm in vms if vm.status == "failed" and vm.task_failed]
    if not (state == "shutdown" and params["force_off"] and stuck):
        return set()
    why = dict((vm.vm_ext_id, vm.reason) for vm in stuck)
    for vm in stuck:
        vm.status, vm.step = "pending", 0
    VmBatch(client, [(VERB["powered_off"], decide_for("powered_off"))], params["timeout"]).run(stuck)
    forced = set(vm.vm_ext_id for vm in stuck if vm.status == "changed")
    for vm in stuck:
        then = "powered off" if vm.vm_ext_id in forced else vm.reason
        vm.reason = "guest shutdown did not complete (%s); %s" % (why[vm.vm_ext_id], then)
    return forced


def power_state(client, vm, state):
    """What the VM's power is at the end: the target once its task succeeded, else read again."""
    if vm.status == "changed":
        return TARGET[state][1]
    if vm.status == "unchanged" or not vm.vm_ext_id:
        return (vm.vm or {}).get("powerState")
    try:
        return read_vm(client, vm.vm_ext_id)[0].get("powerState")
    except ApiError:  # gone, or Prism unreachable: the power is unknown
        return None


def ensure_many(module):
    params, client = module.params, module.client
    state = params["state"]
    vms = vm_changes(client, params["vm_ext_ids"] or [], params["vm_names"] or [])
    forced = power_batch(module, vms, state)
    powers = client.map(lambda vm: power_state(client, vm, state), vms)
    results = [
        dict(vm.result(), power_state=power, forced_off=vm.vm_ext_id in forced)
        for vm, power in zip(vms, powers)
    ]
    return batch_outcome(
        module,
        results,
        before=dict((r["vm_name"], (vm.vm or {}).get("powerState")) for vm, r in zip(vms, results)),
        after=dict((r["vm_name"], r["power_state"]) for r in results),
    )


def ensure(module):
    if module.params["ext_id"] or module.params["name"]:
        return ensure_one(module)
    return ensure_many(module)


def main():
    spec = dict(
        state=dict(type="str", required=True, choices=sorted(TARGET)),
        force_off=dict(type="bool", default=False),
    )
    spec.update(VM_SPEC)
    spec.update(BATCH_SPEC)
    spec.update(WAIT_SPEC)
    PrismModule(spec, supports_check_mode=True, **VMS_CHOICE).run(ensure)


if __name__ == "__main__":
    main()
