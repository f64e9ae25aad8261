"""Findings 4 and 5 of issue 18: what one logged-in user (or nobody) can make the app hold, start or
repeat, and bad input that crashed it. Each test failed before the limits existed."""

import time
from datetime import datetime
from itertools import pairwise

import pytest
import requests
import schemathesis
from app_process import TEST_CATALOG, start_app
from day2ops_app.catalog.choices import PrismChoices
from day2ops_app.catalog.forms import FormErrors, validate_inputs
from day2ops_app.catalog.model import Item
from day2ops_app.main import create_app
from day2ops_app.settings import Settings
from hypothesis import HealthCheck, settings
from pydantic import ValidationError
from schemathesis.checks import not_a_server_error

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def app(sim_process, tmp_path_factory):
    """One app with the default limits, for the tests that only send requests."""
    workdir = tmp_path_factory.mktemp("limits")
    app = start_app(sim_process, workdir, f"sqlite:///{workdir / 'audit.db'}", **TEST_CATALOG)
    yield app
    app.stop()


def _chunks(total: int, size: int = 64 * 1024):
    """A body with no Content-Length: requests sends a generator chunked."""
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


# -- 413: the request body limit ----------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_with_413_declared_or_streamed(app):
    olivia = app.client("olivia")
    before = len(olivia.get("/api/runs").json())
    huge = {"item_id": "needs_token", "inputs": {"message": "x" * (2 * MIB), "token": "t0ken"}}
    r = olivia.post("/api/runs", huge)
    assert r.status_code == 413, r.text[:300]
    assert "DAY2OPS_MAX_BODY_BYTES" in r.json()["detail"] and str(MIB) in r.json()["detail"]
    r = olivia.session.post(
        f"{app.url}/api/runs", data=_chunks(2 * MIB), headers={"Content-Type": "application/json"}, timeout=60
    )
    assert r.status_code == 413, r.text[:300]
    # Nobody logged in: refused too, and the body is never read to find out.
    r = requests.post(f"{app.url}/api/runs", json=huge, timeout=60)
    assert r.status_code == 413
    r = requests.post(f"{app.url}/api/runs", data=_chunks(2 * MIB), timeout=60)
    assert r.status_code == 401
    assert len(olivia.get("/api/runs").json()) == before
    # Within the limit, all is as before.
    assert olivia.post("/api/runs", {"item_id": "noop", "inputs": {"message": "hi"}}).status_code == 202


# -- paged history ---------------------------------------------------------------------------------------


def test_the_run_history_comes_a_page_at_a_time(app):
    olivia = app.client("olivia")
    for n in range(3):
        olivia.run("noop", message=f"page {n}")
    everything = [r["id"] for r in olivia.get("/api/runs", params={"limit": 200}).json()]
    assert len(everything) >= 3
    # Following the Link header, two at a time, gives every run once, newest first.
    paged, path, pages = [], "/api/runs?limit=2", 0
    while path:
        r = olivia.get(path)
        assert len(r.json()) <= 2
        paged += [run["id"] for run in r.json()]
        path = r.links.get("next", {}).get("url")
        pages += 1
    assert paged == everything and pages >= 2
    assert olivia.get("/api/runs", params={"limit": 201}).status_code == 422


# -- 422: max_length on every string input and free-text field ------------------------------------------


def test_a_string_input_without_its_own_max_is_bounded(app):
    olivia = app.client("olivia")
    # needs_token's message names no max: 1,000 characters, the catalog's default.
    body = {"item_id": "needs_token", "inputs": {"message": "x" * 1001, "token": "t0ken"}}
    r = olivia.post("/api/runs", body)
    assert r.status_code == 422, r.text[:300]
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert set(errors) == {"message"} and "1000" in errors["message"]
    body["inputs"]["message"] = "x" * 1000
    assert olivia.post("/api/runs", body).status_code == 202


def test_an_input_s_own_max_and_a_multi_choice_count_are_bounds_too():
    item = Item.model_validate(
        {
            "id": "bounded",
            "title": "Bounded",
            "group": "Tests",
            "description": "",
            "playbook": "noop.yml",
            "inputs": [
                {"name": "note", "label": "Note", "type": "string", "max": 5000},
                {"name": "vms", "label": "VMs", "type": "multi_choice", "choices_from": {"source": "vms"}},
            ],
        }
    )
    assert validate_inputs(item, {"note": "x" * 5000}, None)["note"] == "x" * 5000
    with pytest.raises(FormErrors) as refused:
        validate_inputs(item, {"note": "x" * 5001, "vms": [f"vm-{n}" for n in range(1001)]}, None)
    errors = {e["field"]: e["message"] for e in refused.value.errors}
    assert "5000" in errors["note"] and "1000" in errors["vms"]


def test_free_text_a_playbook_or_an_admin_sends_is_bounded_by_its_column():
    from day2ops_app.schemas import GateCreate, UserCreate

    # users.username and gates.reviewer_group are String(64): PostgreSQL refused longer ones with a 500.
    with pytest.raises(ValidationError, match="reviewer_group"):
        GateCreate(name="gate", reviewer_group="g" * 65)
    with pytest.raises(ValidationError, match="reviewers"):
        GateCreate(name="gate", reviewers=["r" * 65])
    with pytest.raises(ValidationError, match="groups"):
        UserCreate(username="eve", password="x" * 12, roles=["operator"], groups=["g" * 65])


# -- the live choices cache is bounded ---------------------------------------------------------------


def test_the_live_choices_cache_keeps_a_bounded_number_of_lists(monkeypatch):
    choices = PrismChoices(Settings(prism_host="prism.invalid", choices_cache_size=64))
    vms = [{"value": f"vm-{n}", "label": f"vm {n}"} for n in range(100)]
    monkeypatch.setattr(choices, "_read", lambda source, key, parent, odata: vms)
    # A made-up ?parent= per request, as the probe sent: the same VM list each time.
    for n in range(1500):
        assert choices.choices("vms", parent=f"parent-{n}") == vms
    assert len(choices._cache) == 1
    # Lists that do differ (1,500 filters) are kept up to the bound only.
    for n in range(1500):
        choices.choices("vms", odata=f"name eq 'vm-{n}'")
    assert len(choices._cache) <= 64


# -- the run queue: a concurrency cap ----------------------------------------------------------------


def test_runs_beyond_the_cap_wait_queued_and_start_in_order(sim, tmp_path):
    app = start_app(
        sim, tmp_path, f"sqlite:///{tmp_path / 'audit.db'}", max_concurrent_runs=1, **TEST_CATALOG
    )
    try:
        olivia = app.client("olivia")
        ids = [olivia.run("slow", seconds=2)["id"] for _ in range(4)]
        assert [olivia.get(f"/api/runs/{i}").json()["status"] for i in ids[1:]] == ["queued"] * 3
        # Canceled while it waits: it never starts, and the others still do.
        assert olivia.post(f"/api/runs/{ids[3]}/cancel").status_code == 202
        most_running = 0
        deadline = time.monotonic() + 240
        while True:
            runs = [olivia.get(f"/api/runs/{i}").json() for i in ids]
            most_running = max(most_running, sum(r["status"] == "running" for r in runs))
            if all(r["finished_at"] for r in runs):
                break
            assert time.monotonic() < deadline, runs
            time.sleep(0.2)
        assert most_running == 1
        assert [r["status"] for r in runs] == ["successful"] * 3 + ["canceled"]
        assert runs[3]["started_at"] is None
        # One at a time, in the order they were submitted.
        for earlier, later in pairwise(runs[:3]):
            assert _at(later["started_at"]) >= _at(earlier["finished_at"]), (earlier, later)
    finally:
        app.stop()


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


# -- schedules: a minimum interval, and crons that never fire -----------------------------------------


def _schedule(client, name: str, cron: str):
    body = {"name": name, "item_id": "noop", "inputs": {"message": "hi"}, "cron": cron}
    return client.post("/api/schedules", body)


def test_a_schedule_firing_more_often_than_the_minimum_is_refused(app):
    olivia = app.client("olivia")
    for n, cron in enumerate(("* * * * * *", "* * * * *", "0,1 * * * *", "*/4 * * * *")):
        r = _schedule(olivia, f"too often {n}", cron)
        assert r.status_code == 422, (cron, r.text)
        error = r.json()["errors"][0]
        assert error["field"] == "cron" and "DAY2OPS_MIN_SCHEDULE_SECONDS" in error["message"], error
    assert _schedule(olivia, "every five minutes", "*/5 * * * *").status_code == 201


@pytest.mark.parametrize("cron", ["0 0 30 2 *", "0 0 1 1 * 0 2099", "0 0 31 4,6,9,11 *"])
def test_a_cron_that_never_fires_is_a_422_naming_cron(app, cron):
    r = _schedule(app.client("olivia"), f"never {cron}", cron)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "cron" and "never fires" in r.json()["errors"][0]["message"]


# -- NUL bytes and lone surrogates: 422 on PostgreSQL and SQLite alike ---------------------------------


def test_text_the_store_cannot_hold_is_a_422_on_either_database(sim, tmp_path, db_url):
    app = start_app(sim, tmp_path, db_url, **TEST_CATALOG)
    try:
        # Unauthenticated: the login's user name.
        r = requests.post(
            f"{app.url}/api/auth/login", json={"username": "oli\x00via", "password": "x"}, timeout=30
        )
        assert r.status_code == 422 and "username" in r.text, r.text
        olivia = app.client("olivia")
        # JSON carries both as escapes (\u0000, \ud800); neither driver could store them.
        for name in ("night\x00ly", "night\ud800ly"):
            r = _schedule(olivia, name, "0 2 * * *")
            assert r.status_code == 422 and "name" in r.text, (name, r.status_code, r.text)
        r = olivia.post("/api/runs", {"item_id": "noop", "inputs": {"message": "a\x00b"}})
        assert r.status_code == 422, r.text
        for path in ("/api/runs/abc%00def", "/api/runs?operator=ol%00ivia", "/api/approvals/g%00"):
            r = olivia.get(path)
            assert r.status_code == 422, (path, r.status_code, r.text)
            assert r.json()["errors"][0]["field"] in ("path", "query.operator"), r.text
        # Nobody logged in learns nothing: refused as any request without credentials.
        assert requests.get(f"{app.url}/api/runs/abc%00def", timeout=30).status_code == 401
        # The gate endpoints take the run's own token: a made-up id with a NUL is no run's.
        r = requests.get(
            f"{app.url}/api/runs/abc%00def/gates/x", headers={"Authorization": "Bearer d2r-x"}, timeout=30
        )
        assert r.status_code == 401, r.text
        assert olivia.get("/api/runs").json() == [] and olivia.get("/api/schedules").json() == []
    finally:
        app.stop()
    assert "Traceback" not in app.log(), app.log()[-5000:]


# -- schemathesis over the whole API on PostgreSQL ------------------------------------------------------


@pytest.fixture(scope="module")
def pg_app(sim_process, postgres, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("limits-pg")
    app = start_app(sim_process, workdir, postgres.create_database("limits_schemathesis"))
    yield app
    app.stop()
    # A 4xx that was a crash underneath would hide in the log.
    assert "Traceback" not in app.log(), app.log()[-5000:]


@pytest.fixture(scope="module")
def pg_admin_token(pg_app):
    return pg_app.cli("token", "create", "ada").stdout.strip()


schema = schemathesis.openapi.from_dict(create_app().openapi())


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_no_server_error_on_postgresql(case, pg_app, pg_admin_token):
    case.call_and_validate(
        pg_app.url, headers={"Authorization": f"Bearer {pg_admin_token}"}, checks=[not_a_server_error]
    )
