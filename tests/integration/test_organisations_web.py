"""Organisation accounts in the browser and over the API: the representative's pages, the
officials' console, the read-only JSON for agencies, and their refusals."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.partitions import is_month_partition
from civicstack.migrations.models import metadata
from civicstack.organisations import service
from civicstack.organisations.models import Organisation
from civicstack.registry.models import Person, Sex
from tests.integration.test_identity_level2 import level_two_account, step_up
from tests.integration.test_identity_web import approved, citizen_sign_in
from tests.support.api import assert_problem, audit_entries, bearer
from tests.support.eid import account_of, code_for, make_active_account
from tests.support.organisations import DEMO_TAX_CODE, OFFICER_HANOI
from tests.support.people import make_person, ward_in
from tests.support.web import CSRF_PATTERN, Site

HANOI = Scope.province("01")

PAGE = f"/account/organisations/{DEMO_TAX_CODE}"
API = f"/api/v1/organisations/{DEMO_TAX_CODE}"
PURPOSE = {"purpose": "checking a supplier before a contract"}


def representative_signed_in(site: Site, an: Person) -> None:
    """An holds a level-2 account and this browser has stepped up with his authenticator."""
    secret = level_two_account(site, an)
    assert citizen_sign_in(site, an) == 303
    assert step_up(site, code_for(secret, 1))[0] == 303


def register_form(site: Site, **changes: str) -> dict[str, str]:
    with transaction(site.services.session_factory) as session:
        ward = ward_in(session, "01")
    return {"tax_code": DEMO_TAX_CODE, "name": "Công ty TNHH Phần mềm Sông Hồng",
            "english_name": "Song Hong Software Co., Ltd", "short_name": "SONGHONG SOFT",
            "head_office_ward_code": ward, "address_line": "12 Phố Huế",
            "csrf_token": site.csrf("/account"), **changes}


def post_registration(site: Site, **changes: str) -> tuple[int, str]:
    response = site.client.post("/account/organisations", data=register_form(site, **changes),
                                follow_redirects=False)
    return response.status_code, response.headers.get("location", response.text)


def official(site: Site, scope: Scope = HANOI, role: Role = Role.POLICE) -> TestClient:
    """A second browser, signed in to the console, so the citizen's stays signed in."""
    browser = TestClient(site.app)
    account = site.new_official(role, scope)
    login = browser.get("/console/login")
    assert browser.post("/console/login", follow_redirects=False, data={
        "username": account.username, "password": account.password,
        "csrf_token": csrf_in(login.text)}).status_code == 303
    page = browser.get("/console/login/code")
    assert browser.post("/console/login/code", follow_redirects=False, data={
        "code": code_for(account.secret, 1), "csrf_token": csrf_in(page.text)}).status_code == 303
    return browser


def csrf_in(html: str) -> str:
    found = CSRF_PATTERN.search(html)
    assert found, "no form on the page"
    return found.group(1)


def decide(browser: TestClient, action: str, reason: str = "matches the business registration",
           with_csrf: bool = True) -> int:
    data = {"action": action, "reason": reason}
    if with_csrf:
        data["csrf_token"] = csrf_in(browser.get("/console/organisations").text)
    return browser.post(f"/console/organisations/{DEMO_TAX_CODE}/decision", data=data,
                        follow_redirects=False).status_code


def status_of(site: Site) -> str:
    with transaction(site.services.session_factory) as session:
        return session.execute(select(Organisation.status).where(
            Organisation.tax_code == DEMO_TAX_CODE)).scalar_one()


@pytest.fixture
def binh(site: Site, tmp_path: Path) -> Person:
    """Trần Thị Bình, with an active level-1 eID account."""
    factory = site.services.session_factory
    with transaction(factory) as session:
        person = make_person(session, "Trần Thị Bình", date(1992, 3, 8), Sex.FEMALE,
                             phone="0987654321")
    make_active_account(factory, site.services.pepper, person, tmp_path / "mailbox-binh")
    return person


def test_register_approve_and_authorise_a_member_through_the_pages(
        site: Site, an: Person, binh: Person) -> None:
    representative_signed_in(site, an)
    assert "/account/organisations" in site.client.get("/account").text
    assert site.client.get("/account/organisations/new?lang=en").status_code == 200
    assert post_registration(site) == (303, PAGE)
    page = site.client.get(f"{PAGE}?lang=en")
    assert "Waiting for an official" in page.text
    assert "Authorise a citizen" not in page.text  # not before it is active

    officer = official(site)
    queue = officer.get("/console/organisations?lang=en")
    assert DEMO_TAX_CODE in queue.text
    assert an.full_name in queue.text  # the representative's name, an audited read
    assert decide(officer, "approve") == 303
    assert DEMO_TAX_CODE not in officer.get("/console/organisations").text

    added = site.client.post(f"{PAGE}/members", follow_redirects=False, data={
        "personal_id_number": binh.personal_id_number, "permissions": ["documents:view"],
        "csrf_token": site.csrf(PAGE)})
    assert added.status_code == 303
    page = site.client.get(f"{PAGE}?lang=vi")
    assert "Đang hoạt động" in page.text
    assert binh.full_name in page.text
    assert "organisation.member.add" in page.text  # the organisation's history

    site.client.cookies.clear()
    assert citizen_sign_in(site, binh) == 303  # a level-1 member sees what she may do
    mine = site.client.get("/account/organisations?lang=en")
    assert "Authorised to act" in mine.text
    assert "Song Hong" not in mine.text  # the Vietnamese name is the one listed
    hers = site.client.get(f"{PAGE}?lang=en")
    assert an.full_name in hers.text
    assert "Who acts for the organisation" not in hers.text  # members' list: representative only
    assert "Authorised to act for an organisation" in site.client.get("/account").text


def test_a_level_one_citizen_is_told_how_to_reach_level_two(site: Site, an: Person) -> None:
    approved(site, an)
    assert citizen_sign_in(site, an) == 303
    listing = site.client.get("/account/organisations?lang=en")
    assert "Register an organisation" not in listing.text
    form = site.client.get("/account/organisations/new?lang=en")
    assert form.status_code == 403
    assert "police office" in form.text
    assert post_registration(site)[0] == 403
    with transaction(site.services.session_factory) as session:
        assert session.execute(select(Organisation)).first() is None


def test_a_password_only_sign_in_is_sent_to_step_up_and_back(site: Site, an: Person) -> None:
    level_two_account(site, an)
    assert citizen_sign_in(site, an) == 303
    response = site.client.get("/account/organisations/new", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == \
        f"/account/step-up?next={quote('/account/organisations/new', safe='')}"


def test_signed_out_visitors_are_sent_to_sign_in(site: Site) -> None:
    response = site.client.get(PAGE, follow_redirects=False)
    assert response.headers["location"] == f"/account/login?next={quote(PAGE, safe='')}"


def test_wrong_fields_are_shown_next_to_each_in_vietnamese(site: Site, an: Person) -> None:
    representative_signed_in(site, an)
    status, page = post_registration(site, tax_code="0100233480",
                                     head_office_ward_code="99999", address_line="")
    assert status == 422
    for field_name in ("tax_code", "head_office_ward_code", "address_line"):
        assert f'id="{field_name}-error"' in page
    assert "chữ số kiểm tra" in page
    assert 'value="Công ty TNHH Phần mềm Sông Hồng"' in page  # what was typed stays


def test_a_duplicate_tax_code_is_refused_above_the_form(site: Site, an: Person) -> None:
    representative_signed_in(site, an)
    assert post_registration(site)[0] == 303
    status, page = post_registration(site, tax_code="0100 233 488")
    assert status == 409
    assert "Đã có tổ chức đăng ký với mã số thuế này." in page


def test_forms_without_their_csrf_token_are_refused(site: Site, an: Person) -> None:
    representative_signed_in(site, an)
    form = register_form(site)
    del form["csrf_token"]
    refused = site.client.post("/account/organisations", data=form)
    assert_problem(refused, 403)
    assert post_registration(site)[0] == 303
    assert site.client.post(f"{PAGE}/members", data={
        "personal_id_number": an.personal_id_number}).status_code == 403
    assert decide(official(site), "approve", with_csrf=False) == 403
    assert status_of(site) == "pending"


def test_the_console_needs_the_scope_and_the_head_offices_province(
        site: Site, an: Person) -> None:
    representative_signed_in(site, an)
    post_registration(site)
    reader = official(site, role=Role.AGENCY_APPROVER)
    assert reader.get("/console/organisations").status_code == 403
    refused = reader.post(f"/console/organisations/{DEMO_TAX_CODE}/decision", data={
        "action": "approve", "reason": "looks fine", "csrf_token": csrf_in(
            reader.get("/console/registry").text)})
    assert refused.status_code == 403
    elsewhere = official(site, Scope.province("79"))
    assert DEMO_TAX_CODE not in elsewhere.get("/console/organisations").text
    assert decide(elsewhere, "approve") == 403
    assert status_of(site) == "pending"


def test_a_non_member_gets_not_found(site: Site, an: Person, binh: Person) -> None:
    representative_signed_in(site, an)
    post_registration(site)
    site.client.cookies.clear()
    assert citizen_sign_in(site, binh) == 303
    assert site.client.get(PAGE).status_code == 404
    assert site.client.get("/account/organisations/0314409058").status_code == 404


def test_officials_reject_with_a_reason_the_representative_reads(site: Site, an: Person) -> None:
    representative_signed_in(site, an)
    post_registration(site)
    assert decide(official(site), "reject",
                  "name differs from the business registration") == 303
    page = site.client.get(f"{PAGE}?lang=en")
    assert "name differs from the business registration" in page.text
    assert "Register again" in page.text


def test_suspension_and_change_of_representative_in_the_console(
        site: Site, an: Person, binh: Person) -> None:
    representative_signed_in(site, an)
    post_registration(site)
    officer = official(site)
    assert decide(officer, "approve") == 303
    token = csrf_in(officer.get("/console/organisations").text)
    suspended = officer.post("/console/organisations/status", follow_redirects=False, data={
        "tax_code": DEMO_TAX_CODE, "action": "suspend", "reason": "court order 12/2026",
        "csrf_token": token})
    assert suspended.status_code == 303
    assert status_of(site) == "suspended"
    refused = officer.post("/console/organisations/representative", data={
        "tax_code": DEMO_TAX_CODE, "personal_id_number": binh.personal_id_number,
        "reason": "new director appointed", "csrf_token": token})
    assert refused.status_code == 422  # Bình's account is level 1
    assert "level-2" in refused.text


# --- the JSON API ---------------------------------------------------------------------------

def test_agencies_read_an_organisation_and_the_representatives_name_is_audited(
        site: Site, an: Person) -> None:
    representative_signed_in(site, an)
    post_registration(site)
    with transaction(site.services.session_factory) as session:
        service.decide(session, OFFICER_HANOI, DEMO_TAX_CODE, "approve", "checked")
    token = site.key("tax-office", Role.AGENCY_APPROVER)
    response = site.client.get(API, params=PURPOSE, headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["tax_code"], body["status"], body["short_name"]) == \
        (DEMO_TAX_CODE, "active", "SONGHONG SOFT")
    assert body["legal_representative"] == {"full_name": an.full_name}
    assert body["head_office"]["province_code"] == "01"
    assert body["head_office"]["ward_name"]
    assert "personal_id_number" not in response.text
    factory = site.services.session_factory
    [read] = audit_entries(factory, "registry.person.role_holder", an.personal_id_number)[-1:]
    assert (read.actor, read.purpose) == ("apikey:tax-office", PURPOSE["purpose"])
    assert audit_entries(factory, "organisation.read", DEMO_TAX_CODE)


def test_the_api_refusals(site: Site, an: Person) -> None:
    representative_signed_in(site, an)
    post_registration(site)
    reader = bearer(site.key("tax-office", Role.AGENCY_APPROVER))
    assert_problem(site.client.get(API, params=PURPOSE), 401)
    assert_problem(site.client.get(API, params=PURPOSE,
                                   headers=bearer(site.key("registry", Role.SERVICE_CLERK))),
                   403)
    assert_problem(site.client.get(API, params=PURPOSE, headers=bearer(site.key(
        "tax-office-hcmc", Role.AGENCY_APPROVER, Scope.province("79")))), 403)
    assert_problem(site.client.get(API, headers=reader), 422)  # no purpose
    assert_problem(site.client.get("/api/v1/organisations/0100233480", params=PURPOSE,
                                   headers=reader), 422)
    assert_problem(site.client.get("/api/v1/organisations/0314409058", params=PURPOSE,
                                   headers=reader), 404)
    assert site.client.get(API, params=PURPOSE, headers=reader).json()["status"] == "pending"
    with transaction(site.services.session_factory) as session:
        service.decide(session, OFFICER_HANOI, DEMO_TAX_CODE, "reject", "not a real company")
    assert_problem(site.client.get(API, params=PURPOSE, headers=reader), 404)


def test_the_migrations_build_exactly_the_tables_the_models_describe(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={
                "compare_type": True,
                # A log's monthly partitions are PostgreSQL's, not tables of the models.
                "include_name": lambda name, kind, _: not (
                    kind == "table" and is_month_partition(name))}), metadata)
    assert differences == []


def test_audit_entries_of_a_registration_name_the_citizen(site: Site, an: Person) -> None:
    representative_signed_in(site, an)
    post_registration(site)
    with transaction(site.services.session_factory) as session:
        entry = session.execute(select(AuditEntry).where(
            AuditEntry.action == "organisation.register")).scalar_one()
    assert (entry.actor, entry.subject_type, entry.subject_id) == \
        (f"citizen:{an.personal_id_number}", "organisation", DEMO_TAX_CODE)


def test_member_refusals_are_shown_on_the_organisations_page(
        site: Site, an: Person, binh: Person) -> None:
    representative_signed_in(site, an)
    post_registration(site)
    with transaction(site.services.session_factory) as session:
        service.decide(session, OFFICER_HANOI, DEMO_TAX_CODE, "approve", "checked")
    token = site.csrf(PAGE)
    refused = site.client.post(f"{PAGE}/members", data={
        "personal_id_number": "001099999999", "permissions": ["services:file"],
        "csrf_token": token})
    assert refused.status_code == 422
    assert 'id="personal_id_number-error"' in refused.text
    assert 'value="001099999999"' in refused.text  # what was typed stays
    assert site.client.post(f"{PAGE}/members", follow_redirects=False, data={
        "personal_id_number": binh.personal_id_number, "permissions": ["services:file"],
        "csrf_token": token}).status_code == 303
    with transaction(site.services.session_factory) as session:
        view = service.organisation_page(session, account_of(session, an.personal_id_number),
                                         DEMO_TAX_CODE)
        ids = {m.member.role: m.member.id for m in view.members}
    kept = site.client.post(f"{PAGE}/members/{ids['representative']}/revoke",
                            data={"csrf_token": token})
    assert kept.status_code == 409  # the representative changes only through an official
    withdrawn = site.client.post(f"{PAGE}/members/{ids['authorised']}/revoke",
                                 follow_redirects=False, data={"csrf_token": token})
    assert withdrawn.status_code == 303
    assert binh.full_name not in site.client.get(PAGE).text
