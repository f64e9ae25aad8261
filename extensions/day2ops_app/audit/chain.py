"""The hash chain: every evidence row, as written, is hashed into one append-only sequence.

entry_hash(n) = sha256(entry_hash(n-1) | table | row id | sha256(canonical row)). Changing a row,
deleting one, inserting one behind the store's back, or cutting the chain's tail all show in
`verify`: a row no longer matches its entry, an entry has no row, a row has no entry, or the head
(kept in its own row, locked by every writer) no longer matches the last entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from day2ops_app.db.tables import CHAINED, ChainEntry, ChainHead, Execution, ExecutionTransition

GENESIS = "0" * 64


def _plain(value):
    # Timestamps come back naive from SQLite and aware from PostgreSQL: hash both as naive UTC.
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    return value


def row_hash(row) -> str:
    values = {name: _plain(getattr(row, name)) for name in type(row).__chained__}
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def entry_hash(prev_hash: str, table: str, row_id: str, digest: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{table}|{row_id}|{digest}".encode()).hexdigest()


def append(session: Session, *rows) -> None:
    """Add rows and chain them, in this transaction. The head's row lock orders writers from any
    number of processes (SQLite serialises writers already; PostgreSQL needs the FOR UPDATE)."""
    session.add_all(rows)
    session.flush()
    head = session.execute(select(ChainHead).where(ChainHead.id == 1).with_for_update()).scalar_one()
    for row in rows:
        digest = row_hash(row)
        row_id = str(row.id)
        prev = head.entry_hash
        head.seq += 1
        head.entry_hash = entry_hash(prev, row.__tablename__, row_id, digest)
        session.add(
            ChainEntry(
                seq=head.seq,
                table_name=row.__tablename__,
                row_id=row_id,
                row_hash=digest,
                prev_hash=prev,
                entry_hash=head.entry_hash,
            )
        )
    session.flush()


@dataclass
class Verification:
    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "problems": self.problems}


def verify(session: Session, limit: int = 100) -> Verification:
    """Walk the whole chain; report up to `limit` problems, each naming the row or entry."""
    report = Verification()

    def problem(text: str) -> None:
        if len(report.problems) < limit:
            report.problems.append(text)

    rows = {name: {str(r.id): r for r in session.scalars(select(cls))} for name, cls in CHAINED.items()}
    chained: set[tuple[str, str]] = set()
    prev = GENESIS
    expected_seq = 1
    for entry in session.scalars(select(ChainEntry).order_by(ChainEntry.seq)).yield_per(1000):
        report.entries += 1
        if entry.seq != expected_seq:
            problem(f"chain entries {expected_seq}..{entry.seq - 1} are missing")
        expected_seq = entry.seq + 1
        if entry.prev_hash != prev:
            problem(f"chain entry {entry.seq} does not follow entry {entry.seq - 1}")
        if entry.entry_hash != entry_hash(entry.prev_hash, entry.table_name, entry.row_id, entry.row_hash):
            problem(f"chain entry {entry.seq} was altered")
        prev = entry.entry_hash
        chained.add((entry.table_name, entry.row_id))
        row = rows.get(entry.table_name, {}).get(entry.row_id)
        if row is None:
            problem(f"{entry.table_name} row {entry.row_id} (chain entry {entry.seq}) was deleted")
        elif row_hash(row) != entry.row_hash:
            problem(f"{entry.table_name} row {entry.row_id} (chain entry {entry.seq}) was modified")
    head = session.get(ChainHead, 1)
    if head is None or head.seq != report.entries or head.entry_hash != prev:
        problem("the chain's head does not match its last entry: entries were removed from the end")
    for name, by_id in rows.items():
        for row_id in by_id.keys() - {r for t, r in chained if t == name}:
            problem(f"{name} row {row_id} is not in the chain: it was written behind the store's back")
    _check_statuses(session, rows, problem)
    return report


def _check_statuses(session: Session, rows: dict, problem) -> None:
    """An execution's status column must be its latest chained transition."""
    latest: dict[str, ExecutionTransition] = {}
    for transition in rows[ExecutionTransition.__tablename__].values():
        known = latest.get(transition.execution_id)
        if known is None or transition.id > known.id:
            latest[transition.execution_id] = transition
    for execution in rows[Execution.__tablename__].values():
        last = latest.get(execution.id)
        if last is not None and last.to_status != execution.status:
            problem(
                f"execution {execution.id} says {execution.status!r} but its last recorded transition "
                f"is {last.to_status!r}"
            )
