"""Finding 3, the upgrade: a store written before the chain was keyed (plain SHA-256 entries without a key
id, transitions without an exit code, gates canceled without a decision) reported BROKEN everywhere after
upgrading. `day2ops audit seal` checks it once by the old rules, signs it with the audit key, and refuses a
legacy store that was tampered with.
"""

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from day2ops_app.audit import chain, store
from day2ops_app.audit.checkpoint import Checkpoints
from day2ops_app.audit.context import AuditContext
from day2ops_app.audit.keys import KeySource
from day2ops_app.db.engine import Database, make_engine
from day2ops_app.db.migrate import alembic_config, upgrade
from day2ops_app.db.tables import AuditSeal, ChainEntry, ChainHead, Decision, ExecutionTransition, Gate
from day2ops_app.services.approvals import gate_status
from sqlalchemy import MetaData, func, select, text

BIN = Path(sys.executable).parent
LEGACY_REVISION = "0001"  # the schema of every store written before the chain was keyed (55929db)
# The columns the chain covered then, per table.
OLD_CHAINED = {
    "executions": ("id", "source", "item_id", "playbook", "operator", "inputs", "schedule_id", "created_at"),
    "execution_transitions": ("id", "execution_id", "from_status", "to_status", "actor", "reason", "at"),
    "gates": (
        "id",
        "execution_id",
        "kind",
        "name",
        "message",
        "details",
        "reviewers",
        "reviewer_group",
        "required",
        "requested_by",
        "created_at",
        "expires_at",
    ),
    "decisions": ("id", "gate_id", "reviewer", "decision", "comment", "decided_at"),
    "events": ("id", "execution_id", "uuid", "counter", "event", "host", "task", "stdout", "created"),
}


def _sha256(text_: str) -> str:
    return hashlib.sha256(text_.encode()).hexdigest()


def _plain(value):
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    return value


class LegacyWriter:
    """Rows and their chain entries as the app wrote them before the chain was keyed (git show
    55929db:extensions/day2ops_app/audit/chain.py): entry_hash = sha256(prev|table|row id|row hash)."""

    def __init__(self, connection):
        self.connection = connection
        self.meta = MetaData()
        self.meta.reflect(connection)
        self.seq, self.prev = 0, "0" * 64

    def add(self, table: str, **values):
        t = self.meta.tables[table]
        row_id = self.connection.execute(t.insert().values(**values)).inserted_primary_key[0]
        row = self.connection.execute(select(t).where(t.c.id == row_id)).mappings().one()
        canonical = json.dumps(
            {name: _plain(row[name]) for name in OLD_CHAINED[table]},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=str,
        )
        digest = _sha256(canonical)
        self.seq += 1
        entry_hash = _sha256(f"{self.prev}|{table}|{row_id}|{digest}")
        self.connection.execute(
            self.meta.tables["audit_chain"]
            .insert()
            .values(
                seq=self.seq,
                table_name=table,
                row_id=str(row_id),
                row_hash=digest,
                prev_hash=self.prev,
                entry_hash=entry_hash,
            )
        )
        self.prev = entry_hash
        self.connection.execute(
            self.meta.tables["audit_chain_head"].update().values(seq=self.seq, entry_hash=entry_hash)
        )
        return row_id

    def set(self, table: str, row_id, **values) -> None:
        """The columns the old code kept outside the chain (status, times, rc)."""
        t = self.meta.tables[table]
        self.connection.execute(t.update().where(t.c.id == row_id).values(**values))


def write_legacy_store(connection) -> dict:
    """What the old app left: a run approved and successful (its times read a moment before its
    transitions', its rc only on the execution), a run canceled before it ran (its gate closed without a
    decision), and a failed playbook run with an event."""
    legacy = LegacyWriter(connection)
    now = datetime.now(UTC) - timedelta(days=1)
    skew = timedelta(microseconds=250)
    execution = {"source": "app", "operator": "olivia", "inputs": {"vm": "web-01"}, "cancel_requested": False}
    gate = {"kind": "run", "name": "run", "message": "", "details": {}, "reviewers": ["alex"], "required": 1}

    def transition(execution_id, from_status, to_status, at, actor="day2ops"):
        legacy.add(
            "execution_transitions",
            execution_id=execution_id,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            reason="",
            at=at,
        )

    legacy.add(
        "executions",
        id="run-ok",
        item_id="snap",
        playbook="snap.yml",
        created_at=now,
        status="pending_approval",
        **execution,
    )
    transition("run-ok", None, "pending_approval", now)
    legacy.add(
        "gates",
        id="gate-ok",
        execution_id="run-ok",
        requested_by="olivia",
        created_at=now,
        expires_at=now + timedelta(hours=72),
        status="pending",
        **gate,
    )
    legacy.add(
        "decisions",
        gate_id="gate-ok",
        reviewer="alex",
        decision="approve",
        comment="CHG1",
        decided_at=now + timedelta(minutes=1),
    )
    legacy.set("gates", "gate-ok", status="approved")
    transition("run-ok", "pending_approval", "queued", now + timedelta(minutes=1), actor="alex")
    started, finished = now + timedelta(minutes=2), now + timedelta(minutes=3)
    transition("run-ok", "queued", "running", started)
    transition("run-ok", "running", "successful", finished)
    legacy.set(
        "executions",
        "run-ok",
        status="successful",
        started_at=started - skew,
        finished_at=finished - skew,
        rc=0,
    )

    legacy.add(
        "executions",
        id="run-canceled",
        item_id="snap",
        playbook="snap.yml",
        created_at=now,
        status="pending_approval",
        **execution,
    )
    transition("run-canceled", None, "pending_approval", now)
    legacy.add(
        "gates",
        id="gate-canceled",
        execution_id="run-canceled",
        requested_by="olivia",
        created_at=now,
        expires_at=now + timedelta(hours=72),
        status="pending",
        **gate,
    )
    transition("run-canceled", "pending_approval", "canceled", now + timedelta(minutes=5), actor="olivia")
    legacy.set("executions", "run-canceled", status="canceled", finished_at=now + timedelta(minutes=5) - skew)
    legacy.set("gates", "gate-canceled", status="canceled")

    legacy.add(
        "executions",
        id="playbook-failed",
        item_id=None,
        playbook="patch.yml",
        created_at=now,
        status="running",
        **{**execution, "source": "ansible-playbook"},
    )
    transition("playbook-failed", None, "running", now)
    legacy.add(
        "events",
        execution_id="playbook-failed",
        uuid="ev-1",
        counter=1,
        event="runner_on_failed",
        host="web-01",
        task="patch",
        stdout="failed",
        created=now.isoformat(),
    )
    transition("playbook-failed", "running", "failed", now + timedelta(minutes=4))
    legacy.set(
        "executions",
        "playbook-failed",
        status="failed",
        started_at=now - skew,
        finished_at=now + timedelta(minutes=4) - skew,
        rc=2,
    )
    return {"entries": legacy.seq, "head": legacy.prev}


@pytest.fixture
def legacy_store(db_url, tmp_path):
    """A store as the old app left it, then upgraded (as `day2ops serve` or `db upgrade` does), and the
    audit key the upgraded app made at its first start."""
    command.downgrade(alembic_config(db_url), LEGACY_REVISION)
    engine = make_engine(db_url)
    with engine.begin() as connection:
        written = write_legacy_store(connection)
    engine.dispose()
    upgrade(db_url)
    data = tmp_path / "data"
    data.mkdir()
    KeySource(data / "audit.key").keyring()
    return {"url": db_url, "data": data, **written}


def cli(store: dict, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DAY2OPS_DB_URL": store["url"], "DAY2OPS_DATA_DIR": str(store["data"])}
    return subprocess.run([str(BIN / "day2ops"), *args], env=env, capture_output=True, text=True, timeout=120)


def database(store: dict) -> Database:
    keys = KeySource(store["data"] / "audit.key", create=False)
    return Database(store["url"], audit=AuditContext(keys))


def chain_state(store: dict) -> list[tuple]:
    db = database(store)
    with db.read() as session:
        entries = [
            (e.seq, e.entry_hash, e.key_id)
            for e in session.scalars(select(ChainEntry).order_by(ChainEntry.seq))
        ]
        head = session.get(ChainHead, 1)
        seals = session.scalar(select(func.count()).select_from(AuditSeal))
    db.dispose()
    return [*entries, (head.seq, head.entry_hash), seals]


def test_a_legacy_store_is_reported_once_as_legacy_not_row_by_row(legacy_store):
    verify = cli(legacy_store, "audit", "verify")
    assert verify.returncode == 1
    assert "TAMPERED" not in verify.stdout, verify.stdout
    assert verify.stdout.splitlines() == [
        f"legacy entries: run `day2ops audit seal` ({legacy_store['entries']} chain entries were written "
        "before the chain was keyed)",
        f"audit chain: {legacy_store['entries']} entries, not sealed",
    ]
    db = database(legacy_store)
    with db.read() as session:
        # What GET /api/audit/status shows: the same single line.
        assert chain.IncrementalVerifier().check(session).problems == verify.stdout.splitlines()[:1]
        # Unsealed, the legacy approval decides nothing.
        assert gate_status(session, session.get(Gate, "gate-ok")) == "pending"
    db.dispose()


def test_seal_checks_the_legacy_chain_signs_it_and_records_itself(legacy_store):
    sealed = cli(legacy_store, "audit", "seal")
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    entries = legacy_store["entries"]
    assert sealed.stdout.startswith(f"sealed {entries} legacy entries (the last, entry {entries}, was "), (
        sealed.stdout
    )
    filled = {"transition_rc": 2, "execution_times": 3, "gates_closed": 1}
    assert f"filled in: {json.dumps(filled)};" in sealed.stdout, sealed.stdout

    verify = cli(legacy_store, "audit", "verify", "--checkpoint")
    assert verify.returncode == 0, verify.stdout
    assert verify.stdout.strip().endswith("intact")

    db = database(legacy_store)
    with db.read() as session:
        seal = session.scalars(select(AuditSeal)).one()
        assert (seal.legacy_entries, seal.legacy_head_seq) == (entries, entries)
        assert seal.legacy_head_hash == legacy_store["head"]
        assert seal.sealed_by.split("@")[0]
        assert sorted(seal.filled["gates_closed"].items()) == [("gate-canceled", "canceled")]
        assert sorted(seal.filled["execution_times"]) == ["playbook-failed", "run-canceled", "run-ok"]
        rcs = {t.execution_id: t.rc for t in session.scalars(select(ExecutionTransition)) if t.rc is not None}
        assert rcs == {"run-ok": 0, "playbook-failed": 2}
        closing = session.scalars(select(Decision).where(Decision.gate_id == "gate-canceled")).one()
        assert (closing.reviewer, closing.decision) == ("day2ops", "cancel")
        # Sealed, the legacy approval counts and the canceled gate stays closed.
        assert gate_status(session, session.get(Gate, "gate-ok")) == "approved"
        assert gate_status(session, session.get(Gate, "gate-canceled")) == "canceled"
    db.dispose()

    before = chain_state(legacy_store)
    again = cli(legacy_store, "audit", "seal")
    assert again.returncode == 0
    assert again.stdout.strip() == "audit chain: no legacy entries, nothing to seal"
    assert chain_state(legacy_store) == before


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (
            "UPDATE decisions SET comment = 'CHG2'",
            "decisions row 1 (chain entry 4) was modified",
        ),
        (
            "UPDATE audit_chain SET entry_hash = '{}' WHERE seq = 3".format("f" * 64),
            "legacy chain entry 3 was altered: its unkeyed hash does not match",
        ),
        (
            "UPDATE gates SET status = 'approved' WHERE id = 'gate-canceled'",
            "gate gate-canceled says 'approved' but its recorded decisions make it 'pending'",
        ),
        (
            "UPDATE executions SET rc = 0, finished_at = started_at WHERE id = 'playbook-failed'",
            "execution playbook-failed says finished_at",
        ),
    ],
    ids=["row", "entry", "gate-status", "execution-time"],
)
def test_seal_refuses_a_tampered_legacy_store_and_changes_nothing(legacy_store, tamper, problem):
    engine = make_engine(legacy_store["url"])
    with engine.begin() as connection:
        connection.execute(text(tamper))
    engine.dispose()
    before = chain_state(legacy_store)

    sealed = cli(legacy_store, "audit", "seal")
    assert sealed.returncode == 1
    assert "day2ops audit seal: refused, nothing was changed" in sealed.stderr
    assert any(line.startswith("TAMPERED: " + problem) for line in sealed.stdout.splitlines()), sealed.stdout
    assert chain_state(legacy_store) == before


def test_a_sealed_chain_made_to_look_legacy_again_is_refused(legacy_store):
    """Whoever can write the database strips the key ids and recomputes the unkeyed hashes, hoping an
    admin seals the forgery: after a keyed entry it is no legacy, and a chain redone from the start
    fails against the checkpoints."""
    assert cli(legacy_store, "audit", "seal").returncode == 0
    db = database(legacy_store)
    with db.session() as session:
        entries = list(session.scalars(select(ChainEntry).order_by(ChainEntry.seq)))
        prev = entries[1].entry_hash
        for entry in entries[2:]:
            entry.key_id, entry.prev_hash = None, prev
            entry.entry_hash = prev = chain.legacy_hash(entry)
        session.get(ChainHead, 1).entry_hash = prev

    verify = cli(legacy_store, "audit", "verify")
    assert "TAMPERED: chain entry 3 carries no key id but follows keyed entries" in verify.stdout
    assert "run `day2ops audit seal`" not in verify.stdout
    refused = cli(legacy_store, "audit", "seal")
    assert refused.returncode == 1 and "this store was sealed on" in refused.stderr

    with db.session() as session:
        session.execute(text("DELETE FROM audit_chain WHERE table_name = 'audit_seals'"))
        session.execute(text("DELETE FROM audit_seals"))
        entries = list(session.scalars(select(ChainEntry).order_by(ChainEntry.seq)))
        prev = chain.GENESIS
        for entry in entries:
            entry.key_id, entry.prev_hash = None, prev
            entry.entry_hash = prev = chain.legacy_hash(entry)
        head = session.get(ChainHead, 1)
        head.seq, head.entry_hash = len(entries), prev
    db.dispose()
    refused = cli(legacy_store, "audit", "seal")
    assert refused.returncode == 1, refused.stdout
    assert "differs from its checkpoint" in refused.stdout or "is gone" in refused.stdout, refused.stdout


def test_entries_the_upgraded_app_wrote_before_the_seal_are_signed_again_and_checkpointed_after(legacy_store):
    """Between the upgrade and the seal the app keeps recording (after the legacy entries), but checkpoints
    nothing: the seal re-signs those entries too, so a checkpoint of one would fail once sealed."""
    checkpoint = legacy_store["data"] / "audit.checkpoint"
    keys = KeySource(legacy_store["data"] / "audit.key", create=False)
    db = Database(legacy_store["url"], audit=AuditContext(keys, Checkpoints(checkpoint, keys)))
    with db.session() as session:
        execution = store.create_execution(
            session, source="app", playbook="noop.yml", item_id="noop", operator="olivia", status="running"
        )
        store.transition(session, execution, "failed", "day2ops", rc=2)
        written = session.get(ChainHead, 1).seq
    db.dispose()
    assert written > legacy_store["entries"] and not checkpoint.exists()

    sealed = cli(legacy_store, "audit", "seal")
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    assert f"{written} entries re-signed" in sealed.stdout
    verify = cli(legacy_store, "audit", "verify", "--checkpoint")
    assert verify.returncode == 0, verify.stdout
