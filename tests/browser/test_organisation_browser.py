"""An organisation account in Chromium: a legal representative with a level-2 eID account
registers their company on a phone, confirming with the authenticator app; an official
approves it in the console; the representative sees it active."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.db import transaction
from tests.browser.conftest import Server, console_sign_in
from tests.browser.test_eid_browser import (
    PASSWORD,
    an_adult_with_a_phone,
    approve_at_the_counter,
    register_with_phone,
)
from tests.support.eid import code_for, make_level_two
from tests.support.organisations import DEMO_TAX_CODE
from tests.support.people import ward_in

pytestmark = pytest.mark.browser
NATIONAL_POLICE = Actor("official", "police", NATIONAL, Role.POLICE)


def test_a_representative_registers_a_company_and_an_official_approves_it(
        server: Server, browser: Browser, shots: Path) -> None:
    person = an_adult_with_a_phone(server.population, skip=2)
    citizen = browser.new_page(viewport={"width": 390, "height": 844}, locale="vi-VN")
    register_with_phone(citizen, server, person)
    approve_at_the_counter(browser, server, person)
    # Level 2 at the police office, as tests of any domain do it: through the services.
    with transaction(services_of(server.app).session_factory) as session:
        secret = make_level_two(session, str(services_of(server.app).totp_key),
                                person["personal_id_number"], NATIONAL_POLICE)
        ward = ward_in(session, "01")
    officer = server.official(Role.POLICE)

    citizen.goto(f"{server.base}/account/organisations/new")
    citizen.fill("#personal_id_number", person["personal_id_number"])
    citizen.fill("#password", PASSWORD)
    citizen.click("button[type=submit]")
    citizen.fill("#code", code_for(secret, 1))  # asked to step up, then sent back to the form
    citizen.click("button[type=submit]")
    expect(citizen.locator("h1")).to_have_text("Đăng ký tài khoản tổ chức")
    citizen.fill("#tax_code", "0100233480")  # a mistyped check digit
    citizen.fill("#name", "Công ty TNHH Phần mềm Sông Hồng")
    citizen.fill("#head_office_ward_code", ward)
    citizen.fill("#address_line", "12 Phố Huế")
    citizen.click("button[type=submit]")
    expect(citizen.locator("#tax_code-error")).to_contain_text("chữ số kiểm tra")
    expect(citizen.locator("#tax_code")).to_have_attribute("aria-invalid", "true")
    citizen.screenshot(path=shots / "portal-organisation-register-mobile.png", full_page=True)
    citizen.fill("#tax_code", DEMO_TAX_CODE)
    citizen.click("button[type=submit]")
    expect(citizen).to_have_url(f"{server.base}/account/organisations/{DEMO_TAX_CODE}")
    expect(citizen.locator(".badge")).to_have_text("Chờ cán bộ kiểm tra")

    official = browser.new_page(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    console_sign_in(official, server, officer, "/console/organisations")
    row = official.locator("tr", has_text=DEMO_TAX_CODE)
    expect(row).to_contain_text(person["full_name"])
    row.locator("input[name=reason]").fill("khớp với đăng ký doanh nghiệp")
    official.screenshot(path=shots / "console-organisations.png", full_page=True)
    row.get_by_role("button", name="Phê duyệt").click()
    expect(official.locator("tr", has_text=DEMO_TAX_CODE)).to_have_count(0)
    official.close()

    citizen.reload()
    expect(citizen.locator(".badge")).to_have_text("Đang hoạt động")
    expect(citizen.get_by_role("heading", name="Ủy quyền cho công dân")).to_be_visible()
    citizen.screenshot(path=shots / "portal-organisation-mobile.png", full_page=True)
