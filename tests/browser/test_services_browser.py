"""Public services in Chromium on a phone: a parent opens the catalogue of her province, starts a
birth registration, finds her own details already filled in from the register and her ID card
taken from her wallet, types the child's, uploads the medical birth notice, submits and gets
the receipt with its due date."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.db import transaction
from civicstack.registry.models import IdCardIssuance, Person
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WALLET_SITE
from tests.browser.conftest import Server
from tests.support.eid import PASSWORD, make_active_account
from tests.support.services import publish_everywhere
from tests.support.uploads import PDF

pytestmark = pytest.mark.browser
POLICE = Actor("official", "police-national", NATIONAL, Role.POLICE)
PHONE = {"width": 390, "height": 844}


def a_parent_with_an_id_card_in_her_wallet(server: Server, mailbox: Path) -> Person:
    """A living adult of the demo register with an ID card, holding it in her portal wallet,
    with an active eID account; the services' catalogue published everywhere."""
    factory = services_of(server.app).session_factory
    with transaction(factory) as session:
        publish_everywhere(session)
        person = session.scalars(
            select(Person).join(IdCardIssuance, IdCardIssuance.person_id == Person.id)
            .where(Person.status == "alive", Person.phone.is_not(None),
                   IdCardIssuance.status == "active")
            .order_by(Person.id.desc()).limit(1)).one()
        wallet.issue_from_register(session, services_of(server.app)[WALLET_SITE],
                                   person.personal_id_number, "id_card")
        session.expunge(person)
    make_active_account(factory, services_of(server.app).pepper, person, mailbox, POLICE)
    return person


def test_a_parent_submits_a_birth_registration_from_her_phone(
        server: Server, browser: Browser, shots: Path, tmp_path: Path) -> None:
    person = a_parent_with_an_id_card_in_her_wallet(server, tmp_path / "mailbox")
    page = browser.new_page(viewport=PHONE, locale="vi-VN")
    page.goto(f"{server.base}/account/login?next=/services")
    page.fill("#personal_id_number", person.personal_id_number)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.base}/services")
    expect(page.locator('[data-procedure="DVC-HT-01"]')).to_contain_text("Miễn phí")
    expect(page.locator(".services-group")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=shots / "portal-services-catalogue-mobile.png", full_page=True)

    page.locator('[data-procedure="DVC-HT-01"] a').click()
    expect(page.locator('[data-document="id_card"]')).to_contain_text("Lấy từ ví")
    page.get_by_role("button", name="Bắt đầu").click()
    expect(page.locator(".services-prefilled")).to_contain_text(person.full_name)
    expect(page.locator(".services-prefilled")).to_contain_text(person.personal_id_number)
    expect(page.locator('[data-document="id_card"]')).to_contain_text("✓")
    page.fill("#child_full_name", "Nguyễn Gia Bảo")
    page.fill("#child_date_of_birth", "2026-11-20")
    page.select_option("#child_sex", "M")
    page.set_input_files("#document_birth_notice", files=[{
        "name": "giay-chung-sinh.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    expect(page.locator("#fee")).to_have_text("Miễn phí")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=shots / "portal-dossier-form-mobile.png", full_page=True)

    page.get_by_role("button", name="Nộp hồ sơ").click()
    expect(page.locator(".services-submitted h1")).to_have_text("Hồ sơ của bạn đã được nộp")
    expect(page.locator(".due-on")).to_have_text(re.compile(r"^\d{2}/\d{2}/\d{4}$"))
    expect(page.locator("#state")).to_contain_text("Đã nộp")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=shots / "portal-dossier-receipt-mobile.png", full_page=True)
