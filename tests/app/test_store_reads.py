"""The store under many callers at once: connections kept for the next request, in-process writers queued
before SQLite's busy handler, a run's events read through their own index."""

import threading

import pytest
from day2ops_app.db.engine import Database
from sqlalchemy import event, text

CALLERS = 15  # more than the 5 connections SQLAlchemy keeps by default, fewer than anyio's 40 workers


def _counted(database: Database, name: str) -> list:
    seen = []
    event.listen(database.engine, name, lambda *_: seen.append(1))
    return seen


def _reads_at_once(database: Database) -> None:
    together = threading.Barrier(CALLERS)

    def read():
        with database.read() as session:
            session.execute(text("SELECT 1"))
            together.wait(timeout=30)

    threads = [threading.Thread(target=read) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_concurrent_reads_keep_their_connections(db):
    """A second wave of as many concurrent requests opens no connection: each one opened costs more than
    the request (SQLite's pragmas, a PostgreSQL backend)."""
    opened = _counted(db, "connect")
    _reads_at_once(db)
    first = len(opened)
    _reads_at_once(db)
    assert first <= CALLERS and len(opened) == first


def test_writers_of_one_process_queue_before_sqlite(db_url):
    """A second writer of the same process waits for the first without starting its transaction: waiting
    in BEGIN IMMEDIATE it would sleep in SQLite's busy handler long after the lock was free."""
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's writers wait on the chain head's row lock, woken when it is free")
    database = Database(db_url)
    first_in, first_may_end = threading.Event(), threading.Event()

    def first():
        with database.session() as session:
            session.execute(text("SELECT 1"))
            first_in.set()
            first_may_end.wait(timeout=30)

    def second():
        with database.session() as session:
            session.execute(text("SELECT 1"))

    try:
        threads = [threading.Thread(target=first)]
        threads[0].start()
        assert first_in.wait(timeout=30)
        threads.append(threading.Thread(target=second))
        threads[1].start()
        threads[1].join(timeout=0.5)
        # Waiting in SQLite, it would hold a connection of its own.
        assert threads[1].is_alive() and database.engine.pool.checkedout() == 1, "it waits inside SQLite"
        first_may_end.set()
        for thread in threads:
            thread.join(timeout=30)
        assert not threads[1].is_alive()
    finally:
        first_may_end.set()
        database.dispose()


def test_a_runs_events_are_read_by_their_index(db):
    """The events after a counter, in order, for the run page and its stream: an index walk, however
    many events the store holds."""
    with db.read() as session:
        if db.url.startswith("sqlite"):
            plan = session.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT * FROM events WHERE execution_id = 'x' AND counter > 3 "
                    "ORDER BY counter LIMIT 500"
                )
            ).all()
            details = " ".join(str(row[-1]) for row in plan)
            assert "ix_events_execution_id_counter" in details and "TEMP B-TREE" not in details, details
        else:
            columns = session.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_events_execution_id_counter'")
            ).scalar_one()
            assert "(execution_id, counter)" in columns
