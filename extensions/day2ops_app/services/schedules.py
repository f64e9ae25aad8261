"""Schedules: cron per catalog item with fixed inputs, in a time zone, fired exactly once.

Every instance ticks; before starting a run an instance inserts the fire (schedule, due time) into
`schedule_fires`, whose unique key is the lease: the insert that wins starts the run, the others
roll back and skip. Missed fires (the app was down longer than the grace) follow the schedule's
`missed` policy: `skip` runs none of them and waits for the next time, `run_once` runs one now for
the latest missed time.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from day2ops_app.audit import store
from day2ops_app.db.engine import Database
from day2ops_app.db.tables import Schedule, ScheduleFire, User, aware

log = logging.getLogger("day2ops.schedules")


class ScheduleError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            "timezone", f"{name!r} is not an IANA time zone; use e.g. Europe/Berlin or UTC"
        ) from None


def local_time(at: datetime, timezone: str) -> str:
    """`at` as the schedule's own clock shows it, with the zone's abbreviation and name, so nobody reads
    a fire time in their browser's zone: "Mon 7 Dec 2026 07:00 CET (Europe/Berlin)"."""
    local = aware(at).astimezone(zone(timezone))
    text = f"{local:%a} {local.day} {local:%b %Y %H:%M} {local.tzname()}"
    return text if local.tzname() == timezone else f"{text} ({timezone})"


def next_fire(cron: str, timezone: str, after: datetime) -> datetime:
    """The first fire strictly after `after`, as UTC; the cron is read in the schedule's time zone,
    so '0 2 * * *' stays at 02:00 local across daylight saving changes."""
    if not croniter.is_valid(cron):
        raise ScheduleError(
            "cron",
            f"{cron!r} is not a cron expression; five fields (minute hour day month weekday, "
            "e.g. '0 2 * * *'), a sixth adds seconds",
        )
    local = after.astimezone(zone(timezone))
    try:
        times = croniter(cron, local)
        candidate = times.get_next(datetime)
        # When the clocks go back, 02:30 happens twice; croniter offers both, cron runs a job once.
        while candidate.replace(tzinfo=None) <= local.replace(tzinfo=None):
            candidate = times.get_next(datetime)
    except (CroniterError, OverflowError):
        raise ScheduleError(
            "cron",
            f"{cron!r} never fires after {after:%Y-%m-%d %H:%M} (say, a 30 February, or a year gone by or "
            "decades away); check the day, month and year fields",
        ) from None
    return candidate.astimezone(UTC)


def check_interval(cron: str, timezone: str, after: datetime, minimum_seconds: float) -> None:
    """Refuse a cron whose next fires come closer together than `minimum_seconds` (each fire is a run)."""
    fires = [next_fire(cron, timezone, after)]
    with contextlib.suppress(ScheduleError):  # one with a year may stop firing: fewer fires to compare
        while len(fires) < 24:  # enough to meet every minute or hour list of a day's first hours
            fires.append(next_fire(cron, timezone, fires[-1]))
    shortest = min(((b - a).total_seconds() for a, b in pairwise(fires)), default=None)
    if shortest is not None and shortest < minimum_seconds:
        raise ScheduleError(
            "cron",
            f"{cron!r} fires {shortest:g} s apart; schedules fire at least {minimum_seconds:g} s apart "
            "(DAY2OPS_MIN_SCHEDULE_SECONDS)",
        )


class Scheduler:
    def __init__(self, db: Database, instance_id: str, grace: timedelta, fire):
        self.db = db
        self.instance_id = instance_id
        self.grace = grace
        self.fire = fire  # (schedule, owner) -> execution id; raises on refusal

    def tick(self, now: datetime | None = None) -> list[str]:
        """Fire every due schedule this instance wins; returns the execution ids it started."""
        now = now or datetime.now(UTC)
        with self.db.session() as session:
            due = session.scalars(
                select(Schedule).where(Schedule.enabled, Schedule.next_fire_at <= now)
            ).all()
            due_ids = [(s.id, aware(s.next_fire_at)) for s in due]
        started = []
        for schedule_id, due_at in due_ids:
            execution_id = self._fire_once(schedule_id, due_at, now)
            if execution_id:
                started.append(execution_id)
        return started

    def _refused(self, schedule: Schedule, error: Exception) -> str:
        """A fire that could not start a run (owner disabled, item gone, inputs no longer valid) is
        still an execution in the audit record: failed, with the reason."""
        with self.db.session() as session:
            execution = store.create_execution(
                session,
                source="schedule",
                item_id=schedule.item_id,
                playbook="",
                operator=schedule.owner,
                inputs=schedule.inputs,
                schedule_id=schedule.id,
                status="queued",
                instance_id=self.instance_id,
                reason=f"schedule {schedule.id}",
            )
            store.transition(
                session, execution, "failed", "day2ops", f"the schedule could not start it: {error}"
            )
            return execution.id

    def _fire_once(self, schedule_id: int, due_at: datetime, now: datetime) -> str | None:
        try:
            with self.db.session() as session:
                schedule = session.get(Schedule, schedule_id)
                if schedule is None or aware(schedule.next_fire_at) != due_at:
                    return None  # another instance moved it on already
                missed = now - due_at > self.grace
                fire_at = due_at
                if missed:
                    latest = due_at
                    with contextlib.suppress(ScheduleError):  # no later fire: the due one is the latest
                        while (candidate := next_fire(schedule.cron, schedule.timezone, latest)) <= now:
                            latest = candidate
                    fire_at = latest
                try:
                    schedule.next_fire_at = next_fire(schedule.cron, schedule.timezone, max(now, fire_at))
                except ScheduleError:
                    # A cron with a year fires no more: this schedule ends; the tick goes on to the others.
                    schedule.enabled = False
                run = not missed or schedule.missed == "run_once"
                session.add(
                    ScheduleFire(schedule_id=schedule_id, due_at=fire_at, instance_id=self.instance_id)
                )
                session.flush()  # the lease: a second instance's insert of the same fire fails here
                if not run:
                    log.warning(
                        "schedule %s missed %s; policy skip: next at %s",
                        schedule.name,
                        fire_at,
                        schedule.next_fire_at,
                    )
                    return None
                owner = session.scalars(select(User).where(User.username == schedule.owner)).one_or_none()
                schedule.last_fire_at = fire_at
        except IntegrityError:
            return None
        try:
            execution_id = self.fire(schedule, owner)
        except Exception as error:
            log.error("schedule %s could not start: %s", schedule.name, error)
            execution_id = self._refused(schedule, error)
        with self.db.session() as session:
            session.get(Schedule, schedule_id).last_execution_id = execution_id
            fire = session.scalars(
                select(ScheduleFire).where(
                    ScheduleFire.schedule_id == schedule_id, ScheduleFire.due_at == fire_at
                )
            ).one()
            fire.execution_id = execution_id
        return execution_id
