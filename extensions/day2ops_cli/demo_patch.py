"""`make demo-patch`: the Patch VMs safely item through the running demo app, as its users would.

One VM's next patch is made to break (the simulator's /_sim/guests lever), olivia asks to patch HR's test
app tier, alex approves, the run patches over SSH through the guest gateway; each VM's outcome is read
from the run's evidence and the guests' patch levels. Exit 0 when every VM was patched or rolled back.

    python -m day2ops_cli.demo_patch --app http://127.0.0.1:8080 --sim https://127.0.0.1:9440 \\
        --ca .demo/sim/sim-cert.pem --break hr-portal-tst-app-141
"""

import argparse
import sys
import time
from dataclasses import dataclass

import requests

from .demo import DEMO_USERS, SIM_PASSWORD, SIM_USER

PASSWORDS = {name: password for name, password, _, _ in DEMO_USERS}
SCOPE = {"department": "HR", "environment": "Test", "app_tier": "App"}
FINISHED = ("successful", "failed", "canceled", "interrupted")


@dataclass
class AppUser:
    """A demo user's session on the app's API."""

    url: str
    session: requests.Session

    @classmethod
    def login(cls, url: str, username: str) -> "AppUser":
        session = requests.Session()
        answer = session.post(
            f"{url}/api/auth/login", json={"username": username, "password": PASSWORDS[username]}, timeout=30
        )
        answer.raise_for_status()
        session.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        return cls(url, session)

    def get(self, path: str, **params) -> dict | list:
        answer = self.session.get(f"{self.url}{path}", params=params, timeout=60)
        answer.raise_for_status()
        return answer.json()

    def post(self, path: str, body: dict) -> dict:
        answer = self.session.post(f"{self.url}{path}", json=body, timeout=60)
        if answer.status_code >= 400:
            raise RuntimeError(f"POST {path}: {answer.status_code} {answer.text}")
        return answer.json()

    def approve(self, execution_id: str, comment: str) -> None:
        """Approve every pending gate of the run this user may decide."""
        for gate in self.get("/api/approvals"):
            if gate["execution_id"] == execution_id:
                self.post(
                    f"/api/approvals/{gate['id']}/decision", {"decision": "approve", "comment": comment}
                )

    def wait(self, execution_id: str, statuses=FINISHED, timeout: float = 900) -> dict:
        deadline = time.monotonic() + timeout
        while (execution := self.get(f"/api/runs/{execution_id}"))["status"] not in statuses:
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {execution_id} is still {execution['status']} after {timeout:.0f} s")
            time.sleep(1)
        return execution


@dataclass
class Simulator:
    url: str
    ca_path: str

    def vm(self, name: str) -> dict:
        found = requests.get(
            f"{self.url}/api/vmm/v4.0/ahv/config/vms",
            params={"$filter": f"name eq '{name}'"},
            auth=(SIM_USER, SIM_PASSWORD),
            verify=self.ca_path,
            timeout=30,
        ).json()
        if not found.get("data"):
            raise SystemExit(f"demo-patch: no VM named {name} in the simulator")
        return found["data"][0]

    def guests(self) -> list[dict]:
        """The running guests: address, vm_ext_id, name, patch_level."""
        answer = requests.get(f"{self.url}/_sim/guests", verify=self.ca_path, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def guest(self, ext_id: str, levers: dict | None = None) -> dict:
        method = "POST" if levers else "GET"
        answer = requests.request(
            method, f"{self.url}/_sim/guests/{ext_id}", json=levers, verify=self.ca_path, timeout=30
        )
        answer.raise_for_status()
        return answer.json()


def outcomes(olivia: AppUser, sim: Simulator, execution_id: str, levels: dict[str, int]) -> dict[str, str]:
    """Per VM of the run's evidence: rolled back (a revert to its recovery point), patched (its guest is a
    patch level up), or not patched."""
    found = {}
    for row in olivia.get(f"/api/runs/{execution_id}/evidence")["evidence"]:
        if row["action"] == "day2ops.ahv.recovery_point_restore":
            found[row["host"]] = "rolled back"
        found.setdefault(row["host"], "")
    for name, outcome in found.items():
        if not outcome:
            vm = sim.vm(name)
            patched = sim.guest(vm["extId"])["patch_level"] > levels.get(name, 0)
            found[name] = "patched" if patched else "not patched"
    return found


def patch_run(app_url: str, sim: Simulator, broken: list[str], scope: dict = SCOPE) -> tuple[dict, dict]:
    """olivia's request, alex's approval, the finished run and each VM's outcome."""
    for name in broken:
        sim.guest(sim.vm(name)["extId"], {"break_next_patch": True})
        print(f"demo-patch: the next patch of {name} breaks its application", flush=True)
    levels = {g["name"]: g["patch_level"] for g in sim.guests()}
    olivia, alex = AppUser.login(app_url, "olivia"), AppUser.login(app_url, "alex")
    execution = olivia.post("/api/runs", {"item_id": "safe_patch", "inputs": {**scope, "serial": 3}})
    print(f"demo-patch: olivia asked for run {execution['id']}; alex approves", flush=True)
    alex.wait(execution["id"], statuses=("pending_approval", *FINISHED), timeout=120)
    alex.approve(execution["id"], "demo-patch: window ok")
    done = olivia.wait(execution["id"])
    return done, outcomes(olivia, sim, execution["id"], levels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Patch VMs safely through the running `day2ops demo`.")
    parser.add_argument("--app", default="http://127.0.0.1:8080", help="the demo app's URL")
    parser.add_argument("--sim", default="https://127.0.0.1:9440", help="the demo simulator's URL")
    parser.add_argument("--ca", default=".demo/sim/sim-cert.pem", help="the simulator's certificate")
    parser.add_argument("--break", dest="broken", action="append", default=[], help="VM whose patch breaks")
    args = parser.parse_args(argv)
    try:
        done, found = patch_run(args.app.rstrip("/"), Simulator(args.sim.rstrip("/"), args.ca), args.broken)
    except (requests.ConnectionError, FileNotFoundError) as err:
        print(f"demo-patch: is `make demo` running? {err}", file=sys.stderr)
        return 2
    for name, outcome in sorted(found.items()):
        print(f"  {outcome:<12} {name}")
    print(f"demo-patch: run {done['id']} {done['status']}: see {args.app}/ui/ (history)", flush=True)
    expected = {name: "rolled back" if name in args.broken else "patched" for name in found}
    return 0 if found and found == expected else 1


if __name__ == "__main__":
    sys.exit(main())
