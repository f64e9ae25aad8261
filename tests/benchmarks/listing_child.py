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
from peak_memory import self_peak_kib

importable()

# Host variables ansible-inventory adds itself, not the plugin.
MAGIC_VARS = ("inventory_file", "inventory_dir")


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


def paging(spec: dict) -> tuple[int, int]:
    """The paging floor as measured: the same pages through the same transport and connections, read as
    bytes and never parsed (but for the first page's total)."""
    from ansible_collections.day2ops.ahv.plugins.module_utils._prism import PrismClient
    from ansible_collections.day2ops.ahv.plugins.module_utils._vmm import VMS

    client = PrismClient.from_options(dict(spec["options"], concurrency=spec["concurrency"]))
    path = client.path("vmm", VMS)

    def fetch(number: int) -> bytes:
        params = {"$page": number, "$limit": 100, "$select": spec["select"]}
        return client.transport.request("GET", path, "page VMs", params=params).content

    total = json.loads(fetch(0))["metadata"]["totalAvailableResults"]
    client.map(fetch, range(1, -(-total // 100)))
    return total, client.transport.stats["requests"]


def inventory(spec: dict) -> tuple[int, None]:
    """`ansible-inventory --list`; its output is kept in spec["output"] for the bench to compare."""
    run = subprocess.run(spec["argv"], capture_output=True, text=True, env=spec["env"], check=False)
    if run.returncode:
        raise SystemExit(run.stderr[-3000:])
    Path(spec["output"]).write_text(run.stdout)
    return len(json.loads(run.stdout)["_meta"]["hostvars"]), None


def plain(value):
    """A value of `--list` output without Ansible's unsafe markers, as a plugin would set it."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return plain(value["__ansible_unsafe"])
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def recorded(listing: dict) -> dict:
    """What the stub plugin adds: {groups, hosts: [[name, host variables, groups]]}, from a `--list`."""
    hostvars = listing["_meta"]["hostvars"]
    groups = sorted(name for name in listing if name not in ("_meta", "all", "ungrouped"))
    membership = {host: [] for host in hostvars}
    for group in groups:
        for host in listing[group].get("hosts", ()):
            membership[host].append(group)
    hosts = [
        [host, plain({k: v for k, v in variables.items() if k not in MAGIC_VARS}), membership[host]]
        for host, variables in hostvars.items()
    ]
    return {"groups": groups, "hosts": hosts}


def replay(spec: dict) -> tuple[int, None]:
    """Writes what the stub plugin replays, from prism_vms' `--list`."""
    listing = json.loads(Path(spec["listing"]).read_text())
    Path(spec["replay"]).write_text(json.dumps(recorded(listing)))
    return len(listing["_meta"]["hostvars"]), None


def same(spec: dict) -> tuple[int, None]:
    """Fails unless the two `--list` outputs are the same inventory: the stub's floor is a fair one."""
    ours, stub = (json.loads(Path(name).read_text()) for name in spec["files"])
    if ours != stub:
        raise SystemExit("the stub plugin's --list differs from prism_vms'")
    return len(ours["_meta"]["hostvars"]), None


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
        "paging": paging,
        "inventory": inventory,
        "chargeback": chargeback,
        "playbook": playbook,
        "replay": replay,
        "same": same,
    }[spec["kind"]](spec)
    wall = time.perf_counter() - start
    peak_kib = max(
        self_peak_kib(),
        # A child's own: what it inherits at fork is this small process's address space.
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(json.dumps({"wall": wall, "peak_mib": peak_kib / 1024.0, "count": count, "requests": calls}))


if __name__ == "__main__":
    main()
