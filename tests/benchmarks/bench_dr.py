"""500 VMs protected to DR (recovery point -> replicate -> verify) with realistic task durations:
the pipeline of day2ops.ahv.recovery_point_batch against the floor and a per-VM sequential loop.

The floor is the longest single chain: create task + replication task (the simulator's durations).
The loop waits for each VM's create, then its replication, then reads the replica, VM after VM;
at 25 s a VM it would take hours for 500, so it runs on a sample and is scaled to 500.
"""

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from collection_path import importable  # noqa: E402
from sim_process import start_sim  # noqa: E402

importable()

from ansible_collections.day2ops.ahv.plugins.module_utils._dataprotection import RECOVERY_POINTS  # noqa: E402
from ansible_collections.day2ops.ahv.plugins.module_utils._dr import Pipeline, Protection  # noqa: E402
from ansible_collections.day2ops.ahv.plugins.module_utils._prism import PrismClient, task_completion  # noqa: E402
from ansible_collections.day2ops.ahv.plugins.module_utils._recovery_points import act, read  # noqa: E402

VMS = 500
LOOP_SAMPLE = 3
CREATE_SECONDS = 4.0  # a crash-consistent recovery point of one VM
REPLICATE_SECONDS = 20.0  # shipping its changed blocks to the DR cluster
CONCURRENCY = 8


def vm_ids(sim, cluster: str, count: int) -> list[str]:
    ids, page = [], 0
    while len(ids) < count:
        body = sim.api(
            "GET",
            "/api/vmm/v4.0/ahv/config/vms",
            params={"$filter": f"cluster/extId eq '{cluster}'", "$limit": 100, "$page": page},
        ).json()
        ids += [vm["extId"] for vm in body["data"]]
        page += 1
    return ids[:count]


def protection(vm_ext_id: str) -> Protection:
    body = {"name": f"bench-{vm_ext_id}", "vmRecoveryPoints": [{"vmExtId": vm_ext_id}]}
    return Protection(vm_ext_id, body["name"], None, body)


def sequential(client: PrismClient, vm_ext_id: str, target: str) -> None:
    """What a playbook looping over recovery_point then recovery_point_replicate does per VM."""
    body = protection(vm_ext_id).body
    task = client.submit("POST", "dataprotection", RECOVERY_POINTS, action="create", body=body)
    rp_id = task_completion(client.wait_task(task, 600, "create"), "recoveryPointExtId")
    _point, task = act(client, rp_id, "replicate", "replicate", {"clusterExtId": target})
    replica = task_completion(client.wait_task(task, 600, "replicate"), "recoveryPointExtId")
    read(client, replica)


def main() -> None:
    sim = start_sim(tls=True, vm_count=VMS + 100)
    try:
        sim.control("POST", "vms/generate", {"count": VMS})
        sim.control(
            "POST",
            "tasks/timing",
            {
                "default_seconds": 1.0,
                "queued_share": 0.05,
                "per_operation": {
                    "CreateRecoveryPoint": CREATE_SECONDS,
                    "EntitySnapshotReplicate": REPLICATE_SECONDS,
                },
            },
        )
        clusters = {
            c["name"]: c["extId"]
            for c in sim.api("GET", "/api/clustermgmt/v4.0/config/clusters").json()["data"]
        }
        ids = vm_ids(sim, clusters["prod-ahv-01"], VMS + LOOP_SAMPLE)
        client = PrismClient.from_options(dict(sim.prism_options(), concurrency=CONCURRENCY))

        start = time.perf_counter()
        done = Pipeline(client, clusters["dr-ahv-01"], timeout=900).run([protection(i) for i in ids[:VMS]])
        pipeline_s = time.perf_counter() - start
        protected = sum(vm.status == "protected" for vm in done)

        start = time.perf_counter()
        for vm_ext_id in ids[VMS:]:
            sequential(client, vm_ext_id, clusters["dr-ahv-01"])
        loop_s = (time.perf_counter() - start) / LOOP_SAMPLE * VMS
        calls = client.transport.stats
    finally:
        sim.stop()
    floor_s = CREATE_SECONDS + REPLICATE_SECONDS
    print(
        f"\nDR protection of {VMS} VMs: create {CREATE_SECONDS:g} s + replicate {REPLICATE_SECONDS:g} s a VM"
    )
    print(f"{'run':44} {'wall s':>9} {'vs floor':>9} {'vs pipeline':>12}")
    print(f"{'floor: the longest single chain':44} {floor_s:9.1f} {1:9.2f}x {floor_s / pipeline_s:11.3f}x")
    print(
        f"{f'pipeline (recovery_point_batch, {CONCURRENCY} concurrent)':44} {pipeline_s:9.1f} "
        f"{pipeline_s / floor_s:9.2f}x {1:11.3f}x"
    )
    print(
        f"{f'per-VM loop (measured on {LOOP_SAMPLE}, scaled to {VMS})':44} {loop_s:9.1f} "
        f"{loop_s / floor_s:9.2f}x {loop_s / pipeline_s:11.1f}x"
    )
    print(f"{protected} of {VMS} protected and verified; client calls {calls}")


if __name__ == "__main__":
    main()
