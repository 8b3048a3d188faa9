"""Issue 19: a demo a newcomer can walk through. After `civicstack demo seed` (and the services
demo of `make demo`): everyone aged 14 or more holds an ID card, the demo clerk's ward has
people and dossiers, demo citizens sign in with what `.data/demo-citizens.txt` says (level 2
with its authenticator's secret), Hà Nội has pupils of 14 to 17 with phones, and the demo
organisations are active, represented and staffed by demo citizens, with their business
registration in their wallet. On both databases."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from civicstack.cli import app
from civicstack.identity import service as identity
from civicstack.identity import totp
from civicstack.identity.demo import (
    DEMO_CITIZENS_FILE,
    DEMO_OFFICIALS,
    DEMO_WARDS,
    EMPLOYEE,
    HANOI,
    REPRESENTATIVE,
    DemoCitizen,
    read_demo_citizens,
)
from civicstack.identity.models import CitizenAccount
from civicstack.identity.service import UnknownIdentifiers
from civicstack.kit.appservices import TOTP_KEY
from civicstack.kit.cli_support import secret_store
from civicstack.kit.db import transaction
from civicstack.organisations.models import MemberRole, Organisation, OrganisationMember
from civicstack.registry.models import IdCardIssuance, Person
from civicstack.registry.service import age_on
from civicstack.registry.units import current_wards
from civicstack.services.models import Dossier
from civicstack.wallet import repository as wallet_repository
from civicstack.wallet.models import DocumentType

runner = CliRunner()
DOCS = Path(__file__).parents[2] / "docs"


def seed_like_make_demo(data_dir: Path) -> list[DemoCitizen]:
    for command in (["demo", "seed", "--people", "400", "--seed", "1"], ["services", "seed"],
                    ["services", "demo", "--dossiers", "200"]):
        done = runner.invoke(app, command)
        assert done.exit_code == 0, done.output
    path = data_dir / DEMO_CITIZENS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return read_demo_citizens(path)


def every_living_person_aged_14_or_more_holds_an_active_id_card(
        seeded: list[DemoCitizen], session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        carded = set(session.scalars(select(IdCardIssuance.person_id).where(
            IdCardIssuance.status == "active")))
        people = session.scalars(select(Person).where(Person.status == "alive")).all()
        of_age = [p for p in people if age_on(p.date_of_birth, date.today()) >= 14]
        assert len(of_age) > 200
        assert [p.full_name for p in of_age if p.id not in carded] == []
        assert not any(p.id in carded for p in people
                       if age_on(p.date_of_birth, date.today()) < 14)


def the_demo_clerks_ward_has_people_and_dossiers(
        seeded: list[DemoCitizen], session_factory: sessionmaker[Session]) -> None:
    clerks_wards = {ward for *_, ward in DEMO_OFFICIALS if ward}
    assert clerks_wards == set(DEMO_WARDS)
    with transaction(session_factory) as session:
        for ward in clerks_wards:
            residents = session.scalar(select(func.count()).select_from(Person).where(
                Person.permanent_ward_code == ward)) or 0
            dossiers = session.scalar(select(func.count()).select_from(Dossier).where(
                Dossier.ward_code == ward)) or 0
            assert residents >= 20, ward
            assert dossiers >= 5, ward


def demo_citizens_sign_in_with_the_files_password_and_level_two_secret(
        seeded: list[DemoCitizen], session_factory: sessionmaker[Session]) -> None:
    assert {c.level for c in seeded} == {1, 2}
    totp_key = secret_store().secret(TOTP_KEY)
    with transaction(session_factory) as session:
        for citizen in seeded:
            signed = identity.sign_in(session, UnknownIdentifiers(),
                                      citizen.personal_id_number, citizen.password)
            assert signed.outcome == identity.LoginOutcome.SIGNED_IN, citizen
            account = session.scalars(select(CitizenAccount).where(
                CitizenAccount.personal_id_number == citizen.personal_id_number)).one()
            assert account.level == citizen.level
            if citizen.level == 2:
                assert account.totp_secret is not None
                assert totp.unseal(totp_key, account.totp_secret,
                                   citizen.personal_id_number) == citizen.totp_secret


def hanoi_has_pupils_of_14_to_17_with_phones_and_one_is_a_demo_citizen(
        seeded: list[DemoCitizen], session_factory: sessionmaker[Session]) -> None:
    hanoi = {w["code"] for w in current_wards() if w["province_code"] == HANOI}
    with transaction(session_factory) as session:
        pupils = [p for p in session.scalars(select(Person).where(
                      Person.permanent_ward_code.in_(hanoi), Person.phone.is_not(None)))
                  if 14 <= age_on(p.date_of_birth, date.today()) <= 17]
    assert len(pupils) >= 2
    assert any(c.personal_id_number in {p.personal_id_number for p in pupils}
               for c in seeded)


def demo_organisations_are_active_staffed_and_hold_their_business_registration(
        seeded: list[DemoCitizen], session_factory: sessionmaker[Session]) -> None:
    representatives = {c.personal_id_number for c in seeded if c.part == REPRESENTATIVE}
    employees = {c.personal_id_number for c in seeded if c.part == EMPLOYEE}
    assert len(representatives) == 2
    assert len(employees) == 1
    with transaction(session_factory) as session:
        organisations = session.scalars(select(Organisation)).all()
        assert len(organisations) == 2
        business = session.scalars(select(DocumentType).where(
            DocumentType.code == "business_registration")).one()
        for organisation in organisations:
            assert organisation.status == "active"
            members = _members(session, organisation)
            assert members[MemberRole.REPRESENTATIVE] <= representatives
            assert members[MemberRole.REPRESENTATIVE]
            assert members[MemberRole.AUTHORISED] == employees
            held = wallet_repository.credentials_of(session, organisation.tax_code)
            assert [c.document_type_id for c in held] == [business.id]


def _members(session: Session, organisation: Organisation) -> dict[MemberRole, set[str]]:
    """The live members' ID numbers, by role."""
    rows = session.execute(select(OrganisationMember.role, CitizenAccount.personal_id_number)
                           .join(CitizenAccount,
                                 CitizenAccount.id == OrganisationMember.account_id)
                           .where(OrganisationMember.organisation_id == organisation.id,
                                  OrganisationMember.revoked_at.is_(None))).all()
    return {role: {pid for found, pid in rows if found == role.value} for role in MemberRole}


def test_the_seeded_demo_can_be_walked_through_by_a_newcomer(
        data_dir: Path, session_factory: sessionmaker[Session]) -> None:
    seeded = seed_like_make_demo(data_dir)
    every_living_person_aged_14_or_more_holds_an_active_id_card(seeded, session_factory)
    the_demo_clerks_ward_has_people_and_dossiers(seeded, session_factory)
    demo_citizens_sign_in_with_the_files_password_and_level_two_secret(seeded, session_factory)
    hanoi_has_pupils_of_14_to_17_with_phones_and_one_is_a_demo_citizen(seeded, session_factory)
    demo_organisations_are_active_staffed_and_hold_their_business_registration(
        seeded, session_factory)


def test_the_docs_count_the_demo_officials_and_name_the_citizens_file() -> None:
    officials = (DOCS / "officials.md").read_text(encoding="utf-8")
    assert f"with {'five' if len(DEMO_OFFICIALS) == 5 else len(DEMO_OFFICIALS)} officials" \
        in officials
    assert len(DEMO_OFFICIALS) == 5
    assert DEMO_CITIZENS_FILE in (DOCS.parent / "README.md").read_text(encoding="utf-8")
