"""Issue 19's proof for citizens, in Chromium, with axe-core (and, in Vietnamese, the search for
English left) on every page visited: register → an official approves → sign in; consent given,
denied and withdrawn at the demo bank; a use reported from "Who used my data"; a birth
registration whose wrong field an official sends back to be corrected; the language switched
after a form.

The pages of registration and of the bank's consent change with the language and the width,
so those journeys run at the four (width, language) pairs. The others run once in full on a
phone in Vietnamese (their steps are the same in English), and their pages are then shown at
the other three pairs for the checks alone."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from civicstack.kit.appservices import services_of
from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from tests.browser.conftest import Server, console_sign_in
from tests.browser.test_eid_browser import (
    PASSWORD,
    an_adult_with_a_phone,
    approve_at_the_counter,
    register_with_phone,
)
from tests.browser.test_services_browser import POLICE, a_parent_with_an_id_card_in_her_wallet
from tests.browser.test_services_journey import act, submit_birth_registration
from tests.journeys.conftest import (
    DESKTOP,
    LANGUAGES,
    PHONE,
    WIDTHS,
    Screenshot,
    check_page,
    open_page,
    show_in,
)
from tests.support.eid import make_active_account

pytestmark = pytest.mark.browser
# Each journey its own people of the demo register (an index into its living adults), since an
# account is made once per person: four registrations, four bank customers, one reporter.
REGISTRANTS, BANK_CUSTOMERS, REPORTER = 0, 4, 8


def pair_index(width: int, language: str) -> int:
    return WIDTHS.index(width) * len(LANGUAGES) + LANGUAGES.index(language)


def other_pairs(width: int, language: str) -> list[tuple[int, str]]:
    return [(w, lang) for w in WIDTHS for lang in LANGUAGES if (w, lang) != (width, language)]


def an_active_citizen(server: Server, skip: int, mailbox: Path) -> dict[str, str]:
    """A living adult of the demo register whose eID account is approved (through the
    services: the journey under test starts after)."""
    row = an_adult_with_a_phone(server.population, skip)
    factory = services_of(server.app).session_factory
    with transaction(factory) as session:
        person = session.scalars(select(Person).where(
            Person.personal_id_number == row["personal_id_number"])).one()
        session.expunge(person)
    make_active_account(factory, services_of(server.app).pepper, person, mailbox, POLICE)
    return row


def sign_in(page: Page, server: Server, person: dict[str, str]) -> None:
    """The citizen's sign-in form, wherever the page now is (its `next` decides what follows)."""
    check_page(page)
    page.fill("#personal_id_number", person["personal_id_number"])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_register_is_approved_and_signs_in(page_at: tuple[Page, int, str], server: Server,
                                          browser: Browser) -> None:
    page, width, language = page_at
    person = an_adult_with_a_phone(server.population, REGISTRANTS + pair_index(width, language))
    register_with_phone(page, server, person, check=check_page)
    approve_at_the_counter(browser, server, person)

    page.goto(f"{server.base}/account/login")
    sign_in(page, server, person)
    expect(page).to_have_url(f"{server.base}/")  # the citizen's home
    expect(page.locator("#home-wallet")).to_be_visible()
    check_page(page)
    page.goto(f"{server.base}/account")
    expect(page.locator("main")).to_contain_text(person["personal_id_number"])
    check_page(page)


def test_consent_given_denied_and_withdrawn_at_the_demo_bank(
        page_at: tuple[Page, int, str], server: Server, tmp_path: Path) -> None:
    page, width, language = page_at
    person = an_active_citizen(server, BANK_CUSTOMERS + pair_index(width, language), tmp_path)
    bank = f"{server.base}/demo/bank/"
    page.goto(bank)
    check_page(page)
    page.click("a.eid")
    page.wait_for_url("**/account/login?next=*")
    sign_in(page, server, person)

    consent = page.locator("form[action='/oidc/consent']")
    expect(consent).to_be_visible()
    check_page(page)
    consent.locator("button[value=deny]").click()
    expect(page).to_have_url(bank)
    expect(page.locator("[role=status]")).to_be_visible()  # cancelled, nothing shared
    check_page(page)

    page.click("a.eid")  # signed in to the portal already: straight to the question again
    consent.locator("button[value=allow]").click()
    expect(page).to_have_url(bank)
    expect(page.locator("h1")).to_contain_text(person["full_name"])
    check_page(page)

    page.goto(f"{server.base}/account/connected-services")
    withdraw = page.locator("form[action$='/withdraw']")
    expect(withdraw).to_have_count(1)
    check_page(page)
    withdraw.locator("button").click()
    expect(withdraw).to_have_count(0)
    check_page(page)


def test_a_use_of_my_data_is_reported_from_who_used_my_data(
        browser: Browser, server: Server, tmp_path: Path) -> None:
    person = an_active_citizen(server, REPORTER, tmp_path)
    purpose = "xác minh hồ sơ vay vốn"
    official = open_page(browser, DESKTOP, "vi")
    console_sign_in(official, server, server.official(Role.POLICE), "/console/registry")
    official.goto(f"{server.base}/console/registry/persons/{person['personal_id_number']}"
                  f"?purpose={quote(purpose)}")
    expect(official.locator("main")).to_contain_text(person["full_name"])
    check_page(official)
    official.context.close()

    page = open_page(browser, PHONE, "vi")
    page.goto(f"{server.base}/account/login?next=/account")
    sign_in(page, server, person)
    use = page.locator("tr", has_text=purpose)
    expect(use).to_have_count(1)
    use.locator("summary").click()
    use.locator("input[name=note]").fill("Tôi không vay vốn ở đâu cả")
    check_page(page)
    use.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{server.base}/account#uses")
    expect(page.locator("tr", has_text=purpose).locator(".badge")).to_be_visible()
    for width, language in other_pairs(PHONE, "vi"):
        show_in(page, width, language)
        check_page(page)
    page.context.close()


def test_a_wrong_field_of_a_birth_registration_is_corrected_through_a_supplement(
        browser: Browser, server: Server, tmp_path: Path, screenshot: Screenshot) -> None:
    parent = a_parent_with_an_id_card_in_her_wallet(server, tmp_path / "mailbox")
    citizen = open_page(browser, PHONE, "vi")
    receipt = submit_birth_registration(citizen, server, parent.personal_id_number)
    check_page(citizen)

    clerk = open_page(browser, DESKTOP, "vi")
    console_sign_in(clerk, server, server.official(Role.SERVICE_CLERK), "/console/dossiers")
    expect(clerk.locator("#dossier-inbox")).to_contain_text(receipt)
    screenshot(clerk, "console-inbox")
    act(clerk, server, receipt, "receive")
    expect(clerk.locator("form[action$='/receive']")).to_have_count(0)
    check_page(clerk)
    asked = clerk.locator("form[action$='/request_supplement']")
    asked.locator("#reason-request_supplement").fill("Tên của cháu viết sai chính tả")
    asked.locator("input[name=fields][value=child_full_name]").check()
    asked.locator("button[type=submit]").click()
    expect(asked).to_have_count(0)  # asked: it is the citizen's turn
    check_page(clerk)

    citizen.goto(f"{server.base}/dossiers/{receipt}")
    expect(citizen.locator("#supplement-reason")).to_contain_text("sai chính tả")
    check_page(citizen)
    screenshot(citizen, "portal-dossier-supplement-mobile")
    citizen.fill("#child_full_name", "Lê Minh Khánh")
    citizen.locator(".services-supplement button[type=submit]").click()
    expect(citizen.locator(".services-supplement")).to_have_count(0)
    check_page(citizen)

    act(clerk, server, receipt, "start")
    approver = open_page(browser, DESKTOP, "vi")
    console_sign_in(approver, server, server.official(Role.AGENCY_APPROVER),
                    f"/console/dossiers/{receipt}")
    expect(approver.locator("main")).to_contain_text("Lê Minh Khánh")
    act(approver, server, receipt, "approve", "Hồ sơ hợp lệ sau khi bổ sung")
    expect(approver.locator("#dossier-state")).to_have_text("Đã trả kết quả")
    for width, language in other_pairs(DESKTOP, "vi"):
        show_in(approver, width, language)
        check_page(approver)

    citizen.goto(f"{server.base}/wallet")
    expect(citizen.locator("#children-documents")).to_contain_text("Lê Minh Khánh")
    citizen.goto(f"{server.base}/dossiers/{receipt}")
    for width, language in other_pairs(PHONE, "vi"):
        show_in(citizen, width, language)
        check_page(citizen)
    for page in (citizen, clerk, approver):
        page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_language_switch_after_a_form_keeps_the_page(browser: Browser, server: Server,
                                                        width: int) -> None:
    page = open_page(browser, width, "vi")
    person = an_adult_with_a_phone(server.population, REPORTER)
    page.goto(f"{server.base}/account/login")
    page.fill("#personal_id_number", person["personal_id_number"])
    page.fill("#password", "not the password")
    page.click("button[type=submit]")  # refused: the answer to the POST, with its errors
    expect(page.locator("[role=alert]").first).to_be_visible()
    check_page(page)

    with page.expect_navigation() as switched:
        page.locator(".languages a[lang=en]").click()
    response = switched.value
    assert response is not None
    assert response.status == 200
    assert urlsplit(page.url).path == "/account/login"
    assert page.locator("html").get_attribute("lang") == "en"
    check_page(page)
    page.context.close()
