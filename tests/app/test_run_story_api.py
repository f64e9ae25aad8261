"""A run's story over HTTP, with a real playbook that fails after a recovery point: the change request an
approver reads (labels, names), the failure summary (what failed, the module's reason, what was left),
the run's reports (its own only, no way out of its directory), relaunch, and the comment in the CSV."""

import csv
import io

import pytest
from app_process import TEST_CATALOG, start_app
from gated_runs import a_running_vm, open_gate

FAILED_STEP = "Revert to a recovery point Prism does not have"


@pytest.fixture(scope="module")
def story(sim_process, tmp_path_factory):
    """One failed `breaks` run, approved by alex with a comment: (app, execution id, VM ext_id, VM name)."""
    sim_process.reset()
    workdir = tmp_path_factory.mktemp("story")
    app = start_app(sim_process, workdir, f"sqlite:///{workdir / 'audit.db'}", **TEST_CATALOG)
    olivia, alex = app.client("olivia"), app.client("alex")
    vm = a_running_vm(sim_process, olivia)
    name = sim_process.api("GET", f"/api/vmm/v4.0/ahv/config/vms/{vm}").json()["data"]["name"]
    execution = olivia.run("breaks", vm=vm, note="CHG-7", token="s3cret-token")
    (gate,) = [g for g in alex.get("/api/approvals").json() if g["execution_id"] == execution["id"]]
    request = alex.get(f"/api/runs/{execution['id']}/request").json()
    r = alex.post(f"/api/approvals/{gate['id']}/decision", {"decision": "approve", "comment": "CHG0042 ok"})
    assert r.ok, r.text
    assert olivia.wait(execution["id"])["status"] == "failed"
    yield {"app": app, "id": execution["id"], "vm": vm, "name": name, "request": request}
    app.stop()


def test_the_inbox_reads_like_a_change_request(story):
    request = story["request"]
    assert request["title"] == "Break after a recovery point" and request["operator"] == "olivia"
    assert request["destructive"] is True and "recovery point" in request["description"]
    shown = {i["label"]: i["value"] for i in request["inputs"]}
    # The VM by the name its dropdown showed, not its ext_id; the secret never shown.
    assert shown["VM"] == story["name"] and story["vm"] not in str(request["inputs"])
    assert shown["Change note"] == "CHG-7" and "s3cret-token" not in str(request)
    assert "vm" not in shown and "note" not in shown


def test_the_summary_says_what_failed_why_and_what_was_left(story):
    olivia = story["app"].client("olivia")
    summary = olivia.get(f"/api/runs/{story['id']}/summary").json()
    assert summary["status"] == "failed"
    (failed,) = summary["controller"]
    assert failed["task"] == FAILED_STEP and failed["status"] == "failed"
    # The module's own msg, not the output line: it names the operation and the recovery point.
    assert "revert" in failed["reason"].lower() and not failed["reason"].startswith("fatal")
    (kept,) = [x for x in summary["left_behind"] if x["kind"] == "recovery_point"]
    assert kept["vm"] == story["name"] and kept["vm_ext_id"] == story["vm"]
    assert kept["expiration_time"] and kept["name"] == f"breaks-{story['id']}"
    (row,) = olivia.get(f"/api/runs/{story['id']}/hosts").json()["rows"]
    assert (row["name"], row["ext_id"]) == (story["name"], story["vm"])


def test_reports_are_the_runs_own_and_stay_in_its_directory(story):
    app, run = story["app"], story["id"]
    olivia = app.client("olivia")
    assert [r["name"] for r in olivia.get(f"/api/runs/{run}/reports").json()] == [f"breaks-{run}.json"]
    got = olivia.get(f"/api/runs/{run}/reports/breaks-{run}.json")
    assert got.status_code == 200 and got.json() == {"vm": story["vm"], "note": "CHG-7"}
    assert "attachment" in got.headers["content-disposition"]
    for escape in ("..%2F..%2Faudit.key", "%2E%2E%2Fvm_results.jsonl", "%2E%2E", "%2Fetc%2Fpasswd"):
        r = olivia.get(f"/api/runs/{run}/reports/{escape}")
        assert r.status_code == 404, (escape, r.status_code)
    assert olivia.get(f"/api/runs/{run}/reports/../../audit.key").status_code == 404
    # Someone else's run: refused, as cancel is; an admin may.
    assert app.client("sam").get(f"/api/runs/{run}/reports/breaks-{run}.json").status_code == 403
    assert app.client("ada").get(f"/api/runs/{run}/reports/breaks-{run}.json").status_code == 200


def test_relaunch_takes_the_same_inputs_and_new_secrets_and_asks_again(story):
    app, run = story["app"], story["id"]
    assert app.client("sam").post(f"/api/runs/{run}/relaunch", {"secrets": {}}).status_code == 403
    olivia = app.client("olivia")
    r = olivia.post(f"/api/runs/{run}/relaunch", {"secrets": {"token": "another"}})
    assert r.status_code == 202, r.text
    again = r.json()
    assert again["id"] != run and again["item_id"] == "breaks" and again["status"] == "pending_approval"
    assert again["inputs"]["vm"] == story["vm"] and again["inputs"]["note"] == "CHG-7"
    assert again["inputs"]["token"] != "another"
    assert olivia.post(f"/api/runs/{again['id']}/cancel").status_code == 202


def test_the_csv_evidence_keeps_the_approval_comment(story):
    r = story["app"].client("olivia").get(f"/api/runs/{story['id']}/evidence", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows and all("approve by alex" in row["approvals"] for row in rows)
    assert all("CHG0042 ok" in row["approvals"] for row in rows)


def test_a_run_held_at_its_playbooks_gate_is_waiting_for_approval(story, sim_process):
    app = story["app"]
    olivia, alex = app.client("olivia"), app.client("alex")
    execution = olivia.run("gated", vm=a_running_vm(sim_process, olivia))
    gate = open_gate(alex, execution["id"])
    assert olivia.get(f"/api/runs/{execution['id']}").json()["status"] == "running"
    assert olivia.get(f"/api/runs/{execution['id']}/hosts").json()["status"] == "waiting_for_approval"
    request = alex.get(f"/api/runs/{execution['id']}/request").json()
    # The gate's details by name: the VM's name, never its ext_id alone.
    (detail,) = request["gates"][gate["id"]]
    assert detail["label"] == "vm" and detail["value"] != gate["details"]["vm"]
    assert alex.post(f"/api/approvals/{gate['id']}/decision", {"decision": "reject", "comment": "no"}).ok
    assert olivia.wait(execution["id"])["status"] == "failed"
    assert olivia.get(f"/api/runs/{execution['id']}/hosts").json()["status"] == "failed"
