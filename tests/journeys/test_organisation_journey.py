"""An organisation acting through its people, in Chromium (issue 22): a legal representative
registers a company, an official approves it, the representative authorises an employee, the
employee signs in to the demo bank as the company (chosen at consent) and files a public
service for it; the company's documents are in its wallet, the employee's signed
authorisation in hers. In Vietnamese and English, on a phone and a desktop, with axe-core on
every page."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicstack.identity import service as identity
from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.db import transaction
from civicstack.organisations import taxcode
from civicstack.registry.models import IdCardIssuance, Person
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WALLET_SITE
from tests.browser.conftest import Server, console_sign_in
from tests.journeys.conftest import PHONE, assert_accessible, open_page
from tests.support.eid import PASSWORD, code_for, make_active_account, make_level_two
from tests.support.people import ward_in
from tests.support.services import publish_everywhere
from tests.support.uploads import PDF

pytestmark = pytest.mark.browser
POLICE = Actor("official", "police", NATIONAL, Role.POLICE)
REGISTRATION_SYSTEM = Actor("apikey", "dkkd-system", NATIONAL, Role.AGENCY_APPROVER)
COMPANY = "Công ty TNHH Thương mại Hồ Tây"
# Screenshots of a phone in Vietnamese and a desktop in English are enough to show the pages.
SHOWN = {(PHONE, "vi"), (1280, "en")}
SERIALS = count(4_409_100)
AUTHORISATION = {"vi": "Giấy xác nhận người được ủy quyền của tổ chức",
                 "en": "Authorisation to act for an organisation"}


def a_new_tax_code() -> str:
    """A valid Hà Nội tax code not used before in this run (the serial's check digit)."""
    while True:
        prefix = f"01{next(SERIALS):07d}"
        for last in "0123456789":
            if taxcode.is_valid(prefix + last):
                return prefix + last


def people_without_an_account(session: Session, wanted: int) -> list[Person]:
    """Living adults of the demo register with a phone and an ID card, no eID account yet."""
    found = []
    for person in session.scalars(
            select(Person).join(IdCardIssuance, IdCardIssuance.person_id == Person.id)
            .where(Person.status == "alive", Person.phone.is_not(None),
                   IdCardIssuance.status == "active", Person.date_of_birth < "1990-01-01")
            .order_by(Person.id)):
        if identity.account_for_person(session, person.personal_id_number) is None:
            session.expunge(person)
            found.append(person)
            if len(found) == wanted:
                return found
    raise AssertionError("the demo register has too few adults left")


@dataclass(frozen=True)
class Cast:
    representative: Person
    representative_secret: str  # the authenticator app's
    employee: Person
    tax_code: str
    ward_code: str


@pytest.fixture
def cast(server: Server, tmp_path: Path) -> Cast:
    """Two citizens with active eID accounts (made through the services: their own
    registration is another journey's); the representative holds level 2, the employee an
    ID card in her wallet for the service's form."""
    services = services_of(server.app)
    with transaction(services.session_factory) as session:
        publish_everywhere(session)
        wallet.seed_catalogue(session)
        representative, employee = people_without_an_account(session, 2)
        ward = ward_in(session, "01")
    for person in (representative, employee):
        make_active_account(services.session_factory, services.pepper, person,
                            tmp_path / f"mailbox-{person.personal_id_number}", POLICE)
    with transaction(services.session_factory) as session:
        secret = make_level_two(session, str(services.totp_key),
                                representative.personal_id_number, POLICE)
        wallet.issue_from_register(session, services[WALLET_SITE], employee.personal_id_number,
                                   "id_card")
    return Cast(representative, secret, employee, a_new_tax_code(), ward)


def checked_and_shown(page: Page, shots: Path, name: str, width: int, language: str) -> None:
    """axe-core on a page worth showing, kept as a screenshot on a phone in Vietnamese and a
    desktop in English (docs/screenshots/org-*.png with CIVICSTACK_SCREENSHOTS=1)."""
    assert_accessible(page)
    if (width, language) in SHOWN:
        page.screenshot(path=shots / f"org-{name}-{width}-{language}.png", full_page=True)


def test_an_employee_acts_for_the_company_at_the_bank_and_files_a_service_for_it(
        page_at: tuple[Page, int, str], browser: Browser, server: Server, cast: Cast,
        shots: Path) -> None:
    page, width, language = page_at
    base, tax_code = server.base, cast.tax_code

    # The representative registers the company, confirming with the authenticator app.
    page.goto(f"{base}/account/organisations/new")
    assert_accessible(page)
    page.fill("#personal_id_number", cast.representative.personal_id_number)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.fill("#code", code_for(cast.representative_secret, 1))
    assert_accessible(page)
    page.click("button[type=submit]")
    expect(page.locator("#tax_code")).to_be_visible()
    page.fill("#tax_code", tax_code)
    page.fill("#name", COMPANY)
    page.fill("#head_office_ward_code", cast.ward_code)
    page.fill("#address_line", "25 Đường Thụy Khuê")
    assert_accessible(page)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/account/organisations/{tax_code}")
    assert_accessible(page)

    # An official of the head office's province approves it in the console.
    official = open_page(browser, width, language)
    console_sign_in(official, server, server.official(Role.POLICE), "/console/organisations")
    row = official.locator("tr", has_text=tax_code)
    expect(row).to_contain_text(cast.representative.full_name)
    row.locator("input[name=reason]").fill("khớp với giấy chứng nhận đăng ký doanh nghiệp")
    checked_and_shown(official, shots, "console-approve", width, language)
    row.locator("button[value=approve]").click()
    expect(official.locator("tr", has_text=tax_code)).to_have_count(0)
    assert_accessible(official)
    official.context.close()

    # The business register's system pushes the company's documents to its wallet.
    services = services_of(server.app)
    with transaction(services.session_factory) as session:
        for code, claims in company_documents(tax_code).items():
            wallet.issue_credential(session, services[WALLET_SITE], REGISTRATION_SYSTEM, code,
                                    tax_code, claims)

    # The representative authorises the employee to see the documents and file services.
    page.reload()
    page.fill("#personal_id_number", cast.employee.personal_id_number)
    page.check("input[name=permissions][value='documents:view']")
    page.check("input[name=permissions][value='services:file']")
    page.click("form[action$='/members'] button[type=submit]")
    expect(page.locator("main")).to_contain_text(cast.employee.full_name)
    assert_accessible(page)
    page.context.close()

    # The employee signs in to the demo bank as the company.
    employee = open_page(browser, width, language)
    employee.goto(f"{base}/demo/bank/")
    assert_accessible(employee)
    employee.click("a.eid[href='/demo/bank/login']")
    employee.wait_for_url("**/account/login?next=*")
    employee.fill("#personal_id_number", cast.employee.personal_id_number)
    employee.fill("#password", PASSWORD)
    employee.click("button[type=submit]")
    employee.check(f"input[name=organisation][value='{tax_code}']")
    checked_and_shown(employee, shots, "bank-consent", width, language)
    employee.click("button[value=allow]")
    employee.wait_for_url(f"{base}/demo/bank/")
    expect(employee.locator("#acting-for")).to_contain_text(tax_code)
    expect(employee.locator("#acting-for")).to_contain_text(cast.employee.full_name)
    assert_accessible(employee)

    # She files the company's registration change for it, online.
    employee.goto(f"{base}/services/DVC-DN-01")
    employee.check(f"input[name=organisation][value='{tax_code}']")
    assert_accessible(employee)
    employee.click("form[action$='/start'] button[type=submit]")
    employee.fill("#company_name", COMPANY)
    employee.fill("#charter_capital", "2000000000")
    employee.set_input_files("#document_charter", files=[{
        "name": "dieu-le.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    assert_accessible(employee)
    employee.click("button[value=submit]")
    expect(employee.locator("section.services-submitted")).to_be_visible()
    expect(employee.locator("#filed-for")).to_have_text(tax_code)
    checked_and_shown(employee, shots, "service-filed", width, language)
    receipt = employee.url.split("?")[0].rstrip("/").rsplit("/", 1)[1]

    employee.goto(f"{base}/dossiers/organisations/{tax_code}")
    expect(employee.locator(f"li[data-receipt='{receipt}']")).to_be_visible()
    assert_accessible(employee)

    # The company's documents are in its wallet; her authorisation in hers.
    employee.goto(f"{base}/wallet/organisations/{tax_code}")
    expect(employee.locator(".wallet-card")).to_have_count(len(company_documents(tax_code)))
    checked_and_shown(employee, shots, "wallet", width, language)
    employee.goto(f"{base}/wallet")
    expect(employee.locator("main")).to_contain_text(AUTHORISATION[language])
    expect(employee.locator("main")).to_contain_text(COMPANY)
    assert_accessible(employee)
    employee.context.close()


def company_documents(tax_code: str) -> dict[str, dict[str, object]]:
    return {
        "business_registration": {
            "tax_code": tax_code, "name": COMPANY, "legal_representative": "Người đại diện",
            "head_office": "25 Đường Thụy Khuê, Hà Nội", "registered_on": "2024-04-01"},
        "tax_registration": {
            "tax_code": tax_code, "name": COMPANY, "tax_office": "Thuế Thành phố Hà Nội",
            "registered_on": "2024-04-01"}}
