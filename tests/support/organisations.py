"""Organisation accounts for tests: real tax codes, citizens brought to a level-2 sign-in and
organisations registered and approved, all through the services (as people would)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from civicstack.identity import service as identity
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role, Scope
from civicstack.kit.db import transaction
from civicstack.organisations import service
from civicstack.organisations.models import Organisation
from civicstack.registry.models import Person
from tests.support.eid import account_of, code_for, make_active_account, make_level_two
from tests.support.people import ward_in

# Real, valid tax codes (check digit right); branches add "-001"...
DEMO_TAX_CODE = "0100233488"
OTHER_TAX_CODE = "0314409058"
EVERY_PERMISSION = ("documents:view", "services:file")  # what an authorised member may do
OFFICER_HANOI = Actor("apikey", "org-officer-hanoi", Scope.province("01"), Role.POLICE)


def level_two_token(factory: sessionmaker[Session], pepper: str, totp_key: str,
                    person: Person, mailbox_dir: Path) -> str:
    """An active level-2 account for `person` and a browser session stepped up to level 2;
    returns the session token (what the citizen's cookie refers to)."""
    make_active_account(factory, pepper, person, mailbox_dir)
    with transaction(factory) as session:
        secret = make_level_two(session, totp_key, person.personal_id_number)
    with transaction(factory) as session:
        token = identity.start_session(session, account_of(session, person.personal_id_number),
                                       "pytest", "127.0.0.1")
    with transaction(factory) as session:  # the enrolment spent the current time-step
        assert identity.step_up(session, totp_key, token, code_for(secret, 1)) == \
            identity.CodeOutcome.ACCEPTED
    return token


def signed(session: Session, token: str) -> identity.SignedIn:
    found = identity.signed_in(session, token)
    assert found is not None, "the session has ended"
    return found


def details(session: Session, tax_code: str = DEMO_TAX_CODE, province_code: str = "01",
            **changes: str) -> service.OrganisationDetails:
    values = {"tax_code": tax_code, "name": "Công ty TNHH Phần mềm Sông Hồng",
              "head_office_ward_code": ward_in(session, province_code),
              "address_line": "12 Phố Huế", "english_name": "Song Hong Software Co., Ltd",
              "short_name": "SONGHONG SOFT", **changes}
    return service.OrganisationDetails(**values)


def registered(factory: sessionmaker[Session], token: str, tax_code: str = DEMO_TAX_CODE,
               province_code: str = "01", approve: bool = True) -> Organisation:
    """An organisation registered by the citizen behind `token`, approved by default."""
    with transaction(factory) as session:
        organisation = service.register(session, signed(session, token),
                                        details(session, tax_code, province_code))
    if approve:
        with transaction(factory) as session:
            organisation = service.decide(session, Actor("apikey", "org-officer", NATIONAL,
                                                         Role.POLICE), tax_code,
                                          "approve", "matches the business registration")
    return organisation
