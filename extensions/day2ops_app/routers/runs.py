"""Runs: submit (202), list, read, events (JSON and server-sent), cancel, evidence export,
and the gate endpoints the approval module calls with the run's own token."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy import String, and_, cast, or_, select

from day2ops_app.audit import store
from day2ops_app.audit.export import export_csv, export_execution
from day2ops_app.catalog.forms import FormErrors
from day2ops_app.db.tables import Evidence, Execution, Gate
from day2ops_app.deps import (
    AppCatalog,
    Approvals,
    Choices,
    CurrentUser,
    Db,
    OwnRunOrAdmin,
    Runs,
    RunToken,
    runnable,
    scope_preview,
)
from day2ops_app.runs.progress import host_progress
from day2ops_app.schemas import MAX_ID, EventOut, ExecutionOut, GateCreate, GateOut, RunCreate
from day2ops_app.services.approvals import Conflict, gate_out

router = APIRouter(prefix="/api/runs", tags=["runs"])


def _execution(session, execution_id: str) -> Execution:
    execution = session.get(Execution, execution_id)
    if execution is None:
        raise HTTPException(404, f"no execution {execution_id}")
    return execution


@router.post("", response_model=ExecutionOut, status_code=202)
def submit(body: RunCreate, user: CurrentUser, catalog: AppCatalog, runs: Runs):
    item = runnable(catalog, user, body.item_id)
    try:
        return runs.submit(user, item, body.inputs)
    except FormErrors as error:
        return JSONResponse(
            {"detail": f"the inputs of {item.id} are not valid", "errors": error.errors}, status_code=422
        )


@router.get("", response_model=list[ExecutionOut])
def list_runs(
    request: Request,
    response: Response,
    user: CurrentUser,
    db: Db,
    item_id: str | None = None,
    operator: str | None = None,
    status: str | None = None,
    vm: Annotated[str | None, Query(description="a VM ext_id in the run's evidence")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: Annotated[
        str | None, Query(max_length=36, description="an execution id: the runs requested before it")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
):
    """Newest first, a page at a time: when there may be more, the Link header names the next page."""
    query = select(Execution).order_by(Execution.created_at.desc(), Execution.id.desc()).limit(limit)
    for column, value in (
        (Execution.item_id, item_id),
        (Execution.operator, operator),
        (Execution.status, status),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(Execution.created_at >= since)
    if until is not None:
        query = query.where(Execution.created_at <= until)
    if vm:
        # By name (the inventory host) or ext_id, in the evidence of what the run did.
        touched = select(Evidence.execution_id).where(
            or_(Evidence.host == vm, cast(Evidence.vm_ext_ids, String).contains(f'"{vm}"'))
        )
        query = query.where(Execution.id.in_(touched))
    with db.read() as session:
        if before is not None:
            # (created_at, id) as the cursor: an index walk from where the last page ended, however deep.
            anchor = _execution(session, before)
            query = query.where(
                or_(
                    Execution.created_at < anchor.created_at,
                    and_(Execution.created_at == anchor.created_at, Execution.id < anchor.id),
                )
            )
        page = list(session.scalars(query))
    if len(page) == limit:
        following = request.url.include_query_params(before=page[-1].id)
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return page


@router.get("/{execution_id}", response_model=ExecutionOut)
def get_run(execution_id: str, user: CurrentUser, db: Db):
    with db.read() as session:
        return _execution(session, execution_id)


@router.get("/{execution_id}/events", response_model=list[EventOut])
def events(
    execution_id: str,
    user: CurrentUser,
    db: Db,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
):
    with db.read() as session:
        _execution(session, execution_id)
        return store.events_after(session, execution_id, after, limit)


@router.get("/{execution_id}/events/stream", response_class=StreamingResponse)
async def stream(
    execution_id: str,
    request: Request,
    user: CurrentUser,
    db: Db,
    last_event_id: Annotated[str | None, Header()] = None,
):
    """Server-sent events: each runner event (`event: runner`, id = its counter), each status change
    (`event: status`), until the run has ended and every event was sent. Resumes after Last-Event-ID."""
    with db.read() as session:
        _execution(session, execution_id)

    def read(after: int):
        with db.read() as session:
            execution = session.get(Execution, execution_id)
            rows = store.events_after(session, execution_id, after)
            return execution.status, [EventOut.model_validate(r).model_dump() for r in rows]

    async def generate():
        after = (
            min(int(last_event_id), MAX_ID)
            if last_event_id and last_event_id.isascii() and last_event_id.isdigit()
            else 0
        )
        last_status = None
        while True:
            status, rows = await run_in_threadpool(read, after)
            for row in rows:
                after = row["counter"]
                yield f"id: {after}\nevent: runner\ndata: {json.dumps(row)}\n\n"
            if status != last_status:
                last_status = status
                yield f"event: status\ndata: {json.dumps({'status': status})}\n\n"
            if status in store.TERMINAL and not rows:
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.5)

    return StreamingResponse(
        generate(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


@router.get("/{execution_id}/hosts")
def hosts(execution_id: str, user: CurrentUser, db: Db) -> dict:
    """Per VM: its steps (task, outcome, Prism task ids), a progress percentage, failed or recovered."""
    with db.read() as session:
        _execution(session, execution_id)
        return host_progress(session, execution_id)


@router.get("/{execution_id}/scope")
async def scope(execution_id: str, user: CurrentUser, db: Db, catalog: AppCatalog, choices: Choices) -> dict:
    """The VMs in scope of this run's inputs as Prism lists them now, for its reviewers."""
    with db.read() as session:
        execution = _execution(session, execution_id)
        item_id, inputs = execution.item_id, dict(execution.inputs)
    item = catalog.get(item_id) if item_id else None
    if item is None:
        return {"scope": None, "count": None, "vms": []}
    return await scope_preview(choices, item, inputs)


@router.post("/{execution_id}/cancel", response_model=ExecutionOut, status_code=202)
def cancel(execution: OwnRunOrAdmin, user: CurrentUser, runs: Runs):
    try:
        return runs.cancel(user, execution.id)
    except store.InvalidTransition as error:
        raise HTTPException(409, str(error)) from None


@router.get("/{execution_id}/evidence")
def evidence(execution_id: str, user: CurrentUser, db: Db, format: str = "json"):
    """The execution's whole record as JSON, or its evidence as CSV (one row per host and task)."""
    if format not in ("json", "csv"):
        raise HTTPException(422, "format: json or csv")
    with db.read() as session:
        _execution(session, execution_id)
        record = export_execution(session, execution_id)
    if format == "csv":
        return Response(
            export_csv(record),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="day2ops-{execution_id}.csv"'},
        )
    return Response(
        json.dumps(record, indent=2, default=str),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="day2ops-{execution_id}.json"'},
    )


# -- gates opened by a running playbook (day2ops.ahv.approval), with the run's own token ----------


@router.post("/{execution_id}/gates", response_model=GateOut, status_code=201)
def open_gate(execution_id: RunToken, body: GateCreate, db: Db, approvals: Approvals):
    if not body.reviewers and not body.reviewer_group:
        raise HTTPException(422, "reviewers or reviewer_group: name who may approve this gate")
    with db.session() as session:
        execution = _execution(session, execution_id)
        try:
            gate, created = approvals.open_playbook_gate(session, execution, body.model_dump())
        except Conflict as error:
            raise HTTPException(409, str(error)) from None
        out = gate_out(session, gate)
    return JSONResponse(json.loads(out.model_dump_json()), status_code=201 if created else 200)


@router.get("/{execution_id}/gates/{gate_id}", response_model=GateOut)
def read_gate(execution_id: RunToken, gate_id: str, db: Db, approvals: Approvals):
    with db.session() as session:
        gate = session.get(Gate, gate_id)
        if gate is None or gate.execution_id != execution_id:
            raise HTTPException(404, f"no gate {gate_id} in execution {execution_id}")
        approvals.expire(session, gate)
        return gate_out(session, gate)
