"""Every query the register runs against its own tables."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from civicstack.registry.models import (
    CivilStatusEvent,
    FamilyRelation,
    Household,
    HouseholdMember,
    IdCardIssuance,
    Person,
    PidSerialCounter,
    RelationKind,
)


def person_by_pid(
    session: Session, personal_id_number: str, *, lock: bool = False,
) -> Person | None:
    query = select(Person).where(Person.personal_id_number == personal_id_number)
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def pid_exists(session: Session, personal_id_number: str) -> bool:
    return session.execute(
        select(Person.id).where(Person.personal_id_number == personal_id_number)
    ).first() is not None


def search_persons(
    session: Session, folded_name: str, date_of_birth: date | None,
    province_codes: tuple[str, ...], limit: int,
) -> list[Person]:
    query = select(Person).where(Person.full_name_folded.startswith(folded_name, autoescape=True))
    if date_of_birth is not None:
        query = query.where(Person.date_of_birth == date_of_birth)
    if province_codes:
        query = query.where(Person.permanent_province_code.in_(province_codes))
    query = query.order_by(Person.full_name_folded, Person.date_of_birth, Person.id).limit(limit)
    return list(session.execute(query).scalars())


def events_of(session: Session, person_id: int) -> list[CivilStatusEvent]:
    return list(session.execute(
        select(CivilStatusEvent)
        .where(or_(CivilStatusEvent.person_id == person_id,
                   CivilStatusEvent.related_person_id == person_id))
        .order_by(CivilStatusEvent.occurred_on, CivilStatusEvent.id)
    ).scalars())


def pids_by_ids(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(
        select(Person.id, Person.personal_id_number).where(Person.id.in_(ids))
    ).all())


def current_spouse_relation(session: Session, person_id: int) -> FamilyRelation | None:
    return session.execute(
        select(FamilyRelation).where(
            FamilyRelation.kind == RelationKind.SPOUSE.value, FamilyRelation.until.is_(None),
            or_(FamilyRelation.person_id == person_id, FamilyRelation.relative_id == person_id),
        )
    ).scalar_one_or_none()


def relations_of(session: Session, person_id: int) -> list[tuple[FamilyRelation, Person]]:
    """Each relation touching the person, with the other person in it."""
    as_subject = session.execute(
        select(FamilyRelation, Person).join(Person, Person.id == FamilyRelation.relative_id)
        .where(FamilyRelation.person_id == person_id)
    ).all()
    as_relative = session.execute(
        select(FamilyRelation, Person).join(Person, Person.id == FamilyRelation.person_id)
        .where(FamilyRelation.relative_id == person_id)
    ).all()
    return [*as_subject, *as_relative]


def household_of(session: Session, person_id: int) -> tuple[Household, HouseholdMember] | None:
    row = session.execute(
        select(Household, HouseholdMember)
        .join(HouseholdMember, HouseholdMember.household_id == Household.id)
        .where(HouseholdMember.person_id == person_id)
    ).first()
    return (row[0], row[1]) if row else None


def household_by_code(session: Session, code: str) -> Household | None:
    return session.execute(
        select(Household).where(Household.household_code == code)
    ).scalar_one_or_none()


def household_members(session: Session, household_id: int) -> list[tuple[HouseholdMember, Person]]:
    return list(session.execute(
        select(HouseholdMember, Person).join(Person, Person.id == HouseholdMember.person_id)
        .where(HouseholdMember.household_id == household_id).order_by(Person.date_of_birth)
    ))


def id_cards_of(session: Session, person_id: int) -> list[IdCardIssuance]:
    return list(session.execute(
        select(IdCardIssuance).where(IdCardIssuance.person_id == person_id)
        .order_by(IdCardIssuance.issued_on.desc())
    ).scalars())


def locked_counter(session: Session, prefix: str) -> PidSerialCounter | None:
    return session.execute(
        select(PidSerialCounter).where(PidSerialCounter.prefix == prefix).with_for_update()
    ).scalar_one_or_none()


def highest_serial(session: Session, prefix: str) -> int | None:
    top = session.execute(
        select(func.max(Person.personal_id_number))
        .where(Person.personal_id_number.startswith(prefix))
    ).scalar_one_or_none()
    return int(top[6:]) if top else None
