# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

Listing VMs the way vm_info and the prism_vms inventory do, and the stable summary shape
both return. Prism v4 cannot filter VMs by Category on the server, so a Category scope is
resolved either through the Categories' associations (then VMs fetched by ext_id) or by
filtering a server-side list on the client, whichever needs fewer calls.
"""

from __future__ import annotations

import math

from ansible_collections.day2ops.ahv.plugins.module_utils import _vmm
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import (
    CategoryIndex,
    cluster_names,
    cluster_ext_id,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import PAGE_LIMIT
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_config import read_category
from ansible_collections.day2ops.ahv.plugins.module_utils._v4 import odata_quote

# What the summary reads; requested with $select whenever the caller does not want whole VMs.
# The v4.0 SDK lists `cluster/extId` and `host/extId` as selectable, not `cluster` or `host`.
SUMMARY_FIELDS = (
    "extId",
    "name",
    "description",
    "cluster/extId",
    "host/extId",
    "powerState",
    "numSockets",
    "numCoresPerSocket",
    "numThreadsPerCore",
    "memorySizeBytes",
    "disks",
    "nics",
    "categories",
)
# Words, not on/off, which YAML reads as booleans.
POWER_STATES = {"powered_on": "ON", "powered_off": "OFF", "paused": "PAUSED"}
VMS_PER_ID_FILTER = 40  # `extId eq ...` clauses per call; ~2 KiB of URL
# A 40-id filter call costs the server about four plain list pages (tests/benchmarks/bench_inventory.py:
# at 20,000 VMs a 5,000-VM scope took 9.3 s by ext_id against 3.6 s by listing, in 131 and 203 calls).
ID_CALL_COST = 4
STRATEGIES = ("auto", "associations", "client")
VM_RESOURCE_TYPES = ("VM", "MH_VM")


def summary(vm, clusters, categories):
    """The documented, stable shape of one VM; the Prism object itself stays under `vm`."""
    sockets = vm.get("numSockets")
    cores = vm.get("numCoresPerSocket")
    threads = vm.get("numThreadsPerCore") or 1
    memory = vm.get("memorySizeBytes")
    cluster_id = (vm.get("cluster") or {}).get("extId")
    return {
        "ext_id": vm.get("extId"),
        "name": vm.get("name"),
        "description": vm.get("description"),
        "cluster_ext_id": cluster_id,
        "cluster": clusters.get(cluster_id),
        "host_ext_id": (vm.get("host") or {}).get("extId"),
        "power_state": vm.get("powerState"),
        "vcpus": sockets * cores * threads if sockets and cores else None,
        "memory_mib": memory // (1024 * 1024) if memory is not None else None,
        "storage_gib": round(storage_bytes(vm) / float(1 << 30), 2) if "disks" in vm else None,
        "categories": categories.as_map(vm.get("categories")),
        "category_ext_ids": [c.get("extId") for c in vm.get("categories") or []],
        "ip_addresses": ip_addresses(vm),
        "vm": vm,
    }


def storage_bytes(vm):
    """Provisioned bytes of the VM's disks (CD-ROMs and volume-group disks are not its storage)."""
    total = 0
    for disk in vm.get("disks") or ():
        backing = disk.get("backingInfo") or {}
        if backing.get("$objectType", "vmm.v4.ahv.config.VmDisk").endswith("VmDisk"):
            total += backing.get("diskSizeBytes") or 0
    return total


def ip_addresses(vm):
    """Learned addresses first (what the guest really has), then assigned ones, without repeats."""
    learned, assigned = [], []
    for nic in vm.get("nics") or ():
        for info in (nic.get("networkInfo"), nic.get("nicNetworkInfo")):
            info = info or {}
            for address in (info.get("ipv4Info") or {}).get("learnedIpAddresses") or ():
                learned.append(address.get("value"))
            assigned.append(((info.get("ipv4Config") or {}).get("ipAddress") or {}).get("value"))
    return [ip for ip in dict.fromkeys(learned + assigned) if ip]


def server_filter(client, odata_filter=None, cluster=None, power_state=None):
    """The $filter Prism can apply itself: the caller's raw OData plus the convenience options."""
    clauses = ["(%s)" % odata_filter] if odata_filter else []
    if cluster:
        cluster_id = cluster_ext_id(client, cluster)
        clauses.append("cluster/extId eq %s" % odata_quote(cluster_id))
    if power_state:
        state = POWER_STATES.get(power_state)
        if state is None:
            raise ApiError(
                "list VMs",
                "power_state '%s' is not a VM power state" % power_state,
                hint="use one of %s" % ", ".join(sorted(POWER_STATES)),
            )
        clauses.append("powerState eq Vmm.Ahv.Config.PowerState'%s'" % state)
    return " and ".join(clauses) or None


def list_vms(
    client,
    odata_filter=None,
    categories=None,
    cluster=None,
    power_state=None,
    select=None,
    order_by=None,
    limit=None,
    strategy="auto",
):
    """(vms, how) for the query; `how` says which Category strategy ran, for the docs' claim."""
    flt = server_filter(client, odata_filter, cluster, power_state)
    fields = None if select is None else sorted(set(select) | set(SUMMARY_FIELDS))
    params = {}
    if fields:
        params["$select"] = ",".join(fields)
    if order_by:
        params["$orderby"] = order_by
    if not categories:
        if flt:
            params["$filter"] = flt
        return _vmm.list_vms(client, params, limit=limit), "server"
    index = CategoryIndex.load(client, keys=list(categories))
    wanted = index.ext_ids(categories)
    if strategy not in STRATEGIES:
        raise ApiError(
            "list VMs",
            "category_strategy '%s' is unknown" % strategy,
            hint="use one of %s" % ", ".join(STRATEGIES),
        )
    scope = _associated_vms(client, wanted) if strategy != "client" else None
    if strategy == "auto":
        strategy = _cheaper(client, scope, flt)
    if strategy == "associations":
        vms = _by_associations(client, scope, flt, params)
        if order_by:
            vms = sort_like_orderby(vms, order_by)
        return (vms[:limit] if limit else vms), "associations"
    if fields and "categories" not in fields:
        params["$select"] += ",categories"
    if flt:
        params["$filter"] = flt
    vms = [vm for vm in _vmm.list_vms(client, params) if _in_scope(vm, wanted)]
    return (vms[:limit] if limit else vms), "client"


def list_vm_names(client, odata_filter=None):
    """[{extId, name}] of the VMs an OData filter selects (every VM without one), by name: a dropdown's
    worth, without the fields a summary needs."""
    params = {"$select": "extId,name", "$orderby": "name"}
    if odata_filter:
        params["$filter"] = odata_filter
    return _vmm.list_vms(client, params)


def _in_scope(vm, wanted):
    """AND across keys, OR across the values of one key."""
    ids = set(c.get("extId") for c in vm.get("categories") or ())
    return all(ids.intersection(values) for values in wanted.values())


def _associated_vms(client, wanted):
    def members(category_id):
        category, _etag = read_category(
            client,
            category_id,
            "read the associations of Category %s" % category_id,
            {"$expand": "detailedAssociations"},
        )
        return set(
            a.get("resourceId")
            for a in category.get("detailedAssociations") or ()
            if a.get("resourceType") in VM_RESOURCE_TYPES
        )

    ids = sorted(set(i for values in wanted.values() for i in values))
    by_category = dict(zip(ids, client.map(members, ids)))
    scope = None
    for values in wanted.values():
        key_scope = set().union(*(by_category[v] for v in values))
        scope = key_scope if scope is None else scope & key_scope
    return sorted(scope or ())


def _cheaper(client, scope, flt):
    """Associations when fetching the scoped VMs by ext_id takes fewer calls than paging the list."""
    params = dict({"$limit": 1, "$select": "extId"}, **({"$filter": flt} if flt else {}))
    total = _vmm.page_vms(client, params, "count VMs")[1]
    by_id = math.ceil(len(scope) / float(VMS_PER_ID_FILTER))
    by_list = math.ceil(total / float(PAGE_LIMIT))
    return "associations" if by_id * ID_CALL_COST <= by_list else "client"


def _by_associations(client, scope, flt, params):
    chunks = [scope[i : i + VMS_PER_ID_FILTER] for i in range(0, len(scope), VMS_PER_ID_FILTER)]

    def fetch(chunk):
        ids = " or ".join("extId eq %s" % odata_quote(i) for i in chunk)
        chunk_params = dict(params, **{"$filter": "(%s) and (%s)" % (ids, flt) if flt else ids})
        chunk_params.pop("$orderby", None)
        return _vmm.list_vms(client, chunk_params, "list VMs by Category")

    vms = []
    for found in client.map(fetch, chunks):
        vms.extend(found)
    return vms


def sort_like_orderby(items, order_by):
    """Apply an OData $orderby ("name desc, memorySizeBytes") on the client, missing values first."""
    for clause in reversed([c.strip() for c in order_by.split(",") if c.strip()]):
        parts = clause.split()
        descending = len(parts) > 1 and parts[1].lower() == "desc"
        items = sorted(items, key=_path_key(parts[0].split("/")), reverse=descending)
    return items


def _path_key(path):
    def key(item):
        for step in path:
            item = item.get(step) if isinstance(item, dict) else None
        return (item is not None, item)

    return key


def vm_summaries(client, vms):
    """Summaries of many VMs, with the cluster names and Category names read once for all."""
    clusters = cluster_names(client)
    categories = CategoryIndex.load(client)
    return [summary(vm, clusters, categories) for vm in vms]


def ngt_ready(vm):
    """Whether guest actions (guest shutdown and reboot) can reach the VM through Nutanix Guest Tools."""
    tools = vm.get("guestTools") or {}
    return bool(tools.get("isInstalled") and tools.get("isEnabled") and tools.get("isReachable"))


def ensure_power(client, vm_ext_id, state, label, timeout):
    """Power a VM on or off (`state` ON or OFF) unless it is so already, and wait for it; the task
    ext_id, or None when nothing was needed."""
    verb = "power-on" if state == "ON" else "power-off"
    _vm, _change, task_ext_id = _vmm.change_vm(
        client,
        vm_ext_id,
        label,
        lambda vm: None if vm.get("powerState") == state else _vmm.power_vm(vm_ext_id, verb),
    )
    if task_ext_id:
        client.wait_task(task_ext_id, timeout, label)
    return task_ext_id


def set_identity(client, vm_ext_id, identity, timeout):
    """Give a VM `identity["name"]` and exactly the Categories `identity["categories"]` (references)
    through vmm, each change with the VM's fresh ETag and waited for; the task ext_ids."""
    label = "set the name and Categories of VM %s" % vm_ext_id
    wanted = [c["extId"] for c in identity.get("categories") or ()]

    def rename(vm):
        if "name" not in identity or vm.get("name") == identity["name"]:
            return None
        return _vmm.update_vm(vm_ext_id, dict(vm, name=identity["name"]))

    def disassociate(vm):
        current = [c.get("extId") for c in vm.get("categories") or ()]
        ids = [i for i in current if i not in wanted]
        return _vmm.disassociate_categories(vm_ext_id, ids) if "categories" in identity and ids else None

    def associate(vm):
        current = [c.get("extId") for c in vm.get("categories") or ()]
        ids = [i for i in wanted if i not in current]
        return _vmm.associate_categories(vm_ext_id, ids) if "categories" in identity and ids else None

    tasks = []
    for decide in (rename, disassociate, associate):
        task_ext_id = _vmm.change_vm(client, vm_ext_id, label, decide)[2]
        if task_ext_id:
            client.wait_task(task_ext_id, timeout, label)
            tasks.append(task_ext_id)
    return tasks
