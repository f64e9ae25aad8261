#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: move_provider_info
short_description: Read Nutanix Move's providers, their target clusters and a source's VM inventory
version_added: 0.1.0
description:
  - Lists the providers of the Move appliance (C(POST /move/v2/providers/list)). A Prism Central
    target carries its clusters with their storage containers and networks
    (C(Spec.AOSProperties.Clusters)), which a plan names.
  - With O(inventory=true) and the O(name) of a source, also lists that source's VMs as Move sees
    them (C(POST /move/v2/providers/{uuid}/workloads/list)), eligible for migration or not
    (C(ShowVMs) C(all)), 100 a page. C(VMUuid) is the vCenter instance UUID a plan needs,
    C(Networks) the port groups to map.
author: day2ops team (@day2ops)
options:
  name:
    description: Only the provider of this name; an unknown name fails.
    type: str
  inventory:
    description: List the VMs of the provider named by O(name) (a source).
    type: bool
    default: false
  query:
    description: With O(inventory), only VMs whose name contains this text.
    type: str
  refresh:
    description: With O(inventory), make Move rediscover the source's VMs first (C(RefreshInventory)).
    type: bool
    default: false
extends_documentation_fragment:
  - day2ops.ahv.move
  - day2ops.ahv.prism.info
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Every provider, with the target's clusters, containers and networks (Move from MOVE_* variables)
  day2ops.ahv.move_provider_info:
  register: providers

- name: The source's VMs whose name contains "-prd-"
  day2ops.ahv.move_provider_info:
    name: vcenter-east
    inventory: true
    query: "-prd-"
"""

RETURN = r"""
providers:
  description: The providers as Move returns them (C(MetaData), C(Spec), C(Status)), passwords never included.
  returned: always
  type: list
  elements: dict
workloads:
  description:
    - With O(inventory), the source's VMs as Move lists them (C(VMName), C(VMUuid), C(VmID),
      C(Networks)).
  returned: when O(inventory=true)
  type: list
  elements: dict
inventory_complete:
  description:
    - With O(inventory), whether the pages held every VM Move counted (C(MetaData.Count)); false when
      the appliance would not page further (look a VM up with O(query) then).
  returned: when O(inventory=true)
  type: bool
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._migration_module import move_module


def ensure(module):
    params, client = module.params, module.client
    providers = client.providers()
    if params["name"]:
        providers = [p for p in providers if p["Spec"].get("Name") == params["name"]]
        if not providers:
            raise ApiError(
                "read Move provider '%s'" % params["name"],
                "there is no provider of that name",
                hint="list them without name, or add it with day2ops.ahv.move_provider",
            )
    result = dict(providers=providers)
    if params["inventory"]:
        if not params["name"]:
            raise ApiError(
                "list a Move provider's VMs",
                "inventory needs name",
                hint="set name to the source provider's name",
            )
        inventory = client.source_inventory(
            providers[0]["MetaData"]["UUID"], params["query"], params["refresh"]
        )
        result.update(workloads=inventory.vms, inventory_complete=inventory.complete)
    return False, result


def main():
    move_module(
        dict(
            name=dict(type="str"),
            inventory=dict(type="bool", default=False),
            query=dict(type="str"),
            refresh=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    ).run(ensure)


if __name__ == "__main__":
    main()
