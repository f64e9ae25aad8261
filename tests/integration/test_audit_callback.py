"""The `day2ops.ahv.audit` callback: a real ansible-playbook against the simulator, recorded in the store."""

from pathlib import Path

import pytest
from day2ops_app.audit import chain
from day2ops_app.audit.redact import MASK
from day2ops_app.db.engine import Database
from day2ops_app.db.tables import Event, Evidence, Execution
from playbook import run_tasks
from sqlalchemy import select

VM = "hr-portal-tst-app-071"
SECRET = "secret-xyz"
WEBHOOK = f"https://hooks.example/{SECRET}"


@pytest.fixture(autouse=True)
def outside_the_app(monkeypatch):
    """A plain ansible-playbook run, whatever the environment the tests themselves run in."""
    for name in ("DAY2OPS_RUN_ID", "DAY2OPS_RUN_TOKEN", "DAY2OPS_APP_URL", "DAY2OPS_AUDIT_DB_URL"):
        monkeypatch.delenv(name, raising=False)


def audit_env(db_path: Path, **extra) -> dict:
    return {
        "ANSIBLE_CALLBACKS_ENABLED": "day2ops.ahv.audit",
        "DAY2OPS_AUDIT_DB_URL": f"sqlite:///{db_path}",
        "DAY2OPS_OPERATOR": "auditor",
        **extra,
    }


def stored(db_path: Path):
    """Executions, evidence and events as the store holds them, and whether the chain verifies."""
    db = Database(f"sqlite:///{db_path}")
    try:
        with db.session() as session:
            executions = list(session.scalars(select(Execution)))
            evidence = list(session.scalars(select(Evidence).order_by(Evidence.id)))
            events = list(session.scalars(select(Event).order_by(Event.counter)))
            verification = chain.verify(session)
            session.expunge_all()
    finally:
        db.dispose()
    return executions, evidence, events, verification


def database_bytes(db_path: Path) -> bytes:
    """The database and its WAL and shared-memory files, whatever is still in them."""
    return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))


def test_a_playbook_run_is_recorded_with_its_evidence(sim, tmp_path):
    db_path = tmp_path / "audit.db"
    tasks = [
        {"name": "power off", "day2ops.ahv.vm_power": {"name": VM, "state": "powered_off"}},
        {"name": "power on", "day2ops.ahv.vm_power": {"name": VM, "state": "powered_on"}},
        {
            "name": "recovery point",
            "day2ops.ahv.recovery_point": {"name": "audited", "vm_names": [VM], "retention": "1d"},
        },
        {"name": "tell {{ webhook_url }}", "ansible.builtin.debug": {"msg": "posting to {{ webhook_url }}"}},
    ]
    run = run_tasks(
        sim,
        tmp_path / "run",
        tasks,
        env=audit_env(db_path),
        args=("-e", f"webhook_url={WEBHOOK}", "-e", "category_key=Department"),
    )
    assert run.rc == 0, run.output
    off, on, point = run.results[0], run.results[1], run.results[2]
    assert off["task_ext_id"] and on["task_ext_id"] and point["task_ext_id"] and point["ext_id"]

    executions, evidence, events, verification = stored(db_path)
    assert len(executions) == 1
    execution = executions[0]
    assert execution.source == "ansible-playbook"
    assert execution.status == "successful" and execution.rc == 0
    assert execution.operator == "auditor"
    assert execution.playbook.endswith("play.yml")
    # Masked by name: the webhook, not a Category key.
    assert execution.inputs == {"webhook_url": MASK, "category_key": "Department"}
    assert verification.ok, verification.problems

    # One event per task result: the four tasks and run_tasks' own copy of the results.
    assert [e.event for e in events] == ["runner_on_ok"] * 5
    assert events[0].task == "power off" and events[0].stdout == "changed: [localhost]"

    by_task = {row.task: row for row in evidence}
    assert set(by_task) == {"power off", "power on", "recovery point"}
    vm_ext_id = off["ext_id"]
    for name, result in (("power off", off), ("power on", on)):
        row = by_task[name]
        assert row.action == "day2ops.ahv.vm_power" and row.status == "changed" and row.host == "localhost"
        assert row.task_ext_ids == [result["task_ext_id"]]
        assert row.vm_ext_ids == [vm_ext_id]
        assert row.started_at and row.ended_at and row.started_at <= row.ended_at
    row = by_task["recovery point"]
    assert row.action == "day2ops.ahv.recovery_point"
    assert row.task_ext_ids == [point["task_ext_id"]]
    assert point["ext_id"] in row.recovery_point_ext_ids
    assert vm_ext_id in row.vm_ext_ids

    assert SECRET.encode() not in database_bytes(db_path)
    assert f"day2ops.ahv.audit: recorded as execution {execution.id} (successful)" in run.output


def test_a_run_the_app_started_is_left_to_the_app(sim, tmp_path):
    db_path = tmp_path / "audit.db"
    run = run_tasks(
        sim,
        tmp_path / "run",
        [{"day2ops.ahv.vm_power": {"name": VM, "state": "powered_off"}}],
        env=audit_env(db_path, DAY2OPS_RUN_ID="5d2c7d0e-5a43-4bd5-9a8e-0d6d0d7f1c21"),
    )
    assert run.rc == 0, run.output
    assert not list(tmp_path.glob("audit.db*"))
    assert "day2ops.ahv.audit" not in run.output


def test_a_failed_task_fails_the_execution_and_is_evidence(sim, tmp_path):
    db_path = tmp_path / "audit.db"
    sim.control("POST", "tasks/fail-next", {"operation": "PowerOffVm", "message": "Host is in maintenance"})
    run = run_tasks(
        sim,
        tmp_path / "run",
        [{"name": "power off", "day2ops.ahv.vm_power": {"name": VM, "state": "powered_off"}}],
        env=audit_env(db_path),
    )
    assert run.rc != 0
    failed = run.results[0]
    assert failed["failed"] and failed["task_ext_id"]

    executions, evidence, events, verification = stored(db_path)
    assert [(e.status, e.rc) for e in executions] == [("failed", 2)]
    assert verification.ok, verification.problems
    assert events[0].event == "runner_on_failed"
    assert events[0].stdout.startswith("fatal: [localhost]: FAILED! => ")
    assert "Host is in maintenance" in events[0].stdout
    (row,) = evidence
    assert row.task == "power off" and row.status == "failed"
    assert row.task_ext_ids == [failed["task_ext_id"]]
    assert row.vm_ext_ids == [failed["ext_id"]]


def test_without_a_database_url_it_warns_and_the_run_goes_on(sim, tmp_path):
    env = audit_env(tmp_path / "audit.db")
    del env["DAY2OPS_AUDIT_DB_URL"]
    run = run_tasks(sim, tmp_path / "run", [{"ansible.builtin.debug": {"msg": "hello"}}], env=env)
    assert run.rc == 0, run.output
    assert "records nothing: set DAY2OPS_AUDIT_DB_URL" in run.output


def test_a_database_it_cannot_open_does_not_break_the_playbook(sim, tmp_path):
    password = "db-pass-4711"
    env = audit_env(
        tmp_path / "audit.db",
        DAY2OPS_AUDIT_DB_URL=f"postgresql://audit:{password}@127.0.0.1:1/nowhere?connect_timeout=2",
    )
    run = run_tasks(
        sim, tmp_path / "run", [{"day2ops.ahv.vm_power": {"name": VM, "state": "powered_off"}}], env=env
    )
    assert run.rc == 0, run.output
    assert "day2ops.ahv.audit: records nothing: the audit store could not record the run" in run.output
    assert password not in run.output
