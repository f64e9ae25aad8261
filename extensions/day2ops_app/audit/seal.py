"""`day2ops audit seal`: a store written before the chain was keyed, checked once by the old rules and
signed with the audit key.

Its legacy entries carry no key id and plain SHA-256 hashes, its transitions no exit code, its
executions times read from the clock a moment before their transitions', and some gates were closed
(canceled) without a closing decision: every one of them fails the keyed `verify`. Sealing, in one
transaction or not at all:

1. checks the whole chain: legacy entries by their unkeyed hashes, later ones by their HMACs, every row
   against its entry, the head, and the checkpoint log if there is one;
2. fills in only what the old code is known to have left out, and records it: a terminal transition
   gets its execution's exit code, an execution's times move to its transitions' (less than a second
   apart), a gate closed without a decision gets a chained closing decision by day2ops (closing a gate
   never opens anything);
3. re-signs every entry from the first legacy one on with the current key, appends the seal itself as
   a chained AuditSeal row, and checks that the result passes the keyed `verify` before committing.

What it proves: only that the legacy chain was intact by the old unkeyed rules when sealed, which anyone
who could write the database could have arranged before. Seal soon after upgrading.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from day2ops_app.audit import chain, context
from day2ops_app.audit.state import CLOSING, TERMINAL, execution_record, gate_outcome
from day2ops_app.db.tables import (
    AuditSeal,
    ChainEntry,
    ChainHead,
    Decision,
    Execution,
    ExecutionTransition,
    Gate,
    aware,
)

# The old code read the clock for an execution's times just before its transition row took its own.
CLOCK_SKEW = timedelta(seconds=1)
CLOSED_BY = {status: decision for decision, status in CLOSING.items()}


class Refused(Exception):
    def __init__(self, why: str, problems: list[str]):
        super().__init__(why)
        self.problems = problems


@dataclass
class Sealed:
    legacy_entries: int
    resigned: int
    legacy_head_seq: int
    legacy_head_hash: str
    key_id: str
    filled: dict
    head_seq: int


def legacy_entries(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ChainEntry).where(ChainEntry.key_id.is_(None)))


def seal(session: Session, sealed_by: str, checkpoints: Path | None = None) -> Sealed | None:
    """Seal the legacy entries in this (write) transaction; None when there are none. Raises Refused,
    naming the problems, when the chain does not verify by the old rules or would not by the new."""
    # Taken first: no app instance appends while the chain is checked and rewritten.
    head = session.execute(select(ChainHead).where(ChainHead.id == 1).with_for_update()).scalar_one()
    first = session.scalar(select(func.min(ChainEntry.seq)).where(ChainEntry.key_id.is_(None)))
    if first is None:
        return None
    earlier = session.scalars(select(AuditSeal).order_by(AuditSeal.id)).first()
    if earlier is not None:
        raise Refused(
            f"this store was sealed on {earlier.sealed_at:%Y-%m-%d %H:%M} by {earlier.sealed_by}: entries "
            "without a key id since were not written by day2ops",
            [],
        )
    report = chain.verify(session, checkpoints=checkpoints, legacy_rules=True)
    if not report.ok:
        raise Refused("the chain does not verify by the old (unkeyed) rules", report.problems)

    entries = list(
        session.scalars(select(ChainEntry).where(ChainEntry.seq >= first).order_by(ChainEntry.seq))
    )
    legacy = [e for e in entries if e.key_id is None]
    record = AuditSeal(
        sealed_by=sealed_by,
        legacy_entries=len(legacy),
        legacy_head_seq=legacy[-1].seq,
        legacy_head_hash=legacy[-1].entry_hash,
    )
    record.filled, decisions = _fill(session, {(e.table_name, e.row_id) for e in legacy})
    key_id = _resign(session, entries, first, head)
    chain.append(session, *decisions, record)
    chain.checkpoint_at_commit(session)
    after = chain.verify(session)
    if not after.ok:
        raise Refused(
            "legacy rows hold states the old code never wrote: changed in the database?", after.problems
        )
    return Sealed(
        legacy_entries=len(legacy),
        resigned=len(entries),
        legacy_head_seq=record.legacy_head_seq,
        legacy_head_hash=record.legacy_head_hash,
        key_id=key_id,
        filled=record.filled,
        head_seq=head.seq,
    )


def _fill(session: Session, legacy: set[tuple[str, str]]) -> tuple[dict, list[Decision]]:
    """What the keyed checks need and the old code did not write, for legacy rows only."""
    rc, times = _fill_executions(session, legacy)
    closed, decisions = _close_gates(session, legacy)
    return {"transition_rc": rc, "execution_times": times, "gates_closed": closed}, decisions


def _fill_executions(session: Session, legacy: set[tuple[str, str]]) -> tuple[dict[str, int], list[str]]:
    rc: dict[str, int] = {}
    times: list[str] = []
    transitions_of = _grouped(session, ExecutionTransition, "execution_id")
    for execution in session.scalars(select(Execution).order_by(Execution.id)):
        if (Execution.__tablename__, execution.id) not in legacy:
            continue
        transitions = transitions_of[execution.id]
        ended = [t for t in transitions if t.to_status in TERMINAL]
        last = ended[-1] if ended else None
        if (
            last is not None
            and (ExecutionTransition.__tablename__, str(last.id)) in legacy
            and last.rc is None
            and execution.rc is not None
        ):
            last.rc = execution.rc
            rc[str(last.id)] = execution.rc
        record = execution_record(transitions)
        moved = [
            name
            for name in ("started_at", "finished_at")
            if getattr(execution, name) is not None
            and record[name] is not None
            and getattr(execution, name) != record[name]
            and abs(aware(getattr(execution, name)) - aware(record[name])) < CLOCK_SKEW
        ]
        for name in moved:
            setattr(execution, name, record[name])
        if moved:
            times.append(execution.id)
    return rc, times


def _close_gates(session: Session, legacy: set[tuple[str, str]]) -> tuple[dict[str, str], list[Decision]]:
    """A gate the old code closed without a decision (a canceled run's) gets one: closing opens nothing."""
    closed: dict[str, str] = {}
    decisions = []
    decisions_of = _grouped(session, Decision, "gate_id")
    for gate in session.scalars(select(Gate).order_by(Gate.id)):
        if (Gate.__tablename__, gate.id) not in legacy or gate.status not in CLOSED_BY:
            continue
        if gate_outcome(gate.required, decisions_of[gate.id]) == "pending":
            closed[gate.id] = gate.status
            decisions.append(
                Decision(
                    gate_id=gate.id,
                    reviewer="day2ops",
                    decision=CLOSED_BY[gate.status],
                    comment=f"{gate.status} before the chain was keyed: recorded by day2ops audit seal",
                )
            )
    return closed, decisions


def _grouped(session: Session, cls, attribute: str) -> dict[str, list]:
    grouped: dict[str, list] = defaultdict(list)
    for row in session.scalars(select(cls).order_by(cls.id)):
        grouped[getattr(row, attribute)].append(row)
    return grouped


def _resign(session: Session, entries: list[ChainEntry], first: int, head: ChainHead) -> str:
    """Every entry from `first` on, linked again and signed with the current key; returns its id."""
    keyring = context.of(session).keys.keyring()
    before = session.get(ChainEntry, first - 1)
    prev = before.entry_hash if before else chain.GENESIS
    for entry in entries:
        cls = chain.CHAINED[entry.table_name]
        row = session.get(cls, cls.id.type.python_type(entry.row_id))
        entry.row_hash = chain.row_hash(row)  # a transition given its exit code above
        entry.prev_hash = prev
        entry.key_id = keyring.current
        entry.entry_hash = prev = chain.entry_mac(keyring, entry)
    head.entry_hash = prev
    session.flush()
    return keyring.current
