"""Runs: submit (202), list, read, events (JSON and server-sent), cancel, relaunch, evidence export, the
run's story (its request in labels and names, the failure summary, its reports), and the gate endpoints
the approval module calls with the run's own token."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import Row, String, and_, cast, or_, select

from day2ops_app.audit import store
from day2ops_app.audit.export import export_csv, export_execution
from day2ops_app.catalog.forms import FormErrors
from day2ops_app.db.tables import Event, Evidence, Execution, Gate
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
from day2ops_app.runs.progress import host_progress, read_vm_results
from day2ops_app.runs.reports import list_reports, report_file
from day2ops_app.runs.story import summarize
from day2ops_app.schemas import MAX_ID, EventOut, ExecutionOut, GateCreate, GateOut, RunCreate
from day2ops_app.services.approvals import Conflict, gate_out, gate_status
from day2ops_app.services.labels import labelled_details, labelled_inputs, vm_names

# What ExecutionOut shows, read as Core rows for the runs list.
EXECUTION_FIELDS = tuple(getattr(Execution, name) for name in ExecutionOut.model_fields)
# A row keyed by ext_id (a run on the controller names VMs by ext_id); inventory hosts are names.
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

router = APIRouter(prefix="/api/runs", tags=["runs"])


def _execution(session, execution_id: str) -> Execution:
    return _found(session.get(Execution, execution_id), execution_id)


def _execution_row(connection, execution_id: str, *columns) -> Row:
    """_execution's columns, for a Core read (Database.reading)."""
    row = connection.execute(select(*columns).where(Execution.id == execution_id)).one_or_none()
    return _found(row, execution_id)


def _found(execution, execution_id: str):
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
async def list_runs(
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
    query = select(*EXECUTION_FIELDS).order_by(Execution.created_at.desc(), Execution.id.desc()).limit(limit)
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

    def read(connection) -> list[Row]:
        after = query
        if before is not None:
            # (created_at, id) as the cursor: an index walk from where the last page ended, however deep.
            anchor = _execution_row(connection, before, Execution.created_at, Execution.id)
            after = query.where(
                or_(
                    Execution.created_at < anchor.created_at,
                    and_(Execution.created_at == anchor.created_at, Execution.id < anchor.id),
                )
            )
        return list(connection.execute(after))

    page = await db.reading(read)
    if len(page) == limit:
        following = request.url.include_query_params(before=page[-1].id)
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return page


@router.get("/{execution_id}", response_model=ExecutionOut)
def get_run(execution_id: str, user: CurrentUser, db: Db):
    with db.read() as session:
        return _execution(session, execution_id)


@router.get("/{execution_id}/events", response_model=list[EventOut])
async def events(
    execution_id: str,
    user: CurrentUser,
    db: Db,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
):
    def read(connection):
        page = store.events_after(connection, execution_id, after, limit)
        if not page:  # a run with events exists; one without may not
            _execution_row(connection, execution_id, Execution.id)
        return page

    return await db.reading(read)


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


def _waiting(session, execution: Execution) -> bool:
    """A running playbook stopped at a gate of its own that nobody has decided yet."""
    gates = session.scalars(select(Gate).where(Gate.execution_id == execution.id, Gate.kind == "playbook"))
    return execution.status == "running" and any(gate_status(session, g) == "pending" for g in gates)


def _progress(session, runs, execution_id: str) -> dict:
    """host_progress with each VM's own task ids, and `waiting_for_approval` as the status of a run held
    at an in-run gate."""
    progress = host_progress(session, execution_id, read_vm_results(runs.run_dir(execution_id)))
    if _waiting(session, session.get(Execution, execution_id)):
        progress["status"] = "waiting_for_approval"
    return progress


async def _named(progress: dict, choices) -> dict[str, str]:
    """Each row gets its VM's name and ext_id (a row is keyed by either); the names, for the caller."""
    ext_ids = [row["host"] for row in progress["rows"] if UUID.fullmatch(row["host"])]
    names = await run_in_threadpool(vm_names, choices, ext_ids)
    by_name = {name: ext_id for ext_id, name in names.items()}
    for row in progress["rows"]:
        row["ext_id"] = row["host"] if row["host"] in names else by_name.get(row["host"])
        row["name"] = names.get(row["host"], row["host"])
    return names


@router.get("/{execution_id}/hosts")
async def hosts(execution_id: str, user: CurrentUser, db: Db, runs: Runs, choices: Choices) -> dict:
    """Per VM (its name and ext_id): its steps (task, outcome, its own Prism task ids), a progress
    percentage, failed or recovered; the run's status, `waiting_for_approval` at an in-run gate."""
    with db.read() as session:
        _execution(session, execution_id)
        progress = _progress(session, runs, execution_id)
    await _named(progress, choices)
    return progress


@router.get("/{execution_id}/summary")
async def summary(execution_id: str, user: CurrentUser, db: Db, runs: Runs, choices: Choices) -> dict:
    """The failure summary: the VMs that failed (name, step, the module's reason), those rolled back,
    what failed on the controller, and what the run left (recovery points kept until their expiry, VMs
    left powered off)."""
    with db.read() as session:
        execution = _execution(session, execution_id)
        progress = _progress(session, runs, execution_id)
        failures = session.scalars(
            select(Event)
            .where(
                Event.execution_id == execution_id,
                Event.event.in_(("runner_on_failed", "runner_on_unreachable")),
            )
            .order_by(Event.counter)
        )
        events = [{"event": e.event, "host": e.host, "task": e.task, "stdout": e.stdout} for e in failures]
        status = progress["status"] if execution.status == "running" else execution.status
    names = await _named(progress, choices)
    details = list(read_vm_results(runs.run_dir(execution_id)).values())
    return summarize(status, events, progress["rows"], details, names)


@router.get("/{execution_id}/request")
async def change_request(
    execution_id: str, user: CurrentUser, db: Db, catalog: AppCatalog, choices: Choices
) -> dict:
    """The run as a change request: the item's title, description and whether it destroys, who asked,
    the inputs under their labels with the names their dropdowns showed, each gate's details by name."""
    with db.read() as session:
        execution = _execution(session, execution_id)
        gates = session.scalars(select(Gate).where(Gate.execution_id == execution_id)).all()
        run = {"operator": execution.operator, "item_id": execution.item_id, "playbook": execution.playbook}
        inputs, details = dict(execution.inputs), {g.id: dict(g.details or {}) for g in gates}
    item = catalog.get(run["item_id"]) if run["item_id"] else None
    names = await run_in_threadpool(vm_names, choices)
    return {
        **run,
        "title": item.title if item else run["item_id"] or run["playbook"],
        "description": item.description if item else "",
        "destructive": bool(item and item.destructive),
        "secrets": sorted(item.secret_names()) if item else [],
        "inputs": await run_in_threadpool(labelled_inputs, item, inputs, choices),
        "gates": {gate_id: labelled_details(d, names) for gate_id, d in details.items()},
    }


@router.get("/{execution_id}/reports")
def reports(execution: OwnRunOrAdmin, runs: Runs) -> list[dict]:
    """The reports the run wrote (copied into its own directory when it ended): name and size."""
    return list_reports(runs.run_dir(execution.id))


@router.get("/{execution_id}/reports/{name}", response_class=FileResponse)
def report(execution: OwnRunOrAdmin, name: str, runs: Runs):
    """One report of the run, as a download; only a file of its own report directory."""
    path = report_file(runs.run_dir(execution.id), name)
    if path is None:
        raise HTTPException(404, f"run {execution.id} has no report {name}")
    return FileResponse(path, filename=path.name)


class Relaunch(BaseModel):
    secrets: dict[str, str] = Field({}, description="the item's secret inputs, entered again")


@router.post("/{execution_id}/relaunch", response_model=ExecutionOut, status_code=202)
def relaunch(execution: OwnRunOrAdmin, body: Relaunch, user: CurrentUser, catalog: AppCatalog, runs: Runs):
    """The same item with the same inputs, the secrets entered again (the store never kept them); it
    asks for approval again as any new run does."""
    if not execution.item_id:
        raise HTTPException(409, f"run {execution.id} ran a playbook, not a catalog item")
    item = runnable(catalog, user, execution.item_id)
    secrets = item.secret_names()
    inputs = {k: v for k, v in execution.inputs.items() if k not in secrets}
    inputs.update({k: v for k, v in body.secrets.items() if k in secrets})
    try:
        return runs.submit(user, item, inputs)
    except FormErrors as error:
        return JSONResponse(
            {"detail": f"the inputs of {item.id} are not valid", "errors": error.errors}, status_code=422
        )


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
