"""clustermgmt handlers: the clusters, Prism Central included, with their live VM counts."""

from .common import Call, Listing, entity_reply, handles, list_reply

NS = "clustermgmt"
CLUSTERS = "config/clusters"
CLUSTER_TYPE = "clustermgmt.v4.config.Cluster"

CLUSTER_LISTING = Listing(
    enum_types={
        "config/clusterFunction": "Clustermgmt.Config.ClusterFunctionRef",
        "config/hypervisorTypes": "Clustermgmt.Config.HypervisorType",
        "upgradeStatus": "Clustermgmt.Config.UpgradeStatus",
    }
)


def _counted(call: Call):
    counts: dict[str, int] = {}
    for vm in call.state.vmm.vms:
        cluster = vm.get("cluster") or {}
        counts[cluster.get("extId")] = counts.get(cluster.get("extId"), 0) + 1

    def shape(cluster: dict) -> dict:
        return {**cluster, "vmCount": counts.get(cluster["extId"], 0)}

    return shape


@handles(NS, "list_clusters")
def list_clusters(call: Call):
    shape = _counted(call)
    return list_reply(
        call,
        [shape(c) for c in call.state.clusters.clusters],
        CLUSTER_TYPE,
        CLUSTER_LISTING,
        CLUSTERS,
        projection_type="clustermgmt.v4.config.ClusterProjection",
    )


@handles(NS, "get_cluster_by_id")
def get_cluster_by_id(call: Call):
    ext_id = call.params["extId"]
    cluster = call.state.clusters.get(ext_id)
    return entity_reply(
        call, _counted(call)(cluster), CLUSTER_TYPE, CLUSTERS, call.state.clusters.clusters.etag(ext_id)
    )
