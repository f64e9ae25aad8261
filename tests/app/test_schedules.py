"""Schedules: two app instances on one database fire each time exactly once; time zones; missed fires."""

import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest
from app_process import TEST_CATALOG, start_app
from day2ops_app.audit import chain
from day2ops_app.db.engine import Database
from day2ops_app.db.tables import Execution, ExecutionTransition, Schedule, ScheduleFire
from day2ops_app.services.schedules import ScheduleError, Scheduler, next_fire
from sqlalchemy import select


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_instances_fire_each_time_once(sim, tmp_path, backend, request):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"schedules_{tmp_path.name[-8:]}")
    # Fires every 2 s, well below the default minimum interval, to see many fires quickly.
    quick = {"min_schedule_seconds": 1, **TEST_CATALOG}
    first = start_app(sim, tmp_path / "a", url, instance_id="app-a", **quick)
    second = start_app(sim, tmp_path / "b", url, users=False, instance_id="app-b", **quick)
    try:
        olivia = first.client("olivia")
        r = olivia.post(
            "/api/schedules",
            {"name": "every 2 s", "item_id": "noop", "inputs": {"message": "tick"}, "cron": "* * * * * */2"},
        )
        assert r.status_code == 201, r.text
        schedule = r.json()
        time.sleep(9)
        assert olivia.patch(f"/api/schedules/{schedule['id']}", {"enabled": False}).json()["enabled"] is False
        time.sleep(1.5)  # a fire already claimed may still be starting its run
    finally:
        first.stop()
        second.stop()
    db = Database(url)
    with db.session() as session:
        fires = session.scalars(select(ScheduleFire).order_by(ScheduleFire.due_at)).all()
        executions = session.scalars(select(Execution).where(Execution.schedule_id == schedule["id"])).all()
    db.dispose()
    dues = [f.due_at for f in fires]
    assert len(fires) >= 3
    assert len(set(dues)) == len(dues)
    # Every fire started exactly one run, and every run came from one fire.
    assert sorted(f.execution_id for f in fires) == sorted(e.id for e in executions)
    assert {e.source for e in executions} == {"schedule"} and {e.operator for e in executions} == {"olivia"}
    # Consecutive times: none skipped, none doubled.
    steps = {(b - a).total_seconds() for a, b in itertools.pairwise(dues)}
    assert steps == {2.0}, dues


def test_schedule_validation(sim, tmp_path):
    app = start_app(sim, tmp_path, f"sqlite:///{tmp_path / 'audit.db'}", **TEST_CATALOG)
    try:
        olivia = app.client("olivia")
        body = {"name": "nightly", "item_id": "noop", "inputs": {"message": "hi"}, "cron": "0 2 * * *"}
        for change, field in (
            ({"cron": "every night"}, "cron"),
            ({"timezone": "Mars/Olympus"}, "timezone"),
            ({"inputs": {}}, "message"),
        ):
            r = olivia.post("/api/schedules", {**body, **change})
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
        r = olivia.post("/api/schedules", {**body, "timezone": "Europe/Berlin"})
        assert r.status_code == 201
        assert olivia.post("/api/schedules", {**body, "timezone": "Europe/Berlin"}).status_code == 409
        # Only its owner (or an admin) pauses it.
        assert (
            app.client("sam").patch(f"/api/schedules/{r.json()['id']}", {"enabled": False}).status_code == 403
        )
        # A required secret nobody types at fire time: the app's environment must hold it.
        r = olivia.post("/api/schedules", {**body, "name": "tok", "item_id": "needs_token", "inputs": {}})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "inputs.token"
        assert "DAY2OPS_TEST_TOKEN" in r.json()["errors"][0]["message"]
    finally:
        app.stop()


def test_a_scheduled_run_takes_its_secret_from_the_app_environment(sim, tmp_path, webhook):
    """Daily DR or weekly chargeback post to a webhook: the schedule stores no URL, the run gets it from
    DAY2OPS_WEBHOOK_URL where the app runs, and it lands nowhere the app writes."""
    app = start_app(
        sim, tmp_path, f"sqlite:///{tmp_path / 'audit.db'}", webhook_url=webhook.url, min_schedule_seconds=1
    )
    try:
        olivia = app.client("olivia")
        body = {"name": "chargeback", "item_id": "chargeback", "cron": "* * * * * */3"}
        r = olivia.post("/api/schedules", {**body, "inputs": {"webhook_url": webhook.url}})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "inputs.webhook_url"
        r = olivia.post("/api/schedules", {**body, "inputs": {"group_by": "Department"}})
        assert r.status_code == 201, r.text
        assert "webhook_url" not in r.json()["inputs"]
        deadline = time.monotonic() + 120
        while not (runs := olivia.get("/api/runs", params={"item_id": "chargeback"}).json()):
            assert time.monotonic() < deadline
            time.sleep(0.5)
        olivia.patch(f"/api/schedules/{r.json()['id']}", {"enabled": False})
        done = olivia.wait(runs[-1]["id"])
        assert done["status"] == "successful" and done["source"] == "schedule"
        assert done["inputs"]["webhook_url"] == "********"
        assert webhook.received
    finally:
        app.stop()
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".log"]
    stored = b"".join(p.read_bytes() for p in written if "ansible-home" not in p.parts)
    assert webhook.url.encode() not in stored


def test_next_fire_keeps_local_time_across_daylight_saving():
    before = datetime(2026, 10, 24, 12, tzinfo=UTC)  # Berlin is UTC+2 until 25 October
    first = next_fire("0 2 * * *", "Europe/Berlin", before)
    second = next_fire("0 2 * * *", "Europe/Berlin", first)
    assert first == datetime(2026, 10, 25, 0, tzinfo=UTC)  # 02:00 CEST (the clocks go back at 03:00)
    assert second == datetime(2026, 10, 26, 1, tzinfo=UTC)  # 02:00 CET: an hour later in UTC, same local hour
    with pytest.raises(ScheduleError, match="timezone"):
        next_fire("0 2 * * *", "Nowhere/Else", before)


@pytest.mark.parametrize(("policy", "runs"), [("skip", 0), ("run_once", 1)])
def test_missed_fires(db, policy, runs):
    """The app was down for three fire times: `skip` runs none, `run_once` one, for the latest."""
    now = datetime(2026, 11, 25, 12, 0, 30, tzinfo=UTC)
    with db.session() as session:
        session.add(
            Schedule(
                name="hourly",
                item_id="noop",
                inputs={},
                cron="0 * * * *",
                timezone="UTC",
                missed=policy,
                owner="olivia",
                next_fire_at=now - timedelta(hours=3),
            )
        )
    fired = []
    scheduler = Scheduler(db, "test", timedelta(minutes=2), lambda s, owner: fired.append(s.id) or "e-1")
    scheduler.tick(now)
    scheduler.tick(now + timedelta(seconds=5))  # nothing more is due
    assert len(fired) == runs
    with db.session() as session:
        schedule = session.scalars(select(Schedule)).one()
        fires = session.scalars(select(ScheduleFire)).all()
    assert schedule.next_fire_at.replace(tzinfo=UTC) == datetime(2026, 11, 25, 13, tzinfo=UTC)
    assert [f.due_at.replace(tzinfo=UTC) for f in fires] == [datetime(2026, 11, 25, 12, tzinfo=UTC)]


def test_a_fire_that_cannot_start_is_a_failed_execution(db):
    """The owner was disabled since: no run, but the audit record says the schedule fired and why not."""
    now = datetime(2026, 11, 25, 12, 0, 1, tzinfo=UTC)
    with db.session() as session:
        session.add(
            Schedule(
                name="nightly",
                item_id="noop",
                inputs={"message": "hi"},
                cron="0 12 * * *",
                timezone="UTC",
                owner="olivia",
                next_fire_at=datetime(2026, 11, 25, 12, tzinfo=UTC),
            )
        )

    def refuse(schedule, owner):
        raise PermissionError("its owner olivia is gone or disabled")

    Scheduler(db, "test", timedelta(minutes=2), refuse).tick(now)
    with db.session() as session:
        (execution,) = session.scalars(select(Execution)).all()
        schedule = session.scalars(select(Schedule)).one()
        (fire,) = session.scalars(select(ScheduleFire)).all()
        transitions = session.scalars(select(ExecutionTransition)).all()
        report = chain.verify(session)
    assert (execution.status, execution.source, execution.operator) == ("failed", "schedule", "olivia")
    assert fire.execution_id == execution.id == schedule.last_execution_id
    assert "owner olivia is gone or disabled" in transitions[-1].reason
    assert report.ok, report.problems
