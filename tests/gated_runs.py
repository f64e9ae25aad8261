"""The `gated` test item (tests/app/catalog): a VM that is on, the gate its playbook opens, the VM's power."""

import time


def power(sim, ext_id: str) -> str:
    return sim.api("GET", f"/api/vmm/v4.0/ahv/config/vms/{ext_id}").json()["data"]["powerState"]


def a_running_vm(sim, client) -> str:
    offered = [c["value"] for c in client.get("/api/catalog/gated/choices/vm").json()]
    for ext_id in offered:
        if power(sim, ext_id) == "ON":
            return ext_id
    raise AssertionError("the simulator offers no VM that is ON")


def open_gate(client, execution_id: str, timeout: float = 120) -> dict:
    """The playbook's gate, once the run has opened it."""
    deadline = time.monotonic() + timeout
    while True:
        gates = client.get("/api/approvals", params={"mine": "false"}).json()
        mine = [g for g in gates if g["execution_id"] == execution_id and g["kind"] == "playbook"]
        if mine:
            return mine[0]
        # Not ended without a gate; `queued` until ansible-runner reports the start.
        assert client.get(f"/api/runs/{execution_id}").json()["status"] in ("queued", "running")
        assert time.monotonic() < deadline, "the playbook opened no gate"
        time.sleep(0.5)
