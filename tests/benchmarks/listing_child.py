"""One benchmark scenario in a process of its own, so the peak RSS it prints is its own.

Usage: python listing_child.py '<json spec>'; prints {"wall", "peak_mib", "count", "requests"}.
"""

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collection_path import importable

importable()


def ours(spec: dict) -> tuple[int, int]:
    from ansible_collections.day2ops.ahv.plugins.module_utils._prism import PrismClient
    from ansible_collections.day2ops.ahv.plugins.module_utils._vms import list_vms, vm_summaries

    client = PrismClient.from_options(dict(spec["options"], concurrency=spec["concurrency"]))
    strategy = spec.get("strategy", "auto")
    vms, _how = list_vms(client, categories=spec.get("categories"), select=[], strategy=strategy)
    return len(vm_summaries(client, vms)), client.transport.stats["requests"]


def chargeback(spec: dict) -> tuple[int, int]:
    """What day2ops.ahv.chargeback_info does: a $select of the chargeback fields, then the aggregation."""
    from ansible_collections.day2ops.ahv.plugins.module_utils._chargeback import CHARGEBACK_FIELDS, aggregate
    from ansible_collections.day2ops.ahv.plugins.module_utils._prism import PrismClient
    from ansible_collections.day2ops.ahv.plugins.module_utils._vmm import VMS
    from ansible_collections.day2ops.ahv.plugins.module_utils._vms import vm_summaries

    client = PrismClient.from_options(dict(spec["options"], concurrency=spec["concurrency"]))
    vms = client.list("vmm", VMS, action="list", params={"$select": ",".join(CHARGEBACK_FIELDS)})
    report = aggregate(vm_summaries(client, vms), "Department", {"vcpu": 18.5, "memory_gib": 4.2})
    return report["totals"]["vms"], client.transport.stats["requests"]


def sdk(spec: dict) -> tuple[int, int]:
    """What a script on the official SDK does: one page after another."""
    import ntnx_vmm_py_client as vmm

    options = spec["options"]
    config = vmm.Configuration()
    config.host, config.port = options["nutanix_host"], options["nutanix_port"]
    config.username, config.password = options["nutanix_username"], options["nutanix_password"]
    config.verify_ssl = False
    api = vmm.VmApi(api_client=vmm.ApiClient(configuration=config))
    count, page, calls = 0, 0, 0
    while True:
        response = api.list_vms(_page=page, _limit=100, _select=spec["select"])
        calls += 1
        count += len(response.data or [])
        if not response.data or count >= response.metadata.total_available_results:
            return count, calls
        page += 1


def inventory(spec: dict) -> tuple[int, None]:
    run = subprocess.run(spec["argv"], capture_output=True, text=True, env=spec["env"], check=False)
    if run.returncode:
        raise SystemExit(run.stderr[-3000:])
    return len(json.loads(run.stdout)["_meta"]["hostvars"]), None


def playbook(spec: dict) -> tuple[int, None]:
    """A whole ansible-playbook run; its peak is the largest of its processes (modules included)."""
    run = subprocess.run(spec["argv"], capture_output=True, text=True, env=spec["env"], check=False)
    if run.returncode:
        raise SystemExit(run.stdout[-3000:] + run.stderr[-3000:])
    return spec["count"], None


def main() -> None:
    spec = json.loads(sys.argv[1])
    start = time.perf_counter()
    count, calls = {
        "ours": ours,
        "sdk": sdk,
        "inventory": inventory,
        "chargeback": chargeback,
        "playbook": playbook,
    }[spec["kind"]](spec)
    wall = time.perf_counter() - start
    peak_kib = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(json.dumps({"wall": wall, "peak_mib": peak_kib / 1024.0, "count": count, "requests": calls}))


if __name__ == "__main__":
    main()
