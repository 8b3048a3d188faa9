"""Organisations act through their people (issue 22, finding 2): documents issued only to a
registered, active organisation and held in its wallet, shown to the members allowed to see
them; services filed for the organisation by an authorised member and routed to its head
office; and a bank reading who may act for it. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.errors import Forbidden, NotFound
from civicstack.organisations import service as organisations
from civicstack.registry.models import Person, Sex
from civicstack.services import service as services
from civicstack.wallet import repository as wallet_repository
from civicstack.wallet import service as wallet
from tests.integration.test_identity_web import citizen_sign_in
from tests.support.api import assert_problem, audit_entries
from tests.support.eid import make_active_account
from tests.support.organisations import (
    DEMO_TAX_CODE,
    OTHER_TAX_CODE,
    level_two_token,
    registered,
    signed,
)
from tests.support.people import make_person
from tests.support.services import publish_everywhere
from tests.support.wallet import grant
from tests.support.web import Site

REGISTRATION_AUTHORITY = "dang-ky-kinh-doanh"
PUSH = f"/api/v1/wallet/issuers/{REGISTRATION_AUTHORITY}/credentials"
WALLET_PAGE = f"/wallet/organisations/{DEMO_TAX_CODE}"


@pytest.fixture
def factory(site: Site) -> sessionmaker[Session]:
    found: sessionmaker[Session] = site.services.session_factory
    return found


@pytest.fixture
def an_represents(site: Site, an: Person, tmp_path: Path) -> str:
    """An, at level 2, represents Sông Hồng Software (head office in Hà Nội, province 01),
    approved; returns his browser session token."""
    token = level_two_token(site.services.session_factory, site.services.pepper,
                            str(site.services.totp_key), an, tmp_path / "mailbox-an")
    registered(site.services.session_factory, token)
    return token


PHONES = iter(f"09876{n:05d}" for n in range(1, 100))


def citizen(site: Site, name: str, born: date, province_code: str = "01") -> Person:
    """A citizen with an active (level-1) eID account and her own phone."""
    with transaction(site.services.session_factory) as session:
        person = make_person(session, name, born, Sex.FEMALE, province_code=province_code,
                             legacy_province_code=province_code, phone=next(PHONES))
    police = Actor("official", "police", Scope.province(province_code), Role.POLICE)
    make_active_account(site.services.session_factory, site.services.pepper, person,
                        site.services.settings.data_dir / f"mailbox-{person.personal_id_number}",
                        police)
    return person


def authorise(factory: sessionmaker[Session], representative_token: str, member: Person,
              *permissions: str) -> None:
    with transaction(factory) as session:
        organisations.add_member(session, signed(session, representative_token), DEMO_TAX_CODE,
                                 member.personal_id_number, permissions)


def business_registration(tax_code: str, name: str = "Công ty TNHH Phần mềm Sông Hồng",
                          ) -> dict[str, Any]:
    return {"document_type": "business_registration", "subject_id": tax_code, "claims": {
        "tax_code": tax_code, "name": name, "legal_representative": "Nguyễn Văn An",
        "head_office": "12 Phố Huế, Hà Nội", "registered_on": "2020-01-15"}}


@pytest.fixture
def registration_authority(site: Site) -> dict[str, str]:
    """The national business register's operator key, granted for its issuer."""
    token = site.key("dkkd-system", Role.AGENCY_APPROVER)
    with transaction(site.services.session_factory) as session:
        wallet.seed_catalogue(session)
        grant(session, Actor("apikey", "dkkd-system"), REGISTRATION_AUTHORITY)
    return {"Authorization": f"Bearer {token}"}


# --- documents only for registered, active organisations --------------------------------------

def test_a_business_registration_for_an_unregistered_tax_code_is_refused_with_a_problem(
        site: Site, registration_authority: dict[str, str], an_represents: str) -> None:
    ghost = site.client.post(PUSH, headers=registration_authority,
                             json=business_registration(OTHER_TAX_CODE, "Ghost Co"))
    assert_problem(ghost, 422)
    assert "registered" in ghost.text
    with transaction(site.services.session_factory) as session:
        assert wallet_repository.credentials_of(session, OTHER_TAX_CODE) == []

    pushed = site.client.post(PUSH, headers=registration_authority,
                              json=business_registration(DEMO_TAX_CODE))
    assert pushed.status_code == 201, pushed.text


def test_no_document_for_a_pending_or_suspended_organisation(
        site: Site, factory: sessionmaker[Session], registration_authority: dict[str, str],
        an_represents: str) -> None:
    with transaction(factory) as session:
        organisations.decide(session, Actor("apikey", "org-officer", NATIONAL, Role.POLICE),
                             DEMO_TAX_CODE, "suspend", "court order 12/2026")
    refused = site.client.post(PUSH, headers=registration_authority,
                               json=business_registration(DEMO_TAX_CODE))
    assert_problem(refused, 409)
    assert "not active" in refused.text


# --- the organisation's wallet -------------------------------------------------------------

def test_business_documents_are_in_the_organisation_wallet_for_members_allowed_to_see_them(
        site: Site, factory: sessionmaker[Session], registration_authority: dict[str, str],
        an: Person, an_represents: str) -> None:
    assert site.client.post(PUSH, headers=registration_authority,
                            json=business_registration(DEMO_TAX_CODE)).status_code == 201
    accountant = citizen(site, "Lê Thị Hoa", date(1988, 2, 3))
    clerk = citizen(site, "Phạm Thị Lan", date(1995, 6, 7))
    stranger = citizen(site, "Đỗ Thị Mai", date(1991, 9, 9))
    authorise(factory, an_represents, accountant, "documents:view")
    authorise(factory, an_represents, clerk, "services:file")

    assert citizen_sign_in(site, an) == 303  # the representative sees everything
    page = site.client.get(f"{WALLET_PAGE}?lang=en")
    assert page.status_code == 200
    assert "Business registration certificate" in page.text
    assert "Công ty TNHH Phần mềm Sông Hồng" in page.text
    assert WALLET_PAGE in site.client.get("/wallet").text  # linked from his own wallet

    assert citizen_sign_in(site, accountant) == 303
    assert "Business registration certificate" in site.client.get(f"{WALLET_PAGE}?lang=en").text
    assert citizen_sign_in(site, clerk) == 303
    refused = site.client.get(f"{WALLET_PAGE}?lang=en")
    assert refused.status_code == 403
    assert "Business registration certificate" not in refused.text
    assert citizen_sign_in(site, stranger) == 303
    assert site.client.get(WALLET_PAGE).status_code == 404  # as if it did not exist

    views = [e for e in audit_entries(factory, "wallet.organisation.view")
             if e.subject_id == DEMO_TAX_CODE]
    assert sorted(e.actor for e in views) == sorted(
        [f"citizen:{an.personal_id_number}", f"citizen:{accountant.personal_id_number}"])


def test_a_suspended_organisations_wallet_is_closed_to_its_members(
        site: Site, factory: sessionmaker[Session], an: Person, an_represents: str) -> None:
    with transaction(factory) as session:
        organisations.decide(session, Actor("apikey", "org-officer", NATIONAL, Role.POLICE),
                             DEMO_TAX_CODE, "suspend", "court order 12/2026")
    assert citizen_sign_in(site, an) == 303
    assert site.client.get(WALLET_PAGE).status_code == 403


# --- services filed for the organisation ---------------------------------------------------

def test_a_member_files_for_the_organisation_and_it_goes_to_the_head_office_province(
        site: Site, factory: sessionmaker[Session], an_represents: str) -> None:
    with transaction(factory) as session:
        publish_everywhere(session)
    binh = citizen(site, "Trần Thị Bình", date(1992, 3, 8), province_code="66")
    authorise(factory, an_represents, binh, "services:file")
    member = Actor("citizen", binh.personal_id_number)

    with transaction(factory) as session:
        for_company = services.start_draft(session, member, binh.personal_id_number,
                                           "DVC-DN-01", DEMO_TAX_CODE)
        for_herself = services.start_draft(session, member, binh.personal_id_number,
                                           "DVC-DN-01")
        [acting] = services.filing_organisations(session, binh.personal_id_number)
        assert acting.tax_code == DEMO_TAX_CODE
        routed = (for_company.province_code, for_company.organisation_tax_code,
                  for_company.applicant_pid, for_company.receipt_code[:2])
        own = (for_herself.province_code, for_herself.organisation_tax_code)
    assert routed == ("01", DEMO_TAX_CODE, binh.personal_id_number, "01")
    assert own == ("66", None)
    [created] = [e for e in audit_entries(factory, "services.dossier.create")
                 if e.detail.get("organisation")]
    assert created.detail["organisation"] == DEMO_TAX_CODE
    assert created.actor == f"citizen:{binh.personal_id_number}"


def test_only_a_member_with_services_file_may_file_for_the_organisation(
        site: Site, factory: sessionmaker[Session], an_represents: str) -> None:
    with transaction(factory) as session:
        publish_everywhere(session)
    viewer = citizen(site, "Lê Thị Hoa", date(1988, 2, 3))
    stranger = citizen(site, "Đỗ Thị Mai", date(1991, 9, 9))
    authorise(factory, an_represents, viewer, "documents:view")

    def start(actor: Actor, person: Person) -> None:
        with transaction(factory) as session:
            services.start_draft(session, actor, person.personal_id_number, "DVC-DN-01",
                                 DEMO_TAX_CODE)

    with pytest.raises(Forbidden, match="file public services"):
        start(Actor("citizen", viewer.personal_id_number), viewer)
    with pytest.raises(NotFound):
        start(Actor("citizen", stranger.personal_id_number), stranger)
    clerk = Actor("official", "clerk-hanoi", role=Role.SERVICE_CLERK)
    with pytest.raises(Forbidden, match="authorised by the organisation"):
        start(clerk, viewer)  # a counter cannot prove who the organisation authorised
    with transaction(factory) as session:
        assert services.filing_organisations(session, viewer.personal_id_number) == []


def test_the_service_form_offers_the_organisation_and_the_dossier_names_it(
        site: Site, factory: sessionmaker[Session], an: Person, an_represents: str) -> None:
    with transaction(factory) as session:
        publish_everywhere(session)
    assert citizen_sign_in(site, an) == 303
    form = site.client.get("/services/DVC-DN-01?lang=en")
    assert f'name="organisation" value="{DEMO_TAX_CODE}"' in form.text
    started = site.client.post("/services/DVC-DN-01/start", follow_redirects=False, data={
        "organisation": DEMO_TAX_CODE, "csrf_token": site.csrf("/services/DVC-DN-01")})
    assert started.status_code == 303
    dossier = site.client.get(started.headers["location"] + "?lang=en")
    assert f'id="filed-for">{DEMO_TAX_CODE}<' in dossier.text, dossier.text[-3000:]
    refused = site.client.post("/services/DVC-DN-01/start", data={
        "organisation": OTHER_TAX_CODE, "csrf_token": site.csrf("/services/DVC-DN-01")})
    assert refused.status_code == 404


# --- what a bank may check -----------------------------------------------------------------

def test_the_api_lists_members_with_roles_and_checks_one_members_authority(
        site: Site, factory: sessionmaker[Session], an: Person, an_represents: str) -> None:
    binh = citizen(site, "Trần Thị Bình", date(1992, 3, 8))
    authorise(factory, an_represents, binh, "services:file")
    bank = {"Authorization": f"Bearer {site.key('bank-kyc', Role.AGENCY_APPROVER)}"}
    purpose = {"purpose": "opening a company account"}

    record = site.client.get(f"/api/v1/organisations/{DEMO_TAX_CODE}", headers=bank,
                             params=purpose).json()
    assert [(m["full_name"], m["role"], m["permissions"]) for m in record["members"]] == [
        (an.full_name, "representative", ["documents:view", "services:file"]),
        (binh.full_name, "authorised", ["services:file"])]
    assert binh.personal_id_number not in str(record)

    checked = site.client.get(
        f"/api/v1/organisations/{DEMO_TAX_CODE}/members/{binh.personal_id_number}",
        headers=bank, params=purpose)
    assert checked.status_code == 200
    assert (checked.json()["role"], checked.json()["permissions"]) == (
        "authorised", ["services:file"])
    outsider = site.client.get(
        f"/api/v1/organisations/{DEMO_TAX_CODE}/members/001099999999", headers=bank,
        params=purpose)
    assert_problem(outsider, 404)
    checks = audit_entries(factory, "organisation.member.check")
    assert [(e.actor, e.detail["member"]) for e in checks] == [
        ("apikey:bank-kyc", binh.personal_id_number)]
