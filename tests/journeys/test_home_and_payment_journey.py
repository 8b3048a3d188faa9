"""Issue 19's home and payment journeys in Chromium, in Vietnamese and English at 390 and
1280 px, with axe-core on every page: a visitor's home leads to sign-in, registration, services,
statistics and the document list; a citizen signing in lands on their home; a judicial record
certificate's fee is paid at a payment step — a declined test card first, leaving the draft
with a retry, then a card that pays — and the receipt follows, the dossier submitted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from civicstack.kit.appservices import services_of
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from civicstack.services.models import Dossier
from tests.browser.conftest import Server
from tests.browser.test_services_browser import a_parent_with_an_id_card_in_her_wallet
from tests.journeys.conftest import assert_accessible
from tests.support.eid import PASSWORD

pytestmark = pytest.mark.browser
VISITOR_LINKS = ("/account/login", "/account/register", "/services", "/services/statistics",
                 "/wallet/documents")
DECLINED_CARD, GOOD_CARD = "4000 0000 0000 0002", "4111 1111 1111 1111"
RECEIPT_NUMBER = re.compile(r"^KB\d{8}[0-9A-F]{10}$")  # the local treasury's references


@pytest.fixture(scope="module")
def payer(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Person:
    """One parent of the demo register for every width and language: her ID card in her
    wallet, her eID account active."""
    return a_parent_with_an_id_card_in_her_wallet(server, tmp_path_factory.mktemp("mailbox"))


def submitted_state(server: Server, receipt: str) -> str:
    with transaction(services_of(server.app).session_factory) as session:
        return session.scalars(select(Dossier.state).where(
            Dossier.receipt_code == receipt)).one()


def sign_in(page: Page, server: Server, person: Person) -> None:
    page.goto(f"{server.base}/account/login")
    page.fill("#personal_id_number", person.personal_id_number)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{server.base}/")


def test_a_visitor_is_welcomed_and_a_citizen_lands_on_their_home(
        page_at: tuple[Page, int, str], server: Server, payer: Person, shots: Path) -> None:
    page, width, language = page_at
    page.goto(f"{server.base}/")
    for link in VISITOR_LINKS:
        expect(page.locator(f'main a[href="{link}"]').first).to_be_visible()
    expect(page.locator('main a[href="/console/login"]')).to_have_count(0)
    assert_accessible(page)
    page.screenshot(path=shots / f"portal-home-visitor-{language}-{width}.png", full_page=True)

    sign_in(page, server, payer)
    for card in ("#home-wallet", "#home-dossiers", "#home-notifications", "#home-uses",
                 "#home-help"):
        expect(page.locator(card)).to_be_visible()
    expect(page.locator("#home-wallet")).to_contain_text("1")
    assert_accessible(page)
    page.screenshot(path=shots / f"portal-home-citizen-{language}-{width}.png", full_page=True)


def test_a_fee_is_paid_at_the_payment_step_after_a_declined_card_and_a_receipt_follows(
        page_at: tuple[Page, int, str], server: Server, payer: Person, shots: Path) -> None:
    page, width, language = page_at
    sign_in(page, server, payer)
    page.goto(f"{server.base}/services/DVC-TP-01")
    page.click("main form[action$='/start'] button")
    page.fill("#purpose", "xin việc" if language == "vi" else "a job application")
    page.click("button[name=action][value=submit]")
    expect(page).to_have_url(f"{page.url.split('/payment')[0]}/payment")
    receipt = page.url.rsplit("/", 2)[1]
    expect(page.locator("#amount")).to_have_text("100.000 đ")
    assert_accessible(page)
    page.screenshot(path=shots / f"portal-payment-{language}-{width}.png", full_page=True)

    page.fill("#account", DECLINED_CARD)
    page.click("#pay")
    expect(page.locator("#payment-declined")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=shots / f"portal-payment-declined-{language}-{width}.png",
                    full_page=True)

    page.fill("#account", GOOD_CARD)
    page.click("#pay")
    expect(page).to_have_url(f"{server.base}/dossiers/{receipt}/payment/receipt")
    expect(page.locator(".receipt-number")).to_have_text(RECEIPT_NUMBER)
    assert submitted_state(server, receipt) == "submitted"
    assert_accessible(page)
    page.screenshot(path=shots / f"portal-payment-receipt-{language}-{width}.png",
                    full_page=True)
