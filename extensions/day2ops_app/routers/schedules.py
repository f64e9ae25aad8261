"""Schedules: list, create and edit (inputs validated like a form), pause and resume, delete, run now;
every edit, deletion and run now is recorded in the audit store (schedule_changes)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from day2ops_app.catalog.forms import FormErrors, validate_inputs
from day2ops_app.catalog.model import Item
from day2ops_app.db.tables import Schedule, ScheduleChange, User
from day2ops_app.deps import (
    AppCatalog,
    AppSettings,
    Choices,
    CurrentUser,
    Db,
    Runs,
    owned_or_admin,
    runnable,
)
from day2ops_app.schemas import (
    MAX_ID,
    ExecutionOut,
    ScheduleChangeOut,
    ScheduleCreate,
    ScheduleEdit,
    ScheduleOut,
    ScheduleUpdate,
)
from day2ops_app.services.schedules import ScheduleError, check_interval, next_fire

router = APIRouter(prefix="/api/schedules", tags=["schedules"])
ScheduleId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _invalid(field: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"detail": "the schedule is not valid", "errors": [{"field": field, "message": message}]}, 422
    )


@router.get("", response_model=list[ScheduleOut])
def list_schedules(user: CurrentUser, db: Db):
    with db.read() as session:
        return list(session.scalars(select(Schedule).order_by(Schedule.name)))


class _Refused(Exception):
    def __init__(self, response: JSONResponse):
        self.response = response


def _secrets_left_out(item: Item, inputs: dict) -> dict:
    """The item's secrets from the app's environment; a secret given with the schedule is refused."""
    from_environment = item.secrets_from(os.environ)
    for secret in (i for i in item.inputs if i.type == "secret"):
        if inputs.get(secret.name) not in (None, ""):
            raise _Refused(
                _invalid(
                    f"inputs.{secret.name}",
                    f"secrets are never stored with a schedule: leave it out; scheduled runs take it from "
                    f"{secret.env} in the app's environment",
                )
            )
        if secret.required and secret.name not in from_environment:
            raise _Refused(
                _invalid(
                    f"inputs.{secret.name}",
                    f"a required secret: set {secret.env} in the app's environment for scheduled runs",
                )
            )
    return from_environment


def _checked(item: Item, body: ScheduleCreate | ScheduleEdit, choices, settings) -> tuple[dict, datetime]:
    """The inputs to store (validated like the form, secrets left out) and the first fire; or _Refused."""
    from_environment = _secrets_left_out(item, body.inputs)
    try:
        values = validate_inputs(item, {**body.inputs, **from_environment}, choices)
        first = next_fire(body.cron, body.timezone, datetime.now(UTC))
        check_interval(body.cron, body.timezone, first, settings.min_schedule_seconds)
    except FormErrors as error:
        raise _Refused(
            JSONResponse({"detail": "the schedule's inputs are not valid", "errors": error.errors}, 422)
        ) from None
    except ScheduleError as error:
        raise _Refused(_invalid(error.field, error.message)) from None
    return {k: v for k, v in values.items() if k not in item.secret_names()}, first


@router.post("", response_model=ScheduleOut, status_code=201)
def create(
    body: ScheduleCreate,
    user: CurrentUser,
    db: Db,
    catalog: AppCatalog,
    choices: Choices,
    settings: AppSettings,
):
    item = runnable(catalog, user, body.item_id)
    try:
        inputs, first = _checked(item, body, choices, settings)
    except _Refused as refused:
        return refused.response
    with db.session() as session:
        schedule = Schedule(
            name=body.name,
            item_id=item.id,
            inputs=inputs,
            cron=body.cron,
            timezone=body.timezone,
            missed=body.missed,
            enabled=body.enabled,
            owner=user.username,
            next_fire_at=first,
        )
        session.add(schedule)
        try:
            session.flush()
        except IntegrityError:
            raise HTTPException(409, f"a schedule named {body.name} exists already") from None
        return schedule


@router.get("/changes", response_model=list[ScheduleChangeOut])
def changes(user: CurrentUser, db: Db, schedule_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None):
    """The audit record of schedule edits, deletions and runs now, newest first."""
    query = select(ScheduleChange).order_by(ScheduleChange.id.desc()).limit(500)
    if schedule_id is not None:
        query = query.where(ScheduleChange.schedule_id == schedule_id)
    with db.read() as session:
        return list(session.scalars(query))


def _record(session, schedule: Schedule, action: str, user: User, detail: dict, execution_id=None) -> None:
    session.add(
        ScheduleChange(
            schedule_id=schedule.id,
            schedule_name=schedule.name,
            action=action,
            actor=user.username,
            detail=detail,
            execution_id=execution_id,
        )
    )


def _owned(session, schedule_id: int, user: User) -> Schedule:
    schedule = session.get(Schedule, schedule_id)
    denied = "only the schedule's owner, or an admin, may change it"
    return owned_or_admin(schedule, "owner", user, f"no schedule {schedule_id}", denied)


@router.patch("/{schedule_id}", response_model=ScheduleOut)
def pause_or_resume(schedule_id: ScheduleId, body: ScheduleUpdate, user: CurrentUser, db: Db):
    with db.session() as session:
        schedule = _owned(session, schedule_id, user)
        if body.enabled and not schedule.enabled:
            # Resuming never fires the times that passed while paused.
            try:
                schedule.next_fire_at = next_fire(schedule.cron, schedule.timezone, datetime.now(UTC))
            except ScheduleError as error:  # a cron with a year may fire no more
                return _invalid(error.field, error.message)
        schedule.enabled = body.enabled
        return schedule


@router.put("/{schedule_id}", response_model=ScheduleOut)
def edit(
    schedule_id: ScheduleId,
    body: ScheduleEdit,
    user: CurrentUser,
    db: Db,
    catalog: AppCatalog,
    choices: Choices,
    settings: AppSettings,
):
    """Change the name, cron, time zone, missed policy or inputs, checked as on create; the next fire is
    worked out again from now. Who changed what is recorded."""
    with db.read() as session:
        item_id = _owned(session, schedule_id, user).item_id
    item = runnable(catalog, user, item_id)
    try:
        inputs, first = _checked(item, body, choices, settings)
    except _Refused as refused:
        return refused.response
    wanted = {**body.model_dump(exclude={"inputs"}), "inputs": inputs}
    with db.session() as session:
        schedule = _owned(session, schedule_id, user)
        before = {name: getattr(schedule, name) for name in wanted}
        for name, value in wanted.items():
            setattr(schedule, name, value)
        schedule.next_fire_at = first
        changed = {k: {"from": before[k], "to": v} for k, v in wanted.items() if before[k] != v}
        _record(session, schedule, "edit", user, changed)
        try:
            session.flush()
        except IntegrityError:
            raise HTTPException(409, f"a schedule named {body.name} exists already") from None
        return schedule


@router.post("/{schedule_id}/run", response_model=ExecutionOut, status_code=202)
def run_now(schedule_id: ScheduleId, user: CurrentUser, db: Db, catalog: AppCatalog, runs: Runs):
    """A run like the schedule's (its inputs, its secrets from the environment), started now by the
    caller and through the item's approval rules; the schedule's own times do not move."""
    with db.read() as session:
        schedule = _owned(session, schedule_id, user)
        name, item_id, inputs = schedule.name, schedule.item_id, dict(schedule.inputs)
    item = runnable(catalog, user, item_id)
    why = f"run now by {user.username} from schedule {schedule_id} ({name})"
    try:
        execution = runs.submit(user, item, inputs, schedule_id=schedule_id, reason=why)
    except FormErrors as error:
        return JSONResponse(
            {"detail": f"the schedule's inputs no longer fit {item.id}", "errors": error.errors},
            422,
        )
    with db.session() as session:
        _record(session, _owned(session, schedule_id, user), "run_now", user, {}, execution.id)
    return execution


@router.delete("/{schedule_id}", status_code=204)
def delete(schedule_id: ScheduleId, user: CurrentUser, db: Db):
    with db.session() as session:
        schedule = _owned(session, schedule_id, user)
        kept = {"item_id": schedule.item_id, "cron": schedule.cron, "timezone": schedule.timezone}
        _record(
            session, schedule, "delete", user, {**kept, "inputs": schedule.inputs, "owner": schedule.owner}
        )
        session.delete(schedule)
