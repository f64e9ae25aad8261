#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_info
short_description: Find AHV VMs in Prism Central by ext_id, name, OData, Category, cluster or power state
version_added: 0.1.0
description:
  - Reads VMs from Prism Central's vmm v4 API (C(/api/vmm/v4.x/ahv/config/vms)).
  - One VM by O(ext_id) or O(name), or a list. A list reads the first page, then the others concurrently,
    unless O(page) asks for one page only.
  - O(filter), O(order_by) and O(select) go to Prism as OData C($filter), C($orderby) and C($select);
    O(cluster) and O(power_state) are added to the C($filter) for you.
  - Prism v4 cannot filter VMs by Category on the server. O(categories) resolves each key:value to its
    Category ext_id and then either reads the Categories' associations and fetches those VMs by ext_id,
    or filters the server-side list on the client. O(category_strategy=auto) picks whichever needs fewer
    calls; the benchmark in C(tests/benchmarks) compares both at 20,000 VMs.
  - Every VM comes back in one stable shape (see RV(vms)); the Prism object itself is under C(vm).
author: day2ops team (@day2ops)
options:
  ext_id:
    description: The ext_id of one VM.
    type: str
  name:
    description: The name of one VM. A name shared by several VMs is an error that lists them.
    type: str
  filter:
    description:
      - A raw OData C($filter), for example V(startswith(name, 'fin-') and memorySizeBytes ge 8589934592).
      - Filterable fields include C(name), C(powerState), C(memorySizeBytes), C(numSockets), C(cluster/extId).
    type: str
  order_by:
    description: An OData C($orderby), for example V(memorySizeBytes desc, name).
    type: str
  select:
    description:
      - Prism fields to read (OData C($select)); the fields the summary needs are always added.
      - Without it whole VM objects are read; with it lists of thousands of VMs read much faster.
    type: list
    elements: str
  limit:
    description: Return at most this many VMs.
    type: int
  page:
    description:
      - Read only this page (0-based) of O(limit) VMs, at most 100, instead of every page.
    type: int
  categories:
    description:
      - "Only VMs carrying these Categories, as C({key: value}) or C({key: [values]})."
      - Keys combine with AND, the values of one key with OR.
    type: dict
  category_strategy:
    description:
      - How O(categories) is resolved; see the description. V(auto) is right unless you measure otherwise.
    type: str
    choices: [auto, associations, client]
    default: auto
  cluster:
    description: Only VMs on this cluster, by name or ext_id.
    type: str
  power_state:
    description: Only VMs in this power state.
    type: str
    choices: [powered_on, powered_off, paused]
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.info
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Production VMs of the Finance department that are running
  day2ops.ahv.vm_info:
    categories:
      Environment: Production
      Department: Finance
    power_state: powered_on
    select: [name, powerState]
  register: finance_prod

- name: The ten largest VMs on the production cluster
  day2ops.ahv.vm_info:
    cluster: prod-ahv-01
    order_by: memorySizeBytes desc
    limit: 10
  register: largest

- name: Raw OData, one page
  day2ops.ahv.vm_info:
    filter: "startswith(name, 'hr-')"
    limit: 20
    page: 0

- name: One VM by name, then by ext_id
  day2ops.ahv.vm_info:
    name: hr-portal-prd-app-001
  register: one

- name: Same VM by ext_id
  day2ops.ahv.vm_info:
    ext_id: "{{ one.vms[0].ext_id }}"
"""

RETURN = r"""
vms:
  description: The VMs, each in the same shape.
  returned: always
  type: list
  elements: dict
  contains:
    ext_id:
      description: The VM's ext_id.
      type: str
    name:
      description: The VM's name.
      type: str
    description:
      description: The VM's description.
      type: str
    cluster:
      description: The name of the VM's cluster.
      type: str
    cluster_ext_id:
      description: The ext_id of the VM's cluster.
      type: str
    host_ext_id:
      description: The host it runs on; null when it is off.
      type: str
    power_state:
      description: V(ON), V(OFF) or V(PAUSED).
      type: str
    vcpus:
      description: Sockets x cores per socket x threads per core.
      type: int
    memory_mib:
      description: Memory in MiB.
      type: int
    storage_gib:
      description: Provisioned size of its disks in GiB (CD-ROMs and volume groups excluded).
      type: float
    categories:
      description: "Its Categories as C({key: [values]})."
      type: dict
    category_ext_ids:
      description: The ext_ids of its Categories, as Prism lists them.
      type: list
      elements: str
    ip_addresses:
      description: Its IPv4 addresses, learned ones first.
      type: list
      elements: str
    vm:
      description: The VM as Prism Central returns it (C(vmm.v4.ahv.config.Vm)), limited to O(select).
      type: dict
  sample:
    - ext_id: 8f2b6f64-3b8a-4a57-9f7e-1b7d0c1a2e33
      name: fin-billing-prd-app-091
      cluster: prod-ahv-01
      power_state: "ON"
      vcpus: 4
      memory_mib: 16384
      storage_gib: 120.0
      categories:
        Department: [Finance]
        Environment: [Production]
      ip_addresses: [10.20.0.91]
ext_ids:
  description: The VMs' ext_ids, in the order of RV(vms).
  returned: always
  type: list
  elements: str
category_strategy:
  description: How O(categories) was resolved (V(associations) or V(client)), or V(server) without it.
  returned: always
  type: str
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import find_vm
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import PAGE_LIMIT
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import PrismModule
from ansible_collections.day2ops.ahv.plugins.module_utils._vmm import page_vms
from ansible_collections.day2ops.ahv.plugins.module_utils._vms import (
    SUMMARY_FIELDS,
    list_vms,
    server_filter,
    vm_summaries,
)


LIST_OPTIONS = ("filter", "order_by", "select", "limit", "page", "categories", "cluster", "power_state")


def ensure(module):
    params, client = module.params, module.client
    how = "server"
    if params["ext_id"] or params["name"]:
        vms = [find_vm(client, params["ext_id"], params["name"])]
    elif params["page"] is not None:
        query = {"$page": params["page"], "$limit": min(params["limit"] or PAGE_LIMIT, PAGE_LIMIT)}
        flt = server_filter(client, params["filter"], params["cluster"], params["power_state"])
        for option, value in (("$filter", flt), ("$orderby", params["order_by"])):
            if value:
                query[option] = value
        if params["select"] is not None:
            query["$select"] = ",".join(sorted(set(params["select"]) | set(SUMMARY_FIELDS)))
        vms, _total = page_vms(client, query)
    else:
        vms, how = list_vms(
            client,
            odata_filter=params["filter"],
            categories=params["categories"],
            cluster=params["cluster"],
            power_state=params["power_state"],
            select=params["select"],
            order_by=params["order_by"],
            limit=params["limit"],
            strategy=params["category_strategy"],
        )
    summaries = vm_summaries(client, vms)
    return False, dict(vms=summaries, ext_ids=[vm["ext_id"] for vm in summaries], category_strategy=how)


def main():
    PrismModule(
        dict(
            ext_id=dict(type="str"),
            name=dict(type="str"),
            filter=dict(type="str"),
            order_by=dict(type="str"),
            select=dict(type="list", elements="str"),
            limit=dict(type="int"),
            page=dict(type="int"),
            categories=dict(type="dict"),
            category_strategy=dict(type="str", choices=["auto", "associations", "client"], default="auto"),
            cluster=dict(type="str"),
            power_state=dict(type="str", choices=["powered_on", "powered_off", "paused"]),
        ),
        mutually_exclusive=[("ext_id", "name"), ("page", "categories")]
        + [(one, other) for one in ("ext_id", "name") for other in LIST_OPTIONS],
        supports_check_mode=True,
    ).run(ensure)


if __name__ == "__main__":
    main()
