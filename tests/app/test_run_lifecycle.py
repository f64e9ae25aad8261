"""Cancel a run, and kill the app under one: the record says what happened and keeps the events."""

import time

import pytest
from app_process import TEST_CATALOG, start_app


@pytest.fixture
def app(sim, tmp_path):
    app = start_app(sim, tmp_path, f"sqlite:///{tmp_path / 'audit.db'}", **TEST_CATALOG)
    yield app
    app.stop()


def started(client, execution_id):
    deadline = time.monotonic() + 60
    while True:
        events = client.get(f"/api/runs/{execution_id}/events").json()
        if any("slow run started" in e["stdout"] for e in events):
            return events
        assert time.monotonic() < deadline, events
        time.sleep(0.3)


def sleeping(seconds: int, wait: float = 20) -> bool:
    """Is the playbook's `sleep <seconds>` running (waiting up to `wait` for it to start)?"""
    import subprocess

    deadline = time.monotonic() + wait
    while True:
        found = (
            f"sleep {seconds}" in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        )
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_cancel_a_running_run(app):
    olivia = app.client("olivia")
    execution = olivia.run("slow", seconds=97)
    started(olivia, execution["id"])
    assert sleeping(97)
    # Only who started it (or an admin) may cancel.
    assert app.client("sam").post(f"/api/runs/{execution['id']}/cancel").status_code == 403
    r = olivia.post(f"/api/runs/{execution['id']}/cancel")
    assert r.status_code == 202
    done = olivia.wait(execution["id"], timeout=60)
    assert done["status"] == "canceled"
    assert not sleeping(97, wait=0)  # the playbook's process is gone, not left running
    assert olivia.post(f"/api/runs/{execution['id']}/cancel").status_code == 409


def test_app_killed_mid_run_marks_it_interrupted(app):
    olivia = app.client("olivia")
    execution = olivia.run("slow", seconds=98)
    started(olivia, execution["id"])
    assert sleeping(98)
    time.sleep(1)  # the events before the sleep are stored
    before = olivia.get(f"/api/runs/{execution['id']}/events").json()
    app.kill()
    assert sleeping(98, wait=0)  # the crash left the playbook running, unwatched
    app.start()
    assert not sleeping(98, wait=0)  # the restart killed it
    olivia = app.client("olivia")
    after = olivia.get(f"/api/runs/{execution['id']}").json()
    assert after["status"] == "interrupted"
    events = olivia.get(f"/api/runs/{execution['id']}/events").json()
    assert [e["uuid"] for e in events] == [e["uuid"] for e in before]  # kept, none lost
    record = olivia.get(f"/api/runs/{execution['id']}/evidence").json()
    assert record["transitions"][-1]["reason"] == "the app stopped while the run was in flight"
    assert app.client("ada").get("/api/audit/verify").json()["ok"]
