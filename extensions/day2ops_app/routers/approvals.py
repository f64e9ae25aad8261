"""The approvals inbox: gates waiting for this reviewer, and the decision (four-eyes enforced)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import select

from day2ops_app.approvals import Conflict, Forbidden, gate_status, may_decide, trusted_decisions
from day2ops_app.db.tables import Execution, Gate
from day2ops_app.deps import CurrentUser, RequireApprover
from day2ops_app.schemas import DecisionCreate, DecisionOut, GateOut

router = APIRouter(prefix="/api/approvals", tags=["approvals"])


def gate_out(session, gate: Gate) -> GateOut:
    """The gate as its chained decisions make it, never as its status column says: the approval module
    in a playbook and the run gate go by this."""
    out = GateOut.model_validate(gate)
    out.status = gate_status(session, gate)
    out.decisions = [DecisionOut.model_validate(d) for d in trusted_decisions(session, gate)]
    return out


@router.get("", response_model=list[GateOut])
def inbox(request: Request, user: CurrentUser, status: str = "pending", mine: bool = True):
    """Gates in a status; with mine=true only those this user may decide."""
    approvals = request.app.state.approvals
    with request.app.state.db.session() as session:
        approvals.expire_all(session)
        gates = session.scalars(select(Gate).where(Gate.status == status).order_by(Gate.created_at)).all()
        shown = []
        for gate in gates:
            execution = session.get(Execution, gate.execution_id)
            if not mine or may_decide(user, gate, execution) is None:
                shown.append(gate_out(session, gate))
        return shown


@router.get("/{gate_id}", response_model=GateOut)
def read(gate_id: str, request: Request, user: CurrentUser):
    with request.app.state.db.read() as session:
        gate = session.get(Gate, gate_id)
        if gate is None:
            raise HTTPException(404, f"no gate {gate_id}")
        return gate_out(session, gate)


@router.post("/{gate_id}/decision", response_model=GateOut)
def decide(gate_id: str, body: DecisionCreate, request: Request, user: RequireApprover):
    approvals = request.app.state.approvals
    with request.app.state.db.session() as session:
        gate = session.get(Gate, gate_id)
        if gate is None:
            raise HTTPException(404, f"no gate {gate_id}")
        try:
            approvals.decide(session, user, gate, body.decision, body.comment)
        except Forbidden as error:
            raise HTTPException(403, str(error)) from None
        except Conflict as error:
            raise HTTPException(409, str(error)) from None
        out = gate_out(session, gate)
    if out.kind == "run" and out.status == "approved":
        request.app.state.runs.launch(out.execution_id)
    return out
