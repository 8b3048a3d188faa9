"""Claims from the population register, released per scope to a relying party the citizen
consented to. Every release is a read of the person's data and is audited as such."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from civicstack.identity.models import CitizenAccount
from civicstack.kit.audit import Actor
from civicstack.oidc.models import OidcClient
from civicstack.organisations import service as organisations
from civicstack.registry import service as registry
from civicstack.registry.models import Person, Sex

GENDERS = {Sex.MALE.value: "male", Sex.FEMALE.value: "female"}


def released_claims(session: Session, client: OidcClient, account: CitizenAccount,
                    scopes: set[str]) -> dict[str, Any]:
    if not scopes & {"profile", "address", "national_id"}:
        return _phone(account) if "phone" in scopes else {}
    person = registry.get_person(
        session, Actor("relying_party", client.client_id), account.personal_id_number,
        f"claims released to {client.name} with the citizen's consent")
    claims: dict[str, Any] = {}
    if "profile" in scopes:
        claims |= _profile(person)
    if "address" in scopes:
        claims["address"] = _address(session, person)
    if "phone" in scopes:
        claims |= _phone(account)
    if "national_id" in scopes:
        claims["personal_id_number"] = person.personal_id_number
    return claims


def _profile(person: Person) -> dict[str, Any]:
    # Vietnamese names are family name first: "Nguyễn Văn An" -> family Nguyễn, given An.
    parts = person.full_name.split()
    return {"name": person.full_name, "family_name": parts[0], "given_name": parts[-1],
            "gender": GENDERS.get(person.sex, "other"),
            "birthdate": person.date_of_birth.isoformat()}


def _address(session: Session, person: Person) -> dict[str, str]:
    place = registry.place_names(session, [person])[person.permanent_ward_code]
    ward, _, province = place.partition(", ")
    line = person.permanent_address_line
    return {"formatted": f"{line}, {place}" if line else place, "street_address": line,
            "locality": ward, "region": province, "country": "VN"}


def _phone(account: CitizenAccount) -> dict[str, Any]:
    # The account's phone was proven by a one-time code; E.164 for relying parties.
    return {"phone_number": "+84" + account.phone.removeprefix("0"),
            "phone_number_verified": True}


def organisation_claim(session: Session, account_id: int, tax_code: str) -> dict[str, Any]:
    """The organisation the citizen chose to act for in this sign-in, read again at every
    release: a withdrawn authorisation or a suspended organisation stops it at once (the
    DomainError of organisations.service). Tax code and name are public register facts; the
    role and permissions are what the relying party needs to decide what the member may do."""
    acting = organisations.acting_for(session, account_id, tax_code)
    return {"tax_code": acting.tax_code, "name": acting.organisation.name,
            "role": acting.role, "permissions": acting.permission_names}
