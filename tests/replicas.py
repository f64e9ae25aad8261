"""A recovery point of a production VM and its replica on the DR cluster, made through the simulator's
Prism API: the app's and the browser's form tests show both in a picker."""

RPS = "/api/dataprotection/v4.0/config/recovery-points"


def cluster_ext_ids(sim) -> dict[str, str]:
    data = sim.api("GET", "/api/clustermgmt/v4.0/config/clusters").json()["data"]
    return {c["name"]: c["extId"] for c in data}


def a_prod_vm(sim) -> dict:
    prod = f"cluster/extId eq '{cluster_ext_ids(sim)['prod-ahv-01']}'"
    return sim.api("GET", "/api/vmm/v4.0/ahv/config/vms", params={"$filter": prod, "$limit": 1}).json()[
        "data"
    ][0]


def _completed(sim, response) -> str:
    """The recovery point a create or replicate task made."""
    task = sim.wait_task(response.json()["data"]["extId"])
    assert task["status"] == "SUCCEEDED", task
    return next(d["value"] for d in task["completionDetails"] if d["name"] == "recoveryPointExtId")


def a_point_and_its_replica(sim, vm_ext_id: str, name: str = "pre-patch") -> tuple[str, str]:
    """(the point on the VM's cluster, its replica on dr-ahv-01): same name, same creation time."""
    source = _completed(
        sim, sim.api("POST", RPS, json={"name": name, "vmRecoveryPoints": [{"vmExtId": vm_ext_id}]})
    )
    read = sim.api("GET", f"{RPS}/{source}")
    replicated = sim.api(
        "POST",
        f"{RPS}/{source}/$actions/replicate",
        json={"clusterExtId": cluster_ext_ids(sim)["dr-ahv-01"]},
        headers={"If-Match": read.headers["ETag"]},
    )
    return source, _completed(sim, replicated)
