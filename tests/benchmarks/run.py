"""Benchmarks, printed as a table. Run with `make bench`; never part of the pass/fail suite.

Simulator scale: how long one filtered list page takes with the 300-VM demo estate and with
50,000 VMs loaded, measured in the same run on the simulator process over HTTPS; then VM listing
at 20,000 VMs (bench_inventory), DR protection of 500 VMs (bench_dr), and a 200-VM migration wave
through Move against a 20-VM one (bench_migration).
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_dr
import bench_inventory
import bench_migration
from sim_process import start_sim

VMS = "/api/vmm/v4.3/ahv/config/vms"
QUERIES = {
    "first page, no filter": {"$limit": 50},
    "name startswith + powerState": {
        "$filter": "startswith(name,'fin-') and powerState eq Vmm.Ahv.Config.PowerState'ON'",
        "$limit": 100,
    },
    "cluster + memory, $select, $orderby": {
        "$filter": "memorySizeBytes ge 17179869184 and numSockets in (4, 8)",
        "$select": "name,memorySizeBytes,powerState",
        "$orderby": "name desc",
        "$limit": 100,
    },
    "last page of a filtered list": {
        "$filter": "powerState eq Vmm.Ahv.Config.PowerState'ON'",
        "$page": 80,
        "$limit": 100,
    },
}
ROUNDS = 15


def median_ms(sim, params: dict) -> float:
    sim.api("GET", VMS, params=params).raise_for_status()  # warm
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        sim.api("GET", VMS, params=params).raise_for_status()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    sim = start_sim(tls=True)
    try:
        small = {name: median_ms(sim, q) for name, q in QUERIES.items()}
        start = time.perf_counter()
        total = sim.control("POST", "vms/generate", {"count": 50000 - 300})["vms"]
        generated_s = time.perf_counter() - start
        large = {name: median_ms(sim, q) for name, q in QUERIES.items()}
    finally:
        sim.stop()
    print(f"\nSimulator list page, median of {ROUNDS} (HTTPS, one process, this machine)")
    print(f"{'query':40} {'300 VMs ms':>11} {f'{total} VMs ms':>14} {'ratio':>7}")
    for name in QUERIES:
        print(f"{name:40} {small[name]:11.1f} {large[name]:14.1f} {large[name] / small[name]:7.1f}x")
    print(f"\nloading {total - 300} generated VMs took {generated_s:.1f} s")
    bench_inventory.main()
    bench_dr.main()
    bench_migration.main()


if __name__ == "__main__":
    main()
