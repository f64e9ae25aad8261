# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

Migration plans in an operator's words: providers, cluster, container and networks by name, VMs
by name or instance UUID, resolved against what Move itself reports, into the plan Spec Move takes,
and the body of its guest preparation.
"""

from __future__ import annotations

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError


def _one(action, kind, items, wanted, keys):
    """The item whose any of `keys` equals `wanted`; fails naming the choices."""
    found = [i for i in items if any(i.get(k) == wanted for k in keys)]
    if len(found) != 1:
        raise ApiError(
            action,
            "%s '%s' %s" % (kind, wanted, "matched %d" % len(found) if found else "not found"),
            hint="use one of %s" % ", ".join(sorted(set(str(i.get(keys[0])) for i in items)))
            if items
            else None,
        )
    return found[0]


def _require_options(action, params):
    required = ["source_provider", "target_provider", "target_cluster", "vms", "network_mappings"]
    missing = [k for k in required if not params.get(k)]
    if missing:
        raise ApiError(
            action, "%s missing" % ", ".join(missing), hint="give every one of %s" % ", ".join(required)
        )


def _aos_target(client, action, providers, wanted):
    """The target provider, with its clusters; fails when it is not Prism Central/AHV."""
    target = _one(action, "target provider", providers, wanted, ("Name", "UUID"))
    if "AOSProperties" not in target:
        # The list may leave the clusters out [R]; the provider's own read has them [C: S2 S4].
        target = client.provider(target["UUID"])["Spec"]
    if "AOSProperties" not in target:
        raise ApiError(
            action, "'%s' is not a Prism Central/AHV target" % target["Name"], hint="name the AOS provider"
        )
    return target


def _placement(action, target, params):
    """The target cluster and its storage container (the cluster's first when none is named)."""
    cluster = _one(
        action, "cluster", target["AOSProperties"]["Clusters"], params["target_cluster"], ("Name", "UUID")
    )
    containers = cluster["Containers"]
    container = (
        _one(action, "container", containers, params["target_container"], ("Name", "UUID"))
        if params.get("target_container")
        else containers[0]
    )
    return cluster, container


def _network_mappings(action, mappings, inventory, cluster):
    """Move's NetworkMappings: source port groups by id, target and test networks of the cluster."""
    port_groups = dict((n["Name"], n["ID"]) for vm in inventory for n in vm.get("Networks") or ())

    def network(i, role, wanted):
        where = "network_mappings[%d].%s network" % (i, role)
        return _one(action, where, cluster["Networks"], wanted, ("Name", "UUID"))

    out = []
    for i, mapping in enumerate(mappings):
        source_net = port_groups.get(mapping["source"], mapping["source"])
        target_net = network(i, "target", mapping["target"])
        test_net = network(i, "test", mapping["test"])["UUID"] if mapping.get("test") else ""
        out.append(
            {"SourceNetworkID": source_net, "TargetNetworkID": target_net["UUID"], "TestNetworkID": test_net}
        )
    return out


def _workload_vm(vm, params):
    return {
        "VMReference": {"UUID": vm["VMUuid"], "VMID": vm["VmID"], "VMName": vm["VMName"]},
        "GuestPrepMode": params["guest_prep_mode"],
        "AllowUVMOps": params["guest_prep_mode"] == "auto",
        "RetainMacAddress": params["retain_mac"],
        "UninstallGuestTools": params["uninstall_vmware_tools"],
        "InstallNGT": params["install_ngt"],
    }


def build_spec(client, params):
    """The Spec of `POST /move/v2/plans` from the move_plan options."""
    action = "create Move plan '%s'" % params["name"]
    _require_options(action, params)
    providers = [p["Spec"] for p in client.providers()]
    source = _one(action, "source provider", providers, params["source_provider"], ("Name", "UUID"))
    target = _aos_target(client, action, providers, params["target_provider"])
    cluster, container = _placement(action, target, params)
    inventory = source_vms(client, source["UUID"], params["vms"])
    vms = [_one(action, "VM", inventory, vm, ("VMName", "VMUuid")) for vm in params["vms"]]
    return {
        "Name": params["name"],
        "SourceInfo": {"ProviderUUID": source["UUID"]},
        "TargetInfo": {
            "ProviderUUID": target["UUID"],
            "AOSProviderAttrs": {"ClusterUUID": cluster["UUID"], "ContainerUUID": container["UUID"]},
        },
        "NetworkMappings": _network_mappings(action, params["network_mappings"], inventory, cluster),
        "Settings": {
            "GuestPrepMode": params["guest_prep_mode"],
            "NicConfigMode": "retain",
            # -1: nothing scheduled; seeding starts when the plan is started.
            "Schedule": {"ScheduleAtEpochSec": -1},
        },
        "Workload": {"Type": "VM", "VMs": [_workload_vm(vm, params) for vm in vms]},
    }


def source_vms(client, provider_uuid, wanted):
    """The provider's VMs, paged; VMs by name that the paging did not reach are asked for by name."""
    inventory = client.source_inventory(provider_uuid)
    vms = inventory.vms
    if not inventory.complete:
        known = set(vm["VMName"] for vm in vms) | set(vm["VMUuid"] for vm in vms)
        for name in (w for w in wanted if w not in known):
            vms.extend(
                vm for vm in client.source_inventory(provider_uuid, query=name).vms if vm["VMName"] == name
            )
    return vms


def require_guest_credentials(params):
    """Fails before anything is created when Move is to prepare guests it has no credentials for."""
    common = params.get("guest_credentials") or {}
    if params["guest_prep_mode"] != "auto" or params["state"] != "started":
        return
    if not (
        common.get("linux_username") or common.get("windows_username") or params.get("vm_guest_credentials")
    ):
        raise ApiError(
            "start Move plan '%s'" % params["name"],
            "guest_credentials is missing: with guest_prep_mode auto, Move logs in to every guest "
            "to prepare it",
            hint="give guest_credentials (linux_username/linux_password, windows_username/"
            "windows_password) or vm_guest_credentials, or set guest_prep_mode: manual and prepare "
            "the guests yourself",
        )


def guest_credentials(params, workloads):
    """The body of `plans/{uuid}/prepare` [C: S2 S3] for the plan's `workloads` (UUID, Name):
    CommonCredentials for every guest by its OS, and per-VM credentials where vm_guest_credentials
    names the VM."""
    common = params.get("guest_credentials") or {}
    per_vm = dict((c["vm"], c) for c in params.get("vm_guest_credentials") or [])
    known = set(w["Name"] for w in workloads) | set(w["UUID"] for w in workloads)
    unknown = sorted(set(per_vm) - known)
    if unknown:
        raise ApiError(
            "prepare the guests of Move plan '%s'" % params["name"],
            "vm_guest_credentials names VMs not in the plan: %s" % ", ".join(unknown),
            hint="name the plan's VMs by name or instance UUID",
        )
    vms = []
    for w in workloads:
        own = per_vm.get(w["Name"]) or per_vm.get(w["UUID"]) or {}
        vms.append(
            {
                "UUID": w["UUID"],
                "UserName": own.get("username") or "",
                "Password": own.get("password") or "",
                "GuestPrepMode": "auto",
            }
        )
    credentials = {
        "LinuxUserName": common.get("linux_username") or "",
        "LinuxPassword": common.get("linux_password") or "",
        "WindowsUserName": common.get("windows_username") or "",
        "WindowsPassword": common.get("windows_password") or "",
        "PemFile": "",
    }
    return credentials, vms


def readiness_failures(readiness):
    """Every failed check, plan-level and per VM, as `{vm, check, message}`."""
    out = []
    for item in readiness.get("Failed") or []:
        out.append(dict(vm=None, check=item.get("CheckType"), message=item.get("Message")))
    for item in (readiness.get("VMChecksResult") or {}).get("Failed") or []:
        out.append(
            dict(
                vm=item.get("VMName") or item.get("UUID"),
                check=item.get("CheckType"),
                message=item.get("Message"),
            )
        )
    return out
