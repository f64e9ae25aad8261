"""The reads of the async routes (Database.lookup and Database.reading): Core rows on SQLite's event loop and
through PostgreSQL's async engine, which pings no connection before a read and so must get over a restart
of the server by itself."""

import asyncio

import pytest
from day2ops_app.db.engine import Database
from day2ops_app.db.migrate import upgrade
from day2ops_app.db.tables import User
from postgres import start_postgres
from sqlalchemy import bindparam, select

BY_NAME = select(User.username, User.roles).where(User.username == bindparam("name"))


def _add_user(db: Database, name: str) -> None:
    with db.session() as session:
        session.add(User(username=name, password_hash="x", roles=["operator"], groups=[]))


def test_lookup_and_reading_see_what_was_committed(db):
    _add_user(db, "olivia")

    async def reads():
        found = await db.lookup(BY_NAME, {"name": "olivia"})
        missing = await db.lookup(BY_NAME, {"name": "nobody"})
        names = await db.reading(lambda connection: list(connection.scalars(select(User.username))))
        return found, missing, names

    try:
        found, missing, names = asyncio.run(reads())
    finally:
        asyncio.run(db.dispose_async())
    assert (found.username, found.roles) == ("olivia", ["operator"])  # the JSON column read as a list
    assert missing is None
    assert names == ["olivia"]
    assert db.first(BY_NAME, {"name": "olivia"}) == found


def test_a_read_after_postgresql_restarted_is_answered():
    """The pooled connections die with the server; the next read finds that out and asks again on a new
    one, instead of failing the request that happened to come first."""
    server = start_postgres()
    try:
        url = server.create_database("restart")
        upgrade(url)
        db = Database(url)
        _add_user(db, "alex")

        async def around_a_restart():
            before = await db.lookup(BY_NAME, {"name": "alex"})
            server.restart()
            after = await db.lookup(BY_NAME, {"name": "alex"})
            page = await db.reading(lambda connection: list(connection.scalars(select(User.username))))
            await db.dispose_async()
            return before, after, page

        before, after, page = asyncio.run(around_a_restart())
        db.dispose()
    finally:
        server.stop()
    assert before.username == after.username == "alex"
    assert page == ["alex"]


def test_an_error_that_is_no_lost_connection_is_not_asked_again(db):
    """Only a connection found closed is retried: a statement the server refuses fails at once."""
    calls = []

    def refused(connection):
        calls.append(1)
        return connection.exec_driver_sql("SELECT * FROM no_such_table").all()

    async def read():
        try:
            return await db.reading(refused)
        finally:
            await db.dispose_async()

    with pytest.raises(Exception, match="no_such_table"):
        asyncio.run(read())
    assert len(calls) == 1


def test_the_async_reads_take_the_url_as_libpq_does(postgres):
    """A socket directory as `host` and libpq's `sslmode` in the URL's query, as an administrator writes
    them for psycopg: asyncpg is handed the URL to read itself (SQLAlchemy would pass the query to it as
    keyword arguments, and `sslmode` is none of them)."""
    postgres.create_database("by_socket")
    url = f"postgresql://postgres@/by_socket?host={postgres.directory}&port={postgres.port}&sslmode=disable"
    upgrade(url)
    db = Database(url)
    _add_user(db, "sam")

    async def read():
        try:
            return await db.lookup(BY_NAME, {"name": "sam"})
        finally:
            await db.dispose_async()

    try:
        assert asyncio.run(read()).username == "sam"
    finally:
        db.dispose()
