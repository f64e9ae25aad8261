#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: recovery_point_replicate
short_description: Replicate a recovery point to another cluster or Prism Central, and find the replica
version_added: 0.1.0
description:
  - Replicates a recovery point (dataprotection v4 C($actions/replicate)) to a cluster of this Prism
    Central (O(cluster)) or to a paired Prism Central (O(pc_ext_id), optionally with O(cluster)).
  - Idempotent. When a copy of the point (same C(locationAgnosticId)) already lives on the target
    cluster, nothing is sent and that copy is returned.
  - After the task, the replica is read back (by the ext_id the task reports, and its
    C(locationAgnosticId) is checked), so RV(replica_ext_id) names a point that exists. A replica
    sent to another Prism Central lives there, not here; it is then returned unread, with
    RV(verified=false), to be checked on that Prism Central.
author: day2ops team (@day2ops)
options:
  ext_id:
    description: The recovery point to replicate.
    type: str
    required: true
  cluster:
    description:
      - The target cluster, by name or ext_id; by ext_id for a cluster of another Prism Central.
    type: str
  pc_ext_id:
    description:
      - The target Prism Central's ext_id, for a replication to another availability zone (the
        zones must be paired). Without O(cluster), Prism chooses the cluster there.
    type: str
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.wait
  - day2ops.ahv.prism.change
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: Recovery point of a production VM
  day2ops.ahv.recovery_point:
    name: dr-copy-hr-portal-tst-app-071
    vm_names: [hr-portal-tst-app-071]
    retention: 14d
  register: rp

- name: Copy it to the DR cluster
  day2ops.ahv.recovery_point_replicate:
    ext_id: "{{ rp.ext_id }}"
    cluster: dr-ahv-01
  register: copy

- name: Show where the replica lives
  ansible.builtin.debug:
    msg: "{{ copy.replica_ext_id }} on {{ copy.target_cluster_ext_id }}"
"""

RETURN = r"""
ext_id:
  description: The source recovery point.
  returned: always
  type: str
replica_ext_id:
  description: The replica's ext_id on the target; null in check mode or without waiting.
  returned: always
  type: str
location_agnostic_id:
  description: The id every copy of this recovery point shares.
  returned: always
  type: str
target_cluster_ext_id:
  description: The cluster the replica lives on (as asked, or as Prism chose).
  returned: always
  type: str
task_ext_id:
  description: The replication task; null when a replica was there already.
  returned: always
  type: str
replica:
  description: The replica as Prism Central returns it (C(dataprotection.v4.config.RecoveryPoint)).
  returned: when the replica was read back
  type: dict
verified:
  description: Whether the replica was read back here and is a copy of the source (same location-agnostic id).
  returned: always
  type: bool
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import cluster_ext_id
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import task_completion
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import WAIT_SPEC, PrismModule
from ansible_collections.day2ops.ahv.plugins.module_utils._recovery_points import (
    act,
    copies_on,
    locations,
    read,
    replica_mismatch,
)


def copy_on(client, rp, cluster):
    """The copy of `rp` that lives on `cluster`, or None."""
    copies = copies_on(client, [rp["locationAgnosticId"]], cluster).get(rp["locationAgnosticId"], [])
    return next((c for c in copies if c["extId"] != rp["extId"]), None)


def ensure(module):
    params, client = module.params, module.client
    rp, _etag = read(client, params["ext_id"])
    target = params["cluster"] and cluster_ext_id(client, params["cluster"])
    result = dict(
        ext_id=rp["extId"],
        replica_ext_id=None,
        location_agnostic_id=rp.get("locationAgnosticId"),
        target_cluster_ext_id=target,
        task_ext_id=None,
        verified=False,
    )
    existing = copy_on(client, rp, target) if target else None
    if existing is not None:
        result.update(replica_ext_id=existing["extId"], replica=existing, verified=True)
        return False, result
    if module.check_mode:
        return True, result
    body = {}
    if params["pc_ext_id"]:
        body["pcExtId"] = params["pc_ext_id"]
    if target:
        body["clusterExtId"] = target
    label = "replicate recovery point '%s' (%s) to %s" % (
        rp.get("name"),
        rp["extId"],
        params["cluster"] or params["pc_ext_id"],
    )
    _point, task_ext_id = act(client, rp["extId"], label, "replicate", body)
    result["task_ext_id"] = task_ext_id
    if not params["wait"]:
        return True, result
    try:
        task = client.wait_task(task_ext_id, params["timeout"], label)
    except ApiError as err:
        module.fail_api(err, **result)
    replica_id = task_completion(task, "recoveryPointExtId")
    result["replica_ext_id"] = replica_id
    try:
        replica, _etag = read(client, replica_id)
    except ApiError as err:
        if not (err.status == 404 and params["pc_ext_id"]):
            raise
        return True, result  # it lives on the other Prism Central
    problem = replica_mismatch(replica, rp.get("locationAgnosticId"))
    if problem:
        raise ApiError(label, "the task reported %s, but %s" % (replica_id, problem))
    where = locations(replica)
    result.update(
        replica=replica, verified=True, target_cluster_ext_id=target or (where[0] if where else None)
    )
    return True, result


def main():
    spec = dict(
        ext_id=dict(type="str", required=True),
        cluster=dict(type="str"),
        pc_ext_id=dict(type="str"),
    )
    spec.update(WAIT_SPEC)
    PrismModule(spec, supports_check_mode=True, required_one_of=[("cluster", "pc_ext_id")]).run(ensure)


if __name__ == "__main__":
    main()
