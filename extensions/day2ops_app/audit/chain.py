"""The keyed hash chain: every evidence row, as written, is MACed into one append-only sequence.

entry_hash(n) = HMAC-SHA256(key, entry_hash(n-1) | table | row id | sha256(canonical row) | key id), the
key kept outside the database (audit/keys.py). Changing a row, deleting one, inserting one behind the
store's back, or cutting the chain's tail all show in `verify`: a row no longer matches its entry, an
entry has no row, a row has no entry, or the head (kept in its own row, locked by every writer) no
longer matches the last entry. Recomputing the chain after a forgery takes the key; cutting the tail
and rewriting the head shows against the checkpoints (audit/checkpoint.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from day2ops_app.audit import checkpoint, context
from day2ops_app.audit.keys import Keyring, UnknownKey
from day2ops_app.audit.state import execution_record, gate_outcome
from day2ops_app.db.tables import (
    CHAINED,
    ChainEntry,
    ChainHead,
    Decision,
    Execution,
    ExecutionTransition,
    Gate,
)

GENESIS = "0" * 64
# How a report names entries written before the chain was keyed (`day2ops audit seal` signs them).
LEGACY = "legacy entries"
# session.info: the head this transaction made, and whether its commit must be checkpointed.
_HEAD = "day2ops_chain_head"
_CHECKPOINT_NOW = "day2ops_checkpoint_now"


def _plain(value):
    # Timestamps come back naive from SQLite and aware from PostgreSQL: hash both as naive UTC.
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    return value


def row_hash(row) -> str:
    cls = type(row)
    values = {name: _plain(getattr(row, name)) for name in cls.__chained__}
    for name in getattr(cls, "__chained_if_set__", ()):
        if getattr(row, name) is not None:
            values[name] = _plain(getattr(row, name))
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def entry_mac(keyring: Keyring, entry: ChainEntry) -> str:
    message = f"{entry.prev_hash}|{entry.table_name}|{entry.row_id}|{entry.row_hash}|{entry.key_id}"
    return keyring.mac(entry.key_id, message)


def legacy_hash(entry: ChainEntry) -> str:
    """A legacy entry's hash: written before the chain was keyed (no key id), plain SHA-256 that anyone
    can recompute. `day2ops audit seal` checks legacy entries by it before it signs them."""
    return hashlib.sha256(
        f"{entry.prev_hash}|{entry.table_name}|{entry.row_id}|{entry.row_hash}".encode()
    ).hexdigest()


def _legacy_store(session: Session) -> bool:
    # Legacy entries come first: a store written before the key starts with them.
    first = session.get(ChainEntry, 1)
    return first is not None and first.key_id is None


def append(session: Session, *rows) -> None:
    """Add rows and chain them, in this transaction. The head's row lock orders writers from any
    number of processes (SQLite serialises writers already; PostgreSQL needs the FOR UPDATE)."""
    keyring = context.of(session).keys.keyring()
    session.add_all(rows)
    session.flush()
    # Done before the head is locked: every other writer waits while it is held, and on PostgreSQL each
    # statement under it is a round trip. (A store sealed in between misses only this checkpoint.)
    hashes = [row_hash(row) for row in rows]
    legacy = _legacy_store(session)
    head = session.execute(select(ChainHead).where(ChainHead.id == 1).with_for_update()).scalar_one()
    for row, hashed in zip(rows, hashes, strict=True):
        entry = ChainEntry(
            seq=head.seq + 1,
            table_name=row.__tablename__,
            row_id=str(row.id),
            row_hash=hashed,
            prev_hash=head.entry_hash,
            key_id=keyring.current,
        )
        entry.entry_hash = entry_mac(keyring, entry)
        head.seq, head.entry_hash = entry.seq, entry.entry_hash
        session.add(entry)
    session.flush()
    # Until `day2ops audit seal` no checkpoint: sealing re-signs every entry, so each would fail after it.
    if not legacy:
        session.info[_HEAD] = (head.seq, head.entry_hash)


def checkpoint_at_commit(session: Session) -> None:
    """The end of a run: checkpoint this transaction's head whatever the throttle says."""
    session.info[_CHECKPOINT_NOW] = True


@event.listens_for(Session, "after_commit")
def _checkpoint(session: Session) -> None:
    head = session.info.pop(_HEAD, None)
    force = session.info.pop(_CHECKPOINT_NOW, False)
    if head is not None:
        checkpoints = context.of(session).checkpoints
        if checkpoints is not None:
            checkpoints.offer(*head, force=force)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_HEAD, None)
    session.info.pop(_CHECKPOINT_NOW, None)


def proven(session: Session, row) -> bool:
    """Whether the row is as its chain entry recorded it, under an entry only the key's holder could
    make: what decides a gate or starts a run reads only such rows."""
    entry = session.scalars(
        select(ChainEntry).where(ChainEntry.table_name == row.__tablename__, ChainEntry.row_id == str(row.id))
    ).one_or_none()
    if entry is None or entry.key_id is None or entry.row_hash != row_hash(row):
        return False
    try:
        return hmac.compare_digest(entry_mac(context.of(session).keys.keyring(), entry), entry.entry_hash)
    except UnknownKey:
        return False


@dataclass
class Verification:
    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "problems": self.problems}


class _Walk:
    """Entries in order: each follows the one before, carries a valid HMAC, and matches its row.

    Legacy entries (no key id, before any keyed entry: the old code wrote them before the upgrade) are
    counted and reported once, asking for `day2ops audit seal`; with legacy_rules (the seal's own check)
    each is checked by its unkeyed hash instead. An entry without a key id after a keyed one is no legacy:
    the old code never wrote after the key, so it is reported as forged, never offered for sealing."""

    def __init__(self, keyring: Keyring, problem, seq: int = 0, prev: str = GENESIS, legacy_rules=False):
        self.keyring = keyring
        self.problem = problem
        self.seq = seq
        self.prev = prev
        self.legacy_rules = legacy_rules
        # A walk resumed after a good one (IncrementalVerifier) starts after keyed entries.
        self.keyed = seq > 0
        self.unknown_keys: dict[str, int] = defaultdict(int)
        self.legacy: set[tuple[str, str]] = set()

    def step(self, entry: ChainEntry, row) -> None:
        if entry.seq != self.seq + 1:
            self.problem(f"chain entries {self.seq + 1}..{entry.seq - 1} are missing")
        if entry.prev_hash != self.prev:
            self.problem(f"chain entry {entry.seq} does not follow entry {entry.seq - 1}")
        self._check_mac(entry)
        self.seq, self.prev = entry.seq, entry.entry_hash
        if row is None:
            self.problem(f"{entry.table_name} row {entry.row_id} (chain entry {entry.seq}) was deleted")
        elif row_hash(row) != entry.row_hash:
            self.problem(f"{entry.table_name} row {entry.row_id} (chain entry {entry.seq}) was modified")

    def _check_mac(self, entry: ChainEntry) -> None:
        if entry.key_id is None and self.keyed:
            self.problem(
                f"chain entry {entry.seq} carries no key id but follows keyed entries: it was not made with "
                "the audit key"
            )
            return
        if entry.key_id is None:
            self.legacy.add((entry.table_name, entry.row_id))
            if self.legacy_rules and entry.entry_hash != legacy_hash(entry):
                self.problem(f"legacy chain entry {entry.seq} was altered: its unkeyed hash does not match")
            return
        self.keyed = True
        try:
            expected = entry_mac(self.keyring, entry)
        except UnknownKey:
            self.unknown_keys[entry.key_id] += 1
            return
        if not hmac.compare_digest(expected, entry.entry_hash):
            self.problem(
                f"chain entry {entry.seq} was altered: its HMAC does not match (forged, or the chain was "
                "recomputed without the audit key)"
            )

    def finish(self, head: ChainHead | None) -> None:
        if self.legacy and not self.legacy_rules:
            self.problem(
                f"{LEGACY}: run `day2ops audit seal` ({len(self.legacy)} chain entries were written before "
                "the chain was keyed)"
            )
        for key_id, count in self.unknown_keys.items():
            self.problem(
                f"{count} chain entries were made with audit key {key_id!r}, which is not in "
                f"{self.keyring.path}: restore that key file from its backup"
            )
        if head is None or head.seq != self.seq or head.entry_hash != self.prev:
            self.problem("the chain's head does not match its last entry: entries were removed from the end")


def _reporter(report: Verification, limit: int):
    def problem(text: str) -> None:
        if len(report.problems) < limit:
            report.problems.append(text)

    return problem


def verify(
    session: Session, limit: int = 100, checkpoints: Path | None = None, legacy_rules: bool = False
) -> Verification:
    """Walk the whole chain, and the checkpoints in `checkpoints` (a checkpoint file or its log) if given;
    report up to `limit` problems, each naming the row or entry. The states of rows chained by legacy
    entries are left to `day2ops audit seal`, which fills in what the old code did not record."""
    report = Verification()
    problem = _reporter(report, limit)
    keys = context.of(session).keys
    rows = {name: {str(r.id): r for r in session.scalars(select(cls))} for name, cls in CHAINED.items()}
    chained: set[tuple[str, str]] = set()
    walk = _Walk(keys.keyring(), problem, legacy_rules=legacy_rules)
    for entry in session.scalars(select(ChainEntry).order_by(ChainEntry.seq)).yield_per(1000):
        report.entries += 1
        chained.add((entry.table_name, entry.row_id))
        walk.step(entry, rows.get(entry.table_name, {}).get(entry.row_id))
    walk.finish(session.get(ChainHead, 1))
    for name, by_id in rows.items():
        for row_id in by_id.keys() - {r for t, r in chained if t == name}:
            problem(f"{name} row {row_id} is not in the chain: it was written behind the store's back")
    _check_executions(rows, problem, walk.legacy)
    _check_gates(rows, problem, walk.legacy)
    if checkpoints is not None:
        checkpoint.check(session, checkpoints, keys, problem)
    return report


def _by(rows, attribute: str) -> dict[str, list]:
    grouped: dict[str, list] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.id):
        grouped[getattr(row, attribute)].append(row)
    return grouped


def _check_executions(rows: dict, problem, legacy: set) -> None:
    """An execution's status, times and rc must be what its chained transitions say."""
    transitions = _by(rows[ExecutionTransition.__tablename__].values(), "execution_id")
    for execution in rows[Execution.__tablename__].values():
        if execution.id not in transitions or (Execution.__tablename__, execution.id) in legacy:
            continue
        record = execution_record(transitions[execution.id])
        if record["status"] != execution.status:
            problem(
                f"execution {execution.id} says {execution.status!r} but its last recorded transition "
                f"is {record['status']!r}"
            )
        for name in ("started_at", "finished_at", "rc"):
            if _plain(record[name]) != _plain(getattr(execution, name)):
                problem(
                    f"execution {execution.id} says {name} {_plain(getattr(execution, name))!r} but its "
                    f"recorded transitions say {_plain(record[name])!r}"
                )


def _check_gates(rows: dict, problem, legacy: set) -> None:
    """A gate's status must be what its chained decisions say."""
    decisions = _by(rows[Decision.__tablename__].values(), "gate_id")
    for gate in rows[Gate.__tablename__].values():
        if (Gate.__tablename__, gate.id) in legacy:
            continue
        derived = gate_outcome(gate.required, decisions.get(gate.id, []))
        if derived != gate.status:
            problem(f"gate {gate.id} says {gate.status!r} but its recorded decisions make it {derived!r}")


class IncrementalVerifier:
    """For pages that show the chain's state: each call checks only the entries added since the last
    good one (and that the entry it stopped at is unchanged). The whole walk stays with `verify`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = 0
        self._hash = GENESIS

    def check(self, session: Session, limit: int = 20, chunk: int = 1000) -> Verification:
        with self._lock:
            report = Verification()
            problem = _reporter(report, limit)
            if self._seq:
                known = session.get(ChainEntry, self._seq)
                if known is None or known.entry_hash != self._hash:
                    problem(f"chain entry {self._seq} changed after it was verified: run a full verify")
            # The head first: entries committed while this walks (PostgreSQL reads each statement's
            # newest commit) are left to the next call, not taken for a head out of step.
            head = session.get(ChainHead, 1)
            end = head.seq if head else 0
            walk = _Walk(context.of(session).keys.keyring(), problem, self._seq, self._hash)
            while walk.seq < end:
                entries = list(
                    session.scalars(
                        select(ChainEntry)
                        .where(ChainEntry.seq > walk.seq, ChainEntry.seq <= end)
                        .order_by(ChainEntry.seq)
                        .limit(chunk)
                    )
                )
                rows = _rows_of(session, entries)
                for entry in entries:
                    walk.step(entry, rows.get((entry.table_name, entry.row_id)))
                if len(entries) < chunk:
                    break
            walk.finish(head)
            report.entries = walk.seq
            if report.ok:
                self._seq, self._hash = walk.seq, walk.prev
            return report


def _rows_of(session: Session, entries: list[ChainEntry]) -> dict[tuple[str, str], object]:
    wanted: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        wanted[entry.table_name].append(entry.row_id)
    found = {}
    for name, ids in wanted.items():
        cls = CHAINED.get(name)
        if cls is None:
            continue
        key = cls.id.type.python_type
        typed = [key(i) for i in ids if key is str or i.isdigit()]
        for row in session.scalars(select(cls).where(cls.id.in_(typed))):
            found[(name, str(row.id))] = row
    return found
