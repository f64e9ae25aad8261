"""Engines for the store: SQLite (WAL, one writer at a time) by default, PostgreSQL by URL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import asyncpg
from sqlalchemy import URL, Connection, Engine, Row, Select, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

from day2ops_app.private import private_sqlite

if TYPE_CHECKING:
    from day2ops_app.audit.context import AuditContext

T = TypeVar("T")
# An execution option marking the connections of read-only sessions.
READ_ONLY = "day2ops_read_only"
# As many connections kept open as threads may ask at once (anyio's 40 workers): past the pool's size each
# checkout would open a connection and close it after one request, and opening one costs more than most
# requests (SQLite's pragmas; a PostgreSQL backend process). Connections are opened only when needed.
POOL = {"pool_size": 40, "max_overflow": 10}
# Reads on the event loop: with 20 connections, 50 users at once spent more time queueing for one than
# reading. 40 and POOL's 50 stay within PostgreSQL's default max_connections of 100.
ASYNC_POOL = {"pool_size": 40, "max_overflow": 0}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        private_sqlite(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **POOL)
        _sqlite_writer_locking(engine)
        return engine
    return create_engine(_psycopg(url), pool_pre_ping=True, **POOL)


def _psycopg(url: str) -> URL:
    """psycopg for a URL that names no driver (SQLAlchemy's default for postgresql:// is psycopg2)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+psycopg") if parsed.drivername == "postgresql" else parsed


def make_async_reader(url: str) -> AsyncEngine:
    """PostgreSQL's engine for the reads of async routes (Database.reading), awaited on the event loop.

    asyncpg rather than psycopg's async connections: a caller's lookup cost the app 250 µs of CPU against
    380, and PostgreSQL plans each statement once per connection (asyncpg prepares and caches them). asyncpg
    reads the URL itself, as libpq would (sslmode, sslrootcert, passfile...): SQLAlchemy would pass the
    URL's query to asyncpg as arguments, which names some of them differently. Autocommit: a statement has a
    snapshot of its own under READ COMMITTED anyway, and a BEGIN and a ROLLBACK would be two more round trips
    per read. No ping before each read either (one more): a connection found closed is replaced and the read
    asked again (Database.reading)."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return create_async_engine(
        "postgresql+asyncpg://",
        async_creator=partial(asyncpg.connect, dsn),
        isolation_level="AUTOCOMMIT",
        **ASYNC_POOL,
    )


def _sqlite_writer_locking(engine: Engine) -> None:
    """WAL lets readers run beside the writer; BEGIN IMMEDIATE takes the write lock at the start of a
    transaction, so two writers (threads or app instances) queue instead of failing mid-way with
    'database is locked' when the second tries to upgrade its read lock. Reads (`Database.read`) begin
    DEFERRED: they never take the write lock, so they never wait behind a writer."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


class Database:
    """An engine and its session factories: `with db.session() as s:` writes (commits or rolls back),
    `with db.read() as s:` only reads and never holds SQLite's write lock."""

    def __init__(self, url: str, audit: AuditContext | None = None):
        """audit: the chain's key and checkpoints, which the store's sessions carry (audit/context.py)."""
        self.url = url
        self.audit = audit
        self.engine = make_engine(url)
        self.local = url.startswith("sqlite")
        info = {"audit": audit} if audit else None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)
        self._reader = self.engine.execution_options(**{READ_ONLY: True})
        self._reads = sessionmaker(self._reader, expire_on_commit=False, info=info)
        self._async_reader = None if self.local else make_async_reader(url)
        # This process's SQLite writers queue here and each starts the moment the last one ends: waiting
        # in BEGIN IMMEDIATE instead, a writer sleeps in SQLite's busy handler for up to 100 ms at a time
        # while the lock lies free, and 20 run submissions at once took a second. Reentrant, so a write
        # nested in another in one thread waits in SQLite as before. Other processes still queue there.
        self._writer = threading.RLock() if self.local else nullcontext()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._writer, self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reads() as session, session.begin():
            yield session

    def first(self, statement: Select, params: dict | None = None) -> Row | None:
        """The one row (or none) of a Core SELECT on a read-only connection, without an ORM session: the
        caller's lookup of a page (deps.page_user); lookup() is the same for an async route."""
        return self._read_now(partial(_one, statement, params))

    # An async route's reads. SQLite's run on the event loop: a read of the local file takes tens of
    # microseconds, less than the hop to a worker thread and back, which was half of what a request cost
    # under 50 users. PostgreSQL's are awaited there (make_async_reader): in a worker thread, two hops per
    # request kept the p95 near twice the target (make bench BENCH=app).

    async def lookup(self, statement: Select, params: dict | None = None) -> Row | None:
        """first(), for an async route."""
        return await self.reading(partial(_one, statement, params))

    async def reading(self, read: Callable[[Connection], T]) -> T:
        """`read(connection)` on a read-only connection, for an async route: Core statements, no ORM session
        (the ORM cost the runs list and the events page about twice as much)."""
        if self._async_reader is None:
            return self._read_now(read)
        try:
            return await self._await_read(read)
        except DBAPIError as error:
            # A connection the server closed (it restarted) is found out by using it; it is dropped, and the
            # read, which changes nothing, is asked once more on a new one.
            if not error.connection_invalidated:
                raise
            return await self._await_read(read)

    async def _await_read(self, read: Callable[[Connection], T]) -> T:
        async with self._async_reader.connect() as connection:
            return await connection.run_sync(read)

    def _read_now(self, read: Callable[[Connection], T]) -> T:
        with self._reader.connect() as connection:
            return read(connection)

    async def dispose_async(self) -> None:
        if self._async_reader is not None:
            await self._async_reader.dispose()

    def dispose(self) -> None:
        self.engine.dispose()


def _one(statement: Select, params: dict | None, connection: Connection) -> Row | None:
    return connection.execute(statement, params).one_or_none()
