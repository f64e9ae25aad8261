"""The audit chain's state: a cheap incremental check for pages, the whole verification for admins."""

from __future__ import annotations

from fastapi import APIRouter

from day2ops_app.audit import chain
from day2ops_app.audit.checkpoint import log_path
from day2ops_app.deps import Audit, AuditVerifier, CurrentUser, Db, RequireAdmin
from day2ops_app.schemas import Verification

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("/status", response_model=Verification)
def status(user: CurrentUser, db: Db, verifier: AuditVerifier):
    """The chain up to its head, checking only the entries added since the last call (in this app
    instance): what the history page shows. Rows changed long ago show in /api/audit/verify."""
    with db.read() as session:
        return verifier.check(session).as_dict()


@router.get("/verify", response_model=Verification)
def verify(user: RequireAdmin, db: Db, audit: Audit):
    """The whole chain, every row and derived status against it, and the app's checkpoint log: it reads
    the whole store, so admins only."""
    checkpoints = audit.checkpoints
    log = log_path(checkpoints.path) if checkpoints else None
    with db.read() as session:
        return chain.verify(session, checkpoints=log if log and log.exists() else None).as_dict()
