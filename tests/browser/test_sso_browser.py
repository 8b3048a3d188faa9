"""Single sign-on in Chromium: a new citizen registers at level 1, is approved, then opens the
demo bank, signs in through the provider, consents, and lands back at the bank signed in."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import Server
from tests.browser.test_eid_browser import (
    PASSWORD,
    an_adult_with_a_phone,
    approve_at_the_counter,
    register_with_phone,
)

pytestmark = pytest.mark.browser


def test_register_sign_in_consent_and_land_on_the_relying_party(
        server: Server, browser: Browser, shots: Path) -> None:
    person = an_adult_with_a_phone(server.population, skip=1)
    citizen = browser.new_page(viewport={"width": 390, "height": 844}, locale="vi-VN")
    register_with_phone(citizen, server, person)
    approve_at_the_counter(browser, server, person)

    citizen.goto(f"{server.base}/demo/bank/")
    citizen.get_by_role("link", name="Đăng nhập bằng tài khoản định danh CivicStack").click()
    citizen.wait_for_url("**/account/login?next=*")
    citizen.fill("#personal_id_number", person["personal_id_number"])
    citizen.fill("#password", PASSWORD)
    citizen.click("button[type=submit]")
    expect(citizen.locator("h1")).to_contain_text("Ngân hàng Demo")
    citizen.screenshot(path=shots / "portal-consent-mobile.png", full_page=True)
    citizen.get_by_role("button", name="Đồng ý").click()

    citizen.wait_for_url(f"{server.base}/demo/bank/")
    expect(citizen.locator("h1")).to_contain_text(person["full_name"])
    citizen.screenshot(path=shots / "demo-bank-signed-in-mobile.png", full_page=True)
    citizen.goto(f"{server.base}/account/connected-services")
    expect(citizen.locator("main")).to_contain_text("Ngân hàng Demo")
