"""The audit store on SQLite and on a real PostgreSQL: migrations, the record, the hash chain."""

import csv
import io
import threading

import pytest
from day2ops_app.audit import chain, store
from day2ops_app.audit.redact import Redactor
from day2ops_app.db.tables import Evidence, Execution
from sqlalchemy import text


def runner_event(
    counter, event="runner_on_ok", res=None, host="vm-1", task="take a recovery point", uuid=None
):
    return {
        "uuid": uuid or f"00000000-0000-0000-0000-{counter:012d}",
        "counter": counter,
        "event": event,
        "stdout": f"ok: [{host}] token=hunter2-secret",
        "created": "2026-11-25T10:00:00.000000",
        "event_data": {
            "host": host,
            "task": task,
            "task_action": "day2ops.ahv.recovery_point",
            "resolved_action": "day2ops.ahv.recovery_point",
            "start": "2026-11-25T10:00:00.000000",
            "end": "2026-11-25T10:00:04.000000",
            "res": res
            if res is not None
            else {"changed": True, "ext_id": "rp-1", "task_ext_id": "ZXJn:task-1"},
        },
    }


def new_execution(db, operator="olivia"):
    with db.session() as session:
        return store.create_execution(
            session,
            source="app",
            playbook="playbooks/safe_patch.yml",
            item_id="safe_patch",
            operator=operator,
            inputs={"retention": "3d", "webhook": "********"},
            status="running",
        )


def test_record_and_verify(db):
    execution = new_execution(db)
    redactor = Redactor(["hunter2-secret"])
    with db.session() as session:
        assert (
            store.record_events(session, execution.id, [runner_event(1), runner_event(2, res={})], redactor)
            == 2
        )
        # Runner replays events after a restart: the record keeps one of each.
        assert store.record_events(session, execution.id, [runner_event(1)], redactor) == 0
        store.transition(session, session.get(Execution, execution.id), "successful", "day2ops", rc=0)
    with db.session() as session:
        events = store.events_after(session, execution.id, 0)
        assert [e.counter for e in events] == [1, 2]
        assert "hunter2" not in events[0].stdout and "********" in events[0].stdout
        evidence = session.query(Evidence).one()
        assert evidence.task_ext_ids == ["ZXJn:task-1"]
        assert evidence.recovery_point_ext_ids == ["rp-1"]
        assert evidence.status == "changed"
        report = chain.verify(session)
    # execution + 2 transitions + 2 events + 1 evidence
    assert report.ok, report.problems
    assert report.entries == 6


def test_a_failed_result_is_evidence_even_without_the_failed_key(db):
    """ansible-core 2.19 drops `failed` from failed results: the event says it, and that is enough."""
    execution = new_execution(db)
    failed = runner_event(1, event="runner_on_failed", res={"msg": "VM is locked", "ext_id": "rp-9"})
    ignored = runner_event(2, res={"msg": "nothing done", "ext_id": "rp-8"})
    with db.session() as session:
        store.record_events(session, execution.id, [failed, ignored], Redactor())
    with db.session() as session:
        evidence = session.query(Evidence).one()
        assert (evidence.status, evidence.recovery_point_ext_ids) == ("failed", ["rp-9"])


def test_invalid_transition(db):
    execution = new_execution(db)
    with db.session() as session:
        row = session.get(Execution, execution.id)
        store.transition(session, row, "failed", "day2ops", rc=2)
        with pytest.raises(store.InvalidTransition, match="is failed; it cannot become running"):
            store.transition(session, row, "running", "day2ops")


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("UPDATE evidence SET task_ext_ids = '[]'", "evidence row 1 (chain entry 4) was modified"),
        ("DELETE FROM evidence", "evidence row 1 (chain entry 4) was deleted"),
        ("UPDATE executions SET operator = 'mallory'", "was modified"),
        ("UPDATE executions SET status = 'successful'", "says 'successful' but its last recorded transition"),
        ("DELETE FROM audit_chain WHERE seq = 2", "chain entries 2..2 are missing"),
        ("UPDATE audit_chain SET row_hash = 'x' WHERE seq = 3", "chain entry 3 was altered"),
        ("DELETE FROM audit_chain WHERE seq = 4", "head does not match"),
        (
            "INSERT INTO execution_transitions (execution_id, from_status, to_status, actor, reason, at) "
            "SELECT id, 'running', 'successful', 'mallory', '', created_at FROM executions",
            "is not in the chain",
        ),
    ],
)
def test_tampering_shows(db, tamper, expected):
    execution = new_execution(db)
    with db.session() as session:
        store.record_events(session, execution.id, [runner_event(1)], Redactor())
    with db.session() as session:
        assert chain.verify(session).ok
    with db.engine.begin() as connection:
        connection.execute(text(tamper))
    with db.session() as session:
        report = chain.verify(session)
    assert not report.ok
    assert any(expected in p for p in report.problems), report.problems


def test_concurrent_writers_keep_one_chain(db):
    """Eight threads writing at once (one app's runner threads, or several instances): one linear chain."""
    executions = [new_execution(db, f"user{i}") for i in range(8)]
    errors = []

    def write(execution):
        try:
            for n in range(1, 11):
                with db.session() as session:
                    store.record_events(
                        session, execution.id, [runner_event(n, uuid=f"{execution.id}-{n}")], Redactor()
                    )
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(e,)) for e in executions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with db.session() as session:
        report = chain.verify(session)
    assert report.ok, report.problems
    assert report.entries == 8 * 2 + 8 * 10 * 2


def test_csv_evidence_keeps_one_cell_per_column():
    """Ids space-separated; a migration's ids as key=value, several VMs' ids comma-separated."""
    from day2ops_app.audit.export import EVIDENCE_FIELDS, export_csv

    row = dict.fromkeys(EVIDENCE_FIELDS, "")
    row.update(
        task_ext_ids=["t-1", "t-2"],
        vm_ext_ids=[],
        recovery_point_ext_ids=[],
        ext_ids=[],
        migration={"plan_uuid": "p-1", "source_vm_id": ["vm-1", "vm-2"]},
    )
    record = {
        "id": "e-1",
        "item_id": "wave",
        "playbook": "",
        "operator": "olivia",
        "approvals": [],
        "evidence": [row],
    }
    (exported,) = csv.DictReader(io.StringIO(export_csv(record)))
    assert exported["task_ext_ids"] == "t-1 t-2"
    assert exported["migration"] == "plan_uuid=p-1 source_vm_id=vm-1,vm-2"
