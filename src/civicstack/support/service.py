"""Tickets: a citizen (in the portal) or a hotline agent (for a caller) opens one; it is routed
to a queue, answered in a thread, closed and perhaps reopened; late ones are escalated. Every
change and every official's read is audited in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from civicstack.identity import officials
from civicstack.identity import service as identity
from civicstack.kit import audit, outbox
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.db import as_utc
from civicstack.kit.errors import (
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
)
from civicstack.kit.i18n import N_
from civicstack.kit.text import typed_text
from civicstack.registry import service as registry
from civicstack.support import repository, routing, sla
from civicstack.support.models import (
    SupportEscalation,
    SupportMessage,
    SupportQueue,
    SupportTicket,
)
from civicstack.support.states import Party, State, Topic, transition

SUBJECT_LIMIT, TEXT_LIMIT, REFERENCE_LIMIT = 200, 4000, 100
REOPEN_DAYS = 7  # after closing, the citizen may reopen for a week
DAILY_TICKETS = 5  # a citizen opens at most this many tickets in the portal per 24 hours
PURPOSE_CALLER = "support ticket: identifying the citizen and their ward"
PURPOSE_HANDLE = "support ticket: answering the citizen"
NOTICES = {  # SMS in ASCII: every phone shows it
    "open": "Yeu cau ho tro so {id} da duoc tiep nhan. Theo doi tai muc Yeu cau cua toi.",
    "answer": "Yeu cau ho tro so {id} da co tra loi. Xem tai muc Yeu cau cua toi.",
    "close": "Yeu cau ho tro so {id} da duoc dong.",
}


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class NewTicket:
    personal_id_number: str
    topic: str
    subject: str
    text: str
    ward_code: str = ""  # empty: the ward of the citizen's permanent residence
    reference: str = ""  # a dossier code, a wallet document id, an audit entry...
    audit_seq: int | None = None  # set by read_reports only


@dataclass(frozen=True)
class TicketView:
    ticket: SupportTicket
    queue: SupportQueue
    messages: list[SupportMessage]
    late: bool


def open_ticket(session: Session, actor: Actor, new: NewTicket,
                now: datetime | None = None) -> SupportTicket:
    """A citizen opens a ticket about themself (portal), or a hotline agent with
    `support:handle` for a caller they identified (hotline, scope-checked)."""
    now = now or now_utc()
    channel = _channel(session, actor, new.personal_id_number, now)
    new = _checked(new)
    province_code, ward_code = _place(session, actor, new, channel)
    queue = routing.route(session, new.topic, province_code, ward_code)
    ticket = SupportTicket(
        topic=new.topic, subject=new.subject.strip(), personal_id_number=new.personal_id_number,
        channel=channel, province_code=province_code, ward_code=ward_code, queue_id=queue.id,
        state=State.OPEN.value, escalation_level=0, reference=new.reference.strip(),
        audit_seq=new.audit_seq, opened_by=str(actor), opened_at=now,
        first_response_due=sla.first_response_due(new.topic, now),
        resolution_due=sla.resolution_due(new.topic, now))
    session.add(ticket)
    session.flush()  # the unique audit_seq refuses a second report made at the same instant
    _add_message(session, ticket, actor, new.text.strip(), from_citizen=True, now=now)
    _record(session, actor, "support.ticket.open", ticket,
            {"topic": ticket.topic, "channel": channel, "queue": queue.code})
    _tell_citizen(session, ticket, "open")
    return ticket


def _channel(session: Session, actor: Actor, personal_id_number: str, now: datetime) -> str:
    if actor.kind == "citizen":
        if actor.name != personal_id_number:
            raise Forbidden("you can open a ticket only about yourself")
        if repository.opened_since(session, personal_id_number,
                                   now - timedelta(days=1)) >= DAILY_TICKETS:
            raise RateLimited(N_("too many new requests today; add to an open request instead"))
        return "portal"
    actor.require(Permission.SUPPORT_HANDLE)
    return "hotline"


def _checked(new: NewTicket) -> NewTicket:
    """The new ticket as kept (its text typed: kit/text.py), or every reason it is refused."""
    new = replace(new, subject=typed_text("subject", new.subject),
                  text=typed_text("text", new.text, multiline=True),
                  reference=typed_text("reference", new.reference))
    errors = []
    if new.topic not in set(Topic):
        errors.append(FieldError("topic", "choose a topic"))
    if not new.subject.strip():
        errors.append(FieldError("subject", "give a short subject"))
    elif len(new.subject.strip()) > SUBJECT_LIMIT:
        errors.append(FieldError("subject", f"at most {SUBJECT_LIMIT} characters"))
    errors += _text_problems(new.text)
    if len(new.reference.strip()) > REFERENCE_LIMIT:
        errors.append(FieldError("reference", f"at most {REFERENCE_LIMIT} characters"))
    if errors:
        raise Invalid.of_fields(errors)
    return new


def _text_problems(text: str) -> list[FieldError]:
    if not text.strip():
        return [FieldError("text", "write your message")]
    if len(text.strip()) > TEXT_LIMIT:
        return [FieldError("text", f"at most {TEXT_LIMIT} characters")]
    return []


def _message(text: str) -> str:
    """A message as kept: typed (kit/text.py) and trimmed, refused when empty or too long."""
    text = typed_text("text", text, multiline=True).strip()
    if problems := _text_problems(text):
        raise Invalid.of_fields(problems)
    return text


def _place(session: Session, actor: Actor, new: NewTicket, channel: str) -> tuple[str, str | None]:
    """The ward chosen, else the ward of the citizen's permanent residence. A hotline agent
    always reads the caller's record: that identifies the caller, within the agent's scope."""
    chosen = new.ward_code.strip()
    person = registry.get_person(session, actor, new.personal_id_number, PURPOSE_CALLER) \
        if channel == "hotline" or not chosen else None
    if chosen:
        place = registry.ward(session, chosen)
        if place is None:
            raise Invalid("ward_code", "no ward with this code")
        return place.province_code, place.ward_code
    assert person is not None
    return person.permanent_province_code, person.permanent_ward_code


# --- the citizen's side ------------------------------------------------------------------

def tickets_of(session: Session, personal_id_number: str) -> list[SupportTicket]:
    return repository.tickets_of(session, personal_id_number)


def citizen_ticket(session: Session, personal_id_number: str, ticket_id: int) -> TicketView:
    """The citizen's own ticket with its thread, internal notes left out."""
    found = repository.ticket(session, ticket_id)
    if found is None or found.personal_id_number != personal_id_number:
        raise NotFound("you have no request with this number")
    return _view(session, found, with_internal=False)


def citizen_reply(session: Session, personal_id_number: str, ticket_id: int, text: str,
                  now: datetime | None = None) -> SupportTicket:
    """The citizen adds to the thread; the ticket goes back to the officials."""
    found = _citizen_ticket(session, personal_id_number, ticket_id)
    body = _message(text)
    citizen = Actor("citizen", personal_id_number)
    _move(session, citizen, found, "reply", Party.CITIZEN)
    _add_message(session, found, citizen, body, from_citizen=True, now=now)
    return found


def citizen_close(session: Session, personal_id_number: str, ticket_id: int,
                  now: datetime | None = None) -> SupportTicket:
    found = _citizen_ticket(session, personal_id_number, ticket_id)
    _move(session, Actor("citizen", personal_id_number), found, "close", Party.CITIZEN)
    found.closed_at = now or now_utc()
    return found


def reopen(session: Session, personal_id_number: str, ticket_id: int, text: str,
           now: datetime | None = None) -> SupportTicket:
    """Within REOPEN_DAYS of closing, with a message saying what is still wrong; the
    resolution target starts again."""
    now = now or now_utc()
    found = _citizen_ticket(session, personal_id_number, ticket_id)
    if found.state == State.CLOSED and found.closed_at is not None and \
            now - as_utc(found.closed_at) > timedelta(days=REOPEN_DAYS):
        raise Conflict("this request was closed too long ago to reopen; open a new one")
    body = _message(text)
    citizen = Actor("citizen", personal_id_number)
    _move(session, citizen, found, "reopen", Party.CITIZEN)
    found.closed_at, found.resolution_due = None, sla.resolution_due(found.topic, now)
    _add_message(session, found, citizen, body, from_citizen=True, now=now)
    return found


def _citizen_ticket(session: Session, personal_id_number: str, ticket_id: int) -> SupportTicket:
    found = repository.ticket(session, ticket_id, lock=True)
    if found is None or found.personal_id_number != personal_id_number:
        raise NotFound("you have no request with this number")
    return found


# --- the officials' side -----------------------------------------------------------------

def queue_tickets(session: Session, official: Actor, include_closed: bool = False,
                  now: datetime | None = None) -> list[tuple[SupportTicket, SupportQueue, bool]]:
    """The tickets of the official's queues within their scope, each with whether it is late."""
    held = _queue_permissions(official)
    now = now or now_utc()
    return [(found, team, sla.is_late(found, now)) for found, team in
            repository.queue_tickets(session, held, official.scope, include_closed)]


def official_ticket(session: Session, official: Actor, ticket_id: int,
                    now: datetime | None = None) -> TicketView:
    """A ticket with its whole thread (internal notes included); an audited read."""
    found = _reachable(session, official, ticket_id)
    _record(session, official, "support.ticket.read", found, {}, PURPOSE_HANDLE)
    return _view(session, found, with_internal=True, now=now)


def assign(session: Session, official: Actor, ticket_id: int, username: str = "") -> SupportTicket:
    """Take the ticket (no username) or give it to a colleague who can reach it."""
    found = _reachable(session, official, ticket_id, lock=True)
    assignee = official
    if username.strip() and username.strip() != official.name:
        colleague = officials.active_official(session, username.strip())
        if colleague is None or not _reaches(colleague, found, repository.queue(
                session, found.queue_id)):
            raise Invalid("username", "no active official of this queue with this username")
        assignee = colleague
    found.assignee = str(assignee)
    _move(session, official, found, "assign", Party.OFFICIAL, {"assignee": found.assignee})
    return found


def answer(session: Session, official: Actor, ticket_id: int, text: str,
           internal: bool = False, now: datetime | None = None) -> SupportTicket:
    """A reply to the citizen (the ticket is then answered and the citizen told), or an
    internal note that only officials read."""
    now = now or now_utc()
    found = _reachable(session, official, ticket_id, lock=True)
    body = _message(text)
    if internal:
        if found.state == State.CLOSED:
            raise Conflict("this request is closed")
        _add_message(session, found, official, body, from_citizen=False, now=now,
                     internal=True)
        _record(session, official, "support.ticket.note", found, {})
        return found
    _move(session, official, found, "answer", Party.OFFICIAL)
    found.first_response_at = found.first_response_at or now
    found.assignee = found.assignee or str(official)
    _add_message(session, found, official, body, from_citizen=False, now=now)
    _tell_citizen(session, found, "answer")
    return found


def close(session: Session, official: Actor, ticket_id: int,
          now: datetime | None = None) -> SupportTicket:
    found = _reachable(session, official, ticket_id, lock=True)
    _move(session, official, found, "close", Party.OFFICIAL)
    found.closed_at = now or now_utc()
    _tell_citizen(session, found, "close")
    return found


def works_a_queue(official: Actor) -> bool:
    return any(official.may(p) for p in routing.QUEUE_PERMISSIONS)


def require_support_pages(official: Actor) -> None:
    """The console's support pages: the queues' teams, and the officials who may send
    verification requests (`registry:read`) or review clean-up (`identity:approve`)."""
    if not (works_a_queue(official) or official.may(Permission.REGISTRY_READ)
            or official.may(Permission.IDENTITY_APPROVE)):
        raise Forbidden("the support pages are for support agents, auditors and the "
                        "officials of agencies")


def _queue_permissions(official: Actor) -> list[str]:
    held = [p.value for p in routing.QUEUE_PERMISSIONS if official.may(p)]
    if not held:
        raise Forbidden("support queues are for support agents and auditors")
    return held


def _reachable(session: Session, official: Actor, ticket_id: int,
               lock: bool = False) -> SupportTicket:
    """The ticket, if it is in one of the official's queues and within their scope; a ticket
    they cannot reach is not found, so its existence is not revealed."""
    _queue_permissions(official)
    found = repository.ticket(session, ticket_id, lock=lock)
    if found is None or not _reaches(official, found, repository.queue(session, found.queue_id)):
        raise NotFound("no request with this number in your queues")
    return found


def _reaches(official: Actor, ticket: SupportTicket, queue: SupportQueue) -> bool:
    return official.may(Permission(queue.permission)) and \
        official.may_see(ticket.province_code, ticket.ward_code)


# --- escalation -------------------------------------------------------------------------

@dataclass(frozen=True)
class Escalated:
    ticket_id: int
    target: sla.Target
    level: int


def escalate_late(session: Session, actor: Actor, now: datetime | None = None) -> list[Escalated]:
    """Raise each late ticket one level per missed target (1: the queue's lead, 2: the
    national lead), tell the lead by email, audit it; a breach already escalated is not
    escalated again, so the job may run as often as wanted."""
    now = now or now_utc()
    done = []
    for found in repository.unfinished_tickets(session):
        for target, due_on in sla.breaches(found, now):
            if repository.escalation(session, found.id, target.value, due_on) is not None:
                continue
            done.append(_escalate(session, actor, found, target, due_on, now))
    return done


def _escalate(session: Session, actor: Actor, ticket: SupportTicket, target: sla.Target,
              due_on: date, now: datetime) -> Escalated:
    ticket.escalation_level = min(ticket.escalation_level + 1, sla.MAX_LEVEL)
    session.add(SupportEscalation(ticket_id=ticket.id, target=target.value, due_on=due_on,
                                  level=ticket.escalation_level, escalated_at=now))
    lead = repository.queue(session, ticket.queue_id) if ticket.escalation_level == 1 else \
        repository.queue_by_code(session, routing.NATIONAL_QUEUE)
    assert lead is not None, "the migration makes the national queue"
    outbox.enqueue(session, "email", lead.lead_contact, f"Ticket {ticket.id} is late",
                   f"Support ticket {ticket.id} ({ticket.topic}, province "
                   f"{ticket.province_code}) missed its {target.value.replace('_', ' ')} "
                   f"target due {due_on}; escalated to level {ticket.escalation_level}.")
    _record(session, actor, "support.ticket.escalate", ticket,
            {"target": target.value, "due_on": str(due_on), "level": ticket.escalation_level,
             "notified": lead.lead_contact})
    return Escalated(ticket.id, target, ticket.escalation_level)


# --- shared steps ------------------------------------------------------------------------

def _move(session: Session, actor: Actor, ticket: SupportTicket, action: str, party: Party,
          detail: dict[str, object] | None = None) -> None:
    """Apply one transition of the table (anything else is refused) and audit it. A ticket
    back with the officials is `assigned` while someone holds it."""
    step = transition(action, party)
    if State(ticket.state) not in step.sources:
        if action == "reply":
            raise Conflict("this request is closed; reopen it")
        raise Conflict("this request cannot take this step now")
    target = step.target
    if target == State.OPEN and ticket.assignee:
        target = State.ASSIGNED
    _record(session, actor, f"support.ticket.{action}", ticket,
            {"from": ticket.state, "to": target.value, **(detail or {})})
    ticket.state = target.value


def _add_message(session: Session, ticket: SupportTicket, actor: Actor, body: str, *,
                 from_citizen: bool, now: datetime | None, internal: bool = False) -> None:
    session.add(SupportMessage(ticket_id=ticket.id, author=str(actor), from_citizen=from_citizen,
                               internal=internal, body=body, written_at=now or now_utc()))
    session.flush()


def _view(session: Session, ticket: SupportTicket, *, with_internal: bool,
          now: datetime | None = None) -> TicketView:
    return TicketView(ticket, repository.queue(session, ticket.queue_id),
                      repository.thread(session, ticket.id, with_internal=with_internal),
                      sla.is_late(ticket, now or now_utc()))


def _record(session: Session, actor: Actor, action: str, ticket: SupportTicket,
            detail: dict[str, object], purpose: str = "citizen support") -> None:
    audit.record(session, actor, action, subject_type="person",
                 subject_id=ticket.personal_id_number, purpose=purpose,
                 detail={"ticket": ticket.id, **detail})


def _tell_citizen(session: Session, ticket: SupportTicket, notice: str) -> None:
    """An SMS to the phone of the citizen's eID account, when they have one."""
    account = identity.account_for_person(session, ticket.personal_id_number)
    if account is not None:
        outbox.enqueue(session, "sms", account.phone, "CivicStack",
                       NOTICES[notice].format(id=ticket.id))

