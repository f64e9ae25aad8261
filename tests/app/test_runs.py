"""Real playbooks through ansible-runner from the app, against the simulator: events, evidence, export,
secrets, approvals before the run, cancel, and a crash of the app mid-run."""

import csv
import io
import json
import time

import pytest
from app_process import start_app

SECRET = "https://hooks.example.invalid/services/T000/B000/super-secret-token"


@pytest.fixture
def app(sim, tmp_path):
    app = start_app(sim, tmp_path, f"sqlite:///{tmp_path / 'audit.db'}")
    yield app
    app.stop()


def all_bytes(app) -> bytes:
    """Everything the app wrote: the store (with its WAL) and every file of every run's private dir."""
    files = [p for p in app.workdir.rglob("*") if p.is_file() and not p.name.endswith(".log")]
    return b"".join(p.read_bytes() for p in files if "ansible-home" not in p.parts)


def prism_tasks(sim, operation):
    listed = sim.api(
        "GET",
        "/api/prism/v4.0/config/tasks",
        params={"$filter": f"operation eq '{operation}'", "$limit": 100},
    )
    return listed.json().get("data") or []


def test_dr_run_keeps_events_evidence_and_no_secret(app, sim, webhook):
    olivia = app.client("olivia")
    execution = olivia.run(
        "dr_replicate", environment="Test", department="HR", cluster="dr-ahv-01", webhook_url=webhook.url
    )
    assert execution["status"] == "queued" and execution["operator"] == "olivia"
    assert execution["inputs"]["webhook_url"] == "********"
    done = olivia.wait(execution["id"])
    assert done["status"] == "successful", olivia.get(f"/api/runs/{execution['id']}/events").text[-3000:]
    assert done["rc"] == 0

    record = olivia.get(f"/api/runs/{execution['id']}/evidence").json()
    # Every recovery point Prism created in this run is in the evidence, with its task id.
    created = [t for t in prism_tasks(sim, "CreateRecoveryPoint") if t["status"] == "SUCCEEDED"]
    replicated = prism_tasks(sim, "EntitySnapshotReplicate")
    assert created and replicated
    evidence_tasks = set(record["task_ext_ids"])
    assert {t["extId"] for t in created + replicated} <= evidence_tasks
    batch = next(e for e in record["evidence"] if e["action"] == "day2ops.ahv.recovery_point_batch")
    assert len(batch["recovery_point_ext_ids"]) >= len(created)
    assert len(batch["vm_ext_ids"]) == len(created)
    assert [t["to_status"] for t in record["transitions"]] == ["queued", "running", "successful"]
    # The webhook got its summary; the URL is nowhere the app wrote anything.
    assert len(webhook.received) == 1
    assert SECRET.encode() not in all_bytes(app)
    assert webhook.url.encode() not in all_bytes(app)

    exported = list(
        csv.DictReader(io.StringIO(olivia.get(f"/api/runs/{execution['id']}/evidence?format=csv").text))
    )
    assert {t for row in exported for t in row["task_ext_ids"].split()} == evidence_tasks
    chain = app.client("ada").get("/api/audit/verify").json()  # the whole walk is an admin's
    assert chain["ok"] and chain["problems"] == []
    assert chain["entries"] > len(record["events"])  # events, evidence, transitions and the execution
    verify = app.cli("audit", "verify")
    assert verify.returncode == 0 and "intact" in verify.stdout


def test_events_stream_as_server_sent_events(app):
    olivia = app.client("olivia")
    execution = olivia.run("chargeback")
    seen, statuses = [], []
    with olivia.session.get(
        f"{app.url}/api/runs/{execution['id']}/events/stream", stream=True, timeout=300
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in r.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                (seen if kind == "runner" else statuses).append(data)
    assert statuses[-1]["status"] == "successful"
    counters = [e["counter"] for e in seen]
    assert counters == sorted(counters) and len(counters) == len(set(counters))
    assert seen[0]["event"] == "playbook_on_start" and seen[-1]["event"] == "playbook_on_stats"
    assert any("Chargeback" in (e["task"] or "") or e["event"] == "runner_on_ok" for e in seen)
    # Resuming after the 5th event gives exactly the rest.
    with olivia.session.get(
        f"{app.url}/api/runs/{execution['id']}/events/stream",
        headers={"Last-Event-ID": str(counters[4])},
        stream=True,
        timeout=60,
    ) as r:
        resumed = [
            json.loads(line[6:])["counter"]
            for line in r.iter_lines(decode_unicode=True)
            if line.startswith('data: {"counter"')
        ]
    assert resumed == counters[5:]


def a_vm_with_a_recovery_point(sim, client) -> tuple[str, str]:
    vm = client.get("/api/catalog/dr_drill/choices/vm").json()[0]["value"]
    r = sim.api(
        "POST",
        "/api/dataprotection/v4.0/config/recovery-points",
        json={"name": "before-the-drill", "vmRecoveryPoints": [{"vmExtId": vm}]},
    )
    task = sim.wait_task(r.json()["data"]["extId"])
    point = next(d["value"] for d in task["completionDetails"] if d["name"] == "recoveryPointExtId")
    offered = client.get(f"/api/catalog/dr_drill/choices/recovery_points?parent={vm}").json()
    assert [p["value"] for p in offered] == [point]
    return vm, point


def test_approval_before_the_run_four_eyes(app, sim):
    sam, alex, olivia = app.client("sam"), app.client("alex"), app.client("olivia")
    vm, point = a_vm_with_a_recovery_point(sim, olivia)
    execution = sam.run("dr_drill", vm=vm, recovery_points=[point], cluster="dr-ahv-01")
    assert execution["status"] == "pending_approval"
    (gate,) = [g for g in alex.get("/api/approvals").json() if g["execution_id"] == execution["id"]]
    assert gate["reviewer_group"] == "dr-approvers" and gate["requested_by"] == "sam"
    # sam is an approver, but asked for this run: never their own.
    r = sam.post(f"/api/approvals/{gate['id']}/decision", {"decision": "approve"})
    assert r.status_code == 403 and "four-eyes" in r.text
    # An operator is no approver at all.
    assert olivia.post(f"/api/approvals/{gate['id']}/decision", {"decision": "approve"}).status_code == 403
    r = alex.post(
        f"/api/approvals/{gate['id']}/decision", {"decision": "reject", "comment": "not during the freeze"}
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert sam.get(f"/api/runs/{execution['id']}").json()["status"] == "rejected"
    # Rejected never runs, and cannot be decided again.
    assert alex.post(f"/api/approvals/{gate['id']}/decision", {"decision": "approve"}).status_code == 409
    time.sleep(1)
    assert sam.get(f"/api/runs/{execution['id']}/events").json() == []
    record = sam.get(f"/api/runs/{execution['id']}/evidence").json()
    (approval,) = record["approvals"]
    assert approval["decisions"][0]["reviewer"] == "alex"
    assert approval["decisions"][0]["comment"] == "not during the freeze"
