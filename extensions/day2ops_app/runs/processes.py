"""Every process of one run, found by the DAY2OPS_RUN_ID each of them inherits.

ansible-runner cancels by killing ansible-playbook's process group, but ansible-core's workers start
sessions of their own (setsid), so a module (a package manager, a sleep) would outlive the cancel; and
after the app crashes, the whole run would go on unwatched. The environment reaches them all.
"""

from __future__ import annotations

import contextlib

import psutil


def run_processes(execution_id: str) -> list[psutil.Process]:
    mine = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("DAY2OPS_RUN_ID") == execution_id:
                mine.append(process)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return mine


def kill_run(execution_id: str) -> int:
    """SIGKILL every process of the run; how many there were."""
    processes = run_processes(execution_id)
    # ansible-playbook itself is our child, which ansible-runner's pexpect reaps: waiting for it here
    # would steal its exit status from pexpect.
    others = [p for p in processes if p.pid not in {c.pid for c in psutil.Process().children()}]
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(others, timeout=10)
    return len(processes)
