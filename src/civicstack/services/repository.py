"""The services domain's queries."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select
from sqlalchemy.orm import Session

from civicstack.services.models import (
    Agency,
    Attachment,
    Dossier,
    DossierEvent,
    DossierGroup,
    Offering,
    Payment,
    PaymentStatus,
    Procedure,
    RerouteRun,
)

OPEN_PAYMENT = (PaymentStatus.PENDING.value, PaymentStatus.SETTLED.value)
SPENT_PAYMENT = (PaymentStatus.REFUNDED.value, PaymentStatus.FAILED.value)


def agency(session: Session, code: str) -> Agency | None:
    return session.scalars(select(Agency).where(Agency.code == code)).one_or_none()


def agencies(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).order_by(Agency.id)))


def procedure(session: Session, code: str) -> Procedure | None:
    return session.scalars(select(Procedure).where(Procedure.code == code)).one_or_none()


def procedures(session: Session) -> list[Procedure]:
    return list(session.scalars(select(Procedure).order_by(Procedure.code)))


def offered_in(session: Session, province_code: str) -> list[tuple[Procedure, Offering]]:
    rows = session.execute(
        select(Procedure, Offering).join(Offering, Offering.procedure_id == Procedure.id)
        .where(Offering.province_code == province_code, Procedure.active.is_(True))
        .order_by(Procedure.code))
    return [(row[0], row[1]) for row in rows]


def offering(session: Session, procedure_id: int, province_code: str) -> Offering | None:
    return session.scalars(select(Offering).where(
        Offering.procedure_id == procedure_id, Offering.province_code == province_code)
    ).one_or_none()


def group_procedures(session: Session, group_code: str) -> list[Procedure]:
    return list(session.scalars(select(Procedure).where(Procedure.group_code == group_code)
                                .order_by(Procedure.id)))


def dossier(session: Session, receipt_code: str, *, lock: bool = False) -> Dossier | None:
    query = select(Dossier).where(Dossier.receipt_code == receipt_code)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def dossiers_of(session: Session, applicant_pid: str) -> list[Dossier]:
    return list(session.scalars(select(Dossier).where(Dossier.applicant_pid == applicant_pid)
                                .order_by(Dossier.created_at.desc(), Dossier.id.desc())))


def dossiers_of_organisation(session: Session, tax_code: str) -> list[Dossier]:
    """Every dossier filed for the organisation, by any member; a draft is not filed yet."""
    return list(session.scalars(select(Dossier).where(
        Dossier.organisation_tax_code == tax_code, Dossier.state != "draft")
        .order_by(Dossier.created_at.desc(), Dossier.id.desc())))


def receipt_taken(session: Session, receipt_code: str) -> bool:
    return (session.scalar(select(Dossier.id).where(Dossier.receipt_code == receipt_code))
            is not None or session.scalar(select(DossierGroup.id).where(
                DossierGroup.receipt_code == receipt_code)) is not None)


def events(session: Session, dossier_id: int) -> list[DossierEvent]:
    return list(session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == dossier_id)
                                .order_by(DossierEvent.seq)))


def last_seq(session: Session, dossier_id: int) -> int:
    return session.scalar(select(func.max(DossierEvent.seq)).where(
        DossierEvent.dossier_id == dossier_id)) or 0


def attachments(session: Session, dossier_id: int) -> list[Attachment]:
    return list(session.scalars(select(Attachment).where(Attachment.dossier_id == dossier_id)
                                .order_by(Attachment.id)))


def remove_attachments(session: Session, dossier_id: int, document_code: str) -> None:
    session.execute(delete(Attachment).where(Attachment.dossier_id == dossier_id,
                                             Attachment.document_code == document_code))


def attachment(session: Session, dossier_id: int, attachment_id: int) -> Attachment | None:
    return session.scalars(select(Attachment).where(
        Attachment.dossier_id == dossier_id, Attachment.id == attachment_id)).one_or_none()


@dataclass(frozen=True)
class InboxScope:
    """Where an official's inbox looks: their agencies' procedures, in their province or ward."""

    agency_ids: Collection[int]
    province_code: str | None
    ward_code: str | None


@dataclass(frozen=True)
class InboxFilter:
    """Which dossiers of the scope to list: in these states, and each condition given."""

    states: Collection[str]
    due_before: date | None = None  # only those due before this day (the overdue)
    assigned_to: str | None = None
    search: str = ""  # part of a receipt code, an ID number, or a name...
    named: Select[str] | None = None  # ...matched by the register's query of numbers


SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "due": (Dossier.due_on.asc().nulls_last(), Dossier.id.asc()),
    "received": (Dossier.submitted_at.asc().nulls_last(), Dossier.id.asc()),
}


def _in_scope(scope: InboxScope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Dossier.procedure_id.in_(
        select(Procedure.id).where(Procedure.agency_id.in_(list(scope.agency_ids))))]
    if scope.province_code:
        conditions.append(Dossier.province_code == scope.province_code)
    if scope.ward_code:
        conditions.append(Dossier.ward_code == scope.ward_code)
    return conditions


def _wanted(scope: InboxScope, wanted: InboxFilter) -> list[ColumnElement[bool]]:
    conditions = [*_in_scope(scope), Dossier.state.in_(list(wanted.states))]
    if wanted.due_before:
        conditions.append(Dossier.due_on < wanted.due_before)
    if wanted.assigned_to:
        conditions.append(Dossier.assigned_to == wanted.assigned_to)
    if wanted.search:
        matches: list[ColumnElement[bool]] = [
            Dossier.receipt_code.contains(wanted.search.upper(), autoescape=True),
            Dossier.applicant_pid == wanted.search]
        if wanted.named is not None:
            matches.append(Dossier.applicant_pid.in_(wanted.named.scalar_subquery()))
        conditions.append(or_(*matches))
    return conditions


def inbox_page(session: Session, scope: InboxScope, wanted: InboxFilter, sort: str,
               offset: int, limit: int) -> list[Dossier]:
    query = select(Dossier).where(*_wanted(scope, wanted)).order_by(*SORTS[sort])
    return list(session.scalars(query.offset(offset).limit(limit)))


def inbox_total(session: Session, scope: InboxScope, wanted: InboxFilter) -> int:
    return session.scalar(select(func.count(Dossier.id)).where(*_wanted(scope, wanted))) or 0


def states_counted(session: Session, scope: InboxScope) -> dict[str, int]:
    """State -> how many of the scope's dossiers are in it."""
    rows = session.execute(select(Dossier.state, func.count(Dossier.id))
                           .where(*_in_scope(scope)).group_by(Dossier.state))
    return {str(row[0]): int(row[1]) for row in rows}


def open_dossiers_in_wards(session: Session, ward_codes: Collection[str],
                           states: Collection[str], limit: int | None = None) -> list[Dossier]:
    return list(session.scalars(select(Dossier).where(
        Dossier.ward_code.in_(list(ward_codes)), Dossier.state.in_(list(states)))
        .order_by(Dossier.id).limit(limit).with_for_update()))


def open_dossiers_by_ward(session: Session, ward_codes: Collection[str],
                          states: Collection[str]) -> dict[str, tuple[int, int]]:
    """Ward -> (open dossiers, distinct applicants) addressed to it."""
    rows = session.execute(select(
        Dossier.ward_code, func.count(), func.count(func.distinct(Dossier.applicant_pid)))
        .where(Dossier.ward_code.in_(list(ward_codes)), Dossier.state.in_(list(states)))
        .group_by(Dossier.ward_code))
    return {ward: (dossiers, applicants) for ward, dossiers, applicants in rows}


def active_reroute_run(session: Session, wards_key: str) -> RerouteRun | None:
    return session.scalars(select(RerouteRun).where(
        RerouteRun.wards_key == wards_key,
        RerouteRun.state.in_(("queued", "running")))).one_or_none()


def next_reroute_run(session: Session) -> RerouteRun | None:
    """The oldest run not finished: a running one first, left half-done by a stopped worker."""
    return session.scalars(select(RerouteRun).where(
        RerouteRun.state.in_(("queued", "running"))).order_by(
        RerouteRun.state.desc(), RerouteRun.id).limit(1).with_for_update()).one_or_none()


def dossier_group(session: Session, receipt_code: str) -> DossierGroup | None:
    return session.scalars(select(DossierGroup).where(
        DossierGroup.receipt_code == receipt_code)).one_or_none()


def group_dossiers(session: Session, group_id: int, *, lock: bool = False) -> list[Dossier]:
    query = select(Dossier).where(Dossier.group_id == group_id).order_by(Dossier.id)
    return list(session.scalars(query.with_for_update() if lock else query))


def open_payment(session: Session, dossier_id: int) -> Payment | None:
    """The dossier's pending or settled payment, if it has one (it never has two)."""
    return session.scalars(select(Payment).where(
        Payment.dossier_id == dossier_id, Payment.status.in_(OPEN_PAYMENT))
        .order_by(Payment.id.desc()).limit(1)).first()


def spent_payments(session: Session, dossier_id: int) -> int:
    """How many tries at paying the dossier's fee ended refunded or failed."""
    return session.scalar(select(func.count()).where(
        Payment.dossier_id == dossier_id, Payment.status.in_(SPENT_PAYMENT))) or 0


def payments_through(session: Session, channel: str) -> list[Payment]:
    return list(session.scalars(select(Payment).where(Payment.channel == channel)
                                .order_by(Payment.id)))


def lock_payment(session: Session, payment: Payment) -> None:
    """Wait for any transaction changing the payment, then read it as it now stands."""
    session.refresh(payment, with_for_update=True)


def offerings_of(session: Session, procedure_id: int) -> list[Offering]:
    return list(session.scalars(select(Offering).where(Offering.procedure_id == procedure_id)
                                .order_by(Offering.province_code)))


def offering_counts(session: Session) -> dict[int, int]:
    """Procedure id -> how many provinces offer it."""
    rows = session.execute(select(Offering.procedure_id, func.count())
                           .group_by(Offering.procedure_id))
    return {int(row[0]): int(row[1]) for row in rows}
