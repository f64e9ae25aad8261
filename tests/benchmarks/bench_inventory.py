"""VM listing at 20,000 VMs with realistic per-call latency: our client, the chargeback report's
listing and aggregation, the inventory plugin, the official SDK paging sequentially, and the
floor (pages / concurrency x latency).

Every scenario runs in its own child process so its peak RSS is its own.
"""

import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from collection_path import collections_path  # noqa: E402
from sim_process import nutanix_env, start_sim  # noqa: E402

VM_COUNT = 20000
LATENCY = 0.1  # seconds per list call, about what a loaded Prism Central answers a 100-VM page in
CONCURRENCY = 8
PAGE = 100


def child(spec: dict) -> dict:
    run = subprocess.run(
        [sys.executable, str(HERE / "listing_child.py"), json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode:
        raise RuntimeError(run.stderr[-3000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    sim = start_sim(tls=True)
    try:
        sim.control("POST", "vms/generate", {"count": VM_COUNT - 300})
        sim.control("POST", "latency", {"operation": "list_vms", "seconds": LATENCY})
        options = sim.prism_options()
        select = (
            "extId,name,description,cluster,host,powerState,numSockets,numCoresPerSocket,numThreadsPerCore,"
        )
        select += "memorySizeBytes,disks,nics,categories"
        results = {}
        results["official SDK, sequential pages"] = child(
            {"kind": "sdk", "options": options, "select": select}
        )
        results["ours: vm_info path (8 concurrent)"] = child(
            {"kind": "ours", "options": options, "concurrency": 8}
        )
        results["ours: 1 at a time"] = child({"kind": "ours", "options": options, "concurrency": 1})
        results["chargeback_info: $select + aggregation"] = child(
            {"kind": "chargeback", "options": options, "concurrency": 8}
        )
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "bench.prism_vms.yml"
            source.write_text(json.dumps({"plugin": "day2ops.ahv.prism_vms", **options}))
            env = {
                **os.environ,
                "ANSIBLE_COLLECTIONS_PATH": str(collections_path()),
                "ANSIBLE_INVENTORY_ENABLED": "day2ops.ahv.prism_vms",
                "ANSIBLE_HOME": str(Path(tmp) / "home"),
            }
            argv = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(source), "--list"]
            results["inventory plugin: ansible-inventory --list"] = child(
                {"kind": "inventory", "argv": argv, "env": env}
            )
            report = Path(tmp) / "chargeback"
            extra = json.dumps({"chargeback_report_dir": str(report), "chargeback_webhook_url": ""})
            argv = [
                str(Path(sys.executable).parent / "ansible-playbook"),
                str(HERE.parents[1] / "playbooks" / "chargeback.yml"),
                "-e",
                extra,
            ]
            results["chargeback report: ansible-playbook chargeback.yml"] = child(
                {"kind": "playbook", "argv": argv, "env": {**env, **nutanix_env(options)}, "count": VM_COUNT}
            )
        scopes = {
            "broad": {"Environment": "Production"},
            "narrow": {"Department": "Legal", "Criticality": "High"},
        }
        for label, categories in scopes.items():
            for strategy in ("associations", "client", "auto"):
                spec = {"kind": "ours", "options": options, "concurrency": 8, "categories": categories}
                results[f"{label} Category scope, {strategy}"] = child(dict(spec, strategy=strategy))
    finally:
        sim.stop()
    pages = math.ceil(VM_COUNT / PAGE)
    floor = pages / CONCURRENCY * LATENCY
    sdk = results["official SDK, sequential pages"]["wall"]
    print(f"\nListing {VM_COUNT} VMs, {LATENCY * 1000:.0f} ms latency per list call, {pages} pages")
    print(f"floor = {pages} pages / {CONCURRENCY} concurrent x {LATENCY} s = {floor:.2f} s (one run)")
    print(f"{'scenario':48} {'VMs':>6} {'calls':>6} {'wall s':>7} {'peak MiB':>9} {'/floor':>7} {'/SDK':>6}")
    for name, r in results.items():
        calls = "" if r["requests"] is None else str(r["requests"])
        print(
            f"{name:48} {r['count']:6d} {calls:>6} {r['wall']:7.2f} {r['peak_mib']:9.0f} "
            f"{r['wall'] / floor:7.2f} {r['wall'] / sdk:6.2f}"
        )


if __name__ == "__main__":
    main()
