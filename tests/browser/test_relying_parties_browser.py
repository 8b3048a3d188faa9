"""An admin registers a relying party in the console and is shown its secret once."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from civicstack.kit.authz import Role
from tests.browser.conftest import Server, console_sign_in

pytestmark = pytest.mark.browser


def test_an_admin_registers_a_relying_party(server: Server, browser: Browser,
                                            shots: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    console_sign_in(page, server, server.official(Role.ADMIN), "/console/relying-parties")
    page.fill("#name", "Hãng hàng không Sao Việt")
    page.fill("#redirect_uris", "http://airline.example/callback")
    page.get_by_label("offline_access").check()
    page.get_by_role("button", name="Đăng ký bên sử dụng này").click()
    expect(page.locator("#redirect_uris-error")).to_contain_text("https")
    page.fill("#redirect_uris", "https://airline.example/callback")
    page.get_by_role("button", name="Đăng ký bên sử dụng này").click()
    expect(page.locator("#client-secret")).to_be_visible()
    expect(page.locator("table")).to_contain_text("Hãng hàng không Sao Việt")
    page.screenshot(path=shots / "console-relying-parties.png", full_page=True)
