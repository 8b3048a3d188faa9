"""Two writers on the embedded SQLite database (the demo's). A console request reads inside a
savepoint and then writes; when an in-app job committed in between, SQLite refused the write
at once ("database is locked", a 503 for the official) instead of waiting, the savepoint's
snapshot being stale. A savepoint now begins its transaction holding the write lock, so the
other writer waits its turn instead (issue 21)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.db import make_engine, make_session_factory, transaction

COUNT = text("SELECT n FROM counter")


@pytest.fixture
def counter(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    return make_session_factory(engine)


def add_one_elsewhere(factory: sessionmaker[Session]) -> None:
    """Another connection's unit of work, as an in-app job's."""
    with transaction(factory) as session:
        session.execute(text("UPDATE counter SET n = n + 1"))


def test_a_savepoint_that_reads_then_writes_makes_another_writer_wait(
        counter: sessionmaker[Session]) -> None:
    other = threading.Thread(target=add_one_elsewhere, args=(counter,))
    with transaction(counter) as session, session.begin_nested():
        seen = session.execute(COUNT).scalar_one()
        other.start()
        other.join(0.5)
        assert other.is_alive(), "the other writer waits for this transaction to end"
        session.execute(text("UPDATE counter SET n = :n"), {"n": seen + 10})
    other.join()
    with transaction(counter) as session:
        assert (seen, session.execute(COUNT).scalar_one()) == (0, 11)


def test_reads_without_a_savepoint_leave_other_writers_free(
        counter: sessionmaker[Session]) -> None:
    """A request that reads and leaves the writing to transactions of its own (a dossier saved
    before checkout charges its fee) must not hold them up."""
    with transaction(counter) as session:
        session.execute(COUNT).scalar_one()
        add_one_elsewhere(counter)  # would wait ten seconds and fail if the read held the lock
        assert session.execute(COUNT).scalar_one() == 1
