"""Every query support makes of its own tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from civicstack.kit.authz import Scope, ScopeLevel
from civicstack.support.models import (
    CleanupCandidate,
    SupportEscalation,
    SupportMessage,
    SupportQueue,
    SupportRoutingRule,
    SupportTicket,
    VerificationRequest,
)
from civicstack.support.states import NOT_CLOSED


def queue_by_code(session: Session, code: str) -> SupportQueue | None:
    return session.execute(
        select(SupportQueue).where(SupportQueue.code == code)).scalar_one_or_none()


def queue(session: Session, queue_id: int) -> SupportQueue:
    return session.execute(select(SupportQueue).where(SupportQueue.id == queue_id)).scalar_one()


def queues(session: Session) -> list[SupportQueue]:
    return list(session.execute(select(SupportQueue).order_by(SupportQueue.code)).scalars())


def rules_for(session: Session, topic: str, province_code: str,
              ward_code: str | None) -> list[SupportRoutingRule]:
    """The rules that match a ticket of this topic and place (any topic, anywhere included)."""
    return list(session.execute(select(SupportRoutingRule).where(
        or_(SupportRoutingRule.topic.is_(None), SupportRoutingRule.topic == topic),
        or_(SupportRoutingRule.province_code.is_(None),
            SupportRoutingRule.province_code == province_code),
        or_(SupportRoutingRule.ward_code.is_(None), SupportRoutingRule.ward_code == ward_code),
    )).scalars())


def rule(session: Session, topic: str | None, province_code: str | None,
         ward_code: str | None) -> SupportRoutingRule | None:
    return session.execute(select(SupportRoutingRule).where(
        SupportRoutingRule.topic.is_(None) if topic is None else
        SupportRoutingRule.topic == topic,
        SupportRoutingRule.province_code.is_(None) if province_code is None else
        SupportRoutingRule.province_code == province_code,
        SupportRoutingRule.ward_code.is_(None) if ward_code is None else
        SupportRoutingRule.ward_code == ward_code)).scalar_one_or_none()


def ticket(session: Session, ticket_id: int, *, lock: bool = False) -> SupportTicket | None:
    query = select(SupportTicket).where(SupportTicket.id == ticket_id)
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def ticket_of_entry(session: Session, audit_seq: int) -> SupportTicket | None:
    return session.execute(select(SupportTicket).where(
        SupportTicket.audit_seq == audit_seq)).scalar_one_or_none()


def tickets_of(session: Session, personal_id_number: str) -> list[SupportTicket]:
    return list(session.execute(select(SupportTicket).where(
        SupportTicket.personal_id_number == personal_id_number)
        .order_by(SupportTicket.opened_at.desc(), SupportTicket.id.desc())).scalars())


def data_read_tickets_of(session: Session, personal_id_number: str) -> list[SupportTicket]:
    return list(session.execute(select(SupportTicket).where(
        SupportTicket.personal_id_number == personal_id_number,
        SupportTicket.audit_seq.is_not(None))).scalars())


def opened_since(session: Session, personal_id_number: str, since: datetime) -> int:
    return session.execute(select(func.count()).select_from(SupportTicket).where(
        SupportTicket.personal_id_number == personal_id_number,
        SupportTicket.channel == "portal", SupportTicket.opened_at >= since)).scalar_one()


def queue_tickets(session: Session, permissions: list[str], scope: Scope,
                  include_closed: bool) -> list[tuple[SupportTicket, SupportQueue]]:
    """Tickets of the queues whose permission the official holds, within their scope; the
    most escalated and the oldest due first."""
    query = (select(SupportTicket, SupportQueue)
             .join(SupportQueue, SupportQueue.id == SupportTicket.queue_id)
             .where(SupportQueue.permission.in_(permissions)))
    if scope.level == ScopeLevel.PROVINCE:
        query = query.where(SupportTicket.province_code == scope.province_code)
    elif scope.level == ScopeLevel.WARD:
        query = query.where(SupportTicket.ward_code == scope.ward_code)
    if not include_closed:
        query = query.where(SupportTicket.state.in_([s.value for s in NOT_CLOSED]))
    query = query.order_by(SupportTicket.escalation_level.desc(),
                           SupportTicket.resolution_due, SupportTicket.id)
    return [(found, team) for found, team in session.execute(query)]


def unfinished_tickets(session: Session) -> list[SupportTicket]:
    return list(session.execute(select(SupportTicket).where(
        SupportTicket.state.in_([s.value for s in NOT_CLOSED]))
        .order_by(SupportTicket.id)).scalars())


def thread(session: Session, ticket_id: int, *, with_internal: bool) -> list[SupportMessage]:
    query = select(SupportMessage).where(SupportMessage.ticket_id == ticket_id)
    if not with_internal:
        query = query.where(SupportMessage.internal.is_(False))
    return list(session.execute(query.order_by(SupportMessage.id)).scalars())


def escalation(session: Session, ticket_id: int, target: str,
               due_on: date) -> SupportEscalation | None:
    return session.execute(select(SupportEscalation).where(
        SupportEscalation.ticket_id == ticket_id, SupportEscalation.target == target,
        SupportEscalation.due_on == due_on)).scalar_one_or_none()


def verification_requests_of(session: Session,
                             personal_id_number: str) -> list[VerificationRequest]:
    return list(session.execute(select(VerificationRequest).where(
        VerificationRequest.personal_id_number == personal_id_number)
        .order_by(VerificationRequest.requested_at.desc())).scalars())


def verification_requests_by(session: Session, requested_by: str) -> list[VerificationRequest]:
    return list(session.execute(select(VerificationRequest).where(
        VerificationRequest.requested_by == requested_by)
        .order_by(VerificationRequest.requested_at.desc())).scalars())


def verification_request(session: Session, request_id: int) -> VerificationRequest | None:
    return session.get(VerificationRequest, request_id)


def candidates_known(session: Session, reason: str) -> set[str]:
    return set(session.execute(select(CleanupCandidate.personal_id_number).where(
        CleanupCandidate.reason == reason)).scalars())


def proposed_candidates(session: Session) -> list[CleanupCandidate]:
    return list(session.execute(select(CleanupCandidate).where(
        CleanupCandidate.state == "proposed")
        .order_by(CleanupCandidate.found_at, CleanupCandidate.id)).scalars())


def candidate(session: Session, candidate_id: int) -> CleanupCandidate | None:
    return session.get(CleanupCandidate, candidate_id)
