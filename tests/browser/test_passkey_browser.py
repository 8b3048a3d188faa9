"""A passkey in Chromium, with its virtual authenticator (DevTools WebAuthn domain): a citizen
whose level 2 was activated at a police office adds a passkey, then steps up with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from civicstack.identity import service
from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.db import transaction
from tests.browser.conftest import Server
from tests.browser.test_eid_browser import (
    PASSWORD,
    an_adult_with_a_phone,
    approve_at_the_counter,
    register_with_phone,
)

pytestmark = pytest.mark.browser
NATIONAL_POLICE = Actor("official", "browser-police", NATIONAL, Role.POLICE)


def test_a_citizen_adds_a_passkey_and_steps_up_with_it(
        server: Server, browser: Browser, shots: Path) -> None:
    person = an_adult_with_a_phone(server.population, skip=2)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    citizen = context.new_page()
    devtools = context.new_cdp_session(citizen)
    devtools.send("WebAuthn.enable")
    devtools.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})
    register_with_phone(citizen, server, person)
    approve_at_the_counter(browser, server, person)
    with transaction(services_of(server.app).session_factory) as session:
        service.authorise_level_two(session, NATIONAL_POLICE, person["personal_id_number"],
                                    "chip-based ID card checked")

    sign_in(citizen, server, person["personal_id_number"])
    citizen.goto(f"{server.base}/account/passkeys")
    citizen.fill("#passkey-name", "điện thoại của tôi")
    citizen.get_by_role("button", name="Thêm khóa truy cập trên thiết bị này").click()
    expect(citizen.locator("main ul")).to_contain_text("điện thoại của tôi")
    citizen.screenshot(path=shots / "portal-passkeys-mobile.png", full_page=True)

    citizen.context.clear_cookies()
    sign_in(citizen, server, person["personal_id_number"])
    citizen.goto(f"{server.base}/account/step-up?next=/account/passkeys")
    citizen.get_by_role("button", name="Dùng khóa truy cập").click()
    citizen.wait_for_url(f"{server.base}/account/passkeys")
    expect(citizen.get_by_role("button", name="Xóa điện thoại của tôi")).to_be_visible()  # level 2


def sign_in(page: Page, server: Server, personal_id_number: str) -> None:
    page.goto(f"{server.base}/account/login")
    page.fill("#personal_id_number", personal_id_number)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.base}/")  # the citizen's home
    page.goto(f"{server.base}/account")
