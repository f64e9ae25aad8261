"""The approval module and its app client against a real local HTTP server that plays the app's gate API."""

import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args
from ansible_collections.day2ops.ahv.plugins.module_utils import _http
from ansible_collections.day2ops.ahv.plugins.module_utils._app import AppClient, decisions
from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError
from ansible_collections.day2ops.ahv.plugins.modules import approval

RUN_ID = "0b6f3c52-1d7e-4a55-8f0e-6a2d9c1e7b34"
TOKEN = "d2r_" + "k" * 43
GATE_PATH = re.compile(r"^/api/runs/([^/]+)/gates(?:/([^/]+))?$")


def decision(reviewer, verdict, comment=""):
    return {
        "reviewer": reviewer,
        "decision": verdict,
        "comment": comment,
        "decided_at": "2026-11-25T06:51:47Z",
    }


# How each gate (by name) moves, one step per read: the status and decisions after N reads of it.
SCRIPTS = {
    "approve": [
        ("pending", []),
        ("pending", [decision("alice", "approve", "checked")]),
        ("approved", [decision("alice", "approve", "checked"), decision("carol", "approve")]),
    ],
    "reject": [("pending", []), ("rejected", [decision("bob", "reject", "not during month-end close")])],
    "never": [("pending", [])],
    "expire": [("timed_out", [decision("day2ops", "timeout", "no decision in time: fails closed")])],
    "cancel": [("canceled", [])],
}


class GateApp:
    """The app's side of the gate API, in memory: POST opens (or returns) a gate, GET reads it."""

    def __init__(self):
        self.gates = {}
        self.reads = {}
        self.requests = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def gate_view(self, gate):
        script = SCRIPTS[gate["name"].split()[0]]
        status, made = script[min(self.reads[gate["id"]], len(script) - 1)]
        return dict(gate, status=status, decisions=made)

    def handler(self):
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def route(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                app.requests.append((self.command, self.path, self.headers.get("Authorization"), body))
                if self.headers.get("Authorization") != "Bearer " + TOKEN:
                    return self.answer(401, {"detail": "this run token is not valid"})
                found = GATE_PATH.match(self.path)
                if not found or found.group(1) != RUN_ID:
                    return self.answer(404, {"detail": "no such run"})
                gate_id = found.group(2)
                if self.command == "POST" and gate_id is None:
                    if body["required"] > 5:
                        return self.answer(
                            422, {"detail": [{"loc": ["body", "required"], "msg": "must be at most 5"}]}
                        )
                    for gate in app.gates.values():
                        if gate["name"] == body["name"]:
                            return self.answer(200, app.gate_view(gate))
                    gate = {
                        "id": str(uuid.uuid4()),
                        "execution_id": RUN_ID,
                        "kind": "playbook",
                        "name": body["name"],
                        "message": body["message"],
                        "details": body["details"],
                        "reviewers": sorted(set(body["reviewers"])),
                        "reviewer_group": body["reviewer_group"],
                        "required": body["required"],
                        "requested_by": "operator",
                        "created_at": "2026-11-25T06:50:00Z",
                        "expires_at": "2026-11-25T07:50:00Z",
                        "timeout_seconds": body["timeout_seconds"],
                    }
                    app.gates[gate["id"]] = gate
                    app.reads[gate["id"]] = 0
                    return self.answer(201, app.gate_view(gate))
                if self.command == "GET" and gate_id in app.gates:
                    app.reads[gate_id] += 1
                    return self.answer(200, app.gate_view(app.gates[gate_id]))
                return self.answer(404, {"detail": "no such gate"})

            do_GET = route
            do_POST = route

        return Handler

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app():
    server = GateApp()
    yield server
    server.stop()


@pytest.fixture
def in_app(app, monkeypatch):
    """The environment the day2ops app gives a run it starts."""
    monkeypatch.setenv("DAY2OPS_APP_URL", app.url)
    monkeypatch.setenv("DAY2OPS_RUN_ID", RUN_ID)
    monkeypatch.setenv("DAY2OPS_RUN_TOKEN", TOKEN)
    return app


@pytest.fixture
def outside(monkeypatch):
    for name in ("DAY2OPS_APP_URL", "DAY2OPS_RUN_ID", "DAY2OPS_RUN_TOKEN", "DAY2OPS_APP_CA_PATH"):
        monkeypatch.delenv(name, raising=False)


def run_module(capsys, **args):
    """Run the module's main() as Ansible would; returns (failed, result) from its JSON answer."""
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        approval.main()
    result = json.loads(capsys.readouterr().out)
    assert bool(exit_info.value.code) == bool(result.get("failed"))
    return bool(result.get("failed")), result


# -- the client -----------------------------------------------------------------------------


def test_client_opens_reads_and_reopens_a_gate(app):
    client = AppClient.from_options(dict(app_url=app.url, run_id=RUN_ID, run_token=TOKEN))
    gate, created = client.open_gate("approve vms", reviewers=["alice", "carol", "alice"], required=2)
    assert created and gate["status"] == "pending" and gate["reviewers"] == ["alice", "carol"]
    assert app.requests[0][3]["timeout_seconds"] == 3600
    first = client.gate(gate["id"])
    assert first["status"] == "pending"
    assert decisions(first) == [
        {
            "reviewer": "alice",
            "decision": "approve",
            "comment": "checked",
            "decided_at": "2026-11-25T06:51:47Z",
        }
    ]
    again, created = client.open_gate("approve vms", reviewers=["alice"])
    assert not created and again["id"] == gate["id"] and len(app.gates) == 1


def test_client_errors_are_one_line_api_errors(app):
    client = AppClient.from_options(dict(app_url=app.url, run_id="other-run", run_token=TOKEN))
    with pytest.raises(ApiError) as err:
        client.open_gate("approve", reviewers=["alice"])
    assert str(err.value).startswith("Failed to open approval gate 'approve': 404: no such run")
    client = AppClient.from_options(dict(app_url=app.url, run_id=RUN_ID, run_token=TOKEN))
    with pytest.raises(ApiError) as err:
        client.open_gate("approve", reviewers=["alice"], required=6)
    assert "422: required: must be at most 5" in str(err.value)
    wrong = AppClient.from_options(dict(app_url=app.url, run_id=RUN_ID, run_token="d2r_wrong"))
    with pytest.raises(ApiError) as err:
        wrong.gate("x")
    assert err.value.status == 401 and "run token" in str(err.value)


# -- the module -----------------------------------------------------------------------------


def test_approved_after_polls(in_app, capsys):
    failed, result = run_module(
        capsys,
        name="approve delete",
        summary="Delete 2 VMs",
        details={"vms": ["a", "b"]},
        reviewers=["alice", "carol"],
        required=2,
        poll_interval=1,
    )
    assert not failed, result
    assert result["approved"] is True and result["changed"] is False and result["skipped"] is False
    assert result["status"] == "approved" and result["gate_id"] in in_app.gates
    assert [d["reviewer"] for d in result["decisions"]] == ["alice", "carol"]
    assert result["reviewers"] == ["alice", "carol"] and result["required"] == 2
    assert result["reopened"] is False and result["waited_seconds"] >= 1
    posted = in_app.requests[0][3]
    assert posted == {
        "name": "approve delete",
        "message": "Delete 2 VMs",
        "details": {"vms": ["a", "b"]},
        "reviewers": ["alice", "carol"],
        "reviewer_group": None,
        "required": 2,
        "timeout_seconds": 3600,
    }
    assert [r[0] for r in in_app.requests] == ["POST", "GET", "GET"]


def test_bearer_token_is_sent_and_never_returned(in_app, capsys):
    failed, result = run_module(capsys, name="approve it", reviewer_group="platform", poll_interval=1)
    assert not failed, result
    assert {r[2] for r in in_app.requests} == {"Bearer " + TOKEN}
    assert TOKEN not in json.dumps(result)


def test_rejected_fails_with_the_reviewer_and_comment(in_app, capsys):
    failed, result = run_module(capsys, name="reject cutover", reviewers=["bob"], poll_interval=1)
    assert failed
    assert "rejected by bob: not during month-end close" in result["msg"]
    assert result["approved"] is False and result["status"] == "rejected" and result["changed"] is False
    assert result["decisions"][0]["comment"] == "not during month-end close"
    assert result["gate_id"] in in_app.gates


def test_no_decision_in_time_fails_closed(in_app, capsys):
    failed, result = run_module(capsys, name="never decided", reviewers=["bob"], timeout=1, poll_interval=1)
    assert failed
    assert result["msg"] == "gate 'never decided': no decision within 1 s: the gate fails closed"
    assert result["approved"] is False and result["status"] == "pending"
    assert in_app.requests[0][3]["timeout_seconds"] == 1


def test_a_gate_the_app_timed_out_fails_closed(in_app, capsys):
    failed, result = run_module(capsys, name="expire soon", reviewers=["bob"], timeout=60)
    assert failed
    assert "no decision within 60 s: the gate fails closed" in result["msg"]
    assert result["status"] == "timed_out" and result["decisions"][0]["decision"] == "timeout"


def test_a_canceled_gate_fails(in_app, capsys):
    failed, result = run_module(capsys, name="cancel me", reviewers=["bob"])
    assert failed and result["status"] == "canceled" and "canceled" in result["msg"]


def test_a_retried_task_gets_the_same_gate(in_app, capsys):
    _, first = run_module(capsys, name="approve twice", reviewers=["alice", "carol"], poll_interval=1)
    _, second = run_module(capsys, name="approve twice", reviewers=["alice", "carol"], poll_interval=1)
    assert first["gate_id"] == second["gate_id"] and len(in_app.gates) == 1
    assert second["reopened"] is True and second["approved"] is True


def test_outside_the_app_fails_closed_by_default(outside, app, capsys):
    failed, result = run_module(capsys, name="delete", reviewers=["alice"])
    assert failed and result["approved"] is False
    assert "only works in a run started by the day2ops app" in result["msg"]
    assert "outside_app: approve" in result["msg"] and "DAY2OPS_RUN_TOKEN" in result["msg"]
    assert app.requests == []


def test_outside_the_app_approve_skips_with_a_warning(outside, app, capsys, monkeypatch):
    # Recorded at the call: where a warning ends up (the result, or the controller's display once
    # controller code is imported in this process) depends on the ansible-core version and import order.
    warned = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda module, text: warned.append(text))
    failed, result = run_module(capsys, name="delete", reviewers=["alice"], outside_app="approve")
    assert not failed
    assert result["approved"] is True and result["skipped"] is True and result["status"] == "not_asked"
    assert any("not started by the day2ops app" in text for text in warned)
    assert app.requests == []


def test_a_half_configured_app_run_fails_whatever_outside_app_says(outside, app, capsys, monkeypatch):
    monkeypatch.setenv("DAY2OPS_RUN_ID", RUN_ID)
    failed, result = run_module(capsys, name="delete", reviewers=["alice"], outside_app="approve")
    assert failed and "DAY2OPS_APP_URL or DAY2OPS_RUN_TOKEN" in result["msg"]


def test_reviewers_are_required(in_app, capsys):
    failed, result = run_module(capsys, name="delete")
    assert failed and "reviewers" in result["msg"] and "reviewer_group" in result["msg"]
    failed, result = run_module(capsys, name="delete", reviewers=[])
    assert failed and "reviewers" in result["msg"] and "reviewer_group" in result["msg"]
    failed, result = run_module(capsys, name="delete", reviewers=["alice"], required=2)
    assert failed and "could never be approved" in result["msg"]
    assert in_app.requests == []


def test_check_mode_opens_no_gate(in_app, capsys):
    failed, result = run_module(
        capsys, name="delete", reviewers=["alice"], reviewer_group="platform", _ansible_check_mode=True
    )
    assert not failed
    assert result["approved"] is False and result["skipped"] is True and result["status"] == "not_asked"
    assert "would ask alice or group platform" in result["msg"]
    assert in_app.requests == []


def test_app_errors_fail_with_the_api_error(in_app, capsys, monkeypatch):
    monkeypatch.setenv("DAY2OPS_RUN_ID", "not-this-run")
    failed, result = run_module(capsys, name="delete", reviewers=["alice"])
    assert failed and result["http_status"] == 404
    assert result["msg"].startswith("Failed to open approval gate 'delete': 404: no such run")


def test_an_app_that_is_down_fails_with_the_reason(in_app, capsys, monkeypatch):
    monkeypatch.setattr(_http, "backoff_seconds", lambda attempt: 0.01)
    in_app.stop()
    failed, result = run_module(capsys, name="delete", reviewers=["alice"], app_url=in_app.url)
    assert failed and "cannot reach" in result["msg"] and "DAY2OPS_APP_URL" in result["msg"]
