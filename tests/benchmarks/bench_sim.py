"""Simulator scale: how long one filtered, sorted list page takes with 50,000 VMs loaded, against the
same query on the 300-VM demo estate, both measured in the same run on one simulator process over
HTTPS.
"""

import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from sim_process import start_sim  # noqa: E402
from table import Figure  # noqa: E402

VMS = "/api/vmm/v4.3/ahv/config/vms"
LARGE = 50000
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
TARGET_RATIO = 3.0


def median_ms(sim, params: dict) -> float:
    sim.api("GET", VMS, params=params).raise_for_status()  # warm
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        sim.api("GET", VMS, params=params).raise_for_status()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def figures() -> list[Figure]:
    sim = start_sim(tls=True)
    try:
        small = {name: median_ms(sim, q) for name, q in QUERIES.items()}
        start = time.perf_counter()
        total = sim.control("POST", "vms/generate", {"count": LARGE - 300})["vms"]
        print(f"loaded {total - 300} generated VMs in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        large = {name: median_ms(sim, q) for name, q in QUERIES.items()}
    finally:
        sim.stop()
    return [
        Figure.within(
            "simulator",
            f"list page at {total:,} VMs: {name}",
            large[name],
            "ms",
            small[name],
            "same query at 300 VMs",
            TARGET_RATIO,
        )
        for name in QUERIES
    ]


if __name__ == "__main__":
    from table import render

    print(render(figures()))
