"""Shared fixtures: one simulator process per test session, reset to the demo estate per test."""

import itertools
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import conformance_report
from collection_path import importable
from day2ops_app.db.engine import Database
from day2ops_app.db.migrate import upgrade
from day2ops_sim.sshd import start_sshd
from postgres import start_postgres
from sim_process import CONFORMANCE_DIR, SimProcess, start_sim
from webhook import Webhook

importable()
SESSION_START = time.time()


def pytest_terminal_summary(terminalreporter):
    for line in conformance_report.summary(CONFORMANCE_DIR, SESSION_START):
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def sim_process() -> SimProcess:
    sim = start_sim(tls=True)
    yield sim
    sim.stop()


@pytest.fixture
def sim(sim_process: SimProcess) -> SimProcess:
    """The simulator at its demo estate, with no faults and short tasks."""
    sim_process.reset()
    # Timing is server configuration that a reset keeps; a test that changed it must not leak.
    sim_process.control(
        "POST", "tasks/timing", {"default_seconds": 0.3, "queued_share": 0.1, "per_operation": {}}
    )
    sim_process.control(
        "POST", "move/timing", {"seeding_seconds": 1.0, "cutover_seconds": 0.5, "token_seconds": 900}
    )
    return sim_process


@pytest.fixture
def instant_tasks(sim: SimProcess) -> SimProcess:
    """Prism tasks that end as they start, for tests that count changes and ids, not time."""
    sim.control("POST", "tasks/timing", {"default_seconds": 0})
    return sim


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """A real sshd on loopback that the patch steps reach over SSH."""
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.fixture
def webhook() -> Webhook:
    """A Slack-compatible incoming webhook on loopback; `.received` is what was posted to it."""
    hook = Webhook()
    yield hook
    hook.server.shutdown()


_names = itertools.count()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the audit store's tests (app and security suites)."""
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A migrated, empty store; each test gets its own database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"audit_{next(_names)}")
    upgrade(url)
    return url


@pytest.fixture
def db(db_url):
    database = Database(db_url)
    yield database
    database.dispose()
