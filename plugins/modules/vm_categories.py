#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_categories
short_description: Associate Categories with AHV VMs, or remove them
version_added: 0.1.0
description:
  - Associates or disassociates Category key:value pairs with a VM through the vmm v4 actions
    C($actions/associate-categories) and C($actions/disassociate-categories), with the VM's fresh ETag.
  - One VM (O(ext_id) or O(name)), or many (O(vm_ext_ids), O(vm_names)) given the same pairs. Many VMs are
    not a loop of wait-for-each. Each VM's association is its own task sent with its own ETag, at most
    O(concurrency) calls at a time (a VM's disassociation follows its own association, read again); the
    tasks are polled together, a few list calls per round; each VM is reported in RV(results), and a VM
    that fails does not stop the others.
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
  - day2ops.ahv.prism.vm_batch
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

- name: Tag a whole tier at once, each VM reported on its own
  day2ops.ahv.vm_categories:
    vm_names: [hr-portal-tst-app-071, hr-portal-tst-app-141]
    categories:
      Department: HR
  register: tier

- name: Every VM of the tier has them
  ansible.builtin.assert:
    that: tier.counts.failed | default(0) == 0
"""

RETURN = r"""
ext_id:
  description: The VM's ext_id.
  returned: with O(ext_id) or O(name)
  type: str
categories:
  description: "The VM's Categories at the end as C({key: [values]}); the predicted ones in check mode."
  returned: with O(ext_id) or O(name)
  type: dict
  sample:
    Department: [Finance]
    Environment: [Production]
associated:
  description: The pairs this run associated, as C(key:value).
  returned: with O(ext_id) or O(name)
  type: list
  elements: str
disassociated:
  description: The pairs this run disassociated, as C(key:value).
  returned: with O(ext_id) or O(name)
  type: list
  elements: str
task_ext_id:
  description: The ext_id of the last Prism task this run started; null when nothing was needed.
  returned: with O(ext_id) or O(name)
  type: str
task_ext_ids:
  description: Every Prism task this run started (associate, then disassociate); with many VMs, every VM's.
  returned: always
  type: list
  elements: str
results:
  description:
    - One entry per VM, in the order given (O(vm_ext_ids), then O(vm_names)), with C(vm_ext_id),
      C(vm_name), C(status) (C(changed), C(unchanged) or C(failed); what would happen in check mode),
      C(reason) (Prism's words for a failure, else null), C(task_ext_ids) (this VM's tasks),
      C(associated) and C(disassociated) (the pairs sent, as C(key:value)) and C(categories) (as this run
      left them; as last read for a VM that failed).
  returned: with O(vm_ext_ids) or O(vm_names)
  type: list
  elements: dict
counts:
  description: How many VMs ended in each status.
  returned: with O(vm_ext_ids) or O(vm_names)
  type: dict
  sample: {changed: 198, failed: 2}
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import CategoryIndex, find_vm
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


def ensure_one(module):
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


class Tagging:
    """The batch's steps for the wanted pairs, and what each VM was first seen with and was sent."""

    def __init__(self, params, index, wanted):
        self.params, self.index, self.wanted = params, index, wanted
        self.first = {}  # VM ext_id -> its Category ext_ids when first read
        self.sent = {}  # VM ext_id -> {"associated": [ext_ids], "disassociated": [ext_ids]}

    def steps(self):
        return [(word, self._decide(kind, change)) for kind, word, change in STEPS]

    def _decide(self, kind, change):
        def decide(current):
            ext_id = current["extId"]
            self.first.setdefault(ext_id, [c.get("extId") for c in current.get("categories") or ()])
            ids = plan(current, self.wanted, self.index, self.params["state"], self.params["purge"])[kind]
            if not ids:
                return None
            self.sent.setdefault(ext_id, {})[kind] = ids
            return change(ext_id, ids)

        return decide

    def first_map(self, vm_ext_id):
        """The VM's Categories when first read, as {key: [values]}."""
        return self.index.as_map({"extId": i} for i in self.first.get(vm_ext_id, []))

    def result(self, vm):
        sent = self.sent.get(vm.vm_ext_id, {})
        if vm.status == "failed":
            ids = [c.get("extId") for c in (vm.vm or {}).get("categories") or ()]
        else:
            gone = sent.get("disassociated", [])
            ids = [i for i in self.first.get(vm.vm_ext_id, []) if i not in gone]
            ids += sent.get("associated", [])
        return dict(
            vm.result(),
            associated=[pair(self.index, i) for i in sent.get("associated", [])],
            disassociated=[pair(self.index, i) for i in sent.get("disassociated", [])],
            categories=self.index.as_map({"extId": i} for i in ids),
        )


def ensure_many(module):
    params, client = module.params, module.client
    # Every Category, read once: the results name each VM's other pairs too.
    index = CategoryIndex.load(client)
    wanted = [i for ids in index.ext_ids(params["categories"]).values() for i in ids]
    tagging = Tagging(params, index, wanted)
    vms = vm_changes(client, params["vm_ext_ids"] or [], params["vm_names"] or [])
    batch = VmBatch(client, tagging.steps(), params["timeout"], params["wait"])
    if module.check_mode:
        batch.check(vms)
    else:
        batch.run(vms)
    results = [tagging.result(vm) for vm in vms]
    return batch_outcome(
        module,
        results,
        before=dict((r["vm_name"], tagging.first_map(r["vm_ext_id"])) for r in results),
        after=dict((r["vm_name"], r["categories"]) for r in results),
    )


def ensure(module):
    if module.params["ext_id"] or module.params["name"]:
        return ensure_one(module)
    return ensure_many(module)


def main():
    spec = dict(
        categories=dict(type="dict", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        purge=dict(type="bool", default=False),
    )
    spec.update(VM_SPEC)
    spec.update(BATCH_SPEC)
    spec.update(WAIT_SPEC)
    PrismModule(spec, supports_check_mode=True, **VMS_CHOICE).run(ensure)


if __name__ == "__main__":
    main()
