"""The in-flow gate (day2ops.ahv.approval) in a real run: the playbook waits for a reviewer before a
destructive step, four-eyes holds, and a gate nobody decides fails closed with the VM untouched."""

import time

import pytest
from app_process import TEST_CATALOG, start_app
from gated_runs import a_running_vm, open_gate, power


@pytest.fixture
def app(sim, tmp_path):
    app = start_app(sim, tmp_path, f"sqlite:///{tmp_path / 'audit.db'}", **TEST_CATALOG)
    yield app
    app.stop()


def test_gate_waits_for_another_reviewer_then_the_step_runs(app, sim):
    sam, alex, olivia = app.client("sam"), app.client("alex"), app.client("olivia")
    vm = a_running_vm(sim, sam)
    execution = sam.run("gated", vm=vm)
    gate = open_gate(alex, execution["id"])
    assert gate["name"] == "power-off" and gate["reviewer_group"] == "change-approvers"
    assert gate["details"] == {"vm": vm} and gate["requested_by"] == "sam"
    # The playbook is waiting: nothing destructive has happened.
    time.sleep(2)
    assert power(sim, vm) == "ON"
    assert sam.get(f"/api/runs/{execution['id']}").json()["status"] == "running"
    # sam started the run: an approver, but never on their own run. olivia is no approver.
    r = sam.post(f"/api/approvals/{gate['id']}/decision", {"decision": "approve"})
    assert r.status_code == 403 and "four-eyes" in r.text
    assert olivia.post(f"/api/approvals/{gate['id']}/decision", {"decision": "approve"}).status_code == 403
    assert alex.post(
        f"/api/approvals/{gate['id']}/decision", {"decision": "approve", "comment": "CHG0042"}
    ).ok

    done = sam.wait(execution["id"])
    assert done["status"] == "successful"
    assert power(sim, vm) == "OFF"
    record = sam.get(f"/api/runs/{execution['id']}/evidence").json()
    (approval,) = record["approvals"]
    (decision,) = approval["decisions"]
    assert (approval["status"], decision["reviewer"], decision["decision"]) == ("approved", "alex", "approve")
    assert decision["comment"] == "CHG0042" and decision["decided_at"]
    powered = next(e for e in record["evidence"] if e["action"] == "day2ops.ahv.vm_power")
    assert powered["vm_ext_ids"] == [vm] and powered["task_ext_ids"]
    tasks = sim.api("GET", f"/api/prism/v4.0/config/tasks/{powered['task_ext_ids'][0]}").json()["data"]
    assert tasks["status"] == "SUCCEEDED"


def test_a_gate_nobody_decides_fails_closed(app, sim):
    olivia = app.client("olivia")
    vm = a_running_vm(sim, olivia)
    execution = olivia.run("gated", vm=vm, gate_timeout=3)
    done = olivia.wait(execution["id"])
    assert done["status"] == "failed"
    assert power(sim, vm) == "ON"
    record = olivia.get(f"/api/runs/{execution['id']}/evidence").json()
    (approval,) = record["approvals"]
    assert approval["status"] == "timed_out"
    assert [d["decision"] for d in approval["decisions"]] == ["timeout"]
    assert not [e for e in record["evidence"] if e["action"] == "day2ops.ahv.vm_power"]
    failed = [
        e
        for e in olivia.get(f"/api/runs/{execution['id']}/events").json()
        if e["event"] == "runner_on_failed"
    ]
    assert failed and "Ask the change approvers" in failed[0]["task"]


def test_a_rejected_gate_stops_the_run(app, sim):
    olivia, alex = app.client("olivia"), app.client("alex")
    vm = a_running_vm(sim, olivia)
    execution = olivia.run("gated", vm=vm)
    gate = open_gate(alex, execution["id"])
    assert alex.post(
        f"/api/approvals/{gate['id']}/decision", {"decision": "reject", "comment": "wrong VM"}
    ).ok
    assert olivia.wait(execution["id"])["status"] == "failed"
    assert power(sim, vm) == "ON"
