"""Finding 3: the audit chain could be rewritten. With write access to the database, a forged decision
was chained again with the app's own functions and `audit verify` said "intact"; a pending gate set to
`approved` by hand passed the playbook's gate; rc and times were outside the chain; the store was 0644.
"""

import hashlib
import json
import os
import sqlite3
import stat
import time
from datetime import timedelta

import pytest
from app_process import TEST_CATALOG, start_app
from day2ops_app.audit import chain, store
from day2ops_app.catalog.model import Catalog
from day2ops_app.db.tables import CHAINED, ChainEntry, ChainHead, Decision, Execution, Gate, User
from day2ops_app.services.approvals import ApprovalService, gate_out
from day2ops_app.services.runs import RunService
from day2ops_app.settings import Settings
from gated_runs import a_running_vm, open_gate, power
from sqlalchemy import select, text


def unkeyed(entry) -> str:
    """The chain's entry hash as the app computed it before it was keyed: anyone can recompute it."""
    return hashlib.sha256(
        f"{entry.prev_hash}|{entry.table_name}|{entry.row_id}|{entry.row_hash}".encode()
    ).hexdigest()


def rechain(db, entry_hash) -> None:
    """What an attacker with write access does after a forgery: every row hashed again with the app's own
    row hash, rows the forgery added chained at the end, every entry and the head linked with `entry_hash`."""
    with db.session() as session, session.no_autoflush:
        entries = list(session.scalars(select(ChainEntry).order_by(ChainEntry.seq)))
        chained = {(e.table_name, e.row_id) for e in entries}
        for name, cls in CHAINED.items():
            for row in session.scalars(select(cls).order_by(cls.id)):
                if (name, str(row.id)) not in chained:
                    entry = ChainEntry(seq=len(entries) + 1, table_name=name, row_id=str(row.id))
                    if hasattr(ChainEntry, "key_id"):
                        entry.key_id = entries[-1].key_id
                    session.add(entry)
                    entries.append(entry)
        prev = "0" * 64
        for entry in entries:
            cls = CHAINED[entry.table_name]
            row = session.get(cls, cls.id.type.python_type(entry.row_id))
            entry.row_hash = chain.row_hash(row)
            entry.prev_hash = prev
            entry.entry_hash = prev = entry_hash(entry)
        head = session.get(ChainHead, 1)
        head.seq, head.entry_hash = len(entries), prev


def running_execution(db) -> str:
    with db.session() as session:
        return store.create_execution(
            session, source="app", playbook="gated.yml", item_id="gated", operator="olivia", status="running"
        ).id


def playbook_gate(db, execution_id: str) -> str:
    with db.session() as session:
        gate, _ = ApprovalService(72).open_playbook_gate(
            session,
            session.get(Execution, execution_id),
            {"name": "power-off", "reviewers": ["alex"], "required": 1},
        )
        return gate.id


def problems(db) -> list[str]:
    with db.session() as session:
        return chain.verify(session).problems


ALEX = User(username="alex", roles=["approver"], groups=["change-approvers"])


# -- the store, on SQLite and PostgreSQL ---------------------------------------------------------


def test_a_forged_decision_chained_again_without_the_key_is_detected_and_not_honoured(db):
    gate_id = playbook_gate(db, running_execution(db))
    with db.session() as session:
        session.add(Decision(gate_id=gate_id, reviewer="alex", decision="approve", comment="forged"))
        session.get(Gate, gate_id).status = "approved"
    rechain(db, unkeyed)

    found = problems(db)
    assert any("HMAC does not match" in p for p in found), found
    with db.session() as session:
        shown = gate_out(session, session.get(Gate, gate_id))
    assert shown.status == "pending" and shown.decisions == []


def test_a_pending_gate_set_to_approved_in_the_database_is_detected_and_never_honoured(db):
    gate_id = playbook_gate(db, running_execution(db))
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE gates SET status = 'approved'"))

    assert f"gate {gate_id} says 'approved' but its recorded decisions make it 'pending'" in problems(db)
    with db.session() as session:
        gate = session.get(Gate, gate_id)
        # What the playbook's approval module reads: still waiting for a reviewer.
        assert gate_out(session, gate).status == "pending"
        # And a reviewer can still decide it: the column is no decision.
        assert ApprovalService(72).decide(session, ALEX, gate, "approve", "CHG1").status == "approved"
    assert problems(db) == []


@pytest.mark.parametrize(
    ("tamper", "column"),
    [
        ("UPDATE executions SET rc = 0", "rc"),
        ("UPDATE executions SET finished_at = started_at", "finished_at"),
        ("UPDATE executions SET started_at = NULL", "started_at"),
    ],
)
def test_an_exit_code_or_time_changed_in_the_database_is_detected(db, tamper, column):
    execution_id = running_execution(db)
    with db.session() as session:
        store.transition(session, session.get(Execution, execution_id), "failed", "day2ops", rc=2)
    assert problems(db) == []
    with db.engine.begin() as connection:
        connection.execute(text(tamper))
    found = problems(db)
    assert any(f"execution {execution_id} says {column}" in p for p in found), found


def test_a_run_waiting_for_approval_set_to_queued_in_the_database_never_starts(db, tmp_path):
    catalog_dir = tmp_path / "catalog"
    catalog_dir.mkdir()
    item = {
        "id": "approved_noop",
        "title": "A quick run behind an approval",
        "group": "Tests",
        "description": "noop.yml, once alex approves.",
        "playbook": "noop.yml",
        "approval": {"required": 1, "users": ["alex"]},
        "inputs": [{"name": "message", "label": "Message", "type": "string", "required": True, "max": 50}],
    }
    (catalog_dir / "items.yml").write_text(json.dumps({"items": [item]}))
    settings = Settings(
        db_url=db.url,
        data_dir=tmp_path / "data",
        catalog_dir=catalog_dir,
        playbook_dir=TEST_CATALOG["playbook_dir"],
    )
    catalog = Catalog.load(settings.catalog_dir, settings.playbook_dir)
    runs = RunService(settings, db, catalog, None, ApprovalService(72))
    olivia = User(username="olivia", roles=["operator"], groups=[])
    execution = runs.submit(olivia, catalog.get("approved_noop"), {"message": "hello"})
    assert execution.status == "pending_approval"
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE executions SET status = 'queued'"))
        connection.execute(text("UPDATE gates SET status = 'approved'"))

    runs.launch(execution.id)  # as an approval, or a freed slot in the run queue, would
    try:
        assert execution.id not in runs.handles
        with db.session() as session:
            assert store.proven_status(session, session.get(Execution, execution.id)) == "pending_approval"
    finally:
        runs.wait_all(60)


def test_a_gate_row_changed_in_the_database_is_never_approved(db):
    """Asking for no approval at all, and for longer, is no longer the chained gate: it stays pending."""
    gate_id = playbook_gate(db, running_execution(db))
    with db.session() as session:
        gate = session.get(Gate, gate_id)
        gate.expires_at = gate.expires_at + timedelta(days=365)
        gate.required = 0
    with db.session() as session:
        assert gate_out(session, session.get(Gate, gate_id)).status == "pending"
    assert any(f"gates row {gate_id}" in p and "was modified" in p for p in problems(db))


# -- the app, end to end -------------------------------------------------------------------------


@pytest.fixture
def app(sim, tmp_path):
    previous = os.umask(0o022)  # the usual umask: whatever the app creates 0600 is so on purpose
    try:
        app = start_app(sim, tmp_path, f"sqlite:///{tmp_path / 'audit.db'}", **TEST_CATALOG)
    finally:
        os.umask(previous)
    yield app
    app.stop()


def sql(tmp_path, statement: str, *args):
    """Straight into the app's database, as someone with write access to it."""
    with sqlite3.connect(tmp_path / "audit.db") as connection:
        return connection.execute(statement, args).fetchall()


def quick_run(client) -> str:
    execution = client.run("noop", message="hello")
    assert client.wait(execution["id"])["status"] == "successful"
    time.sleep(0.5)  # the checkpoint follows the run's last commit
    return execution["id"]


def test_a_gate_approved_in_the_database_does_not_let_the_playbook_through(app, sim, tmp_path):
    olivia = app.client("olivia")
    vm = a_running_vm(sim, olivia)
    execution = olivia.run("gated", vm=vm, gate_timeout=15)
    gate = open_gate(olivia, execution["id"])
    sql(tmp_path, "UPDATE gates SET status = 'approved' WHERE id = ?", gate["id"])

    time.sleep(4)  # the approval module polls every second
    assert power(sim, vm) == "ON"
    assert olivia.get(f"/api/approvals/{gate['id']}").json()["status"] == "pending"
    verify = app.cli("audit", "verify")
    assert verify.returncode == 1 and f"gate {gate['id']} says 'approved'" in verify.stdout, verify.stdout
    assert olivia.wait(execution["id"])["status"] == "failed"
    assert power(sim, vm) == "ON"


def test_a_chain_cut_short_with_its_head_rewritten_fails_against_the_checkpoints(app, tmp_path):
    olivia = app.client("olivia")
    quick_run(olivia)
    ((kept,),) = sql(tmp_path, "SELECT seq FROM audit_chain_head")
    cut = quick_run(olivia)
    for table in ("events", "evidence", "execution_transitions"):
        sql(tmp_path, f"DELETE FROM {table} WHERE execution_id = ?", cut)
    sql(tmp_path, "DELETE FROM executions WHERE id = ?", cut)
    sql(tmp_path, "DELETE FROM audit_chain WHERE seq > ?", kept)
    sql(
        tmp_path,
        "UPDATE audit_chain_head SET seq = ?, "
        "entry_hash = (SELECT entry_hash FROM audit_chain WHERE seq = ?)",
        kept,
        kept,
    )

    assert app.cli("audit", "verify").returncode == 0  # the chain alone cannot tell
    verify = app.cli("audit", "verify", "--checkpoint")
    assert verify.returncode == 1, verify.stdout + verify.stderr
    assert "is gone: entries were removed from the end" in verify.stdout
    assert f"the chain ends at entry {kept}" in verify.stdout


def test_a_chain_rewritten_with_the_key_fails_against_the_checkpoints(app, tmp_path):
    from day2ops_app.audit.keys import KeySource
    from day2ops_app.db.engine import Database

    quick_run(app.client("olivia"))
    stolen = KeySource(tmp_path / "data" / "audit.key").keyring()
    sql(tmp_path, "UPDATE executions SET operator = 'mallory'")
    db = Database(f"sqlite:///{tmp_path / 'audit.db'}")
    try:
        rechain(db, lambda entry: chain.entry_mac(stolen, entry))
    finally:
        db.dispose()

    assert app.cli("audit", "verify").returncode == 0  # whoever holds the key can recompute the chain
    verify = app.cli("audit", "verify", "--checkpoint", str(tmp_path / "data" / "audit.checkpoint.log"))
    assert verify.returncode == 1 and "differs from its checkpoint" in verify.stdout, verify.stdout


def test_after_a_key_rotation_old_and_new_entries_verify(app, tmp_path):
    olivia = app.client("olivia")
    quick_run(olivia)
    rotated = app.cli("audit", "rotate-key")
    assert rotated.returncode == 0, rotated.stderr
    quick_run(olivia)

    by_age = "SELECT key_id FROM audit_chain GROUP BY key_id ORDER BY min(seq)"
    key_ids = [k for (k,) in sql(tmp_path, by_age)]
    assert len(key_ids) == 2 and None not in key_ids
    verify = app.cli("audit", "verify", "--checkpoint")
    assert verify.returncode == 0 and "intact" in verify.stdout, verify.stdout

    # The first key lost: its entries cannot be checked, and verify says which key to restore.
    key_file = tmp_path / "data" / "audit.key"
    keys = json.loads(key_file.read_text())
    del keys["keys"][key_ids[0]]
    key_file.write_text(json.dumps(keys))
    verify = app.cli("audit", "verify")
    assert verify.returncode == 1
    assert f"made with audit key '{key_ids[0]}', which is not in {key_file}" in verify.stdout


def test_the_store_key_and_checkpoints_are_private(app, tmp_path):
    quick_run(app.client("olivia"))
    data = tmp_path / "data"

    def mode(path):
        return stat.S_IMODE(path.stat().st_mode)

    assert {p.name: mode(p) for p in (data, data / "runs")} == {"data": 0o700, "runs": 0o700}
    files = [
        data / "audit.key",
        data / "audit.checkpoint",
        data / "audit.checkpoint.log",
        *tmp_path.glob("audit.db*"),
    ]
    assert len(files) == 6  # the database, its -wal and -shm
    assert {p.name: oct(mode(p)) for p in files} == {p.name: "0o600" for p in files}


def test_pages_check_the_chain_incrementally_and_the_whole_walk_is_for_admins(app, tmp_path):
    olivia, ada = app.client("olivia"), app.client("ada")
    execution_id = quick_run(olivia)
    status = olivia.get("/api/audit/status")
    assert status.status_code == 200 and status.json()["ok"], status.text
    assert olivia.get("/api/audit/verify").status_code == 403
    assert ada.get("/api/audit/verify").json()["ok"]

    # An entry added behind the app's back at the head, without the key: the next page view shows it.
    ((seq, head),) = sql(tmp_path, "SELECT seq, entry_hash FROM audit_chain_head")
    sql(
        tmp_path,
        "INSERT INTO execution_transitions (execution_id, from_status, to_status, actor, reason, at) "
        "VALUES (?, 'successful', 'failed', 'mallory', '', CURRENT_TIMESTAMP)",
        execution_id,
    )
    ((row_id,),) = sql(tmp_path, "SELECT max(id) FROM execution_transitions")
    forged = hashlib.sha256(b"forged").hexdigest()
    ((key_id,),) = sql(tmp_path, "SELECT key_id FROM audit_chain WHERE seq = ?", seq)
    sql(
        tmp_path,
        "INSERT INTO audit_chain (seq, table_name, row_id, row_hash, prev_hash, entry_hash, key_id) "
        "VALUES (?, 'execution_transitions', ?, ?, ?, ?, ?)",
        seq + 1,
        str(row_id),
        forged,
        head,
        forged,
        key_id,
    )
    sql(tmp_path, "UPDATE audit_chain_head SET seq = ?, entry_hash = ?", seq + 1, forged)
    report = olivia.get("/api/audit/status").json()
    assert not report["ok"] and any(f"chain entry {seq + 1} was altered" in p for p in report["problems"])
