"""Fixtures for the self-service app: a fresh store on SQLite and on a real PostgreSQL server."""

import itertools

import pytest
from day2ops_app.db.engine import Database
from day2ops_app.db.migrate import upgrade
from postgres import start_postgres

_names = itertools.count()


@pytest.fixture(scope="session")
def postgres():
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
