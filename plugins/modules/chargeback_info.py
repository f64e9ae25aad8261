#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: chargeback_info
short_description: vCPU, memory, storage and cost of AHV VMs per Category value, and the untagged VMs
version_added: 0.1.0
description:
  - Lists the VMs (a server-side C($filter) and C($select) of only the fields chargeback needs), groups
    them by the values of one Category key (O(group_by), C(Department) by default), and sums per group
    the VM count, powered-on count, vCPUs (sockets x cores x threads), memory GiB and provisioned
    storage GiB, then applies O(rate_card) for a monthly cost.
  - A VM with two values of the key counts in both groups. VMs without the key are listed in
    RV(untagged), with their C(Owner) Category when they have one and the owner Prism records for them
    (C(ownershipInfo)), so their owners can claim them; they are charged in one more row, RV(untagged_row),
    so the rows add up to RV(totals).
  - The VMs themselves are not returned, so the result stays small at tens of thousands of VMs.
author: day2ops team (@day2ops)
options:
  group_by:
    description: The Category key to group by.
    type: str
    default: Department
  filter:
    description:
      - An OData C($filter) on the VMs, applied by Prism, for example
        C(powerState eq Vmm.Ahv.Config.PowerState'ON').
    type: str
  cluster:
    description: Only VMs on this cluster (name or ext_id).
    type: str
  rate_card:
    description: Prices per month.
    type: dict
    default: {}
    suboptions:
      currency:
        description: The currency the costs are in.
        type: str
        default: USD
      vcpu:
        description: Price of one vCPU for a month.
        type: float
        default: 0
      memory_gib:
        description: Price of one GiB of memory for a month.
        type: float
        default: 0
      storage_gib:
        description: Price of one GiB of provisioned storage for a month.
        type: float
        default: 0
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.info
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Cost per department
  day2ops.ahv.chargeback_info:
    rate_card: {currency: EUR, vcpu: 18.5, memory_gib: 4.2, storage_gib: 0.08}
  register: chargeback

- name: The untagged VMs
  ansible.builtin.debug:
    msg: "{{ chargeback.untagged | map(attribute='name') }}"
"""

RETURN = r"""
key:
  description: The Category key grouped by.
  returned: always
  type: str
currency:
  description: The currency of the costs.
  returned: always
  type: str
groups:
  description:
    - One entry per value of the key, most expensive first, with C(group), C(vms), C(powered_on), C(vcpus),
      C(memory_gib), C(storage_gib) and C(cost) (C(vcpu), C(memory), C(storage), C(total)).
  returned: always
  type: list
  elements: dict
untagged:
  description:
    - VMs without the key, each with C(name), C(ext_id), C(cluster), C(power_state), C(owner) (the value of
      their C(Owner) Category, or null) and C(owner_ext_id) (the owner in the VM's C(ownershipInfo), or null).
  returned: always
  type: list
  elements: dict
untagged_row:
  description: The VMs without the key as one more row, C(group) C((untagged)), with the same sums and cost.
  returned: always
  type: dict
totals:
  description:
    - The sums of RV(groups) and RV(untagged_row), so the report adds up (a VM in two groups counts twice).
  returned: always
  type: dict
estate:
  description: The same sums over every VM listed, each VM once, untagged ones included.
  returned: always
  type: dict
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._chargeback import CHARGEBACK_FIELDS, aggregate
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import PrismModule
from ansible_collections.day2ops.ahv.plugins.module_utils._vmm import list_vms
from ansible_collections.day2ops.ahv.plugins.module_utils._vms import server_filter, vm_summaries


def ensure(module):
    params, client = module.params, module.client
    query = {"$select": ",".join(CHARGEBACK_FIELDS)}
    flt = server_filter(client, params["filter"], params["cluster"])
    if flt:
        query["$filter"] = flt
    vms = list_vms(client, query, "list VMs for chargeback")
    return False, aggregate(vm_summaries(client, vms), params["group_by"], params["rate_card"])


def main():
    spec = dict(
        group_by=dict(type="str", default="Department"),
        filter=dict(type="str"),
        cluster=dict(type="str"),
        rate_card=dict(
            type="dict",
            default={},
            options=dict(
                currency=dict(type="str", default="USD"),
                vcpu=dict(type="float", default=0),
                memory_gib=dict(type="float", default=0),
                storage_gib=dict(type="float", default=0),
            ),
        ),
    )
    PrismModule(spec, supports_check_mode=True).run(ensure)


if __name__ == "__main__":
    main()
