#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: recovery_point_info
short_description: Find recovery points by ext_id, by VM, by name or with an OData filter
version_added: 0.1.0
description:
  - Reads recovery points from Prism Central's dataprotection v4 API, one by O(ext_id) or a list
    narrowed by VM, name, cluster and any OData C($filter), sorted server-side.
  - Prism filters recovery points on C(creationTime), C(extId), C(locationAgnosticId), C(name),
    C(ownerExtId), C(recoveryPointType) and C(vmRecoveryPoints), and sorts on C(creationTime),
    C(expirationTime), C(name) and C(ownerExtId).
  - Replicas of a recovery point share its C(location_agnostic_id) (in RV(recovery_points)); filter on
    C(locationAgnosticId) to find every copy of one point.
author: day2ops team (@day2ops)
options:
  ext_id:
    description: One recovery point by ext_id; a missing one is an error.
    type: str
  name:
    description: Only recovery points of this name.
    type: str
  vm_ext_id:
    description: Only recovery points that hold this VM.
    type: str
  vm_name:
    description: Only recovery points that hold the VM of this name.
    type: str
  cluster:
    description:
      - Only recovery points that live on this cluster (name or ext_id), by their C(locationReferences).
        Use it to look at the copies on a DR cluster. Prism cannot filter on the location, so the
        list is narrowed after it is read (the C(X-Cluster-Id) header is the cluster type, not a cluster).
    type: str
  filter:
    description:
      - An OData C($filter) added (with C(and)) to what the other options select, for example
        C(recoveryPointType eq Dataprotection.Common.RecoveryPointType'APPLICATION_CONSISTENT').
    type: str
  order_by:
    description: An OData C($orderby); newest first by default.
    type: str
    default: creationTime desc
  limit:
    description: Return at most this many recovery points.
    type: int
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.info
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: The recovery points of one VM, newest first
  day2ops.ahv.recovery_point_info:
    vm_name: hr-portal-tst-app-071
  register: points

- name: Application-consistent recovery points on the DR cluster
  day2ops.ahv.recovery_point_info:
    cluster: dr-ahv-01
    filter: recoveryPointType eq Dataprotection.Common.RecoveryPointType'APPLICATION_CONSISTENT'
"""

RETURN = r"""
recovery_points:
  description:
    - The recovery points found, each with C(ext_id), C(name), C(location_agnostic_id),
      C(recovery_point_type), C(status), C(creation_time), C(expiration_time), C(location_ext_ids),
      C(vm_ext_ids), C(vm_recovery_points) (C(ext_id), C(vm_ext_id), C(name), C(location_agnostic_id),
      C(vm_categories)) and the raw object under C(recovery_point).
  returned: always
  type: list
  elements: dict
total:
  description: How many recovery points matched.
  returned: always
  type: int
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import cluster_ext_id, find_vm
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import PrismModule
from ansible_collections.day2ops.ahv.plugins.module_utils._recovery_points import (
    for_vm_filter,
    list_recovery_points,
    read,
    summary,
)
from ansible_collections.day2ops.ahv.plugins.module_utils._v4 import odata_quote


def ensure(module):
    params, client = module.params, module.client
    if params["ext_id"]:
        rp, _etag = read(client, params["ext_id"])
        return False, dict(recovery_points=[summary(rp)], total=1)
    clauses = []
    if params["name"]:
        clauses.append("name eq %s" % odata_quote(params["name"]))
    vm_ext_id = params["vm_ext_id"] or (
        params["vm_name"] and find_vm(client, name=params["vm_name"])["extId"]
    )
    if vm_ext_id:
        clauses.append(for_vm_filter(vm_ext_id))
    if params["filter"]:
        clauses.append("(%s)" % params["filter"])
    cluster = params["cluster"] and cluster_ext_id(client, params["cluster"])
    points = list_recovery_points(
        client, " and ".join(clauses) or None, params["order_by"], params["limit"], cluster_ext_id=cluster
    )
    return False, dict(recovery_points=[summary(rp) for rp in points], total=len(points))


def main():
    spec = dict(
        ext_id=dict(type="str"),
        name=dict(type="str"),
        vm_ext_id=dict(type="str"),
        vm_name=dict(type="str"),
        cluster=dict(type="str"),
        filter=dict(type="str"),
        order_by=dict(type="str", default="creationTime desc"),
        limit=dict(type="int"),
    )
    PrismModule(
        spec,
        supports_check_mode=True,
        mutually_exclusive=[
            ("ext_id", "name"),
            ("ext_id", "vm_ext_id"),
            ("ext_id", "vm_name"),
            ("vm_ext_id", "vm_name"),
        ],
    ).run(ensure)


if __name__ == "__main__":
    main()
