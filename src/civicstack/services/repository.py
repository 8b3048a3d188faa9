"""The services domain's queries."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import delete, func, select
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


def inbox(session: Session, states: Collection[str], agency_ids: Collection[int],
          province_code: str | None, ward_code: str | None, limit: int,
          assigned_to: str | None = None) -> list[Dossier]:
    query = (select(Dossier).join(Procedure, Procedure.id == Dossier.procedure_id)
             .where(Dossier.state.in_(list(states)), Procedure.agency_id.in_(list(agency_ids))))
    if assigned_to:
        query = query.where(Dossier.assigned_to == assigned_to)
    if province_code:
        query = query.where(Dossier.province_code == province_code)
    if ward_code:
        query = query.where(Dossier.ward_code == ward_code)
    return list(session.scalars(query.order_by(Dossier.due_on, Dossier.id).limit(limit)))


def open_dossiers_in_wards(session: Session, ward_codes: Collection[str],
                           states: Collection[str]) -> list[Dossier]:
    return list(session.scalars(select(Dossier).where(
        Dossier.ward_code.in_(list(ward_codes)), Dossier.state.in_(list(states)))
        .with_for_update()))


def overdue_count(session: Session, states: Collection[str], today: date) -> int:
    return session.scalar(select(func.count()).where(
        Dossier.state.in_(list(states)), Dossier.due_on < today)) or 0


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
