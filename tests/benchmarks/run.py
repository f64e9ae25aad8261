"""Benchmarks, printed as one table. Run with `make bench`; never part of the pass/fail suite.

Each section measures its figures and their floors or peers in the same run (see table.Figure): the
app under 50 clients (bench_app), the simulator's list page at 50,000 VMs against 300 (bench_sim),
VM listing, the inventory plugin and chargeback at 20,000 VMs (bench_inventory), DR protection of 500
and 2,000 VMs (bench_dr), a 200-VM migration wave against a 20-VM one (bench_migration), and the
stage times of the last `make test` on this machine (build/test-stages.json).

    make bench                      every section
    make bench BENCH=app,sim        some of them
"""

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import bench_app  # noqa: E402
import bench_dr  # noqa: E402
import bench_inventory  # noqa: E402
import bench_migration  # noqa: E402
import bench_sim  # noqa: E402
import suite_times  # noqa: E402
from table import render  # noqa: E402

SECTIONS = {
    "app": bench_app,
    "sim": bench_sim,
    "inventory": bench_inventory,
    "dr": bench_dr,
    "migration": bench_migration,
    "tests": suite_times,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help=f"comma-separated sections of {', '.join(SECTIONS)}")
    chosen = [s for s in parser.parse_args().only.split(",") if s] or list(SECTIONS)
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}: choose from {', '.join(SECTIONS)}")
    figures = []
    for name in chosen:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        figures += SECTIONS[name].figures()
    print()
    print(render(figures))
    missed = [f for f in figures if f.met is False]
    print(f"\n{len(figures)} figures, {len(missed)} missing their target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
