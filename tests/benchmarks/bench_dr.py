"""DR protection (recovery point -> replicate -> verify) of 500 and of 2,000 VMs with realistic task
durations: the pipeline of day2ops.ahv.recovery_point_batch against the floor, and the peak memory it
needs.

The floor is the longest single chain: create task + replication task (the simulator's durations).
Each size runs in its own child process (with its own simulator), so that process's peak RSS is the
pipeline's own. Memory is bounded when 4x the VMs peak at most 1.3x the memory: what grows with the VMs
is their results, not the task bodies a poll reads. (The growth of the peak over the process's start was
held to 0.75x of linear before: at 500 VMs that growth is 2-3 MiB, and the allocator's noise put the
same code at 0.55x in one run and 0.77x in the next.)
"""

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from peak_memory import self_peak_kib  # noqa: E402
from table import Figure  # noqa: E402

SIZES = (500, 2000)
CREATE_SECONDS = 4.0  # a crash-consistent recovery point of one VM
REPLICATE_SECONDS = 20.0  # shipping its changed blocks to the DR cluster
CONCURRENCY = 8
TARGET_RATIO = 1.3
# Peak RSS at 2,000 VMs against the peak at 500.
MEMORY_RATIO = 1.3


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


def rss_mib() -> float:
    return self_peak_kib() / 1024


def measure(vms: int) -> dict:
    """One pipeline run over `vms` VMs in this process: wall time, and peak RSS before and after."""
    from collection_path import importable
    from sim_process import start_sim

    importable()
    from ansible_collections.day2ops.ahv.plugins.module_utils._dr import Pipeline, Protection
    from ansible_collections.day2ops.ahv.plugins.module_utils._prism import PrismClient

    sim = start_sim(tls=True, vm_count=300)
    try:
        sim.control("POST", "vms/generate", {"count": vms * 2})
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
        ids = vm_ids(sim, clusters["prod-ahv-01"], vms)
        client = PrismClient.from_options(dict(sim.prism_options(), concurrency=CONCURRENCY))
        protections = [
            Protection(i, f"bench-{i}", None, {"name": f"bench-{i}", "vmRecoveryPoints": [{"vmExtId": i}]})
            for i in ids
        ]
        start = time.perf_counter()
        done = Pipeline(client, clusters["dr-ahv-01"], timeout=900).run(protections)
        wall = time.perf_counter() - start
        protected = sum(vm.status == "protected" for vm in done)
    finally:
        sim.stop()
    return {"vms": vms, "wall_s": wall, "protected": protected, "rss_peak": rss_mib()}


def child(vms: int) -> dict:
    run = subprocess.run([sys.executable, __file__, str(vms)], capture_output=True, text=True, check=False)
    if run.returncode:
        raise RuntimeError(run.stderr[-3000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def figures() -> list[Figure]:
    floor = CREATE_SECONDS + REPLICATE_SECONDS
    runs = {}
    for vms in SIZES:
        runs[vms] = child(vms)
        print(f"DR {vms} VMs: {runs[vms]}", file=sys.stderr)
    out = [
        Figure.within(
            "dr",
            f"protect {vms:,} VMs ({run['protected']} verified), {CONCURRENCY} concurrent",
            run["wall_s"],
            "s",
            floor,
            "floor: longest single chain",
            TARGET_RATIO,
            also=run["protected"] == vms,
        )
        for vms, run in runs.items()
    ]
    small, large = (runs[s] for s in SIZES)
    out.append(
        Figure.within(
            "dr",
            f"peak RSS of the pipeline process at {SIZES[1]:,} VMs",
            large["rss_peak"],
            "MiB",
            small["rss_peak"],
            f"same at {SIZES[0]} VMs",
            MEMORY_RATIO,
            why="bounded",
        )
    )
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(measure(int(sys.argv[1]))))
    else:
        from table import render

        print(render(figures()))
