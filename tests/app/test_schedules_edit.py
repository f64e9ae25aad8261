"""Schedules over HTTP: edit, delete and run now, who may, what the audit keeps, and the next fire in the
schedule's own time zone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from app_process import TEST_CATALOG, start_app

BODY = {"name": "weekly", "item_id": "noop", "inputs": {"message": "hi"}, "cron": "0 7 * * mon"}


@pytest.fixture
def app(sim, tmp_path):
    app = start_app(sim, tmp_path, f"sqlite:///{tmp_path / 'audit.db'}", **TEST_CATALOG)
    yield app
    app.stop()


def _put(client, schedule_id, body):
    return client.session.put(f"{client.url}/api/schedules/{schedule_id}", json=body, timeout=60)


def _delete(client, schedule_id):
    return client.session.delete(f"{client.url}/api/schedules/{schedule_id}", timeout=60)


def _at(text, zone="UTC"):
    """A time from the API in `zone` (SQLite hands it back without its UTC offset)."""
    at = datetime.fromisoformat(text)
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(ZoneInfo(zone))


def _changes(client, schedule_id):
    return client.get("/api/schedules/changes", params={"schedule_id": schedule_id}).json()


def test_the_next_fire_reads_in_the_schedule_own_time_zone(app):
    olivia = app.client("olivia")
    schedule = olivia.post("/api/schedules", {**BODY, "timezone": "Europe/Berlin"}).json()
    at = _at(schedule["next_fire_at"], "Europe/Berlin")
    assert (at.weekday(), at.hour, at.minute) == (0, 7, 0)
    abbreviation = at.tzname()  # CET in winter, CEST in summer
    assert schedule["next_fire_local"] == f"Mon {at.day} {at:%b %Y} 07:00 {abbreviation} (Europe/Berlin)"
    utc = olivia.post("/api/schedules", {**BODY, "name": "utc", "timezone": "UTC"}).json()
    assert utc["next_fire_local"].endswith(" 07:00 UTC")


def test_edit_changes_what_was_asked_and_the_audit_says_who(app):
    olivia = app.client("olivia")
    schedule = olivia.post("/api/schedules", BODY).json()
    edit = {"name": "weekly Berlin", "inputs": {"message": "bye"}, "cron": "30 6 * * tue"}
    r = _put(olivia, schedule["id"], {**edit, "timezone": "Europe/Berlin", "missed": "run_once"})
    assert r.status_code == 200, r.text
    edited = r.json()
    assert (edited["name"], edited["cron"], edited["timezone"], edited["missed"]) == (
        "weekly Berlin",
        "30 6 * * tue",
        "Europe/Berlin",
        "run_once",
    )
    assert edited["inputs"] == {"message": "bye"} and edited["item_id"] == "noop"
    at = _at(edited["next_fire_at"], "Europe/Berlin")
    assert (at.weekday(), at.hour, at.minute) == (1, 6, 30) and at > datetime.now(UTC)
    assert olivia.get("/api/schedules").json()[0]["name"] == "weekly Berlin"
    (change,) = _changes(olivia, schedule["id"])
    assert (change["action"], change["actor"], change["schedule_name"]) == ("edit", "olivia", "weekly Berlin")
    assert change["detail"]["cron"] == {"from": "0 7 * * mon", "to": "30 6 * * tue"}
    assert change["detail"]["inputs"] == {"from": {"message": "hi"}, "to": {"message": "bye"}}
    # Checked as on create: a bad cron, zone or input is refused and changes nothing.
    for bad, field in (({"cron": "sometimes"}, "cron"), ({"timezone": "Mars/Olympus"}, "timezone")):
        r = _put(olivia, schedule["id"], {**edit, **bad})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    r = _put(olivia, schedule["id"], {**edit, "inputs": {}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "message", r.text
    assert olivia.get("/api/schedules").json()[0]["cron"] == "30 6 * * tue"
    assert len(_changes(olivia, schedule["id"])) == 1
    # A name another schedule has is a conflict.
    olivia.post("/api/schedules", {**BODY, "name": "other"})
    assert _put(olivia, schedule["id"], {**edit, "name": "other"}).status_code == 409


def test_only_the_owner_or_an_admin_edits_deletes_or_runs_it(app):
    olivia, sam, ada = app.client("olivia"), app.client("sam"), app.client("ada")
    schedule = olivia.post("/api/schedules", BODY).json()
    assert _put(sam, schedule["id"], {**BODY, "name": "mine"}).status_code == 403
    assert sam.post(f"/api/schedules/{schedule['id']}/run").status_code == 403
    assert _delete(sam, schedule["id"]).status_code == 403
    assert _put(sam, 99999, BODY).status_code == 404
    assert _put(ada, schedule["id"], {**BODY, "name": "by ada"}).status_code == 200
    assert _delete(ada, schedule["id"]).status_code == 204
    assert olivia.get("/api/schedules").json() == []
    edit, deletion = _changes(olivia, schedule["id"])[::-1]
    assert (edit["action"], edit["actor"]) == ("edit", "ada")
    assert (deletion["action"], deletion["actor"], deletion["schedule_name"]) == ("delete", "ada", "by ada")
    assert deletion["detail"]["cron"] == "0 7 * * mon" and deletion["detail"]["owner"] == "olivia"


def test_run_now_starts_a_run_like_the_schedule_as_the_caller(app):
    olivia = app.client("olivia")
    schedule = olivia.post("/api/schedules", BODY).json()
    r = olivia.post(f"/api/schedules/{schedule['id']}/run")
    assert r.status_code == 202, r.text
    execution = olivia.wait(r.json()["id"])
    assert execution["status"] == "successful"
    assert (execution["source"], execution["operator"], execution["schedule_id"]) == (
        "schedule",
        "olivia",
        schedule["id"],
    )
    assert execution["inputs"] == {"message": "hi"}
    (change,) = _changes(olivia, schedule["id"])
    assert (change["action"], change["actor"]) == ("run_now", "olivia")
    assert change["execution_id"] == execution["id"]
    # The schedule's own times do not move.
    after = olivia.get("/api/schedules").json()[0]
    assert _at(after["next_fire_at"]) == _at(schedule["next_fire_at"]) and after["last_fire_at"] is None


def test_run_now_goes_through_the_item_approval(app, sim):
    olivia = app.client("olivia")
    vms, _ = sim.estate()
    body = {"name": "breaks", "item_id": "breaks", "inputs": {"vm": vms[0]["extId"]}, "cron": "0 7 * * mon"}
    schedule = olivia.post("/api/schedules", body)
    assert schedule.status_code == 201, schedule.text
    r = olivia.post(f"/api/schedules/{schedule.json()['id']}/run")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending_approval"
