#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: move_plan_info
short_description: Read Nutanix Move migration plans, each VM's migration state, and readiness results
version_added: 0.1.0
description:
  - Lists Move's migration plans with their VMs (C(POST /move/v2/plans/list?IncludeEntityDetails=true)),
    or one plan by name or UUID.
  - Each plan comes with its C(workloads), one per VM (C(POST /move/v2/plans/{uuid}/workloads/list)), with
    C(StateString) (C(DataSeeding), C(ReadyToCutover), C(CutoverInProgress), C(Completed), C(Failed)),
    the C(Actions) Move offers (C(CUTOVER) when the VM is ready), progress, C(ErrorMessage), and once
    migrated the AHV VM's extId as C(target_vm_ext_id).
  - Read the states by these strings and C(Actions). The plan's number C(State) is kept as Move sends it,
    but 5 there means Paused; the "state 5 = ready for cutover" shorthand is not reliable.
  - With O(readiness=true), also runs Move's readiness checks of each plan (C(POST .../readiness)),
    which reads the source and changes nothing.
author: day2ops team (@day2ops)
options:
  name:
    description: Only the plan of this name; an unknown name fails.
    type: str
  plan_uuid:
    description: Only the plan of this UUID.
    type: str
  readiness:
    description: Run the readiness checks of each plan returned and include the failures.
    type: bool
    default: false
extends_documentation_fragment:
  - day2ops.ahv.move
  - day2ops.ahv.prism.info
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Every plan and the state of each of its VMs (Move from MOVE_* variables)
  day2ops.ahv.move_plan_info:
  register: plans

- name: The VMs of every plan that Move would cut over now
  ansible.builtin.debug:
    msg: "{{ plans.plans | map(attribute='workloads') | flatten | selectattr('Actions', 'contains', 'CUTOVER')
      | map(attribute='Name') | list }}"
"""

RETURN = r"""
plans:
  description:
    - The plans' C(MetaData) as Move returns them (C(UUID), C(Name), C(StateString), C(StatusString),
      C(State), C(VMStateCounts), C(Actions), C(ErrorReasons)), each plus C(workloads) (every VM's
      status as Move reports it, with C(target_vm_ext_id) once the AHV VM exists) and, with
      O(readiness), C(readiness) (failed checks as C(vm), C(check), C(message)).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._migration_module import move_module
from ansible_collections.day2ops.ahv.plugins.module_utils._move import target_ext_id
from ansible_collections.day2ops.ahv.plugins.module_utils._move_plans import readiness_failures


def ensure(module):
    params, client = module.params, module.client
    if params["name"] or params["plan_uuid"]:
        plans = [
            client.require_plan(
                "read", params["name"], params["plan_uuid"], "list the plans without name or plan_uuid"
            )
        ]
    else:
        plans = client.plans()
    out = []
    for plan in plans:
        meta = dict(plan["MetaData"])
        meta.pop("VMStatus", None)
        statuses = client.workloads(meta["UUID"], meta["Name"])
        meta["workloads"] = [dict(s, target_vm_ext_id=target_ext_id(s)) for s in statuses]
        if params["readiness"]:
            meta["readiness"] = readiness_failures(client.readiness(meta["UUID"], meta["Name"]))
        out.append(meta)
    return False, dict(plans=out)


def main():
    move_module(
        dict(
            name=dict(type="str"),
            plan_uuid=dict(type="str"),
            readiness=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("name", "plan_uuid")],
        supports_check_mode=True,
    ).run(ensure)


if __name__ == "__main__":
    main()
