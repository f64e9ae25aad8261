"""The audit chain's state."""

from __future__ import annotations

from fastapi import APIRouter, Request

from day2ops_app.audit import chain
from day2ops_app.deps import CurrentUser
from day2ops_app.schemas import Verification

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("/verify", response_model=Verification)
def verify(request: Request, user: CurrentUser):
    with request.app.state.db.session() as session:
        return chain.verify(session).as_dict()
