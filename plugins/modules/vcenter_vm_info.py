#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vcenter_vm_info
short_description: List vCenter VMs by name, cluster, folder, power state and tag, for a migration wave
version_added: 0.1.0
description:
  - Lists VMs through vCenter's C(GET /api/vcenter/vm) with its own filters (names, clusters,
    folders, power states, VM ids); different filters AND together, the values of one filter OR.
  - Selects by tag too (O(tags)), which the VM list cannot do. Each category and tag pair is resolved
    through the tagging API to the VMs it is attached to, and the pairs AND together.
  - With O(details=true), reads each VM as well, adding its instance UUID (the id Nutanix Move
    knows it by), BIOS UUID, guest OS, port groups, disks, and what VMware Tools reports from inside
    the guest (host name, IP address). That costs two calls per VM.
author: day2ops team (@day2ops)
options:
  names:
    description: Exact VM names (vCenter matches them exactly and case-sensitively).
    type: list
    elements: str
  vm_ids:
    description: VM ids (managed object ids such as C(vm-1042)).
    type: list
    elements: str
  clusters:
    description: Cluster names; resolved to their ids, an unknown name fails.
    type: list
    elements: str
  folders:
    description: VM folder names; resolved to their ids, an unknown name fails.
    type: list
    elements: str
  power_states:
    description: Power states to keep.
    type: list
    elements: str
    choices: [POWERED_ON, POWERED_OFF, SUSPENDED]
  tags:
    description:
      - Tag category name to tag name, for example C(Department) to C(Finance) and C(Environment) to
        C(Production).
      - A VM must carry every pair. An unknown category or tag fails, naming it.
    type: dict
  details:
    description: Read each VM for its identity, guest OS, networks, disks and guest identity.
    type: bool
    default: false
extends_documentation_fragment:
  - day2ops.ahv.vcenter
  - day2ops.ahv.prism.info
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Finance production VMs that are on, with the ids Move needs (vCenter from VMWARE_* variables)
  day2ops.ahv.vcenter_vm_info:
    tags: {Department: Finance, Environment: Production}
    power_states: [POWERED_ON]
    details: true
  register: wave

- name: Every VM of one cluster
  day2ops.ahv.vcenter_vm_info:
    clusters: [esx-prod-01]
"""

RETURN = r"""
vms:
  description:
    - The VM summaries as vCenter lists them (C(vm), C(name), C(power_state), C(cpu_count),
      C(memory_size_MiB)), in vCenter's order.
    - With O(details), also C(instance_uuid), C(bios_uuid), C(guest_OS), C(networks) (port group
      ids), C(disks) (vCenter's map keyed by device key) and C(guest) (the guest identity with
      C(host_name) and C(ip_address); null while VMware Tools is not running, which Move will refuse,
      or the VM is not on).
  returned: always
  type: list
  elements: dict
vm_ids:
  description: The VM ids, in the same order.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._migration_module import vcenter_module


def detail(client, summary):
    info = client.vm(summary["vm"])
    out = dict(summary)
    out.update(
        instance_uuid=info["identity"]["instance_uuid"],
        bios_uuid=info["identity"]["bios_uuid"],
        guest_OS=info.get("guest_OS"),
        networks=[nic["backing"].get("network") for nic in (info.get("nics") or {}).values()],
        disks=info.get("disks") or {},
        guest=client.guest_identity(summary["vm"], summary["power_state"]),
    )
    return out


def ensure(module):
    params, client = module.params, module.client
    vms = client.list_vms(
        names=params["names"],
        vms=params["vm_ids"],
        clusters=client.resolve("cluster", params["clusters"]),
        folders=client.resolve("folder", params["folders"]),
        power_states=params["power_states"],
    )
    if params["tags"]:
        tagged = client.vms_tagged(params["tags"])
        vms = [v for v in vms if v["vm"] in tagged]
    if params["details"]:
        vms = [detail(client, v) for v in vms]
    return False, dict(vms=vms, vm_ids=[v["vm"] for v in vms])


def main():
    vcenter_module(
        dict(
            names=dict(type="list", elements="str"),
            vm_ids=dict(type="list", elements="str"),
            clusters=dict(type="list", elements="str"),
            folders=dict(type="list", elements="str"),
            power_states=dict(
                type="list", elements="str", choices=["POWERED_ON", "POWERED_OFF", "SUSPENDED"]
            ),
            tags=dict(type="dict"),
            details=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    ).run(ensure)


if __name__ == "__main__":
    main()
