#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_categories
short_description: Associate Categories with an AHV VM, or remove them
version_added: 0.1.0
description:
  - Associates or disassociates Category key:value pairs with one VM through the vmm v4 actions
    C($actions/associate-categories) and C($actions/disassociate-categories), with the VM's fresh ETag.
  - "Pairs are named as C({key: value}) or C({key: [values]}); each must exist in Prism Central
    (create it with M(day2ops.ahv.category))."
  - Only the missing (or, for V(absent), present) pairs are sent, so a second run changes nothing.
author: day2ops team (@day2ops)
options:
  categories:
    description: "The key:value pairs, for example C({Environment: Production, AppTier: [Web, App]})."
    type: dict
    required: true
  state:
    description: V(present) associates the pairs; V(absent) disassociates them.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present), also disassociate the VM's other user Categories, so it ends with exactly
        O(categories). System and internal Categories (set by Prism workflows) are never purged.
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
- name: Tag a VM for the Finance production chargeback
  day2ops.ahv.vm_categories:
    name: hr-portal-tst-app-071
    categories:
      Department: Finance
      Criticality: High
  register: tagged

- name: Take one pair off again
  day2ops.ahv.vm_categories:
    ext_id: "{{ tagged.ext_id }}"
    categories:
      Criticality: High
    state: absent

- name: Leave it with exactly these user Categories
  day2ops.ahv.vm_categories:
    name: hr-portal-tst-app-071
    categories:
      Department: HR
      Environment: Test
      AppTier: App
    purge: true
"""

RETURN = r"""
ext_id:
  description: The VM's ext_id.
  returned: always
  type: str
categories:
  description: "The VM's Categories at the end as C({key: [values]}); the predicted ones in check mode."
  returned: always
  type: dict
  sample:
    Department: [Finance]
    Environment: [Production]
associated:
  description: The pairs this run associated, as C(key:value).
  returned: always
  type: list
  elements: str
disassociated:
  description: The pairs this run disassociated, as C(key:value).
  returned: always
  type: list
  elements: str
task_ext_id:
  description: The ext_id of the last Prism task this run started; null when nothing was needed.
  returned: always
  type: str
task_ext_ids:
  description: Every Prism task this run started (associate, then disassociate).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import CategoryIndex, find_vm
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import (
    VM_CHOICE,
    VM_SPEC,
    WAIT_SPEC,
    PrismModule,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._vmm import (
    associate_categories,
    change_vm,
    disassociate_categories,
    read_vm,
)

# (what plan() calls the step, the word its label starts with, the change that takes it)
STEPS = (
    ("associated", "associate", associate_categories),
    ("disassociated", "disassociate", disassociate_categories),
)


def plan(vm, wanted, index, state, purge):
    """{"associated": [ext_ids], "disassociated": [ext_ids]} that take the VM where it should be."""
    current = [c.get("extId") for c in vm.get("categories") or ()]
    if state == "absent":
        return {"associated": [], "disassociated": [i for i in current if i in wanted]}
    extra = []
    if purge:
        extra = [i for i in current if i not in wanted and (index.by_id.get(i) or {}).get("type") == "USER"]
    return {"associated": [i for i in wanted if i not in current], "disassociated": extra}


def pair(index, ext_id):
    return "%s:%s" % (index.by_id[ext_id]["key"], index.by_id[ext_id]["value"])


def ensure(module):
    params, client = module.params, module.client
    vm = find_vm(client, params["ext_id"], params["name"])
    # Purge must know every Category's type; otherwise the named keys are enough.
    index = CategoryIndex.load(client, keys=None if params["purge"] else list(params["categories"]))
    wanted = [i for ids in index.ext_ids(params["categories"]).values() for i in ids]
    steps = plan(vm, wanted, index, params["state"], params["purge"])
    changed = any(steps.values())
    predicted = [
        c.get("extId") for c in vm.get("categories") or () if c.get("extId") not in steps["disassociated"]
    ]
    predicted += steps["associated"]
    result = dict(
        ext_id=vm["extId"],
        task_ext_id=None,
        task_ext_ids=[],
        categories=index.as_map({"extId": i} for i in predicted)
        if changed
        else index.as_map(vm.get("categories")),
        associated=[pair(index, i) for i in steps["associated"]],
        disassociated=[pair(index, i) for i in steps["disassociated"]],
    )
    if module.diff:
        result["diff"] = dict(before=index.as_map(vm.get("categories")), after=result["categories"])
    if not changed or module.check_mode:
        return changed, result
    for kind, word, change in STEPS:
        label = "%s Categories of VM '%s' (%s)" % (word, vm.get("name"), vm["extId"])

        def decide(current, kind=kind, change=change):
            ids = plan(current, wanted, index, params["state"], params["purge"])[kind]
            return change(current["extId"], ids) if ids else None

        task_ext_id = change_vm(client, vm["extId"], label, decide)[2]
        if task_ext_id:
            result["task_ext_ids"].append(task_ext_id)
            result["task_ext_id"] = task_ext_id
            if params["wait"]:
                try:
                    client.wait_task(task_ext_id, params["timeout"], label)
                except ApiError as err:  # report the tasks already started with the failure
                    module.fail_api(err, **result)
    if params["wait"]:
        after, _etag = read_vm(client, vm["extId"])
        result["categories"] = CategoryIndex.load(client).as_map(after.get("categories"))
    return True, result


def main():
    spec = dict(
        categories=dict(type="dict", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        purge=dict(type="bool", default=False),
    )
    spec.update(VM_SPEC)
    spec.update(WAIT_SPEC)
    PrismModule(spec, supports_check_mode=True, **VM_CHOICE).run(ensure)


if __name__ == "__main__":
    main()
