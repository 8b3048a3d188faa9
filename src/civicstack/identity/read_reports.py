"""Citizens' reports of a use of their data they do not recognise.

The account page lists every audited use of the citizen's data ("who used my data, and why").
Any entry made by someone else can be reported with a note; the report is itself audited, and
holders of `audit:read` see the open reports with the entry reported and close each with what
they found. Until the support queue exists this is the audit flag the exchange issue asks for.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicstack.identity.models import ReadReport
from civicstack.kit import audit
from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import Permission
from civicstack.kit.errors import Conflict, Invalid, NotFound

NOTE_LIMIT = OUTCOME_LIMIT = 1000
OPEN, CLOSED = "open", "closed"


def report(session: Session, personal_id_number: str, seq: int, note: str) -> ReadReport:
    """Flag entry `seq` of this citizen's own trail; refused for another person's entry, for
    the citizen's own actions, and for an entry already reported."""
    citizen = Actor("citizen", personal_id_number)
    entry = audit.entry(session, seq)
    if entry is None or (entry.subject_type, entry.subject_id) != ("person", personal_id_number):
        raise NotFound("there is no such entry in your data's history")
    if entry.actor == str(citizen):
        raise Invalid("entry", "this is something you did yourself")
    note = note.strip()
    if len(note) > NOTE_LIMIT:
        raise Invalid("note", f"at most {NOTE_LIMIT} characters")
    if session.scalar(select(ReadReport.id).where(ReadReport.audit_seq == seq)) is not None:
        raise Conflict("you have already reported this entry")
    flagged = ReadReport(personal_id_number=personal_id_number, audit_seq=seq, note=note,
                         reported_at=datetime.now(UTC), status=OPEN, outcome="")
    session.add(flagged)  # the unique audit_seq refuses a report made at the same instant
    session.flush()
    audit.record(session, citizen, "identity.read.reported", subject_type="person",
                 subject_id=personal_id_number, purpose="report of a use not recognised",
                 detail={"entry": seq, "by": entry.actor, "action": entry.action})
    return flagged


def reports_of(session: Session, personal_id_number: str) -> dict[int, ReadReport]:
    """This citizen's reports, by the entry they flag (for the account page)."""
    return {found.audit_seq: found for found in session.execute(
        select(ReadReport).where(ReadReport.personal_id_number == personal_id_number))
        .scalars()}


def open_reports(session: Session, auditor: Actor) -> list[tuple[ReadReport, AuditEntry]]:
    """Open reports, oldest first, each with the entry it flags."""
    auditor.require(Permission.AUDIT_READ)
    return [(found, entry) for found, entry in session.execute(
        select(ReadReport, AuditEntry).join(AuditEntry, AuditEntry.seq == ReadReport.audit_seq)
        .where(ReadReport.status == OPEN).order_by(ReadReport.reported_at, ReadReport.id))]


def close(session: Session, auditor: Actor, report_id: int, outcome: str) -> ReadReport:
    """Close a report with what the auditor found, which the citizen then reads."""
    auditor.require(Permission.AUDIT_READ)
    found = session.get(ReadReport, report_id)
    if found is None or found.status != OPEN:
        raise NotFound("no open report with this number")
    outcome = outcome.strip()
    if not outcome:
        raise Invalid("outcome", "say what you found")
    if len(outcome) > OUTCOME_LIMIT:
        raise Invalid("outcome", f"at most {OUTCOME_LIMIT} characters")
    found.status, found.outcome = CLOSED, outcome
    found.closed_by, found.closed_at = str(auditor), datetime.now(UTC)
    audit.record(session, auditor, "identity.read.report_closed", subject_type="person",
                 subject_id=found.personal_id_number, purpose="review of a reported use",
                 detail={"entry": found.audit_seq, "report": found.id})
    return found
