# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to day2ops.ahv: other collections must not import it; it changes without notice.

The clustermgmt namespace of Prism Central v4 (config/clusters): every path of it and its reads.
"""

from __future__ import annotations

NAMESPACE = "clustermgmt"
CLUSTERS = "config/clusters"
CLUSTER = CLUSTERS + "/{0}"


def list_clusters(client, odata_filter=None):
    params = {"$filter": odata_filter} if odata_filter else None
    return client.list(NAMESPACE, CLUSTERS, action="list clusters", params=params)


def read_cluster(client, ext_id):
    cluster, _etag = client.get(NAMESPACE, CLUSTER, ext_id, action="read cluster %s" % ext_id)
    return cluster


def clusters_path(client):
    """The path of the cluster list: the cheapest read there is, for reaching Prism Central at all."""
    return client.path(NAMESPACE, CLUSTERS)


def is_prism_central(cluster):
    """Whether a cluster is Prism Central itself, not an AHV cluster VMs run on."""
    return "PRISM_CENTRAL" in ((cluster.get("config") or {}).get("clusterFunction") or [])
