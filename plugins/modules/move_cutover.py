#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: move_cutover
short_description: Cut VMs of a Nutanix Move plan over to AHV and return the new VMs' extIds
version_added: 0.1.0
description:
  - Cuts over one VM or a list of a started plan, each through its own workload action
    (C(POST /move/v2/plans/{uuid}/workloads/{vm}/action) with C(cutover)); Move has no plan-level
    cutover. Move shuts the source VM down, runs a last sync and powers the VM on in AHV.
  - A VM is cut over only when Move offers C(CUTOVER) in its C(Actions) (its C(StateString) is
    C(ReadyToCutover)). With O(wait_ready=true) (the default) the module first waits for that, so it
    can follow M(day2ops.ahv.move_plan) directly; a number in the plan's C(State) is never used.
  - With O(wait=true) (the default) it then waits until each VM is C(Completed) and the AHV VM exists,
    and returns its extId (from the workload's C(VmConsoleLink)). Polls re-login when Move's token
    expires on the way.
  - A VM already C(Completed) is left alone and reported with its extId (changed stays false for it).
    A VM that fails (C(Failed), for example a failed final sync) fails the task with Move's
    C(ErrorMessage); the result still lists what did migrate.
author: day2ops team (@day2ops)
options:
  plan:
    description: The plan's name.
    type: str
  plan_uuid:
    description: The plan's UUID.
    type: str
  vms:
    description: The VMs to cut over, by name or vCenter instance UUID; every VM of the plan when omitted.
    type: list
    elements: str
  wait_ready:
    description: Wait for Move to offer C(CUTOVER) for each VM rather than fail while it is still seeding.
    type: bool
    default: true
  wait:
    description: Wait for each VM to be Completed on AHV and return its extId.
    type: bool
    default: true
  timeout:
    description: Seconds to wait in all, for readiness and for the cutovers.
    type: int
    default: 3600
  poll_interval:
    description:
      - Seconds between two reads of the plan's workloads while waiting (one list call each).
      - A VM is seen on AHV at most this late after Move completed it; lower it for short cutovers.
    type: float
    default: 2.0
extends_documentation_fragment:
  - day2ops.ahv.move
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports which VMs would be cut over, without waiting or acting.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: A plan of one VM, started (Move from MOVE_* variables)
  day2ops.ahv.move_plan:
    name: wave-eng-02
    source_provider: vcenter-east
    target_provider: pc-01
    target_cluster: prod-ahv-01
    network_mappings:
      - {source: dvpg-app-101, target: vlan0-prod-ahv-01}
      - {source: dvpg-db-102, target: vlan0-prod-ahv-01}
    vms: [eng-build-tst-005]
    guest_credentials:  # a Windows guest
      windows_username: Administrator
      windows_password: "{{ lookup('ansible.builtin.env', 'MIGRATION_GUEST_WINDOWS_PASSWORD') }}"
    state: started

- name: Cut it over once seeding is done, and get the AHV VM
  day2ops.ahv.move_cutover:
    plan: wave-eng-02
    vms: [eng-build-tst-005]
    timeout: 900
    poll_interval: 5
  register: cutover

- name: The new VM in Prism Central
  ansible.builtin.debug:
    msg: "{{ cutover.target_vm_ext_ids }}"
"""

RETURN = r"""
plan_uuid:
  description: The plan's UUID.
  returned: always
  type: str
migrations:
  description:
    - One entry per VM asked for, with C(source_vm_name), C(source_vm_id) (the vCenter VM id),
      C(source_instance_uuid) (Move's workload id), C(workload_uuid), C(plan_uuid), C(state)
      (Move's C(StateString)), C(target_vm_ext_id) (the AHV VM; null until it exists), and C(error) (Move's
      C(ErrorMessage) of a failed VM, else null).
  returned: always
  type: list
  elements: dict
target_vm_ext_ids:
  description: The AHV VMs' extIds, for the VMs that are Completed.
  returned: always
  type: list
  elements: str
cut_over:
  description: The names of the VMs this run cut over (would cut over, in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._migration_module import move_module
from ansible_collections.day2ops.ahv.plugins.module_utils._move import (
    can_cut_over,
    target_ext_id,
    vm_failure,
)

UNDER_WAY = ("CutoverInProgress", "Completed")


def migrations_of(plan_uuid, statuses):
    return [
        dict(
            plan_uuid=plan_uuid,
            workload_uuid=s["UUID"],
            source_instance_uuid=s["UUID"],
            source_vm_id=s.get("VMId"),
            source_vm_name=s.get("Name"),
            state=s.get("StateString"),
            target_vm_ext_id=target_ext_id(s),
            error=s.get("ErrorMessage"),
        )
        for s in statuses
    ]


def failures(statuses):
    return [
        "%s: %s" % (s.get("Name"), s.get("ErrorMessage") or s.get("StateString"))
        for s in statuses
        if vm_failure(s)
    ]


def _error(name, message, hint="see the plan in Move"):
    return ApiError("cut over VMs of Move plan '%s'" % name, message, hint=hint)


def _fail_on_broken(name, statuses, hint="see the plan in Move"):
    broken = failures(statuses)
    if broken:
        raise _error(name, "; ".join(broken), hint)


def _asked_for(statuses, vms, name):
    """The plan's workloads the task names (by name or instance UUID), in the task's order."""
    if not vms:
        return statuses
    by_key = dict((s["Name"], s) for s in statuses)
    by_key.update((s["UUID"], s) for s in statuses)
    unknown = [v for v in vms if v not in by_key]
    if unknown:
        raise _error(
            name,
            "not in the plan: %s" % ", ".join(unknown),
            "the plan's VMs are %s" % ", ".join(sorted(s["Name"] for s in statuses)),
        )
    return [by_key[v] for v in vms]


def _report(uuid, statuses):
    return dict(migrations=migrations_of(uuid, statuses), target_vm_ext_ids=_ids(statuses))


def _current(client, uuid, name, wanted):
    return [s for s in client.workloads(uuid, name) if s["UUID"] in wanted]


def _wait_ready(module, uuid, name, todo):
    """Wait until Move offers CUTOVER (or the VM is already under way) for every VM to cut over."""
    not_ready = [s for s in todo if not can_cut_over(s)]
    if not_ready and not module.params["wait_ready"]:
        raise _error(
            name,
            "Move does not offer CUTOVER yet for "
            + ", ".join("%s (%s)" % (s["Name"], s.get("StateString")) for s in not_ready),
            "wait for ReadyToCutover, or set wait_ready: true",
        )
    ready = module.client.wait_workloads(
        uuid,
        name,
        [s["UUID"] for s in todo],
        lambda s: can_cut_over(s) or s.get("StateString") in UNDER_WAY,
        module.params["timeout"],
        "CUTOVER",
    )
    _fail_on_broken(name, ready.values())
    return ready


def _wait_completed(module, uuid, name, wanted):
    done = module.client.wait_workloads(
        uuid,
        name,
        wanted,
        lambda s: s.get("StateString") == "Completed" and target_ext_id(s),
        module.params["timeout"],
        "cutover",
    )
    _fail_on_broken(
        name,
        done.values(),
        "make sure the source VM runs in vCenter (vcenter_vm_power), fix the cause, "
        "then migrate the VM again",
    )


def ensure(module):
    params, client = module.params, module.client
    client.poll_interval = poll_interval(params)
    plan = client.require_plan(
        "cut over", params["plan"], params["plan_uuid"], "create and start it with day2ops.ahv.move_plan"
    )
    uuid, name = plan["MetaData"]["UUID"], plan["MetaData"]["Name"]
    statuses = _asked_for(client.workloads(uuid, name), params["vms"], name)
    wanted = [s["UUID"] for s in statuses]
    todo = [s for s in statuses if s.get("StateString") not in UNDER_WAY]
    result = dict(plan_uuid=uuid, cut_over=[s["Name"] for s in todo])
    _fail_on_broken(name, todo)
    if module.check_mode or not todo:
        result.update(_report(uuid, statuses))
        return bool(todo), result
    acted = False
    try:
        for s in _wait_ready(module, uuid, name, todo).values():
            if can_cut_over(s):
                client.cutover(uuid, name, s["UUID"], s["Name"])
                acted = True
        if params["wait"]:
            _wait_completed(module, uuid, name, wanted)
    except ApiError as err:
        # The result still lists what did migrate, and whether this run changed anything.
        module.fail_api(err, changed=acted, **_report(uuid, _current(client, uuid, name, wanted)), **result)
    result.update(_report(uuid, _current(client, uuid, name, wanted)))
    return True, result


def poll_interval(params):
    if params["poll_interval"] <= 0:
        raise ApiError(
            "cut over VMs", "poll_interval is %s" % params["poll_interval"], hint="give a positive number"
        )
    return params["poll_interval"]


def _ids(statuses):
    return [target_ext_id(s) for s in statuses if target_ext_id(s)]


def main():
    move_module(
        dict(
            plan=dict(type="str"),
            plan_uuid=dict(type="str"),
            vms=dict(type="list", elements="str"),
            wait_ready=dict(type="bool", default=True),
            wait=dict(type="bool", default=True),
            timeout=dict(type="int", default=3600),
            poll_interval=dict(type="float", default=2.0),
        ),
        required_one_of=[("plan", "plan_uuid")],
        mutually_exclusive=[("plan", "plan_uuid")],
        supports_check_mode=True,
    ).run(ensure)


if __name__ == "__main__":
    main()
