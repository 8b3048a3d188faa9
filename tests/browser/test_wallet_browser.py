"""The wallet in Chromium: a citizen adds the ID card from the register, opens it, chooses the
fields to show and gets a QR code on a phone screen; an official pastes the code into the
console's verifier and sees the verified fields; pasting it again is refused as a replay."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.db import transaction
from civicstack.registry.models import FamilyRelation, IdCardIssuance, Person
from civicstack.wallet import service
from tests.browser.conftest import Server, console_sign_in
from tests.support.eid import PASSWORD, make_active_account

pytestmark = pytest.mark.browser
POLICE = Actor("official", "police-national", NATIONAL, Role.POLICE)
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 800}


def a_citizen_with_an_id_card(server: Server, mailbox: Path) -> Person:
    """A living adult of the demo register with an ID card and relatives on record, given an
    active eID account; the wallet's catalogue loaded."""
    factory = services_of(server.app).session_factory
    with transaction(factory) as session:
        service.seed_catalogue(session)
        person = session.scalars(
            select(Person).join(IdCardIssuance, IdCardIssuance.person_id == Person.id)
            .join(FamilyRelation, FamilyRelation.person_id == Person.id)
            .where(Person.status == "alive", Person.phone.is_not(None),
                   IdCardIssuance.status == "active")
            .order_by(Person.id).limit(1)).one()
        session.expunge(person)
    make_active_account(factory, services_of(server.app).pepper, person, mailbox, POLICE)
    return person


def sign_in_to_the_wallet(page: Page, server: Server, person: Person) -> None:
    page.goto(f"{server.base}/wallet")
    page.fill("#personal_id_number", person.personal_id_number)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.base}/wallet")


def add_from_register(page: Page, document_name: str) -> None:
    page.get_by_role("button", name=f"Thêm: {document_name}").click()
    expect(page.locator("h1")).to_contain_text(document_name)


def scanned(png: bytes) -> str:
    """What a scanner reads from the code as the phone shows it (not as it was encoded)."""
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return str(found.text)


def test_a_citizen_shows_the_id_card_as_a_qr_code_and_an_official_verifies_it_once(
        server: Server, browser: Browser, shots: Path, tmp_path: Path) -> None:
    person = a_citizen_with_an_id_card(server, tmp_path / "mailbox")
    citizen = browser.new_page(viewport=PHONE, locale="vi-VN")
    sign_in_to_the_wallet(citizen, server, person)
    add_from_register(citizen, "Thông tin quan hệ gia đình")
    citizen.screenshot(path=shots / "portal-wallet-card-mobile.png", full_page=True)
    citizen.goto(f"{server.base}/wallet")
    add_from_register(citizen, "Căn cước")
    citizen.goto(f"{server.base}/wallet")
    expect(citizen.locator(".wallet-card")).to_have_count(2)
    assert citizen.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    citizen.screenshot(path=shots / "portal-wallet-mobile.png", full_page=True)

    citizen.locator(".wallet-card a", has_text="Căn cước").click()
    citizen.get_by_label("Số định danh cá nhân").check()
    citizen.get_by_label("Ngày sinh").uncheck()
    citizen.get_by_role("button", name="Tạo mã QR").click()
    expect(citizen.locator(".wallet-qr svg")).to_be_visible()
    expect(citizen.locator("#shown")).to_contain_text(person.full_name)
    expect(citizen.locator("#qr-size")).to_contain_text("mã QR phiên bản")
    assert citizen.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    citizen.screenshot(path=shots / "portal-wallet-qr-mobile.png", full_page=True)
    presentation = citizen.locator("#presentation").input_value()
    assert scanned(citizen.locator(".wallet-qr svg").screenshot()) == presentation

    official = browser.new_page(viewport=DESK, locale="vi-VN")
    console_sign_in(official, server, server.official(Role.SERVICE_CLERK),
                    "/console/wallet/verify")
    official.fill("#presentation", presentation)
    official.get_by_role("button", name="Xác minh").click()
    verified = official.locator("#verification")
    expect(verified).to_have_class("panel wallet-verified")
    expect(verified).to_contain_text("Giấy tờ điện tử đã được xác thực")
    expect(verified).to_contain_text(person.full_name)
    expect(verified).to_contain_text(person.personal_id_number)
    expect(verified).not_to_contain_text("Ngày sinh")  # the holder did not choose it
    official.screenshot(path=shots / "console-wallet-verify.png", full_page=True)

    official.fill("#presentation", presentation)
    official.locator("#presentation").press("Enter")  # as a handheld scanner ends its input
    expect(official.locator("#verification")).to_have_class("panel wallet-refused")
    expect(official.locator("#verification")).to_contain_text("đã được xuất trình tại đây")
    official.screenshot(path=shots / "console-wallet-replay.png", full_page=True)

    official.goto(f"{server.base}/wallet/documents")  # public: no longer in the console header
    expect(official.locator("tr[data-document=id_card] .issued")).to_have_text("1")
    official.screenshot(path=shots / "wallet-documents.png", full_page=True)
    citizen.goto(f"{server.base}/wallet/documents")
    assert citizen.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    citizen.screenshot(path=shots / "wallet-documents-mobile.png", full_page=True)
    citizen.close()
    official.close()
