#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: recovery_point_batch
short_description: Recovery points of many VMs, replicated to DR and verified there, in one pipeline
version_added: 0.1.0
description:
  - For each VM in O(vms), takes a recovery point (one per VM, each with its own expiry), replicates
    it to O(cluster) (or to the paired Prism Central O(pc_ext_id)) and verifies that the replica exists
    there with the same location-agnostic id.
  - Not a loop of wait-for-each. All creates are submitted together; each VM moves on to replication
    the moment its own create task ends; every pending task is polled in the same few list calls per
    round. A run over hundreds of VMs takes about as long as its slowest chain (see the benchmark in
    C(tests/benchmarks)).
  - A VM that fails is reported with the step, Prism's reason and its task ids, and the others go on.
    With O(fail_on_error=true) (the default) the module fails after every VM has finished, with all
    results; nothing is skipped silently, and a recovery point already taken is always reported.
  - With O(verify_only=true) nothing is created. For each of O(recovery_point_ext_ids), the copy on
    O(cluster) is looked up by location-agnostic id (the pre-drill check).
  - Replicas sent to another Prism Central (O(pc_ext_id) without O(cluster)) cannot be read here; they
    end with status C(replicated), to be checked there with O(verify_only).
author: day2ops team (@day2ops)
options:
  vm_ext_ids:
    description: VMs to protect with the common O(retention) or O(expiration_time).
    type: list
    elements: str
    default: []
  vms:
    description:
      - VMs to protect with their own settings. Each has C(ext_id), and optionally C(vm_name) (for the
        results), C(recovery_point_name) and an expiry (C(expiration_time) as RFC 3339, or C(retention)
        like C(14d)) that replaces the common one.
    type: list
    elements: dict
    default: []
  retention:
    description: How long each recovery point is kept, like C(14d); without it or O(expiration_time), forever.
    type: str
  expiration_time:
    description: When each recovery point expires, as RFC 3339.
    type: str
  name_prefix:
    description: Recovery point names when a VM has no C(recovery_point_name), as C(<prefix>-<VM ext_id>).
    type: str
    default: dr
  consistency:
    description: V(crash_consistent) or V(application_consistent) (needs NGT with VSS on every VM).
    type: str
    choices: [crash_consistent, application_consistent]
    default: crash_consistent
  cluster:
    description: The DR cluster, by name or ext_id (by ext_id for a cluster of another Prism Central).
    type: str
  pc_ext_id:
    description: The paired Prism Central to replicate to, for another availability zone.
    type: str
  verify_only:
    description: Only look for the copies of O(recovery_point_ext_ids) on O(cluster).
    type: bool
    default: false
  recovery_point_ext_ids:
    description: With O(verify_only=true), the source recovery points to check.
    type: list
    elements: str
    default: []
  fail_on_error:
    description: Fail (after all VMs finished) when any VM was not protected.
    type: bool
    default: true
  timeout:
    description:
      - Seconds for the whole pipeline; what is still running then is reported as failed, with its task.
    type: int
    default: 3600
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.change
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: The production web tier
  day2ops.ahv.vm_info:
    categories: {Environment: Production, AppTier: Web}
    select: [name]
  register: scope

- name: Recovery points kept 14 days, on DR
  day2ops.ahv.recovery_point_batch:
    vm_ext_ids: "{{ scope.ext_ids }}"
    retention: 14d
    cluster: dr-ahv-01
  register: dr

- name: Check the copies again before a drill
  day2ops.ahv.recovery_point_batch:
    verify_only: true
    recovery_point_ext_ids: "{{ dr.results | map(attribute='recovery_point_ext_id') }}"
    cluster: dr-ahv-01
"""

RETURN = r"""
results:
  description:
    - One entry per VM (or per recovery point with O(verify_only)), in the order given, with C(vm_ext_id),
      C(vm_name) (as given), C(recovery_point_name), C(status) (C(protected), C(replicated) or C(failed)),
      C(step) (where it ended, C(create), C(replicate) or C(verify)), C(reason), C(recovery_point_ext_id),
      C(location_agnostic_id), C(replica_ext_id), C(expiration_time) and C(task_ext_ids).
  returned: always
  type: list
  elements: dict
counts:
  description: How many VMs ended in each status.
  returned: always
  type: dict
  sample: {protected: 498, failed: 2}
task_ext_ids:
  description: Every Prism task this run started.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._dr import Pipeline, Protection, verify_only
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import cluster_ext_id
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import PrismModule
from ansible_collections.day2ops.ahv.plugins.module_utils._recovery_points import (
    CONSISTENCY,
    VSS_TYPE,
    expiration_time,
)


def protection(vm, params, index):
    if not isinstance(vm, dict) or not vm.get("ext_id"):
        raise ApiError(
            "read vms[%d]" % index, "each VM needs ext_id", hint="give vms as [{ext_id: ..., retention: 14d}]"
        )
    unknown = sorted(
        set(vm) - set(("ext_id", "vm_name", "recovery_point_name", "expiration_time", "retention"))
    )
    if unknown:
        raise ApiError(
            "read vms[%d]" % index,
            "unknown key(s) %s" % ", ".join(unknown),
            hint="use ext_id, vm_name, recovery_point_name, expiration_time or retention",
        )
    if vm.get("expiration_time") or vm.get("retention"):
        expires = expiration_time(vm.get("expiration_time"), vm.get("retention"))
    else:
        expires = expiration_time(params["expiration_time"], params["retention"])
    name = vm.get("recovery_point_name") or "%s-%s" % (params["name_prefix"], vm["ext_id"])
    member = {"vmExtId": vm["ext_id"]}
    rp_type = CONSISTENCY[params["consistency"]]
    if rp_type == "APPLICATION_CONSISTENT":
        member["applicationConsistentProperties"] = {"$objectType": VSS_TYPE, "backupType": "FULL_BACKUP"}
    body = {"name": name, "recoveryPointType": rp_type, "vmRecoveryPoints": [member]}
    if expires:
        body["expirationTime"] = expires
    return Protection(vm["ext_id"], name, expires, body, vm.get("vm_name"))


def ensure(module):
    params, client = module.params, module.client
    target = params["cluster"] and cluster_ext_id(client, params["cluster"])
    if params["verify_only"]:
        if not target:
            raise ApiError(
                "verify replicas", "cluster is required with verify_only", hint="name the DR cluster"
            )
        results = verify_only(client, params["recovery_point_ext_ids"], target)
        changed = False
    else:
        if not (target or params["pc_ext_id"]):
            raise ApiError("protect VMs", "cluster or pc_ext_id is required", hint="name the DR cluster")
        given = [{"ext_id": ext_id} for ext_id in params["vm_ext_ids"]] + list(params["vms"])
        vms = [protection(vm, params, i) for i, vm in enumerate(given)]
        if module.check_mode:
            results = [vm.result() for vm in vms]
        else:
            pipeline = Pipeline(client, target, params["pc_ext_id"], params["timeout"])
            results = [vm.result() for vm in pipeline.run(vms)]
        changed = bool(vms)
    counts = {}
    for entry in results:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    out = dict(results=results, counts=counts, task_ext_ids=[t for r in results for t in r["task_ext_ids"]])
    failed = [r for r in results if r["status"] == "failed"]
    if failed and params["fail_on_error"]:
        module.ansible.fail_json(
            msg="%d of %d VM(s) not protected: %s"
            % (
                len(failed),
                len(results),
                "; ".join("%s at %s: %s" % (r["vm_ext_id"], r["step"], r["reason"]) for r in failed[:5]),
            ),
            changed=changed,
            **out,
        )
    return changed, out


def main():
    spec = dict(
        vm_ext_ids=dict(type="list", elements="str", default=[]),
        vms=dict(type="list", elements="dict", default=[]),
        retention=dict(type="str"),
        expiration_time=dict(type="str"),
        name_prefix=dict(type="str", default="dr"),
        consistency=dict(type="str", default="crash_consistent", choices=sorted(CONSISTENCY)),
        cluster=dict(type="str"),
        pc_ext_id=dict(type="str"),
        verify_only=dict(type="bool", default=False),
        recovery_point_ext_ids=dict(type="list", elements="str", default=[]),
        fail_on_error=dict(type="bool", default=True),
        timeout=dict(type="int", default=3600),
    )
    PrismModule(spec, supports_check_mode=True, mutually_exclusive=[("retention", "expiration_time")]).run(
        ensure
    )


if __name__ == "__main__":
    main()
