"""Schedules: list, create (inputs validated like a form), pause and resume, delete."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from day2ops_app.catalog.forms import FormErrors, validate_inputs
from day2ops_app.db.tables import Schedule, User
from day2ops_app.deps import AppCatalog, AppSettings, Choices, CurrentUser, Db, owned_or_admin, runnable
from day2ops_app.schemas import MAX_ID, ScheduleCreate, ScheduleOut, ScheduleUpdate
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
    from_environment = item.secrets_from(os.environ)
    for secret in (i for i in item.inputs if i.type == "secret"):
        if body.inputs.get(secret.name) not in (None, ""):
            return _invalid(
                f"inputs.{secret.name}",
                f"secrets are never stored with a schedule: leave it out; scheduled runs take it from "
                f"{secret.env} in the app's environment",
            )
        if secret.required and secret.name not in from_environment:
            return _invalid(
                f"inputs.{secret.name}",
                f"a required secret: set {secret.env} in the app's environment for scheduled runs",
            )
    try:
        values = validate_inputs(item, {**body.inputs, **from_environment}, choices)
        inputs = {k: v for k, v in values.items() if k not in item.secret_names()}
        first = next_fire(body.cron, body.timezone, datetime.now(UTC))
        check_interval(body.cron, body.timezone, first, settings.min_schedule_seconds)
    except FormErrors as error:
        return JSONResponse({"detail": "the schedule's inputs are not valid", "errors": error.errors}, 422)
    except ScheduleError as error:
        return _invalid(error.field, error.message)
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


@router.delete("/{schedule_id}", status_code=204)
def delete(schedule_id: ScheduleId, user: CurrentUser, db: Db):
    with db.session() as session:
        session.delete(_owned(session, schedule_id, user))
