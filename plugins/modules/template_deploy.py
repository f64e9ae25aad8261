#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: template_deploy
short_description: Deploy AHV VMs from a template version, the active one or an older one
version_added: 0.1.0
description:
  - Deploys O(count) new VMs from a VM template (vmm v4 C(content/templates/{extId}/$actions/deploy)),
    from its active version or any older one (O(version)), on a cluster, with the template's fresh ETag.
  - B(Converting a template into a VM) is this with O(count=1); the template stays, and so do its
    versions.
  - The module finds the new VMs by O(vm_names) and checks them against the VMs the deploy task's
    subtasks name (one per VM); without O(vm_names) it takes the subtasks' VMs. It returns their ext_ids
    in RV(vm_ext_ids), in the order of O(vm_names), and fails, naming the deploy task, when a VM is
    missing, a name is shared by VMs the task does not tell apart, or the names and the task disagree.
  - Deploying always creates VMs; running it twice makes two sets. The new VMs are powered off unless
    O(power_on=true).
author: day2ops team (@day2ops)
options:
  version:
    description: The version to deploy (name or ext_id); the active version by default.
    type: str
  count:
    description: How many VMs to deploy, 1 to 250.
    type: int
    default: 1
  vm_names:
    description:
      - The new VMs' names, one per VM (O(count) of them). Without them Prism names the VMs itself.
    type: list
    elements: str
  cluster:
    description: The cluster (name or ext_id) for the new VMs; where the version's VM was by default.
    type: str
  override:
    description: Changes to every new VM's configuration.
  power_on:
    description: Power the new VMs on (and wait for it).
    type: bool
    default: false
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.template
  - day2ops.ahv.prism.wait
  - day2ops.ahv.prism.change
  - day2ops.ahv.prism.template_override
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Convert a template into a VM (the template stays)
  day2ops.ahv.template_deploy:
    name: rocky9-base
    vm_names: [app-builder-01]
  register: deployed

- name: Two VMs from the previous version, on the DR cluster, bigger, started
  day2ops.ahv.template_deploy:
    name: rocky9-base
    version: "2025.01"
    count: 2
    vm_names: [legacy-check-01, legacy-check-02]
    cluster: dr-ahv-01
    override:
      num_sockets: 4
      memory_mib: 8192
    power_on: true
  register: legacy

- name: Their ext_ids
  ansible.builtin.debug:
    msg: "{{ legacy.vm_ext_ids }}"
"""

RETURN = r"""
ext_id:
  description: The template's ext_id.
  returned: always
  type: str
version_ext_id:
  description: The version deployed.
  returned: always
  type: str
version_name:
  description: The name of the version deployed.
  returned: always
  type: str
cluster_ext_id:
  description: The cluster the VMs were deployed on.
  returned: always
  type: str
vm_ext_id:
  description: The first new VM; null in check mode or with O(wait=false).
  returned: always
  type: str
vm_ext_ids:
  description: Every new VM, in the order of O(vm_names); empty in check mode or with O(wait=false).
  returned: always
  type: list
  elements: str
vms:
  description: Every new VM as C(ext_id) and C(name).
  returned: always
  type: list
  elements: dict
task_ext_id:
  description: The deploy task.
  returned: always
  type: str
task_ext_ids:
  description: Every Prism task this deployment ran, in order - the deploy task, its subtasks, the power-ons.
  returned: always
  type: list
  elements: str
power_state:
  description: The new VMs' power state at the end.
  returned: always
  type: str
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import cluster_ext_id
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import (
    VM_CHOICE,
    VM_SPEC,
    WAIT_SPEC,
    PrismModule,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._templates import (
    OVERRIDE_SPEC,
    active_version,
    deployed_vms,
    find,
    find_version,
    override,
    subtask_ext_ids,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._vmm import change_template, deploy_template
from ansible_collections.day2ops.ahv.plugins.module_utils._vms import ensure_power

MAX_VMS = 250


def deployment(client, params, version):
    count, names = params["count"], params["vm_names"] or []
    if not 1 <= count <= MAX_VMS:
        raise ApiError("deploy from a template", "count is %d" % count, hint="deploy 1 to %d VMs" % MAX_VMS)
    if names and len(names) != count:
        raise ApiError(
            "deploy %d VM(s) from a template" % count,
            "vm_names has %d name(s)" % len(names),
            hint="give one name per VM, or leave vm_names out",
        )
    cluster = (
        cluster_ext_id(client, params["cluster"])
        if params["cluster"]
        else ((version.get("vmSpec") or {}).get("cluster") or {}).get("extId")
    )
    shape = override(params["override"])
    body = {"versionId": version["extId"], "numberOfVms": count, "clusterReference": cluster}
    if names or shape:
        body["overrideVmConfigMap"] = dict(
            (str(i), dict(shape, **({"name": names[i]} if names else {}))) for i in range(count)
        )
    return body


def ensure(module):
    params, client = module.params, module.client
    template = find(client, params["ext_id"], params["name"])
    version = (
        find_version(client, template, params["version"]) if params["version"] else active_version(template)
    )
    body = deployment(client, params, version)
    result = dict(
        ext_id=template["extId"],
        version_ext_id=version["extId"],
        version_name=version.get("versionName"),
        cluster_ext_id=body["clusterReference"],
        vm_ext_id=None,
        vm_ext_ids=[],
        vms=[],
        task_ext_id=None,
        task_ext_ids=[],
        power_state="ON" if params["power_on"] else "OFF",
    )
    if module.check_mode:
        return True, result
    label = "deploy %d VM(s) from version '%s' of template '%s'" % (
        params["count"],
        version.get("versionName"),
        template["templateName"],
    )
    task_ext_id = change_template(
        client, template["extId"], label, lambda current: deploy_template(current["extId"], body)
    )[2]
    result.update(task_ext_id=task_ext_id, task_ext_ids=[task_ext_id])
    if not params["wait"]:
        return True, result
    try:
        task = client.wait_task(task_ext_id, params["timeout"], label)
    except ApiError as err:
        module.fail_api(err, **result)
    result["task_ext_ids"].extend(subtask_ext_ids(task))
    try:
        vms = deployed_vms(client, task, params["count"], params["vm_names"], label)
    except ApiError as err:
        # The deployment ran: its tasks say where to look for what it made.
        module.fail_api(err, **result)
    result.update(
        vm_ext_ids=[vm["extId"] for vm in vms],
        vm_ext_id=vms[0]["extId"] if vms else None,
        vms=[dict(ext_id=vm["extId"], name=vm.get("name")) for vm in vms],
    )
    try:
        for vm in vms if params["power_on"] else []:
            label = "power on deployed VM '%s'" % vm.get("name")
            started = ensure_power(client, vm["extId"], "ON", label, params["timeout"])
            if started:
                result["task_ext_ids"].append(started)
    except ApiError as err:
        # The VMs exist: say which, so that they can be found and removed.
        module.fail_api(err, **result)
    return True, result


def main():
    spec = dict(VM_SPEC)
    spec.update(
        version=dict(type="str"),
        count=dict(type="int", default=1),
        vm_names=dict(type="list", elements="str"),
        cluster=dict(type="str"),
        override=dict(type="dict", options=OVERRIDE_SPEC),
        power_on=dict(type="bool", default=False),
    )
    spec.update(WAIT_SPEC)
    PrismModule(
        spec,
        supports_check_mode=True,
        **VM_CHOICE,
    ).run(ensure)


if __name__ == "__main__":
    main()
