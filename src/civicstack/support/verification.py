"""Verification requests: an agency official asks a citizen to confirm a piece of their data
(their permanent address, their phone) as the agency holds it. The citizen confirms or
disputes it in the portal before it expires; a dispute opens a support ticket. The official
needs `registry:read` (agencies that hold a person's data read the register) and the person
within their scope; the request, the answer and every read are audited."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from civicstack.identity import service as identity
from civicstack.kit import audit, outbox
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.db import as_utc
from civicstack.kit.errors import Conflict, FieldError, Invalid, NotFound
from civicstack.kit.i18n import N_
from civicstack.registry import service as registry
from civicstack.support import repository, service
from civicstack.support.models import VerificationRequest
from civicstack.support.states import Topic

FIELDS = {"permanent_address": N_("Permanent address"), "phone": N_("Phone number")}
VALUE_LIMIT, AGENCY_LIMIT, COMMENT_LIMIT = 300, 200, 1000
DEFAULT_DAYS, MAX_DAYS = 14, 90
PURPOSE = "verification request: asking the citizen to confirm their data"
NOTICE = "Co quan {agency} de nghi ban xac nhan thong tin. Xem tai muc Yeu cau cua toi."


class Answer(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"
    EXPIRED = "expired"  # shown, never stored: a pending request past its date


def ask(session: Session, official: Actor, personal_id_number: str, field: str, value: str,
        agency: str, days: int = DEFAULT_DAYS, now: datetime | None = None) -> VerificationRequest:
    official.require(Permission.REGISTRY_READ)
    _check_request(field, value, agency, days)
    registry.get_person(session, official, personal_id_number, PURPOSE)  # scope, audited
    now = now or datetime.now(UTC)
    found = VerificationRequest(
        personal_id_number=personal_id_number, field=field, value=value.strip(),
        agency=agency.strip(), requested_by=str(official), requested_at=now,
        expires_at=now + timedelta(days=days), state=Answer.PENDING.value, comment="")
    session.add(found)
    session.flush()
    _record(session, official, "support.verification.request", found)
    account = identity.account_for_person(session, personal_id_number)
    if account is not None:
        outbox.enqueue(session, "sms", account.phone, "CivicStack",
                       NOTICE.format(agency=found.agency))
    return found


def _check_request(field: str, value: str, agency: str, days: int) -> None:
    errors = []
    if field not in FIELDS:
        errors.append(FieldError("field", "choose the data to confirm"))
    if not value.strip() or len(value.strip()) > VALUE_LIMIT:
        errors.append(FieldError("value", "give the value your agency holds"))
    if not agency.strip() or len(agency.strip()) > AGENCY_LIMIT:
        errors.append(FieldError("agency", "name your agency"))
    if not 1 <= days <= MAX_DAYS:
        errors.append(FieldError("days", "between 1 and 90 days"))
    if errors:
        raise Invalid.of_fields(errors)


def answer_of(found: VerificationRequest, now: datetime | None = None) -> Answer:
    if found.state == Answer.PENDING and as_utc(found.expires_at) <= (now or datetime.now(UTC)):
        return Answer.EXPIRED
    return Answer(found.state)


def requests_of(session: Session, personal_id_number: str) -> list[VerificationRequest]:
    """The citizen's own requests, newest first."""
    return repository.verification_requests_of(session, personal_id_number)


def requests_by(session: Session, official: Actor) -> list[VerificationRequest]:
    """The requests this official made, with the citizens' answers."""
    official.require(Permission.REGISTRY_READ)
    return repository.verification_requests_by(session, str(official))


def respond(session: Session, personal_id_number: str, request_id: int, confirmed: bool,
            comment: str = "", now: datetime | None = None) -> VerificationRequest:
    """The citizen confirms, or disputes with a comment (which opens a ticket)."""
    now = now or datetime.now(UTC)
    found = repository.verification_request(session, request_id)
    if found is None or found.personal_id_number != personal_id_number:
        raise NotFound("you have no verification request with this number")
    if answer_of(found, now) != Answer.PENDING:
        raise Conflict("this request was already answered or has expired")
    comment = comment.strip()
    if len(comment) > COMMENT_LIMIT:
        raise Invalid("comment", f"at most {COMMENT_LIMIT} characters")
    if not confirmed and not comment:
        raise Invalid("comment", "say what is wrong with this data")
    citizen = Actor("citizen", personal_id_number)
    found.state = (Answer.CONFIRMED if confirmed else Answer.DISPUTED).value
    found.answered_at, found.comment = now, comment
    if not confirmed:
        ticket = service.open_ticket(session, citizen, service.NewTicket(
            personal_id_number, Topic.OTHER.value, f"Disputed data: {found.field}",
            f"{found.agency} holds: {found.value}\n{comment}",
            reference=f"verification:{found.id}"), now)
        found.ticket_id = ticket.id
    _record(session, citizen, "support.verification.answer", found)
    return found


def _record(session: Session, actor: Actor, action: str, found: VerificationRequest) -> None:
    audit.record(session, actor, action, subject_type="person",
                 subject_id=found.personal_id_number, purpose=PURPOSE,
                 detail={"request": found.id, "field": found.field, "state": found.state,
                         "agency": found.agency})
