"""Writing and reading the audit record: executions and their transitions, runner events, evidence.

Shared by the app (runs through ansible-runner) and the `day2ops.ahv.audit` callback (plain
ansible-playbook), so both produce the same record. Every row written here is chained.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, Row, select
from sqlalchemy.orm import Session

from day2ops_app.audit import chain
from day2ops_app.audit.evidence import evidence_from_result, task_status
from day2ops_app.audit.redact import Redactor
from day2ops_app.audit.state import TERMINAL
from day2ops_app.db.tables import Event, Evidence, Execution, ExecutionTransition, utcnow

TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({"pending_approval", "queued", "running"}),
    "pending_approval": frozenset({"queued", "rejected", "expired", "canceled"}),
    "queued": frozenset({"running", "canceled", "failed", "interrupted"}),
    "running": frozenset({"successful", "failed", "canceled", "interrupted"}),
}
EVIDENCE_EVENTS = frozenset({"runner_on_ok", "runner_on_failed", "runner_on_unreachable"})


class InvalidTransition(Exception):
    def __init__(self, execution_id: str, current: str | None, wanted: str):
        super().__init__(f"execution {execution_id} is {current}; it cannot become {wanted}")
        self.current = current
        self.wanted = wanted


def create_execution(
    session: Session,
    *,
    source: str,
    playbook: str,
    operator: str,
    status: str,
    inputs: dict | None = None,
    item_id: str | None = None,
    schedule_id: int | None = None,
    instance_id: str | None = None,
    execution_id: str | None = None,
    reason: str = "",
) -> Execution:
    execution = Execution(
        id=execution_id or str(uuid.uuid4()),
        source=source,
        item_id=item_id,
        playbook=playbook,
        operator=operator,
        inputs=inputs or {},
        schedule_id=schedule_id,
        status=status,
        instance_id=instance_id,
    )
    now = utcnow()
    if status == "running":
        execution.started_at = now
    # Both in one append: the chain's head stays locked until the commit, and on PostgreSQL every statement
    # while it is held is a round trip that each submission after this one waits for.
    chain.append(
        session,
        execution,
        ExecutionTransition(
            execution_id=execution.id,
            from_status=None,
            to_status=status,
            actor=operator,
            reason=reason,
            at=now,
        ),
    )
    return execution


def transition(
    session: Session,
    execution: Execution,
    to_status: str,
    actor: str,
    reason: str = "",
    rc: int | None = None,
) -> None:
    if to_status not in TRANSITIONS.get(execution.status, frozenset()):
        raise InvalidTransition(execution.id, execution.status, to_status)
    previous = execution.status
    # The columns copy the chained transition, which carries the same time and rc (audit/state.py).
    execution.status = to_status
    now = utcnow()
    if to_status == "running":
        execution.started_at = now
    ended = to_status in TERMINAL
    if ended:
        execution.finished_at = now
        execution.rc = rc
        chain.checkpoint_at_commit(session)
    chain.append(
        session,
        ExecutionTransition(
            execution_id=execution.id,
            from_status=previous,
            to_status=to_status,
            actor=actor,
            reason=reason,
            at=now,
            rc=rc if ended else None,
        ),
    )


def proven_status(session: Session, execution: Execution) -> str | None:
    """The execution's status as its last transition in the chain says, or None when that transition is
    not as the chain recorded it: the status column can be set by anyone who can write the database."""
    last = session.scalars(
        select(ExecutionTransition)
        .where(ExecutionTransition.execution_id == execution.id)
        .order_by(ExecutionTransition.id.desc())
        .limit(1)
    ).one_or_none()
    return last.to_status if last is not None and chain.proven(session, last) else None


def record_events(session: Session, execution_id: str, events: Iterable[dict], redactor: Redactor) -> int:
    """Store runner events not stored yet (by uuid), and the evidence in their results. Returns how many
    were new: runner may hand the same event twice (a replay after restart), the record keeps one."""
    events = [e for e in events if e.get("uuid")]
    if not events:
        return 0
    known = set(
        session.scalars(
            select(Event.uuid).where(
                Event.execution_id == execution_id, Event.uuid.in_([e["uuid"] for e in events])
            )
        )
    )
    rows = []
    for raw in events:
        if raw["uuid"] in known:
            continue
        known.add(raw["uuid"])
        event = redactor.scrub(raw)
        data = event.get("event_data") or {}
        rows.append(
            Event(
                execution_id=execution_id,
                uuid=event["uuid"],
                counter=int(event.get("counter") or 0),
                event=event.get("event") or "",
                host=data.get("host") or data.get("remote_addr"),
                task=data.get("task"),
                stdout=event.get("stdout") or "",
                created=str(event.get("created") or utcnow().isoformat()),
            )
        )
        evidence = evidence_row(execution_id, event)
        if evidence is not None:
            rows.append(evidence)
    if rows:
        chain.append(session, *rows)
    return sum(1 for r in rows if isinstance(r, Event))


def evidence_row(execution_id: str, event: dict) -> Evidence | None:
    if event.get("event") not in EVIDENCE_EVENTS:
        return None
    data = event.get("event_data") or {}
    action = data.get("resolved_action") or data.get("task_action") or ""
    status = task_status(event["event"], data.get("res"))
    found = evidence_from_result(action, data.get("res"), status == "failed")
    if found is None:
        return None
    return Evidence(
        execution_id=execution_id,
        event_uuid=event["uuid"],
        host=data.get("host") or "",
        task=data.get("task") or "",
        action=action,
        status=status,
        started_at=data.get("start"),
        ended_at=data.get("end"),
        **found,
    )


def events_after(
    reader: Session | Connection, execution_id: str, counter: int, limit: int = 500
) -> list[Row]:
    """A run's events after `counter`, in order, as rows of what EventOut shows."""
    return list(
        reader.execute(
            select(*EVENT_FIELDS)
            .where(Event.execution_id == execution_id, Event.counter > counter)
            .order_by(Event.counter)
            .limit(limit)
        )
    )


EVENT_FIELDS = (Event.counter, Event.uuid, Event.event, Event.host, Event.task, Event.stdout, Event.created)


def mark_interrupted(session: Session, instance_id: str, now: datetime | None = None) -> list[str]:
    """Runs this instance was driving when it stopped: they did not finish, say so, keep their events."""
    stuck = session.scalars(
        select(Execution).where(
            Execution.instance_id == instance_id, Execution.status.in_(("queued", "running"))
        )
    ).all()
    for execution in stuck:
        transition(
            session, execution, "interrupted", "day2ops", "the app stopped while the run was in flight"
        )
    return [e.id for e in stuck]
