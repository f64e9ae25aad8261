"""Engines for the store: SQLite (WAL, one writer at a time) by default, PostgreSQL by URL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from day2ops_app.private import private_sqlite

if TYPE_CHECKING:
    from day2ops_app.audit.context import AuditContext

# An execution option marking the connections of read-only sessions.
READ_ONLY = "day2ops_read_only"
# As many connections kept open as threads may ask at once (anyio's 40 workers): past the pool's size each
# checkout would open a connection and close it after one request, and opening one costs more than most
# requests (SQLite's pragmas; a PostgreSQL backend process). Connections are opened only when needed.
POOL = {"pool_size": 40, "max_overflow": 10}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        private_sqlite(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **POOL)
        _sqlite_writer_locking(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, **POOL)


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
        info = {"audit": audit} if audit else None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)
        self._reads = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False, info=info
        )
        # This process's SQLite writers queue here and each starts the moment the last one ends: waiting
        # in BEGIN IMMEDIATE instead, a writer sleeps in SQLite's busy handler for up to 100 ms at a time
        # while the lock lies free, and 20 run submissions at once took a second. Reentrant, so a write
        # nested in another in one thread waits in SQLite as before. Other processes still queue there.
        self._writer = threading.RLock() if url.startswith("sqlite") else nullcontext()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._writer, self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reads() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
