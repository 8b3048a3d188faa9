"""The audit log is append-only and any tampering is detected by verifying the chain."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit import audit
from civicstack.kit.db import transaction
from tests.support.tamper import bypass_triggers

CLERK = audit.Actor("official", "clerk-1")


def _append(factory: sessionmaker[Session], count: int) -> None:
    with transaction(factory) as session:
        for n in range(count):
            audit.record(session, CLERK, "registry.person.read", subject_type="person",
                         subject_id=f"00119001234{n}", purpose="checking a dossier",
                         detail={"n": n, "note": "Nguyễn"})


def _verify(factory: sessionmaker[Session]) -> audit.ChainReport:
    with transaction(factory) as session:
        return audit.verify_chain(session, batch_size=3)


def test_intact_chain_verifies(session_factory: sessionmaker[Session]) -> None:
    _append(session_factory, 7)
    report = _verify(session_factory)
    assert report.ok
    assert report.entries_checked == 7


def test_empty_log_verifies(session_factory: sessionmaker[Session]) -> None:
    assert _verify(session_factory) == audit.ChainReport(0, True)


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entry SET purpose = 'x' WHERE seq = 1",
    "DELETE FROM audit_entry WHERE seq = 1",
])
def test_database_refuses_to_rewrite_history(
    session_factory: sessionmaker[Session], engine: Engine, statement: str,
) -> None:
    _append(session_factory, 2)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    assert _verify(session_factory).ok


@pytest.mark.parametrize(("statement", "bad_seq", "reason"), [
    ("UPDATE audit_entry SET purpose = 'curiosity' WHERE seq = 3", 3, "modified"),
    ("DELETE FROM audit_entry WHERE seq = 4", 5, "missing"),
    ("DELETE FROM audit_entry WHERE seq = 6", 6, "removed from the end"),
    ("UPDATE audit_entry SET actor = 'someone-else', entry_hash = '" + "f" * 64 + "' WHERE seq = 2",
     2, "modified"),
])
def test_tampering_is_detected_at_the_right_entry(
    session_factory: sessionmaker[Session], engine: Engine, statement: str, bad_seq: int,
    reason: str,
) -> None:
    _append(session_factory, 6)
    bypass_triggers(engine, statement)
    report = _verify(session_factory)
    assert not report.ok
    assert report.first_bad_seq == bad_seq
    assert reason in report.reason


def test_entries_for_subject_lists_newest_first(session_factory: sessionmaker[Session]) -> None:
    _append(session_factory, 3)
    with transaction(session_factory) as session:
        entries = audit.entries_for_subject(session, "person", "001190012341")
    assert [e.detail["n"] for e in entries] == [1]


def test_concurrent_appends_queue_on_the_head_and_keep_the_chain(
        session_factory: sessionmaker[Session]) -> None:
    """Two writers at once (a request and the background worker, say): each entry gets its
    own sequence number and the chain still verifies, on SQLite too."""
    def writer(number: int) -> None:
        for _ in range(15):
            with transaction(session_factory) as session:
                session.execute(text("SELECT 1"))  # a read before the first write, as requests do
                audit.record(session, audit.SYSTEM, "test.concurrent", subject_type="test",
                             subject_id=str(number), purpose="concurrency check")

    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(writer, range(3)))
    report = _verify(session_factory)
    assert (report.ok, report.entries_checked) == (True, 45)
