"""Queries of the biometrics tables."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from civicstack.biometrics.gallery import Fingerprint
from civicstack.biometrics.models import (
    DuplicateCase,
    EnrolmentPhoto,
    FaceConsent,
    FaceTemplate,
    RegistrationMatch,
)


def template_of(session: Session, personal_id_number: str) -> FaceTemplate | None:
    return session.scalars(select(FaceTemplate).where(
        FaceTemplate.personal_id_number == personal_id_number)).one_or_none()


def templates_by_id(session: Session, ids: list[int]) -> list[FaceTemplate]:
    return list(session.scalars(select(FaceTemplate).where(FaceTemplate.id.in_(ids))))


def fingerprint(session: Session) -> Fingerprint:
    count, total = session.execute(
        select(func.count(FaceTemplate.id), func.coalesce(func.sum(FaceTemplate.id), 0))).one()
    return int(count), int(total)


def template_ids(session: Session) -> list[int]:
    return list(session.scalars(select(FaceTemplate.id)))


def consent_of(session: Session, personal_id_number: str) -> FaceConsent | None:
    return session.get(FaceConsent, personal_id_number)


def open_cases(session: Session, personal_id_number: str | None = None) -> list[DuplicateCase]:
    query = select(DuplicateCase).where(DuplicateCase.status == "open")
    if personal_id_number is not None:
        query = query.where(DuplicateCase.personal_id_number == personal_id_number)
    return list(session.scalars(query.order_by(DuplicateCase.opened_at, DuplicateCase.id)))


def held_cases(session: Session, personal_id_numbers: list[str]) -> dict[str, int]:
    """ID number -> the oldest open look-alike case holding that person's face."""
    held: dict[str, int] = {}
    for case in session.scalars(select(DuplicateCase).where(
            DuplicateCase.status == "open",
            DuplicateCase.personal_id_number.in_(personal_id_numbers))
            .order_by(DuplicateCase.opened_at, DuplicateCase.id)):
        held.setdefault(case.personal_id_number, case.id)
    return held


def photo_of(session: Session, template_id: int) -> EnrolmentPhoto | None:
    return session.get(EnrolmentPhoto, template_id)


def queued_registrations(session: Session, limit: int) -> list[str]:
    return list(session.scalars(select(RegistrationMatch.personal_id_number)
                                .order_by(RegistrationMatch.queued_at).limit(limit)))


def dequeue_registration(session: Session, personal_id_number: str) -> bool:
    """True when this caller took the row (two workers never match the same selfie twice)."""
    taken = session.execute(delete(RegistrationMatch).where(
        RegistrationMatch.personal_id_number == personal_id_number))
    return bool(taken.rowcount)  # type: ignore[attr-defined]
