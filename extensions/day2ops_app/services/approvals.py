"""The approval state machine: gates before a run and gates a playbook opens (the approval module).

Four-eyes: whoever asked for the run never decides on its gates. A gate names its reviewers (users
or a group); it is approved when enough distinct reviewers approve, rejected by one rejection, and
timed out (fails closed) when its time passes first. Its status is derived from its decisions as the
audit chain proves them (`gate_status`): a status column or a decision row set by hand decides nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from day2ops_app.audit import chain, store
from day2ops_app.audit.state import gate_outcome
from day2ops_app.catalog.model import Item
from day2ops_app.db.tables import Decision, Execution, Gate, User, aware, utcnow
from day2ops_app.schemas import DecisionOut, GateOut

# The gate before the run is found by this name when an engine asks for it again (an AWX workflow's
# approval node for the run gate): the app decided it before the launch.
RUN_GATE_NAME = "before the run"


class Forbidden(Exception):
    pass


class Conflict(Exception):
    pass


class NotFound(LookupError):
    pass


def may_decide(user: User, gate: Gate, execution: Execution) -> str | None:
    """None if the user may decide this gate, else why not."""
    if user.username in (execution.operator, gate.requested_by):
        return f"four-eyes: {user.username} asked for this run and cannot approve it"
    if not {"approver", "admin"} & set(user.roles):
        return f"{user.username} is not an approver"
    named = set(gate.reviewers)
    if (named or gate.reviewer_group) and (
        user.username not in named and gate.reviewer_group not in (user.groups or [])
    ):
        who = ", ".join(sorted(named)) + (f" or group {gate.reviewer_group}" if gate.reviewer_group else "")
        return f"this gate's reviewers are {who.lstrip(', ')}"
    return None


def trusted_decisions(session: Session, gate: Gate) -> list[Decision]:
    """The gate's decisions the chain bears out; one written behind the store's back counts for nothing."""
    rows = session.scalars(select(Decision).where(Decision.gate_id == gate.id).order_by(Decision.id))
    return [d for d in rows if chain.proven(session, d)]


def gate_status(session: Session, gate: Gate) -> str:
    """pending, approved, rejected, timed_out or canceled, from the chained decisions; a gate row changed
    since it was chained (fewer approvals required, say) is never approved."""
    required = gate.required if chain.proven(session, gate) else None
    return gate_outcome(required, trusted_decisions(session, gate))


def gate_out(session: Session, gate: Gate) -> GateOut:
    """The gate as its chained decisions make it, never as its status column says: the approval module
    in a playbook and the run gate go by this."""
    out = GateOut.model_validate(gate)
    out.status = gate_status(session, gate)
    out.decisions = [DecisionOut.model_validate(d) for d in trusted_decisions(session, gate)]
    return out


class ApprovalService:
    def __init__(self, default_gate_hours: float):
        self.default_gate_hours = default_gate_hours

    def open_run_gate(self, session: Session, execution: Execution, item: Item) -> Gate:
        policy = item.approval
        return self._open(
            session,
            execution,
            kind="run",
            name=RUN_GATE_NAME,
            message=f"{execution.operator} asks to run {item.title}",
            details={"item": item.id, "inputs": execution.inputs},
            reviewers=policy.users,
            reviewer_group=policy.group,
            required=policy.required,
            timeout=timedelta(hours=policy.timeout_hours),
        )

    def open_playbook_gate(self, session: Session, execution: Execution, spec: dict) -> tuple[Gate, bool]:
        """From the approval module. Opening the same gate name twice returns the first (a retry)."""
        existing = session.scalars(
            select(Gate).where(Gate.execution_id == execution.id, Gate.name == spec["name"])
        ).one_or_none()
        if existing is not None:
            return existing, False
        if execution.status != "running":
            raise Conflict(
                f"execution {execution.id} is {execution.status}; only a running playbook opens gates"
            )
        gate = self._open(
            session,
            execution,
            kind="playbook",
            name=spec["name"],
            message=spec.get("message") or "",
            details=spec.get("details") or {},
            reviewers=spec.get("reviewers") or [],
            reviewer_group=spec.get("reviewer_group"),
            required=spec.get("required") or 1,
            timeout=timedelta(seconds=spec.get("timeout_seconds") or self.default_gate_hours * 3600),
        )
        return gate, True

    def _open(
        self,
        session,
        execution,
        *,
        kind,
        name,
        message,
        details,
        reviewers,
        reviewer_group,
        required,
        timeout,
    ):
        gate = Gate(
            id=str(uuid.uuid4()),
            execution_id=execution.id,
            kind=kind,
            name=name,
            message=message,
            details=details,
            reviewers=sorted(set(reviewers)),
            reviewer_group=reviewer_group,
            required=required,
            requested_by=execution.operator,
            expires_at=utcnow() + timeout,
            status="pending",
        )
        chain.append(session, gate)
        return gate

    def decide(self, session: Session, user: User, gate: Gate, decision: str, comment: str) -> Gate:
        execution = session.get(Execution, gate.execution_id)
        self.expire(session, gate)
        status = gate_status(session, gate)
        if status != "pending":
            raise Conflict(f"this gate is already {status}")
        why = may_decide(user, gate, execution)
        if why:
            raise Forbidden(why)
        if any(d.reviewer == user.username for d in self.decisions(session, gate.id)):
            raise Conflict(
                f"{user.username} has already decided on this gate; "
                "a second approval must come from someone else"
            )
        chain.append(
            session,
            Decision(gate_id=gate.id, reviewer=user.username, decision=decision, comment=comment or ""),
        )
        gate.status = gate_status(session, gate)
        if gate.kind == "run" and gate.status == "rejected":
            store.transition(session, execution, "rejected", user.username, comment or "rejected")
        elif gate.kind == "run" and gate.status == "approved":
            store.transition(session, execution, "queued", user.username, "approved")
        return gate

    def decisions(self, session: Session, gate_id: str) -> list[Decision]:
        return list(
            session.scalars(select(Decision).where(Decision.gate_id == gate_id).order_by(Decision.id))
        )

    def expire(self, session: Session, gate: Gate, now: datetime | None = None) -> bool:
        """A pending gate past its time fails closed: recorded as a decision by day2ops."""
        now = now or utcnow()
        if aware(gate.expires_at) is None or aware(gate.expires_at) > now:
            return False
        if gate_status(session, gate) != "pending":
            return False
        gate.status = "timed_out"
        chain.append(
            session,
            Decision(
                gate_id=gate.id,
                reviewer="day2ops",
                decision="timeout",
                comment="no decision in time: fails closed",
            ),
        )
        if gate.kind == "run":
            execution = session.get(Execution, gate.execution_id)
            if execution.status == "pending_approval":
                store.transition(session, execution, "expired", "day2ops", "no approval in time")
        return True

    def expire_all(self, session: Session) -> int:
        pending = session.scalars(
            select(Gate).where(Gate.status == "pending", Gate.expires_at <= utcnow())
        ).all()
        return sum(self.expire(session, gate) for gate in pending)

    def cancel_gates(self, session: Session, execution_id: str, actor: str) -> None:
        """The run was canceled: its open gates close, recorded as a decision by day2ops."""
        for gate in session.scalars(select(Gate).where(Gate.execution_id == execution_id)):
            if gate_status(session, gate) != "pending":
                continue
            chain.append(
                session,
                Decision(
                    gate_id=gate.id, reviewer="day2ops", decision="cancel", comment=f"run canceled by {actor}"
                ),
            )
            gate.status = "canceled"
