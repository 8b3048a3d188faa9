"""Claims of the documents whose data is the population register's: read through the register's
service (so each read is audited with the issuing agency as actor) and shaped per schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor
from civicstack.kit.errors import Conflict
from civicstack.registry import service as registry
from civicstack.registry.models import EventKind, Person

Claims = dict[str, Any]


def _person(person: Person) -> Claims:
    return {"personal_id_number": person.personal_id_number, "full_name": person.full_name,
            "date_of_birth": person.date_of_birth.isoformat()}


def _address(line: str, place: str) -> str:
    return ", ".join(part for part in (line, place) if part)


def _id_card(session: Session, history: registry.PersonHistory) -> Claims:
    person = history.person
    cards = [card for card in history.id_cards if card.status == "active"]
    if not cards:
        raise Conflict("the register holds no active ID card for this person; the card is "
                       "issued at a police office first")
    card = cards[-1]
    places = registry.place_names(session, [person])
    claims = {**_person(person), "sex": person.sex, "nationality": person.nationality,
              "place_of_origin": person.place_of_origin,
              "permanent_address": _address(person.permanent_address_line,
                                            places.get(person.permanent_ward_code, "")),
              "card_number": card.card_number, "issued_on": card.issued_on.isoformat()}
    if card.expires_on:
        claims["card_expires_on"] = card.expires_on.isoformat()
    return claims


def _residence(session: Session, history: registry.PersonHistory) -> Claims:
    person = history.person
    places = registry.place_names(session, [person])
    claims = {**_person(person),
              "permanent_address": _address(person.permanent_address_line,
                                            places.get(person.permanent_ward_code, ""))}
    if person.temporary_ward_code:
        claims["temporary_address"] = _address(person.temporary_address_line,
                                               places.get(person.temporary_ward_code, ""))
    if history.household:
        claims["household_code"] = history.household[0].household_code
    return claims


def _parents(history: registry.PersonHistory) -> dict[str, str]:
    names = {}
    for relative in history.relatives:
        if relative.kind == "parent":
            key = "mother_name" if relative.person.sex == "F" else "father_name"
            names[key] = relative.person.full_name
    return names


def _birth(session: Session, history: registry.PersonHistory) -> Claims:
    person = history.person
    return {**_person(person), "sex": person.sex,
            "place_of_birth": person.place_of_birth or person.place_of_birth_province_code,
            **_parents(history)}


def _marriage(session: Session, history: registry.PersonHistory) -> Claims:
    current = [r for r in history.relatives if r.kind == "spouse" and r.until is None]
    if not current:
        raise Conflict("the register records no current marriage for this person")
    spouse = current[-1]
    married = [e.event.occurred_on for e in history.events
               if e.event.kind == EventKind.MARRIAGE.value
               and e.counterpart_pid == spouse.person.personal_id_number]
    married_on = married[-1] if married else spouse.since
    if married_on is None:
        raise Conflict("the register has no date for this marriage")
    return {**_person(history.person), "spouse_name": spouse.person.full_name,
            "spouse_personal_id_number": spouse.person.personal_id_number,
            "married_on": married_on.isoformat()}


def _family(session: Session, history: registry.PersonHistory) -> Claims:
    relatives = [{"relation": r.kind, "full_name": r.person.full_name,
                  "personal_id_number": r.person.personal_id_number,
                  "date_of_birth": r.person.date_of_birth.isoformat()}
                 for r in history.relatives if r.until is None]
    return {**_person(history.person), "relatives": relatives}


BUILDERS: dict[str, Callable[[Session, registry.PersonHistory], Claims]] = {
    "id_card": _id_card,
    "residence_confirmation": _residence,
    "birth_certificate": _birth,
    "marriage_certificate": _marriage,
    "family_relations": _family,
}


def claims_from_register(session: Session, actor: Actor, document_code: str,
                         personal_id_number: str, purpose: str = "") -> Claims:
    history = registry.person_history(
        session, actor, personal_id_number,
        purpose or f"issue the {document_code} document into the wallet")
    return BUILDERS[document_code](session, history)
