"""clustermgmt: the clusters Prism Central manages, itself included."""

from ..core.errors import not_found
from ..core.store import Collection


class ClusterBackend:
    def __init__(self) -> None:
        self.clusters = Collection("cluster")

    def reset(self) -> None:
        self.clusters.clear()

    def get(self, ext_id: str) -> dict:
        cluster = self.clusters.get(ext_id)
        if cluster is None:
            raise not_found("clustermgmt", "Cluster", ext_id)
        return cluster

    def workload(self, ext_id: str) -> dict | None:
        """An AOS cluster where VMs can live (never the Prism Central itself)."""
        cluster = self.clusters.get(ext_id)
        if cluster is None or "AOS" not in cluster["config"]["clusterFunction"]:
            return None
        return cluster
