"""Migration 0024 turns the citizens' reports of data uses (identity_read_report) into
data_read tickets of the auditors' queue, and its downgrade turns them back."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, select, text

from civicstack.kit.audit import AuditEntry
from civicstack.kit.db import make_engine, make_session_factory, transaction
from civicstack.kit.migrate import downgrade, upgrade
from civicstack.support import read_reports, service
from tests.support.people import make_person

REPORTED_AT = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
CLOSED_AT = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def a_reported_entry(engine: Engine) -> tuple[str, int]:
    """A person of the register, and the audit entry their registration made."""
    with transaction(make_session_factory(engine)) as session:
        person = make_person(session, "Phạm Thị Lan", date(1992, 2, 2))
        seq = session.execute(select(AuditEntry.seq).where(
            AuditEntry.subject_id == person.personal_id_number)).scalars().first()
    assert seq is not None
    return person.personal_id_number, seq


def test_reports_become_data_read_tickets_and_come_back_on_downgrade(database_url: str) -> None:
    engine = make_engine(database_url)
    # Made with today's models, before going back: the older schema has other columns.
    pid, open_seq = a_reported_entry(engine)
    downgrade(database_url, "0021")
    closed_seq = open_seq + 100000  # an entry the log no longer reaches still moves over
    with engine.begin() as connection:
        for seq, status, outcome in ((open_seq, "open", ""),
                                     (closed_seq, "closed", "A clerk checked it.")):
            connection.execute(text(
                "INSERT INTO identity_read_report (personal_id_number, audit_seq, note, "
                "reported_at, status, closed_by, closed_at, outcome) VALUES "
                "(:pid, :seq, 'Not me', :at, :status, :by, :closed, :outcome)"), {
                    "pid": pid, "seq": seq, "at": REPORTED_AT, "status": status,
                    "by": "official:auditor" if outcome else None,
                    "closed": CLOSED_AT if outcome else None, "outcome": outcome})
    upgrade(database_url)
    with transaction(make_session_factory(engine)) as session:
        tickets = service.tickets_of(session, pid)
        found = read_reports.reports_of(session, pid)
        views = [service.citizen_ticket(session, pid, t.id) for t in tickets]
    assert sorted((t.topic, t.state, t.audit_seq, t.reference) for t in tickets) == [
        ("data_read", "closed", closed_seq, f"audit:{closed_seq}"),
        ("data_read", "open", open_seq, f"audit:{open_seq}")]
    assert {view.queue.code for view in views} == {"auditors"}
    assert all("Not me" in view.messages[0].body for view in views)
    assert found[open_seq].checked is False
    assert (found[closed_seq].checked, found[closed_seq].finding) == (True, "A clerk checked it.")
    assert {t.first_response_due for t in tickets} == {date(2026, 12, 2)}  # two working days

    downgrade(database_url, "0021")
    with engine.begin() as connection:
        rows = connection.execute(text(
            "SELECT audit_seq, status, note FROM identity_read_report")).all()
    assert sorted((seq, status) for seq, status, _ in rows) == [(open_seq, "open"),
                                                                (closed_seq, "closed")]
    assert all("Not me" in note for _, _, note in rows)
    engine.dispose()
