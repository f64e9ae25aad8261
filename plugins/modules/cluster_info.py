#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_info
short_description: List the clusters Prism Central manages, or read one
version_added: 0.1.0
description:
  - Reads clusters from Prism Central's clustermgmt v4 API (C(/api/clustermgmt/v4.x/config/clusters)).
  - Prism Central itself is listed too, as a cluster whose C(config.clusterFunction) holds V(PRISM_CENTRAL);
    set O(exclude_prism_central) to leave it out.
author: day2ops team (@day2ops)
options:
  ext_id:
    description: The ext_id of one cluster.
    type: str
  name:
    description: The name of one cluster. A name shared by two clusters is an error listing both.
    type: str
  filter:
    description:
      - A raw OData C($filter), for example V(name eq 'prod-ahv-01').
    type: str
  exclude_prism_central:
    description: Leave out the Prism Central cluster when listing.
    type: bool
    default: false
extends_documentation_fragment:
  - day2ops.ahv.prism
  - day2ops.ahv.prism.module
  - day2ops.ahv.prism.info
  - ansible.builtin.action_common_attributes
"""

EXAMPLES = r"""
- name: List the AHV clusters
  day2ops.ahv.cluster_info:
    exclude_prism_central: true
  register: clusters

- name: Read the production cluster by name
  day2ops.ahv.cluster_info:
    name: prod-ahv-01
  register: prod

- name: Read the DR cluster by ext_id
  day2ops.ahv.cluster_info:
    ext_id: "{{ (clusters.clusters | selectattr('name', 'equalto', 'dr-ahv-01') | first).extId }}"
"""

RETURN = r"""
clusters:
  description: The clusters, as Prism Central returns them (C(clustermgmt.v4.config.Cluster)).
  returned: always
  type: list
  elements: dict
  sample:
    - extId: 0005b3a1-7c1e-4a8e-9f0a-2c8d1f4e6b7a
      name: prod-ahv-01
      config:
        clusterFunction: [AOS]
      nodes:
        numberOfNodes: 4
ext_ids:
  description: The clusters' ext_ids, in the order of RV(clusters).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.day2ops.ahv.plugins.module_utils._clustermgmt import is_prism_central, list_clusters
from ansible_collections.day2ops.ahv.plugins.module_utils._lookup import find_cluster
from ansible_collections.day2ops.ahv.plugins.module_utils._prism_module import PrismModule


def ensure(module):
    params, client = module.params, module.client
    if params["ext_id"] or params["name"]:
        clusters = [find_cluster(client, params["ext_id"], params["name"])]
    else:
        clusters = list_clusters(client, params["filter"])
        if params["exclude_prism_central"]:
            clusters = [c for c in clusters if not is_prism_central(c)]
    return False, dict(clusters=clusters, ext_ids=[c.get("extId") for c in clusters])


def main():
    PrismModule(
        dict(
            ext_id=dict(type="str"),
            name=dict(type="str"),
            filter=dict(type="str"),
            exclude_prism_central=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("ext_id", "name", "filter")],
        supports_check_mode=True,
    ).run(ensure)


if __name__ == "__main__":
    main()
