"""Organisation accounts, the rules: who may register one, the official's check, who acts for
it, and every refusal leaving nothing changed (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicstack.identity import service as identity
from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound
from civicstack.organisations import service
from civicstack.organisations.models import Organisation, OrganisationMember
from civicstack.registry.models import Person, Sex
from tests.support.api import log_is_intact
from tests.support.eid import POLICE_HANOI, account_of, make_active_account, make_level_two
from tests.support.organisations import (
    DEMO_TAX_CODE,
    EVERY_PERMISSION,
    OFFICER_HANOI,
    details,
    level_two_token,
    registered,
    signed,
)
from tests.support.people import make_person
from tests.support.web import Site

OFFICER_HCMC = Actor("apikey", "org-officer-hcmc", Scope.province("79"), Role.POLICE)
BRANCH = f"{DEMO_TAX_CODE}-001"


@pytest.fixture
def factory(site: Site) -> sessionmaker[Session]:
    found: sessionmaker[Session] = site.services.session_factory
    return found


@pytest.fixture
def binh(factory: sessionmaker[Session]) -> Person:
    """Trần Thị Bình, born 8 March 1992, living in Hà Nội, with her own phone."""
    with transaction(factory) as session:
        return make_person(session, "Trần Thị Bình", date(1992, 3, 8), Sex.FEMALE,
                           phone="0987654321")


@pytest.fixture
def an_at_level_two(site: Site, an: Person, tmp_path: Path) -> str:
    """An's browser session, stepped up to level 2."""
    return level_two_token(site.services.session_factory, site.services.pepper,
                           str(site.services.totp_key), an, tmp_path / "mailbox-an")


def binh_at_level_two(site: Site, binh: Person, tmp_path: Path) -> str:
    return level_two_token(site.services.session_factory, site.services.pepper,
                           str(site.services.totp_key), binh, tmp_path / "mailbox-binh")


def organisation(factory: sessionmaker[Session], tax_code: str = DEMO_TAX_CODE) -> Organisation:
    with transaction(factory) as session:
        return session.execute(select(Organisation).where(
            Organisation.tax_code == tax_code)).scalar_one()


def live_members(factory: sessionmaker[Session]) -> list[tuple[str, str]]:
    """(ID number, role) of every live member of any organisation."""
    with transaction(factory) as session:
        rows = session.execute(select(OrganisationMember).where(
            OrganisationMember.revoked_at.is_(None))).scalars().all()
        accounts = identity.accounts_by_ids(session, {r.account_id for r in rows})
        return sorted((accounts[r.account_id].personal_id_number, r.role) for r in rows)


def actions_about(factory: sessionmaker[Session], subject_id: str) -> list[str]:
    with transaction(factory) as session:
        return list(session.execute(select(AuditEntry.action).where(
            AuditEntry.subject_id == subject_id).order_by(AuditEntry.seq)).scalars())


# --- registration --------------------------------------------------------------------------

def test_a_level_two_representative_registers_and_an_official_approves(
        factory: sessionmaker[Session], an: Person, an_at_level_two: str) -> None:
    with transaction(factory) as session:
        created = service.register(session, signed(session, an_at_level_two),
                                   details(session, "01 00 233 488"))
    assert (created.tax_code, created.status, created.activated_at) == \
        (DEMO_TAX_CODE, "pending", None)
    assert created.head_office_province_code == "01"
    assert live_members(factory) == [(an.personal_id_number, "representative")]

    with transaction(factory) as session:
        [waiting] = service.pending(session, OFFICER_HANOI)
        assert (waiting.representative_name, waiting.representative_pid) == \
            (an.full_name, an.personal_id_number)
        service.decide(session, OFFICER_HANOI, DEMO_TAX_CODE, "approve", "matches the register")
    approved = organisation(factory)
    assert (approved.status, approved.version) == ("active", 2)
    assert approved.activated_at is not None
    assert actions_about(factory, DEMO_TAX_CODE) == ["organisation.register",
                                                     "organisation.approve"]
    # the queue's name is an audited read of the representative's data
    assert "registry.person.role_holder" in actions_about(factory, an.personal_id_number)
    assert log_is_intact(factory)


def test_a_level_one_citizen_cannot_register(site: Site, factory: sessionmaker[Session],
                                            binh: Person, tmp_path: Path) -> None:
    make_active_account(factory, site.services.pepper, binh, tmp_path / "mailbox")
    with transaction(factory) as session:
        token = identity.start_session(session, account_of(session, binh.personal_id_number),
                                       "pytest", "127.0.0.1")
    with transaction(factory) as session, pytest.raises(Forbidden, match="level-2"):
        service.register(session, signed(session, token), details(session))
    with transaction(factory) as session:
        assert session.execute(select(Organisation)).first() is None


def test_a_level_two_account_signed_in_by_password_alone_must_step_up(
        factory: sessionmaker[Session], an: Person, an_at_level_two: str) -> None:
    with transaction(factory) as session:
        token = identity.start_session(session, account_of(session, an.personal_id_number),
                                       "another browser", "127.0.0.2")
    with transaction(factory) as session, pytest.raises(service.NeedsStepUp):
        service.register(session, signed(session, token), details(session))


def test_a_locked_account_is_refused_even_with_a_session_read_before_the_lock(
        factory: sessionmaker[Session], an: Person, an_at_level_two: str) -> None:
    with transaction(factory) as session:
        before_lock = signed(session, an_at_level_two)
    with transaction(factory) as session:
        identity.lock(session, POLICE_HANOI, an.personal_id_number, "reported stolen phone")
    with transaction(factory) as session, pytest.raises(Forbidden, match="not active"):
        service.register(session, before_lock, details(session))
    with transaction(factory) as session:
        assert identity.signed_in(session, an_at_level_two) is None  # and the session ended


def test_every_wrong_field_is_named_at_once(factory: sessionmaker[Session],
                                           an_at_level_two: str) -> None:
    with transaction(factory) as session, pytest.raises(Invalid) as refused:
        service.register(session, signed(session, an_at_level_two), details(
            session, "0100233480", name="  ", head_office_ward_code="99999",
            short_name="X" * 101))
    reasons = {e.field: e.reason for e in refused.value.errors}
    assert set(reasons) == {"tax_code", "name", "head_office_ward_code", "short_name"}
    assert "check digit" in reasons["tax_code"]
    assert "ward" in reasons["head_office_ward_code"]


@pytest.mark.parametrize("tax_code", ["0100233488", "01.00.233.488"])
def test_a_tax_code_already_registered_is_a_conflict(
        factory: sessionmaker[Session], an_at_level_two: str, tax_code: str) -> None:
    registered(factory, an_at_level_two, approve=False)
    with transaction(factory) as session, pytest.raises(Conflict, match="already registered"):
        service.register(session, signed(session, an_at_level_two), details(session, tax_code))


def test_a_branch_needs_its_parent_registered_and_active(
        factory: sessionmaker[Session], an_at_level_two: str) -> None:
    def register_branch() -> Organisation:
        with transaction(factory) as session:
            return service.register(session, signed(session, an_at_level_two),
                                    details(session, BRANCH, name="Chi nhánh Hải Phòng"))

    with pytest.raises(Invalid, match="parent organisation"):
        register_branch()
    registered(factory, an_at_level_two, approve=False)
    with pytest.raises(Invalid, match="parent organisation"):
        register_branch()  # pending is not enough: nobody has checked the parent yet
    with transaction(factory) as session:
        parent = service.decide(session, OFFICER_HANOI, DEMO_TAX_CODE, "approve", "checked")
    branch = register_branch()
    assert (branch.tax_code, branch.parent_id) == (BRANCH, parent.id)


# --- members -------------------------------------------------------------------------------

def test_the_representative_authorises_and_withdraws_a_member(
        factory: sessionmaker[Session], site: Site, an: Person, binh: Person,
        an_at_level_two: str, tmp_path: Path) -> None:
    registered(factory, an_at_level_two)
    make_active_account(factory, site.services.pepper, binh, tmp_path / "mailbox")
    with transaction(factory) as session:
        member = service.add_member(session, signed(session, an_at_level_two), DEMO_TAX_CODE,
                                    f" {binh.personal_id_number} ", EVERY_PERMISSION)
        member_id = member.id
    assert live_members(factory) == sorted([(an.personal_id_number, "representative"),
                                            (binh.personal_id_number, "authorised")])
    with transaction(factory) as session:
        account = account_of(session, binh.personal_id_number)
        [mine] = service.my_organisations(session, account)
        assert (mine.organisation.tax_code, mine.role) == (DEMO_TAX_CODE, "authorised")
        view = service.organisation_page(session, account, DEMO_TAX_CODE)
        assert (view.representative_name, view.members, view.history) == (an.full_name, [], [])

    with transaction(factory) as session:
        service.revoke_member(session, signed(session, an_at_level_two), DEMO_TAX_CODE,
                              member_id)
    assert live_members(factory) == [(an.personal_id_number, "representative")]
    assert actions_about(factory, binh.personal_id_number)[-2:] == [
        "organisation.member.authorised", "organisation.member.revoked"]
    with transaction(factory) as session, pytest.raises(NotFound):
        service.organisation_page(session, account_of(session, binh.personal_id_number),
                                  DEMO_TAX_CODE)


def test_a_member_needs_an_active_eid_account_and_is_added_once(
        factory: sessionmaker[Session], site: Site, an: Person, binh: Person,
        an_at_level_two: str, tmp_path: Path) -> None:
    registered(factory, an_at_level_two)

    def add(number: str) -> None:
        with transaction(factory) as session:
            service.add_member(session, signed(session, an_at_level_two), DEMO_TAX_CODE, number,
                               EVERY_PERMISSION)

    with pytest.raises(Invalid, match="no active eID account"):
        add(binh.personal_id_number)  # in the register, but without an account
    with pytest.raises(Invalid, match="12 digits"):
        add("12345")
    with pytest.raises(Conflict, match="already acts"):
        add(an.personal_id_number)  # the representative themself
    make_active_account(factory, site.services.pepper, binh, tmp_path / "mailbox")
    add(binh.personal_id_number)
    with pytest.raises(Conflict, match="already acts"):
        add(binh.personal_id_number)
    with transaction(factory) as session:
        identity.lock(session, POLICE_HANOI, binh.personal_id_number, "stolen phone")
    with pytest.raises(Invalid, match="no active eID account"):
        add(binh.personal_id_number)


def test_only_the_representative_changes_members(
        factory: sessionmaker[Session], site: Site, an: Person, binh: Person,
        an_at_level_two: str, tmp_path: Path) -> None:
    registered(factory, an_at_level_two)
    binh_token = binh_at_level_two(site, binh, tmp_path)
    with transaction(factory) as session:
        service.add_member(session, signed(session, an_at_level_two), DEMO_TAX_CODE,
                           binh.personal_id_number, EVERY_PERMISSION)
    before = live_members(factory)
    with transaction(factory) as session, pytest.raises(Forbidden, match="representative"):
        service.add_member(session, signed(session, binh_token), DEMO_TAX_CODE,
                           an.personal_id_number, EVERY_PERMISSION)
    with transaction(factory) as session, pytest.raises(NotFound):
        service.add_member(session, signed(session, binh_token), "0314409058",
                           an.personal_id_number, EVERY_PERMISSION)  # not hers: as if not there
    assert live_members(factory) == before


def test_members_change_only_while_the_organisation_is_active(
        factory: sessionmaker[Session], an: Person, an_at_level_two: str) -> None:
    registered(factory, an_at_level_two, approve=False)

    def add() -> None:
        with transaction(factory) as session:
            service.add_member(session, signed(session, an_at_level_two), DEMO_TAX_CODE,
                               an.personal_id_number, EVERY_PERMISSION)

    with pytest.raises(Conflict, match="only while the organisation is active"):
        add()
    with transaction(factory) as session:
        service.decide(session, OFFICER_HANOI, DEMO_TAX_CODE, "approve", "checked")
        service.decide(session, OFFICER_HANOI, DEMO_TAX_CODE, "suspend", "court order 12/2026")
    with pytest.raises(Conflict, match="only while the organisation is active"):
        add()
    assert organisation(factory).status_reason == "court order 12/2026"


# --- officials -----------------------------------------------------------------------------

def test_an_official_outside_the_province_neither_sees_nor_decides(
        factory: sessionmaker[Session], an_at_level_two: str) -> None:
    registered(factory, an_at_level_two, approve=False)
    with transaction(factory) as session:
        assert service.pending(session, OFFICER_HCMC) == []
    with transaction(factory) as session, pytest.raises(Forbidden, match="outside your scope"):
        service.decide(session, OFFICER_HCMC, DEMO_TAX_CODE, "approve", "looks fine to me")
    assert organisation(factory).status == "pending"
    assert actions_about(factory, DEMO_TAX_CODE) == ["organisation.register"]


def test_decisions_follow_the_state_table_and_need_a_reason(
        factory: sessionmaker[Session], an_at_level_two: str) -> None:
    registered(factory, an_at_level_two, approve=False)

    def decide(action: str, reason: str = "checked against the register") -> Organisation:
        with transaction(factory) as session:
            return service.decide(session, OFFICER_HANOI, DEMO_TAX_CODE, action, reason)

    with pytest.raises(Invalid, match="reason"):
        decide("reject", " ok ")
    with pytest.raises(Invalid, match="approve, reject, suspend, reinstate"):
        decide("delete")
    with pytest.raises(Conflict, match="cannot suspend an organisation that is pending"):
        decide("suspend")
    rejected = decide("reject", "name differs from the business registration")
    assert (rejected.status, rejected.status_reason) == \
        ("rejected", "name differs from the business registration")
    for action in ("approve", "reject", "reinstate"):
        with pytest.raises(Conflict):
            decide(action)


def test_approval_waits_while_the_representatives_account_is_locked(
        factory: sessionmaker[Session], an: Person, an_at_level_two: str) -> None:
    registered(factory, an_at_level_two, approve=False)
    with transaction(factory) as session:
        identity.lock(session, POLICE_HANOI, an.personal_id_number, "stolen phone")
    with transaction(factory) as session, pytest.raises(Conflict, match="not active"):
        service.decide(session, OFFICER_HANOI, DEMO_TAX_CODE, "approve", "checked")


def test_a_rejected_tax_code_can_be_registered_again_by_its_real_representative(
        factory: sessionmaker[Session], site: Site, an: Person, binh: Person,
        an_at_level_two: str, tmp_path: Path) -> None:
    registered(factory, an_at_level_two, approve=False)
    with transaction(factory) as session:
        service.decide(session, OFFICER_HANOI, DEMO_TAX_CODE, "reject",
                       "the representative named in the registration is someone else")
    binh_token = binh_at_level_two(site, binh, tmp_path)
    with transaction(factory) as session:
        reopened = service.register(session, signed(session, binh_token), details(session))
    assert (reopened.status, reopened.status_reason) == ("pending", "")
    assert live_members(factory) == [(binh.personal_id_number, "representative")]
    with transaction(factory) as session:
        [entry] = session.execute(select(AuditEntry).where(
            AuditEntry.action == "organisation.register",
            AuditEntry.actor == f"citizen:{binh.personal_id_number}")).scalars()
        assert entry.detail["reopened"] is True


def test_an_official_changes_the_representative_and_the_previous_one_loses_every_right(
        factory: sessionmaker[Session], site: Site, an: Person, binh: Person,
        an_at_level_two: str, tmp_path: Path) -> None:
    registered(factory, an_at_level_two)
    make_active_account(factory, site.services.pepper, binh, tmp_path / "mailbox-1")
    with transaction(factory) as session, pytest.raises(Invalid, match="level-2"):
        service.change_representative(session, OFFICER_HANOI, DEMO_TAX_CODE,
                                      binh.personal_id_number, "new director appointed")
    with transaction(factory) as session:
        service.add_member(session, signed(session, an_at_level_two), DEMO_TAX_CODE,
                           binh.personal_id_number, EVERY_PERMISSION)
    with transaction(factory) as session:
        make_level_two(session, str(site.services.totp_key), binh.personal_id_number)
    with transaction(factory) as session, pytest.raises(Forbidden, match="outside your scope"):
        service.change_representative(session, OFFICER_HCMC, DEMO_TAX_CODE,
                                      binh.personal_id_number, "new director appointed")
    with transaction(factory) as session:
        changed = service.change_representative(session, OFFICER_HANOI, DEMO_TAX_CODE,
                                                binh.personal_id_number,
                                                "new director appointed on 1 Dec 2026")
        assert changed.representative_account_id == \
            account_of(session, binh.personal_id_number).id
    assert live_members(factory) == [(binh.personal_id_number, "representative")]
    with transaction(factory) as session, pytest.raises(NotFound):
        service.add_member(session, signed(session, an_at_level_two), DEMO_TAX_CODE,
                           an.personal_id_number, EVERY_PERMISSION)
    assert actions_about(factory, an.personal_id_number)[-1] == \
        "organisation.representative.end"
    assert actions_about(factory, binh.personal_id_number)[-1] == \
        "organisation.representative.start"
    with transaction(factory) as session, pytest.raises(Conflict, match="already"):
        service.change_representative(session, OFFICER_HANOI, DEMO_TAX_CODE,
                                      binh.personal_id_number, "new director appointed")
    assert log_is_intact(factory)
