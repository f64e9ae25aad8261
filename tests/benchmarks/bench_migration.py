"""A 200-VM migration wave (playbooks/migration_wave.yml) against the simulator's vCenter, Move and
Prism Central: the controller's overhead per VM beyond Move's own state durations, and how it scales
from a 20-VM wave run in the same process.

Move's own durations are what the simulator's timing makes them: Move prepares every guest of the
plan at once in PREPARE_SECONDS, every VM of the plan seeds at once for SEEDING_SECONDS from the
plan's start, and Move runs the cutovers of one group concurrently, CUTOVER_SECONDS each; the three
groups go one after another (app depends on db, web on app). No
controller beats PREPARE_SECONDS + SEEDING_SECONDS + 3 x CUTOVER_SECONDS; the rest of the wall time is the
controller's: ansible-playbook, the role's tasks, the modules' calls, and Prism's tasks for each
VM's power-on and Categories (TASK_SECONDS each in the simulator; each group's VMs land in one batch
per step). The wall time of each task is read from ansible-playbook's output as it streams (one task
ends where the next one's header appears); the tasks the overhead went to are printed on stderr.

The waves take powered-on VMs that pass Move's readiness, so every VM of a wave migrates.
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "integration"))

from collection_path import ansible_env  # noqa: E402
from playbook import sim_env  # noqa: E402
from sim_process import start_sim  # noqa: E402
from table import Figure  # noqa: E402
from test_migration_wave import DEFAULTS  # noqa: E402

REPO = HERE.parents[1]
PLAYBOOK = REPO / "playbooks" / "migration_wave.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"

PREPARE_SECONDS = 1.0
SEEDING_SECONDS = 10.0
CUTOVER_SECONDS = 5.0
TASK_SECONDS = 0.05  # a Prism task (power on, Categories), short so Prism's durations stay small
POLL_SECONDS = 1
# Dependency groups in order, as shares of the wave: db 40, app 100, web 60 of 200.
GROUPS = (("db", 0.2, "Database"), ("app", 0.5, "App"), ("web", 0.3, "Web"))
WAVES = {"bench-20": 20, "bench-200": 200}
TOP_TASKS = 8
TARGET_PER_VM = 0.5  # s of controller time per VM, beyond Move's own durations
# Every port group of the estate onto one AHV subnet, so only missing VMware Tools and NVMe disks fail
# Move's readiness.
PORT_GROUPS = ("VM Network", "dvpg-app-101", "dvpg-db-102", "dvpg-dmz-199")
NO_TOOLS_EVERY, NVME_EVERY = 17, 23


def ready_vms(sim) -> list[str]:
    """vCenter's powered-on VMs that pass Move's readiness, in estate order (the number ends the name)."""
    vms = sim.vcenter("GET", "/api/vcenter/vm").json()
    numbered = sorted(
        (int(vm["name"].rsplit("-", 1)[1]), vm["name"]) for vm in vms if vm["power_state"] == "POWERED_ON"
    )
    return [name for n, name in numbered if n % NO_TOOLS_EVERY and n % NVME_EVERY]


def wave(name: str, vms: list[str]) -> dict:
    groups, start, before = [], 0, []
    for i, (group, share, tier) in enumerate(GROUPS):
        end = len(vms) if i == len(GROUPS) - 1 else start + round(share * len(vms))
        groups.append(
            {"name": group, "vms": vms[start:end], "depends_on": before, "categories": {"AppTier": tier}}
        )
        start, before = end, [group]
    return {"name": name, "categories": {"Environment": "Production"}, "groups": groups}


def wave_file(path: Path, waves: list[dict]) -> Path:
    document = {
        "version": 1,
        "defaults": {
            **DEFAULTS,
            "network_mappings": [{"source": pg, "target": "vlan0-prod-ahv-01"} for pg in PORT_GROUPS],
        },
        "waves": waves,
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def task_name(header: str) -> str:
    """`TASK [role : name] ***` -> name."""
    inner = header[len("TASK [") : header.rindex("]")]
    return inner.split(" : ", 1)[-1]


def run_wave(sim, work: Path, waves: Path, name: str) -> dict:
    """One ansible-playbook run of the wave; its wall time, per-task wall times and this run's report."""
    work.mkdir(parents=True)
    extra = {
        "migration_wave_file": str(waves),
        "migration_wave_name": name,
        "migration_wave_poll_seconds": POLL_SECONDS,
        "migration_wave_approval_outside_app": "approve",
        "migration_wave_reconfigure_tasks": "",
        "migration_wave_webhook_url": "",
        "migration_wave_run_id": "bench",
    }
    (work / "vars.json").write_text(json.dumps(extra))
    env = ansible_env(
        work,
        {
            **sim_env(sim),
            "DAY2OPS_STATE_DIR": str(work / "state"),
            "DAY2OPS_OPERATOR": "bench",
            "PYTHONUNBUFFERED": "1",
        },
    )
    argv = [str(ANSIBLE_PLAYBOOK), str(PLAYBOOK), "-e", f"@{work / 'vars.json'}"]
    marks, output = [], []
    start = time.perf_counter()
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=work
    ) as proc:
        for line in proc.stdout:
            output.append(line)
            if line.startswith("TASK ["):
                # Tasks named after the wave ("Plan and start bench-20-1") compare across waves.
                marks.append((time.perf_counter(), task_name(line).replace(name, "<wave>")))
            elif line.startswith("PLAY RECAP"):
                marks.append((time.perf_counter(), "(recap)"))
    wall = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"wave {name} failed (rc {proc.returncode}):\n{''.join(output[-60:])}")
    tasks: dict[str, list[float]] = {"(ansible-playbook start)": [marks[0][0] - start]}
    for (at, task), (nxt, _) in zip(marks, [*marks[1:], (start + wall, "")], strict=True):
        tasks.setdefault(task, []).append(nxt - at)
    report = json.loads((work / "state" / "migration" / f"{name}-bench.json").read_text())
    return {"wall": wall, "tasks": tasks, "report": report}


def measure() -> dict[str, dict]:
    """Both waves, the small one first, in one simulator with Move's timing fixed."""
    sim = start_sim(tls=True, task_seconds=TASK_SECONDS)
    try:
        sim.control(
            "POST",
            "move/timing",
            {
                "prepare_seconds": PREPARE_SECONDS,
                "seeding_seconds": SEEDING_SECONDS,
                "cutover_seconds": CUTOVER_SECONDS,
                "token_seconds": 900,
            },
        )
        names = ready_vms(sim)
        waves, taken = [], 0
        for name, count in WAVES.items():
            waves.append(wave(name, names[taken : taken + count]))
            taken += count
        results = {}
        with tempfile.TemporaryDirectory(prefix="bench-migration-") as tmp:
            path = wave_file(Path(tmp) / "waves.yml", waves)
            for name in WAVES:  # the small wave first, so the large one does not pay for a cold start
                print(f"migration wave {name}...", file=sys.stderr)
                results[name] = run_wave(sim, Path(tmp) / name, path, name)
    finally:
        sim.stop()
    for name, count in WAVES.items():
        migrated = len(results[name]["report"]["migrated"])
        if migrated != count:
            raise RuntimeError(f"wave {name}: {migrated} of {count} VMs migrated")
    return results


def print_breakdown(results: dict[str, dict]) -> None:
    """Where the large wave's wall time went, task by task, against the small wave (on stderr)."""
    small, large = WAVES
    big, little = results[large]["tasks"], results[small]["tasks"]
    print(f"where {large}'s wall went: task, runs, s in all, s/VM, s/VM in {small}", file=sys.stderr)
    for task in sorted(big, key=lambda t: sum(big[t]), reverse=True)[:TOP_TASKS]:
        mine = sum(big[task]) / WAVES[large]
        then = sum(little.get(task, ())) / WAVES[small]
        print(
            f"  {task[:56]:56} {len(big[task]):4d} {sum(big[task]):7.1f} {mine:6.3f} {then:6.3f}",
            file=sys.stderr,
        )


def figures() -> list[Figure]:
    results = measure()
    print_breakdown(results)
    floor = PREPARE_SECONDS + SEEDING_SECONDS + len(GROUPS) * CUTOVER_SECONDS
    small, large = WAVES
    per_vm = {name: (results[name]["wall"] - floor) / count for name, count in WAVES.items()}
    walls = [
        Figure(
            section="waves",
            figure=f"{count}-VM wave, wall time",
            measured=results[name]["wall"],
            unit="s",
            reference=floor,
            reference_label="Move's own durations (floor)",
        )
        for name, count in WAVES.items()
    ]
    return [
        Figure(
            section="waves",
            figure=f"{WAVES[large]}-VM wave, controller overhead per VM",
            measured=per_vm[large],
            unit="s/VM",
            target=f"<= {TARGET_PER_VM:g} s/VM",
            met=per_vm[large] <= TARGET_PER_VM,
        ),
        Figure(
            section="waves",
            figure=f"{WAVES[small]}-VM wave, controller overhead per VM",
            measured=per_vm[small],
            unit="s/VM",
        ),
        Figure.within(
            "waves",
            f"overhead per VM, {WAVES[large]}-VM wave vs {WAVES[small]}-VM wave",
            per_vm[large],
            "s/VM",
            per_vm[small],
            f"{WAVES[small]}-VM wave, same run",
            1.0,
        ),
        *walls,
    ]


def main() -> None:
    """The figures as a table of their own (run.py prints every bench's figures in one table)."""
    from table import render

    print(render(figures()))


if __name__ == "__main__":
    main()
