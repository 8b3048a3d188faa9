"""Citizens' reports of a use of their data they do not recognise, as support tickets.

The account page lists every audited use of the citizen's data. Any entry made by someone else
can be reported with a note: the report opens a `data_read` ticket referencing the entry (one
per entry), routed to the auditors (holders of `audit:read`), who answer in the ticket's
thread; the citizen reads the finding in the ticket and next to the entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.errors import Conflict, Invalid, NotFound
from civicstack.support import repository, service
from civicstack.support.models import SupportTicket
from civicstack.support.states import State, Topic

NOTE_LIMIT = 1000
SUBJECT = "A use of my data I do not recognise"


@dataclass(frozen=True)
class ReportView:
    ticket_id: int
    checked: bool  # an auditor has answered
    finding: str  # the auditors' last answer to the citizen


def report(session: Session, personal_id_number: str, seq: int, note: str) -> SupportTicket:
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
    if repository.ticket_of_entry(session, seq) is not None:
        raise Conflict("you have already reported this entry")
    text = f"Entry {seq}: {entry.action} by {entry.actor}." + (f"\n{note}" if note else "")
    return service.open_ticket(session, citizen, service.NewTicket(
        personal_id_number, Topic.DATA_READ.value, SUBJECT, text,
        reference=f"audit:{seq}", audit_seq=seq))


def reports_of(session: Session, personal_id_number: str) -> dict[int, ReportView]:
    """This citizen's reports, by the entry they flag (for the account page)."""
    return {found.audit_seq: _view(session, found)
            for found in repository.data_read_tickets_of(session, personal_id_number)
            if found.audit_seq is not None}


def _view(session: Session, ticket: SupportTicket) -> ReportView:
    answers = [m.body for m in repository.thread(session, ticket.id, with_internal=False)
               if not m.from_citizen]
    checked = ticket.state in (State.ANSWERED, State.CLOSED) and bool(answers)
    return ReportView(ticket.id, checked, answers[-1] if checked else "")
