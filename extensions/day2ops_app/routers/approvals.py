"""The approvals inbox: gates waiting for this reviewer, and the decision (four-eyes enforced)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from sqlalchemy import select

from day2ops_app.db.tables import Execution, Gate
from day2ops_app.deps import Approvals, CurrentUser, Db, RequireApprover, Runs
from day2ops_app.schemas import DecisionCreate, GateOut
from day2ops_app.services.approvals import Conflict, Forbidden, NotFound, gate_out, may_decide

router = APIRouter(prefix="/api/approvals", tags=["approvals"])


@router.get("", response_model=list[GateOut])
def inbox(user: CurrentUser, db: Db, approvals: Approvals, status: str = "pending", mine: bool = True):
    """Gates in a status; with mine=true only those this user may decide."""
    with db.session() as session:
        approvals.expire_all(session)
        gates = session.scalars(select(Gate).where(Gate.status == status).order_by(Gate.created_at)).all()
        shown = []
        for gate in gates:
            execution = session.get(Execution, gate.execution_id)
            if not mine or may_decide(user, gate, execution) is None:
                shown.append(gate_out(session, gate))
        return shown


@router.get("/{gate_id}", response_model=GateOut)
def read(gate_id: str, user: CurrentUser, db: Db):
    with db.read() as session:
        gate = session.get(Gate, gate_id)
        if gate is None:
            raise HTTPException(404, f"no gate {gate_id}")
        return gate_out(session, gate)


@router.post("/{gate_id}/decision", response_model=GateOut)
def decide(gate_id: str, body: DecisionCreate, user: RequireApprover, runs: Runs):
    try:
        return runs.decide(user, gate_id, body.decision, body.comment)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    except Forbidden as error:
        raise HTTPException(403, str(error)) from None
    except Conflict as error:
        raise HTTPException(409, str(error)) from None
