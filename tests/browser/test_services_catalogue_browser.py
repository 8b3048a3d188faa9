"""An admin changes a procedure's fees in the console and a citizen's catalogue shows it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from civicstack.kit.appservices import services_of
from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from tests.browser.conftest import Server, console_sign_in
from tests.support.services import publish_everywhere

pytestmark = pytest.mark.browser
DESK = {"width": 1280, "height": 800}


def test_an_admin_sets_a_procedures_fees_and_citizens_see_them(
        server: Server, browser: Browser, shots: Path) -> None:
    with transaction(services_of(server.app).session_factory) as session:
        publish_everywhere(session)
    admin = browser.new_page(viewport=DESK, locale="vi-VN")
    console_sign_in(admin, server, server.official(Role.ADMIN), "/console/catalogue")
    expect(admin.locator("main")).to_contain_text("DVC-TP-01")
    admin.goto(f"{server.base}/console/catalogue/DVC-TP-01")
    save = "form[action='/console/catalogue/DVC-TP-01'] button[type=submit]"
    admin.fill("#online_fee", "-5")
    admin.click(save)
    expect(admin.locator("#catalogue-refused")).to_be_visible()
    expect(admin.locator("#online_fee-error")).to_be_visible()
    admin.screenshot(path=shots / "console-catalogue-refused.png", full_page=True)
    admin.fill("#online_fee", "0")
    admin.click(save)
    expect(admin.locator("#catalogue-saved")).to_be_visible()
    admin.screenshot(path=shots / "console-catalogue-edit.png")

    citizen = browser.new_page(viewport={"width": 390, "height": 844}, locale="vi-VN")
    citizen.goto(f"{server.base}/services?province=01")
    expect(citizen.locator('[data-procedure="DVC-TP-01"]')).to_contain_text("Miễn phí")
