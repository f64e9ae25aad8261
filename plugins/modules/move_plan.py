#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: move_plan
short_description: Create, start, suspend, resume, cancel or delete a Nutanix Move migration plan
version_added: 0.1.0
description:
  - Creates a migration plan (C(POST /move/v2/plans)) from names an operator knows (the source and
    target providers, the AHV cluster and storage container, port group to subnet mappings, and the
    VMs by name or vCenter instance UUID), all resolved against what Move reports.
  - V(started) first has Move prepare the guests (C(POST /move/v2/plans/{uuid}/prepare)) with
    O(guest_credentials) and O(vm_guest_credentials) when O(guest_prep_mode=auto), then runs Move's
    readiness checks, and fails naming each VM and its reason (wrong guest credentials, VMware Tools
    missing, an unsupported disk, a port group without a mapping), unless O(fail_on_readiness=false);
    then starts seeding. On a paused plan it resumes it.
  - V(suspended) pauses a running plan, V(cancelled) cancels it, V(absent) deletes it (Move refuses to
    delete a running plan; cancel it first).
  - The plan's state is read from its C(StateString), never from its number. Cutover is per VM, with
    M(day2ops.ahv.move_cutover).
  - An existing plan is not updated, since Move refuses updates once a plan runs. Delete and create it again.
author: day2ops team (@day2ops)
options:
  name:
    description: The plan's name (unique in Move).
    type: str
    required: true
  state:
    description: What the plan should be.
    type: str
    choices: [present, started, suspended, cancelled, absent]
    default: present
  source_provider:
    description: Name (or UUID) of the vCenter provider. Required to create the plan.
    type: str
  target_provider:
    description: Name (or UUID) of the Prism Central provider. Required to create the plan.
    type: str
  target_cluster:
    description: Name (or UUID) of the AHV cluster the VMs land on. Required to create the plan.
    type: str
  target_container:
    description: Name (or UUID) of its storage container; the cluster's first one when omitted.
    type: str
  network_mappings:
    description: One mapping per source port group the VMs use. Required to create the plan.
    type: list
    elements: dict
    suboptions:
      source:
        description: The port group, by name (C(dvpg-app-101)) or id (C(dvportgroup-34)).
        type: str
        required: true
      target:
        description: The AHV subnet, by name or UUID.
        type: str
        required: true
      test:
        description: The subnet test migrations use; must differ from O(network_mappings[].target).
        type: str
  vms:
    description: The VMs, by exact name or vCenter instance UUID. Required to create the plan.
    type: list
    elements: str
  guest_prep_mode:
    description:
      - V(auto) lets Move log in to the guests to prepare them (install its agent, keep IP settings); it
        needs O(guest_credentials) or O(vm_guest_credentials) to start the plan.
      - V(manual) leaves it to you (run Move's preparation script in each guest before starting).
    type: str
    choices: [auto, manual]
    default: auto
  guest_credentials:
    description:
      - The accounts Move logs in to the guests with to prepare them (C(CommonCredentials)), by guest OS.
        Used with O(state=started) and O(guest_prep_mode=auto); never returned or logged.
    type: dict
    suboptions:
      linux_username:
        description: A Linux account with sudo (or root).
        type: str
      linux_password:
        description: Its password.
        type: str
      windows_username:
        description: A Windows account in the local Administrators group.
        type: str
      windows_password:
        description: Its password.
        type: str
  vm_guest_credentials:
    description: The account of a VM whose guest takes other credentials than O(guest_credentials).
    type: list
    elements: dict
    suboptions:
      vm:
        description: The VM, by name or vCenter instance UUID, as in O(vms).
        type: str
        required: true
      username:
        description: The guest account.
        type: str
        required: true
      password:
        description: Its password.
        type: str
        required: true
  prepare_timeout:
    description: Seconds to wait while Move prepares the guests.
    type: int
    default: 1800
  poll_interval:
    description: Seconds between two asks of Move while it prepares the guests.
    type: float
    default: 2.0
  retain_mac:
    description: Keep each NIC's MAC address on AHV.
    type: bool
    default: true
  uninstall_vmware_tools:
    description: Uninstall VMware Tools on AHV.
    type: bool
    default: true
  install_ngt:
    description: Install Nutanix Guest Tools on AHV.
    type: bool
    default: true
  fail_on_readiness:
    description: With O(state=started), fail when a readiness check fails instead of starting.
    type: bool
    default: true
extends_documentation_fragment:
  - day2ops.ahv.move
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports what would be created or which action would run, without doing it.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: A wave of two VMs, from vCenter to the production AHV cluster (Move from MOVE_* variables)
  day2ops.ahv.move_plan:
    name: wave-finance-01
    source_provider: vcenter-east
    target_provider: pc-01
    target_cluster: prod-ahv-01
    network_mappings:
      - {source: dvpg-app-101, target: vlan0-prod-ahv-01}
      - {source: dvpg-db-102, target: vlan0-prod-ahv-01}
    vms: [fin-fileshare-tst-003, fin-docs-stg-004]
  register: plan

- name: Prepare the guests, check readiness and start seeding
  day2ops.ahv.move_plan:
    name: wave-finance-01
    state: started
    guest_credentials:
      linux_username: root
      linux_password: "{{ lookup('ansible.builtin.env', 'MIGRATION_GUEST_LINUX_PASSWORD') }}"
      windows_username: Administrator
      windows_password: "{{ lookup('ansible.builtin.env', 'MIGRATION_GUEST_WINDOWS_PASSWORD') }}"

- name: Pause it for the night, then resume it
  day2ops.ahv.move_plan:
    name: wave-finance-01
    state: suspended

- name: Resume
  day2ops.ahv.move_plan:
    name: wave-finance-01
    state: started

- name: Give up on the wave and remove it
  day2ops.ahv.move_plan:
    name: wave-finance-01
    state: cancelled

- name: Delete it
  day2ops.ahv.move_plan:
    name: wave-finance-01
    state: absent
"""

RETURN = r"""
plan_uuid:
  description: The plan's UUID; null when it is absent (or only would be created, in check mode).
  returned: always
  type: str
plan:
  description:
    - The plan's C(MetaData) as Move returns it (C(StateString), C(VMStateCounts), C(VMStatus),
      C(Actions)).
  returned: when it exists
  type: dict
workload_uuids:
  description: The plan's VMs by workload id (their vCenter instance UUIDs).
  returned: when it exists
  type: list
  elements: str
readiness:
  description:
    - The failed guest preparations and readiness checks (C(vm), C(check), C(message)) when the plan was
      started; a failed preparation has C(check) C(GuestPreparation).
  returned: when O(state=started) started it
  type: list
  elements: dict
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._migration_module import move_module
from ansible_collections.day2ops.ahv.plugins.module_utils._move import plan_state
from ansible_collections.day2ops.ahv.plugins.module_utils._move_plans import (
    build_spec,
    guest_credentials,
    readiness_failures,
    require_guest_credentials,
)

# state -> {plan state it acts on: the action}, and the plan states where nothing is needed
TRANSITIONS = {
    "started": ({"Uninitialized": "start", "Paused": "resume"}, ("InProgress", "Completed", "Failed")),
    "suspended": ({"InProgress": "suspend"}, ("Paused",)),
    "cancelled": ({"InProgress": "cancel", "Paused": "cancel"}, ("Aborted", "Aborting")),
}
# Where a plan is once the action took effect: what a lost answer is read back against.
DONE_WHEN = {
    "start": ("InProgress", "Completed", "Failed"),
    "resume": ("InProgress", "Completed", "Failed"),
    "suspend": ("Paused",),
    "cancel": ("Aborted", "Aborting"),
}


def result_of(client, plan):
    """The plan's MetaData and its VMs' workload ids, from its workloads: no known client reads
    a plan's Spec back [C for MetaData only]."""
    meta = plan["MetaData"]
    return dict(
        plan_uuid=meta["UUID"],
        plan=meta,
        workload_uuids=[s["UUID"] for s in client.workloads(meta["UUID"], meta["Name"])],
    )


def start_checks(module, plan):
    """Guest preparation (auto mode) then readiness: every failure, as `{vm, check, message}`."""
    params, client = module.params, module.client
    uuid, name = plan["MetaData"]["UUID"], plan["MetaData"]["Name"]
    failures = []
    if params["guest_prep_mode"] == "auto" and not module.check_mode:
        credentials, vms = guest_credentials(params, client.workloads(uuid, name))
        failures = client.prepare(uuid, name, credentials, vms, params["prepare_timeout"])
    return failures + readiness_failures(client.readiness(uuid, name))


def ensure(module):
    params, client = module.params, module.client
    name, state = params["name"], params["state"]
    if params["poll_interval"] <= 0:
        raise ApiError(
            "plan VMs", "poll_interval is %s" % params["poll_interval"], hint="give a positive number"
        )
    client.poll_interval = params["poll_interval"]
    plan = client.find_plan(name=name)
    if plan is None or plan_state(plan["MetaData"]) == "Uninitialized":
        # Before anything is created: a plan that would start needs its guests prepared.
        require_guest_credentials(params)
    if state == "absent":
        if plan and not module.check_mode:
            client.delete_plan(plan["MetaData"]["UUID"], name)
        return bool(plan), dict(plan_uuid=None)
    changed = False
    if plan is None:
        spec = build_spec(client, params)
        if module.check_mode:
            return True, dict(plan_uuid=None)
        plan = client.plan(client.create_plan(spec))
        changed = True
    if state == "present":
        return changed, result_of(client, plan)
    actions, settled = TRANSITIONS[state]
    current = plan_state(plan["MetaData"])
    if current in settled:
        return changed, result_of(client, plan)
    verb = actions.get(current)
    if verb is None:
        raise ApiError(
            "make Move plan '%s' %s" % (name, state),
            "the plan is %s" % current,
            hint="a plan that never started can only be started or deleted; a finished one only deleted",
        )
    extra = {}
    if verb == "start":
        failures = start_checks(module, plan)
        extra["readiness"] = failures
        if failures and params["fail_on_readiness"]:
            module.fail_api(
                ApiError(
                    "start Move plan '%s'" % name,
                    "readiness checks failed: "
                    + "; ".join("%s: %s" % (f["vm"] or "plan", f["message"]) for f in failures),
                    hint="fix those VMs or leave them out of the plan, or set fail_on_readiness: false "
                    "to start the others (Move fails the VMs that are not ready)",
                ),
                changed=changed,
                readiness=failures,
                **result_of(client, plan),
            )
    if not module.check_mode:
        client.plan_action(plan["MetaData"]["UUID"], name, verb, DONE_WHEN[verb])
        plan = client.plan(plan["MetaData"]["UUID"])
    result = result_of(client, plan)
    result.update(extra)
    return True, result


def main():
    move_module(
        dict(
            name=dict(type="str", required=True),
            state=dict(
                type="str",
                choices=["present", "started", "suspended", "cancelled", "absent"],
                default="present",
            ),
            source_provider=dict(type="str"),
            target_provider=dict(type="str"),
            target_cluster=dict(type="str"),
            target_container=dict(type="str"),
            network_mappings=dict(
                type="list",
                elements="dict",
                options=dict(
                    source=dict(type="str", required=True),
                    target=dict(type="str", required=True),
                    test=dict(type="str"),
                ),
            ),
            vms=dict(type="list", elements="str"),
            guest_prep_mode=dict(type="str", choices=["auto", "manual"], default="auto"),
            guest_credentials=dict(
                type="dict",
                options=dict(
                    linux_username=dict(type="str"),
                    linux_password=dict(type="str", no_log=True),
                    windows_username=dict(type="str"),
                    windows_password=dict(type="str", no_log=True),
                ),
            ),
            vm_guest_credentials=dict(
                type="list",
                elements="dict",
                options=dict(
                    vm=dict(type="str", required=True),
                    username=dict(type="str", required=True),
                    password=dict(type="str", required=True, no_log=True),
                ),
            ),
            prepare_timeout=dict(type="int", default=1800),
            poll_interval=dict(type="float", default=2.0),
            retain_mac=dict(type="bool", default=True),
            uninstall_vmware_tools=dict(type="bool", default=True),
            install_ngt=dict(type="bool", default=True),
            fail_on_readiness=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    ).run(ensure)


if __name__ == "__main__":
    main()
