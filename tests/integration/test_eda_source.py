"""The EDA source day2ops.ahv.prism_alerts: real HTTP posts to its listener, Prism tasks polled from the
simulator as a real process, and ansible-rulebook running a rulebook that uses it."""

import asyncio
import hashlib
import hmac
import json
import os
import runpy
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import yaml
from collection_path import REPO, ansible_env
from sim_process import API_KEY, PASSWORD, USERNAME, free_port

SOURCE_DIR = REPO / "extensions" / "eda" / "plugins" / "event_source"
RULEBOOK = REPO / "extensions" / "eda" / "rulebooks" / "day2ops.yml"
RPS = "/api/dataprotection/v4.0/config/recovery-points"
TOKEN = "s3cret-token"


# Loaded the way ansible-rulebook loads an event source: runpy.run_path, not as an importable module.
prism_alerts = SimpleNamespace(**runpy.run_path(str(SOURCE_DIR / "prism_alerts.py")))


def alert(**overrides) -> dict:
    """A Prism v4 alert as an X-Play REST API action posts it (monitoring.v4.serviceability.Alert names)."""
    body = {
        "extId": "6f1c2a1e-0000-4000-8000-000000000001",
        "alertType": "day2ops-guest-health-after-patch",
        "title": "Guest application unhealthy after patch",
        "severity": "CRITICAL",
        "isResolved": False,
        "sourceEntity": {"extId": "7c03a1b2-0000-4000-8000-000000000002", "name": "hr-app-071", "type": "vm"},
        "parameters": [{"paramName": "recovery_point_ext_id", "paramValue": {"stringValue": "rp-1"}}],
    }
    body.update(overrides)
    return body


class RunningSource:
    """The source's main() on its own event loop in a thread, as ansible-rulebook runs it."""

    def __init__(self, **args) -> None:
        self.port = free_port()
        self.args = {"host": "127.0.0.1", "port": self.port, **args}
        self.loop = asyncio.new_event_loop()
        self.queue: asyncio.Queue | None = None
        self.error: BaseException | None = None
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.queue = asyncio.Queue()
            self.task = self.loop.create_task(prism_alerts.main(self.queue, self.args))
            ready.set()
            try:
                self.loop.run_until_complete(self.task)
            except asyncio.CancelledError:
                pass
            except BaseException as err:
                self.error = err

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.thread.is_alive():
            try:
                requests.get(self.url, timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        if self.thread.is_alive():  # else main() ended: the test asserts on self.error
            raise AssertionError(f"the source did not listen on {self.url}: {self.error!r}")

    def event(self, timeout: float = 10) -> dict:
        get = asyncio.wait_for(self.queue.get(), timeout)
        return asyncio.run_coroutine_threadsafe(get, self.loop).result(timeout + 1)

    def pending(self) -> int:
        return self.queue.qsize()

    def post(self, path: str, body, **kwargs) -> requests.Response:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return requests.post(f"{self.url}/{path}", data=data, headers=headers, timeout=10, **kwargs)

    def stop(self) -> None:
        if not self.task.done():
            self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(10)


@pytest.fixture
def source():
    started = []

    def start(**args) -> RunningSource:
        started.append(RunningSource(**args))
        return started[-1]

    yield start
    for s in started:
        s.stop()


def bearer(token: str = TOKEN) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_an_alert_becomes_one_event_with_its_endpoint_and_headers_but_never_the_token(source):
    src = source(token=TOKEN)
    body = alert()
    r = src.post("prism/alerts", body, headers={**bearer(), "X-Day2ops-Trace": "abc"})
    assert r.status_code == 202, r.text
    event = src.event()
    assert event["payload"] == body
    assert event["meta"]["kind"] == "alert"
    assert event["meta"]["endpoint"] == "prism/alerts"
    assert event["meta"]["headers"]["X-Day2ops-Trace"] == "abc"
    assert TOKEN not in json.dumps(event)
    assert src.pending() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps(alert(alertType="")).encode(), "'alertType'"),
        (json.dumps(alert(severity="HIGH")).encode(), "'severity'"),
        (json.dumps(alert(sourceEntity={"name": "vm"})).encode(), "'sourceEntity.extId'"),
    ],
)
def test_a_bad_body_is_400_naming_the_problem_and_puts_no_event(source, body, field):
    src = source(token=TOKEN)
    r = src.post("alerts", body, headers=bearer())
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]
    # A good post afterwards is the next event: the bad one left nothing behind.
    assert src.post("alerts", alert(title="after"), headers=bearer()).status_code == 202
    assert src.event()["payload"]["title"] == "after"
    assert src.pending() == 0


@pytest.mark.parametrize("headers", [{}, bearer("wrong"), {"Authorization": TOKEN}])
def test_a_missing_or_wrong_token_is_401_and_puts_no_event(source, headers):
    src = source(token=TOKEN)
    assert src.post("alerts", alert(), headers=headers).status_code == 401
    assert src.post("alerts", alert(title="authorized"), headers=bearer()).status_code == 202
    assert src.event()["payload"]["title"] == "authorized"
    assert src.pending() == 0


def test_an_hmac_signature_is_checked_over_the_raw_body_and_kept_out_of_the_event(source):
    src = source(hmac_secret="hmac-key")
    raw = json.dumps(alert()).encode()
    good = "sha256=" + hmac.new(b"hmac-key", raw, hashlib.sha256).hexdigest()
    assert src.post("alerts", raw, headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}).status_code == 401
    assert src.post("alerts", raw + b" ", headers={"X-Hub-Signature-256": good}).status_code == 401
    assert src.post("alerts", raw, headers={"X-Hub-Signature-256": good}).status_code == 202
    event = src.event()
    assert "X-Hub-Signature-256" not in event["meta"]["headers"]
    assert src.pending() == 0


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"port": "http"}, "'port'"),
        ({"prism_host": "pc.example.com"}, "'prism_host' needs credentials"),
        ({"poll_interval": 0}, "'poll_interval'"),
        ({"task_statuses": ["RUNNING"]}, "'task_statuses'"),
        ({"hmac_secret": "k", "hmac_algo": "md17"}, "'hmac_algo'"),
    ],
)
def test_bad_arguments_fail_naming_the_argument(args, named):
    with pytest.raises(ValueError, match=named):
        asyncio.run(prism_alerts.main(asyncio.Queue(), args))


# -- task polling against the simulator ---------------------------------------------------------------


def poll_args(sim, **overrides) -> dict:
    return {
        "prism_host": sim.host,
        "prism_port": sim.port,
        "prism_username": USERNAME,
        "prism_password": PASSWORD,
        "prism_ca_path": str(sim.cert_path),
        "poll_interval": 0.2,
        **overrides,
    }


def create_rp(sim, vm_ext_id: str) -> dict:
    r = sim.api("POST", RPS, json={"vmRecoveryPoints": [{"vmExtId": vm_ext_id}]})
    assert r.status_code == 202, r.text
    task = sim.wait_task(r.json()["data"]["extId"])
    assert task["status"] == "SUCCEEDED", task
    rp_ext_id = {d["name"]: d["value"] for d in task["completionDetails"]}["recoveryPointExtId"]
    r = sim.api("GET", f"{RPS}/{rp_ext_id}")
    return {**r.json()["data"], "etag": r.headers["ETag"], "task": task}


def dr_cluster(sim) -> str:
    data = sim.api("GET", "/api/clustermgmt/v4.0/config/clusters").json()["data"]
    return next(c["extId"] for c in data if c["name"] == "dr-ahv-01")


def replicate(sim, rp: dict) -> dict:
    r = sim.api(
        "POST",
        f"{RPS}/{rp['extId']}/$actions/replicate",
        json={"clusterExtId": dr_cluster(sim)},
        headers={"If-Match": rp["etag"]},
    )
    assert r.status_code == 202, r.text
    return sim.wait_task(r.json()["data"]["extId"])


def test_tasks_that_end_after_the_source_starts_become_one_event_each(sim, source):
    vm = sim.vm("hr-portal-tst-app-141")
    earlier = create_rp(sim, vm["extId"])  # history: ended before the source started
    src = source(**poll_args(sim))
    time.sleep(0.5)  # the source's first listing sets its starting point
    rp = create_rp(sim, vm["extId"])
    sim.control(
        "POST", "tasks/fail-next", {"operation": "EntitySnapshotReplicate", "message": "DR link down"}
    )
    failed = replicate(sim, rp)
    assert failed["status"] == "FAILED", failed

    events = [src.event(), src.event()]
    assert [e["payload"]["extId"] for e in events] == [rp["task"]["extId"], failed["extId"]]
    assert [e["payload"]["status"] for e in events] == ["SUCCEEDED", "FAILED"]
    assert events[1]["payload"]["operation"] == "EntitySnapshotReplicate"
    assert events[1]["payload"]["entitiesAffected"][0]["extId"] == rp["extId"]
    assert [e["meta"]["kind"] for e in events] == ["task", "task"]
    assert events[0]["meta"]["endpoint"].endswith("/api/prism/v4.0/config/tasks")
    time.sleep(1)  # several more polls: nothing is reported twice, nothing from before the start
    assert src.pending() == 0
    assert earlier["task"]["extId"] not in json.dumps(events)


def test_task_polling_keeps_to_the_statuses_and_operations_asked_for(sim, source):
    vm = sim.vm("hr-portal-tst-app-141")
    src = source(**poll_args(sim, prism_password=None, prism_api_key=API_KEY, task_statuses=["FAILED"]))
    time.sleep(0.5)
    rp = create_rp(sim, vm["extId"])  # SUCCEEDED: not asked for
    sim.control("POST", "tasks/fail-next", {"operation": "EntitySnapshotReplicate"})
    failed = replicate(sim, rp)
    assert src.event()["payload"]["extId"] == failed["extId"]
    time.sleep(0.6)
    assert src.pending() == 0


def test_refused_prism_credentials_end_the_source_with_an_error_that_holds_no_password(sim, source):
    src = source(**poll_args(sim, prism_password="not-the-password"))
    src.thread.join(10)
    assert isinstance(src.error, PermissionError), src.error
    assert "prism_username and prism_password" in str(src.error)
    assert "not-the-password" not in str(src.error)


# -- the sample rulebook and ansible-rulebook itself ----------------------------------------------------


def test_the_sample_rulebook_is_valid_for_ansible_rulebook():
    jsonschema = pytest.importorskip("jsonschema")
    condition_parser = pytest.importorskip("ansible_rulebook.condition_parser")
    schema_path = Path(condition_parser.__file__).parent / "schema" / "ruleset_schema.json"
    rulesets = yaml.safe_load(RULEBOOK.read_text())
    jsonschema.validate(rulesets, json.loads(schema_path.read_text()))
    rules = rulesets[0]["rules"]
    for rule in rules:
        condition_parser.parse_condition(rule["condition"])  # raises on a condition it cannot read
    # The source and the playbooks the rules name are where ansible-rulebook looks in the collection.
    assert "day2ops.ahv.prism_alerts" in rulesets[0]["sources"][0]
    assert (REPO / "extensions/eda/plugins/event_source/prism_alerts.py").is_file()
    playbooks = {rule["action"]["run_playbook"]["name"] for rule in rules}
    assert playbooks == {"day2ops.ahv.recovery_point_revert", "day2ops.ahv.dr_replicate"}
    for name in playbooks:
        assert (REPO / "playbooks" / (name.rsplit(".", 1)[1] + ".yml")).is_file()


def start_rulebook(tmp_path: Path, rulebook: Path, env: dict | None = None) -> subprocess.Popen:
    """ansible-rulebook as a real process, the collection from the working tree; output in rulebook.log."""
    if not (REPO / ".venv" / "bin" / "ansible-rulebook").exists():
        pytest.skip("ansible-rulebook is not installed in the venv")
    inventory = tmp_path / "inventory.yml"
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": local}}}))
    bin_dir = REPO / ".venv" / "bin"
    names = ",".join(sorted(env or {}))
    env = ansible_env(tmp_path, {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **(env or {})})
    command = [
        str(bin_dir / "ansible-rulebook"),
        "--rulebook",
        str(rulebook),
        "-i",
        str(inventory),
        "-v",
        "--print-events",
    ]
    return subprocess.Popen(
        command + (["--env-vars", names] if names else []),
        cwd=tmp_path,
        env=env,
        stdout=(tmp_path / "rulebook.log").open("w"),
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def test_ansible_rulebook_runs_a_playbook_for_a_posted_alert(tmp_path):
    port = free_port()
    out = tmp_path / "ran.json"
    playbook = tmp_path / "record.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Record the alert",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "ansible.builtin.copy": {
                                "content": "{{ {'vm': vm_name, 'meta': ansible_eda.event.meta} | to_json }}",
                                "dest": str(out),
                                "mode": "0600",
                            }
                        }
                    ],
                }
            ]
        )
    )
    rulebook = tmp_path / "rulebook.yml"
    rulebook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Test",
                    "hosts": "all",
                    "sources": [
                        {"day2ops.ahv.prism_alerts": {"host": "127.0.0.1", "port": port, "token": TOKEN}}
                    ],
                    "rules": [
                        {
                            "name": "Critical VM alert",
                            "condition": (
                                'event.meta.kind == "alert" and event.payload.severity == "CRITICAL"'
                            ),
                            "action": {
                                "run_playbook": {
                                    "name": str(playbook),
                                    "extra_vars": {"vm_name": "{{ event.payload.sourceEntity.name }}"},
                                }
                            },
                        }
                    ],
                }
            ]
        )
    )
    process = start_rulebook(tmp_path, rulebook)
    try:
        url = f"http://127.0.0.1:{port}/alerts"
        deadline = time.monotonic() + 120
        posted = None
        while time.monotonic() < deadline and not out.exists():
            assert process.poll() is None, (tmp_path / "rulebook.log").read_text()
            if posted is None:
                try:
                    posted = requests.post(url, json=alert(severity="WARNING"), headers=bearer(), timeout=5)
                    assert posted.status_code == 202  # not CRITICAL: no playbook
                    posted = requests.post(url, json=alert(), headers=bearer(), timeout=5)
                    assert posted.status_code == 202, posted.text
                except requests.ConnectionError:
                    posted = None
            time.sleep(0.2)
        assert out.exists(), (tmp_path / "rulebook.log").read_text()
        ran = json.loads(out.read_text())
        assert ran["vm"] == "hr-app-071"
        assert ran["meta"]["endpoint"] == "alerts"
        assert TOKEN not in (tmp_path / "rulebook.log").read_text()
        time.sleep(1)
        assert (tmp_path / "rulebook.log").read_text().count("Record the alert") == 1
    finally:
        stop(process)


def test_the_sample_rulebook_verifies_dr_and_reverts_a_vm(sim, tmp_path):
    """The shipped rulebook as it is: Prism tasks polled from the simulator, dr_replicate run for real,
    and a posted alert reverting its VM through recovery_point_revert.yml."""
    state = tmp_path / "state"
    alerts_port = free_port()
    process = start_rulebook(
        tmp_path,
        RULEBOOK,
        {
            "PRISM_ALERTS_HOST": "127.0.0.1",
            "PRISM_ALERTS_PORT": str(alerts_port),
            "PRISM_ALERTS_TOKEN": TOKEN,
            "PRISM_TASKS_POLL_INTERVAL": "0.5",
            "NUTANIX_HOST": sim.host,
            "NUTANIX_PORT": str(sim.port),
            "NUTANIX_USERNAME": USERNAME,
            "NUTANIX_PASSWORD": PASSWORD,
            "NUTANIX_CA_PATH": str(sim.cert_path),
            "DAY2OPS_STATE_DIR": str(state),
        },
    )
    log = tmp_path / "rulebook.log"
    try:
        deadline = time.monotonic() + 120  # the JVM's start is slow on a busy machine
        while "Waiting for events" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        time.sleep(2)  # the source's first listing sets its starting point
        rp = create_rp(sim, sim.vm("hr-portal-tst-app-141")["extId"])
        sim.control("POST", "tasks/fail-next", {"operation": "EntitySnapshotReplicate", "message": "DR down"})
        assert replicate(sim, rp)["status"] == "FAILED"
        deadline = time.monotonic() + 120
        while not list(state.glob("dr/dr-*.json")):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        time.sleep(1)  # let the playbook finish writing
        report = json.loads(next(state.glob("dr/dr-*.json")).read_text())
        assert report["mode"] == "verify_only", report
        assert rp["extId"] in json.dumps(report)

        vm = sim.vm("hr-portal-tst-app-141")
        body = alert(
            sourceEntity={"extId": vm["extId"], "name": vm["name"], "type": "vm"},
            parameters=[{"paramName": "recovery_point_ext_id", "paramValue": {"stringValue": rp["extId"]}}],
        )
        posted = requests.post(
            f"http://127.0.0.1:{alerts_port}/alerts", json=body, headers=bearer(), timeout=5
        )
        assert posted.status_code == 202, posted.text
        deadline = time.monotonic() + 120
        while True:
            tasks = sim.api("GET", "/api/prism/v4.0/config/tasks", params={"$limit": 100}).json()["data"]
            reverts = [t for t in tasks if t["operation"] == "RevertVm"]
            if reverts and reverts[0]["status"] == "SUCCEEDED":
                break
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        assert {e["extId"] for e in reverts[0]["entitiesAffected"]} >= {vm["extId"], rp["extId"]}
        assert PASSWORD not in log.read_text()
    finally:
        stop(process)
