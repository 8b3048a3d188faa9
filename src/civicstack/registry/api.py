"""Officials' JSON API over the register (`/api/v1/registry`), authenticated by operator keys;
each endpoint names the permission it needs (kit/authz.py), the service checks the scope."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status

from civicstack.kit.authz import Permission
from civicstack.kit.deps import DbSession, Operator
from civicstack.registry import service
from civicstack.registry.rules import PersonFacts
from civicstack.registry.schemas import (
    BirthIn,
    CoupleEventIn,
    DeathIn,
    EventOut,
    HistoryOut,
    HouseholdOut,
    IdCardEndIn,
    IdCardOut,
    PersonCreate,
    PersonOut,
    RelationOut,
    ResidenceChangeIn,
    SearchResult,
)

router = APIRouter(prefix="/registry", tags=["registry"])
Purpose = Annotated[str, Query(min_length=5, max_length=500,
                               description="Why you read this data; written to the audit log.")]


@router.get("/persons/{personal_id_number}", response_model=PersonOut)
def get_person(personal_id_number: str, purpose: Purpose, session: DbSession,
               official: Operator) -> PersonOut:
    official.require(Permission.REGISTRY_READ)
    person = service.get_person(session, official, personal_id_number, purpose)
    return PersonOut.model_validate(person)


@router.get("/persons", response_model=SearchResult)
def search_persons(
    session: DbSession, official: Operator, purpose: Purpose,
    full_name: Annotated[str, Query(
        min_length=2, max_length=200,
        description="Any part of the name (diacritics optional, a typing mistake tolerated), "
                    "an ID number or its first digits, a phone number, or an address.")],
    date_of_birth: date | None = None,
    province_code: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SearchResult:
    official.require(Permission.REGISTRY_READ)
    found = service.search_persons(session, official, purpose, text=full_name,
                                   date_of_birth=date_of_birth, province_code=province_code,
                                   limit=limit)
    return SearchResult(results=[PersonOut.model_validate(p) for p in found], count=len(found))


@router.get("/persons/{personal_id_number}/history", response_model=HistoryOut)
def person_history(personal_id_number: str, purpose: Purpose, session: DbSession,
                   official: Operator) -> HistoryOut:
    official.require(Permission.REGISTRY_READ)
    history = service.person_history(session, official, personal_id_number, purpose)
    household = None
    if history.household:
        home, membership = history.household
        household = HouseholdOut(household_code=home.household_code, ward_code=home.ward_code,
                                 relation_to_head=membership.relation_to_head)
    return HistoryOut(
        person=PersonOut.model_validate(history.person),
        events=[EventOut.model_validate(e.event).model_copy(
            update={"related_person_id_number": e.counterpart_pid}) for e in history.events],
        relations=[RelationOut(kind=r.kind, personal_id_number=r.person.personal_id_number,
                               full_name=r.person.full_name, since=r.since, until=r.until)
                   for r in history.relatives],
        household=household,
        id_cards=[IdCardOut.model_validate(c) for c in history.id_cards],
    )


@router.post("/persons", response_model=PersonOut, status_code=status.HTTP_201_CREATED)
def register_person(body: PersonCreate, session: DbSession, official: Operator) -> PersonOut:
    official.require(Permission.REGISTRY_CIVIL_STATUS)
    facts = PersonFacts(
        body.personal_id_number, body.full_name, body.date_of_birth, body.sex,
        body.place_of_birth_province_code, body.permanent_ward_code, body.temporary_ward_code,
        body.phone,
    )
    person = service.register_person(session, official, service.NewPerson(
        facts, body.place_of_birth, body.place_of_origin, body.ethnicity, body.nationality,
        body.permanent_address_line, body.temporary_address_line,
    ))
    return PersonOut.model_validate(person)


@router.post("/events/births", response_model=PersonOut, status_code=status.HTTP_201_CREATED)
def record_birth(body: BirthIn, session: DbSession, official: Operator) -> PersonOut:
    official.require(Permission.REGISTRY_CIVIL_STATUS)
    child = service.record_birth(session, official, service.Birth(**body.model_dump()))
    return PersonOut.model_validate(child)


@router.post("/events/marriages", status_code=status.HTTP_201_CREATED)
def record_marriage(body: CoupleEventIn, session: DbSession,
                    official: Operator) -> dict[str, str]:
    official.require(Permission.REGISTRY_CIVIL_STATUS)
    service.record_marriage(session, official, body.first_pid, body.second_pid,
                            body.occurred_on)
    return {"status": "recorded"}


@router.post("/events/divorces", status_code=status.HTTP_201_CREATED)
def record_divorce(body: CoupleEventIn, session: DbSession,
                   official: Operator) -> dict[str, str]:
    official.require(Permission.REGISTRY_CIVIL_STATUS)
    service.record_divorce(session, official, body.first_pid, body.second_pid,
                           body.occurred_on)
    return {"status": "recorded"}


@router.post("/events/deaths", response_model=PersonOut, status_code=status.HTTP_201_CREATED)
def record_death(body: DeathIn, session: DbSession, official: Operator) -> PersonOut:
    official.require(Permission.REGISTRY_CIVIL_STATUS)
    person = service.record_death(session, official, body.personal_id_number,
                                  body.occurred_on, body.cause)
    return PersonOut.model_validate(person)


@router.post("/persons/{personal_id_number}/id-card-endings", response_model=IdCardOut,
             status_code=status.HTTP_201_CREATED)
def end_id_card(personal_id_number: str, body: IdCardEndIn, session: DbSession,
                official: Operator) -> IdCardOut:
    """The police record the person's active ID card as lost or revoked; the eID's level 2
    and the wallet's ID card, which rested on it, follow in the same transaction."""
    card = service.end_id_card(session, official, personal_id_number, body.card_number,
                               service.CardEnd(body.ending), body.reason)
    return IdCardOut.model_validate(card)


@router.post("/events/residence-changes", response_model=PersonOut,
             status_code=status.HTTP_201_CREATED)
def record_residence_change(body: ResidenceChangeIn, session: DbSession,
                            official: Operator) -> PersonOut:
    official.require(Permission.REGISTRY_RESIDENCE)
    person = service.record_residence_change(session, official, service.ResidenceChange(
        body.personal_id_number, body.kind, body.ward_code, body.address_line, body.occurred_on))
    return PersonOut.model_validate(person)
