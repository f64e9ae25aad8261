"""Runs dispatched to AWX (DAY2OPS_RUN_BACKEND=awx) against a stand-in of AWX's API on loopback: the
record is the one a local run makes (events from a real ansible-runner run, replayed by the stand-in),
secrets stay out of the store and the log, cancel and failures reach the record, and AWX's approval
nodes follow the app's own decisions."""

import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import ansible_runner
import pytest
import requests
import yaml
from app_process import start_app
from awx_standin import StandinProcess
from sim_process import free_port

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
AWX_TOKEN = "awx-oauth2-token-7f3c9e"
SECRET = "survey-secret-5d1b2a"
GATE = "Ask the change approvers"

CATALOG = {
    "items": [
        {
            "id": "noop",
            "title": "A quick run",
            "group": "Tests",
            "description": "Says its message; takes a secret.",
            "playbook": "noop.yml",
            "inputs": [
                {"name": "message", "label": "Message", "type": "string", "required": True},
                {"name": "token", "label": "Token", "type": "secret", "env": "DAY2OPS_TEST_TOKEN"},
            ],
        },
        {
            "id": "broken",
            "title": "A failing run",
            "group": "Tests",
            "description": "Its job fails.",
            "playbook": "noop.yml",
        },
        {
            "id": "missing",
            "title": "Not in AWX",
            "group": "Tests",
            "description": "AWX has no template for it.",
            "playbook": "noop.yml",
        },
        {
            "id": "slow",
            "title": "A slow run",
            "group": "Tests",
            "description": "Runs long enough to be canceled.",
            "playbook": "slow.yml",
        },
        {
            "id": "gated",
            "title": "A run behind an in-flow gate",
            "group": "Tests",
            "description": "Its AWX workflow asks for approval before the job.",
            "playbook": "noop.yml",
            "approval": {"group": "change-approvers"},
        },
        {
            "id": "reviewed",
            "title": "A run approved before it starts",
            "group": "Tests",
            "description": "The app's run gate, and the workflow's node for it.",
            "playbook": "noop.yml",
            "approval": {"required": 1, "group": "change-approvers"},
        },
    ]
}


def runner_events(workdir: Path, playbook: Path, extravars: dict) -> list[dict]:
    """What ansible-runner reports for a real run: the shapes AWX stores and the stand-in replays."""
    workdir.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        run = ansible_runner.run(
            private_data_dir=str(workdir),
            project_dir=str(playbook.parent),
            playbook=playbook.name,
            extravars=extravars,
            quiet=True,
        )
    assert run.status == ("failed" if "fail" in playbook.name else "successful"), run.stdout.read()
    return sorted((e for e in run.events if "counter" in e), key=lambda e: e["counter"])


def template(events: list[dict], status: str = "successful", seconds: float = 1.0, **fields) -> dict:
    return {"events": events, "status": status, "seconds": seconds, **fields}


def survey(*questions: tuple[str, str, bool]) -> dict:
    spec = [{"variable": v, "type": t, "required": r, "question_name": v} for v, t, r in questions]
    return {"survey_enabled": True, "survey_spec": {"name": "", "description": "", "spec": spec}}


def approval(name: str) -> dict:
    return {"approval": f"approve {name}", "description": f"{name}, before the job", "timeout": 600}


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("runner")
    failing = workdir / "project" / "fails.yml"
    failing.parent.mkdir()
    failing.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Fail",
                    "hosts": "localhost",
                    "connection": "local",
                    "gather_facts": False,
                    "tasks": [{"name": "Break", "ansible.builtin.fail": {"msg": "broken on purpose"}}],
                }
            ]
        )
    )
    return {
        # The secret in the output, as a careless playbook would print it: the app must mask it.
        "ok": runner_events(workdir / "ok", PLAYBOOKS / "noop.yml", {"message": f"hello {SECRET}"}),
        "failed": runner_events(workdir / "failed", failing, {}),
    }


@pytest.fixture(scope="module")
def standin(events, tmp_path_factory):
    ok = events["ok"]
    config = {
        "token": AWX_TOKEN,
        "job_templates": {
            "day2ops noop": template(
                ok,
                ask_variables_on_launch=True,
                **survey(("message", "text", True), ("token", "password", False)),
            ),
            "day2ops broken": template(events["failed"], status="failed"),
            "day2ops slow": template(ok, seconds=300),
            "day2ops gated": template(ok),
            "day2ops reviewed": template(ok),
        },
        "workflow_job_templates": {
            "day2ops gated (approval)": {"nodes": [approval(GATE), {"job_template": "day2ops gated"}]},
            "day2ops reviewed (approval)": {"nodes": [approval("run"), {"job_template": "day2ops reviewed"}]},
        },
    }
    process = StandinProcess.start(free_port(), config, tmp_path_factory.mktemp("awx"))
    yield process
    process.stop()


@pytest.fixture(scope="module")
def app(sim_process, standin, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("app")
    catalog = workdir / "catalog"
    catalog.mkdir()
    (catalog / "awx.yml").write_text(yaml.safe_dump(CATALOG))
    app = start_app(
        sim_process,
        workdir,
        f"sqlite:///{workdir / 'audit.db'}",
        catalog_dir=catalog,
        playbook_dir=PLAYBOOKS,
        run_backend="awx",
        awx_url=standin.url,
        awx_token=AWX_TOKEN,
        awx_poll_seconds=0.2,
    )
    yield app
    app.stop()


def calls(standin, method: str, path_part: str) -> list[dict]:
    return [r for r in standin.requests() if r["method"] == method and path_part in r["path"]]


def open_gate(client, execution_id: str) -> dict:
    deadline = time.monotonic() + 60
    while True:
        gates = client.get("/api/approvals", params={"mine": "false"}).json()
        mine = [g for g in gates if g["execution_id"] == execution_id]
        if mine:
            return mine[0]
        assert time.monotonic() < deadline, "the AWX approval opened no gate in the app"
        time.sleep(0.3)


def test_a_run_in_awx_is_recorded_as_a_local_run_is(app, standin, events):
    olivia = app.client("olivia")
    execution = olivia.run("noop", message="from the app", token=SECRET)
    done = olivia.wait(execution["id"], timeout=60)
    assert done["status"] == "successful", app.log()

    launches = calls(standin, "POST", "/launch/")
    (launch,) = [r for r in launches if r["body"]["extra_vars"].get("message") == "from the app"]
    sent = launch["body"]["extra_vars"]
    # The secret input is the survey's password answer; the template takes other variables too.
    assert sent["token"] == SECRET and sent["day2ops_execution_id"] == execution["id"]
    # The local runner's credentials are not sent: in AWX they are AWX credentials.
    assert not {"DAY2OPS_RUN_TOKEN", "NUTANIX_PASSWORD", "nutanix_password"} & set(sent)
    assert all(r["authorized"] for r in standin.requests() if r["path"].startswith("/api/v2/"))

    stored = olivia.get(f"/api/runs/{execution['id']}/events", params={"limit": 1000}).json()
    assert [e["event"] for e in stored] == [e["event"] for e in events["ok"]]
    assert [e["counter"] for e in stored] == list(range(1, len(stored) + 1))
    said = next(e for e in stored if e["event"] == "runner_on_ok")
    assert (said["host"], said["task"]) == ("localhost", "Say so")
    assert "hello ********" in said["stdout"]

    record = olivia.get(f"/api/runs/{execution['id']}/evidence").text
    reasons = [t["reason"] for t in json.loads(record)["transitions"]]
    job = next(r["path"] for r in calls(standin, "GET", "/api/v2/jobs/") if r["path"].count("/") == 5)
    assert f"running in AWX as {job}" in reasons and f"AWX {job} ended successful" in reasons
    store = Path(app.env["DAY2OPS_DB_URL"].removeprefix("sqlite:///"))
    with sqlite3.connect(store) as db:
        dumped = "\n".join(db.iterdump())
    for secret in (AWX_TOKEN, SECRET):
        assert secret not in record and secret not in dumped and secret not in app.log()
    assert stored and all(SECRET not in e["stdout"] for e in stored)


def test_awx_without_the_token_answers_401(standin):
    r = requests.get(f"{standin.url}/api/v2/job_templates/", timeout=10)
    assert r.status_code == 401


def test_throttling_is_waited_out_as_retry_after_asks(app, standin):
    standin.fault("GET", "/api/v2/jobs/", 429, count=2, retry_after=1)
    olivia = app.client("olivia")
    execution = olivia.run("broken")
    done = olivia.wait(execution["id"], timeout=60)
    throttled = [r for r in calls(standin, "GET", "/api/v2/jobs/") if r.get("status") == 429]
    assert len(throttled) == 2
    # A failed job ends the run failed, its failure in the record.
    assert done["status"] == "failed"
    stored = olivia.get(f"/api/runs/{execution['id']}/events").json()
    failed = next(e for e in stored if e["event"] == "runner_on_failed")
    assert failed["task"] == "Break"


def test_an_item_awx_does_not_have_fails_saying_so(app):
    olivia = app.client("olivia")
    execution = olivia.run("missing")
    assert olivia.wait(execution["id"], timeout=30)["status"] == "failed"
    (said,) = olivia.get(f"/api/runs/{execution['id']}/events").json()
    assert "AWX has no job template 'day2ops missing'" in said["stdout"]
    assert "import the catalog's AWX export" in said["stdout"]


def test_an_awx_that_would_template_survey_answers_runs_nothing(app, standin):
    """Issue 18: with ALLOW_JINJA_IN_EXTRA_VARS 'always', AWX templates launch-time extra vars, so a form
    value would run as Jinja in the job; the app refuses to launch there, and says what to set."""
    olivia = app.client("olivia")
    standin.job_settings(ALLOW_JINJA_IN_EXTRA_VARS="always")
    try:
        before = len(calls(standin, "POST", "/launch/"))
        execution = olivia.run("noop", message="{{ lookup('pipe', 'id') }}", token=SECRET)
        assert olivia.wait(execution["id"], timeout=30)["status"] == "failed"
        assert len(calls(standin, "POST", "/launch/")) == before
        (said,) = olivia.get(f"/api/runs/{execution['id']}/events").json()
        assert "ALLOW_JINJA_IN_EXTRA_VARS is 'always'" in said["stdout"] and "'template'" in said["stdout"]
    finally:
        standin.job_settings(ALLOW_JINJA_IN_EXTRA_VARS="template")
    # AWX's default writes the answers !unsafe: the same value goes to AWX as the data it is.
    execution = olivia.run("noop", message="{{ lookup('pipe', 'id') }}", token=SECRET)
    assert olivia.wait(execution["id"], timeout=60)["status"] == "successful", app.log()
    (launch,) = [
        r
        for r in calls(standin, "POST", "/launch/")
        if r["body"]["extra_vars"].get("message", "")[:2] == "{{"
    ]
    assert launch["body"]["extra_vars"]["message"] == "{{ lookup('pipe', 'id') }}"


def test_cancel_reaches_the_awx_job(app, standin):
    olivia = app.client("olivia")
    execution = olivia.run("slow")
    olivia.wait(execution["id"], statuses=("running",), timeout=30)
    assert olivia.post(f"/api/runs/{execution['id']}/cancel").status_code == 202
    done = olivia.wait(execution["id"], timeout=30)
    assert done["status"] == "canceled"
    (job,) = [r for r in calls(standin, "POST", "/cancel/")]
    assert job["path"].startswith("/api/v2/jobs/")


def test_an_awx_approval_follows_the_apps_decision(app, standin):
    sam, alex = app.client("sam"), app.client("alex")
    before = len(calls(standin, "POST", "/approve/"))
    execution = sam.run("gated")
    gate = open_gate(alex, execution["id"])
    assert (gate["name"], gate["reviewer_group"], gate["kind"]) == (GATE, "change-approvers", "playbook")
    # AWX waits; the app's rules decide: sam asked for the run and cannot approve it.
    r = sam.post(f"/api/approvals/{gate['id']}/decision", {"decision": "approve"})
    assert r.status_code == 403 and "four-eyes" in r.text
    assert len(calls(standin, "POST", "/approve/")) == before
    assert alex.post(f"/api/approvals/{gate['id']}/decision", {"decision": "approve", "comment": "CHG7"}).ok

    done = sam.wait(execution["id"], timeout=60)
    assert done["status"] == "successful", app.log()
    approved = calls(standin, "POST", "/approve/")[before:]
    assert [r["path"].split("/")[3] for r in approved] == ["workflow_approvals"]
    events = sam.get(f"/api/runs/{execution['id']}/events").json()
    assert any(e["event"] == "playbook_on_stats" for e in events)


def test_a_rejection_in_the_app_denies_the_awx_approval(app, standin):
    sam, alex = app.client("sam"), app.client("alex")
    execution = sam.run("gated")
    gate = open_gate(alex, execution["id"])
    assert alex.post(f"/api/approvals/{gate['id']}/decision", {"decision": "reject", "comment": "no"}).ok
    done = sam.wait(execution["id"], timeout=60)
    assert done["status"] == "failed"
    (denied,) = calls(standin, "POST", "/deny/")
    assert denied["path"].startswith("/api/v2/workflow_approvals/")
    assert sam.get(f"/api/runs/{execution['id']}/events").json() == []


def test_the_run_gate_decided_in_the_app_answers_the_workflows_node(app, standin):
    sam, alex = app.client("sam"), app.client("alex")
    before = len(calls(standin, "POST", "/approve/"))
    execution = sam.run("reviewed")
    assert execution["status"] == "pending_approval"
    gate = open_gate(alex, execution["id"])
    assert gate["kind"] == "run"
    assert alex.post(f"/api/approvals/{gate['id']}/decision", {"decision": "approve"}).ok

    done = sam.wait(execution["id"], timeout=60)
    assert done["status"] == "successful", app.log()
    assert len(calls(standin, "POST", "/approve/")) == before + 1
    gates = [
        g
        for g in alex.get("/api/approvals", params={"mine": "false", "status": "approved"}).json()
        if g["execution_id"] == execution["id"]
    ]
    assert len(gates) == 1  # no second gate: the app decided once, before the launch
