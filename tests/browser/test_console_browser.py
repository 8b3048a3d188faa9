"""The console in headless Chromium: keyboard sign-in, HTMX search, record page, language switch.

Screenshots go to docs/screenshots/ when CIVICSTACK_SCREENSHOTS=1 (how the committed ones were
made), else to the test's temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import Server, sign_in_with_keyboard

pytestmark = pytest.mark.browser
PURPOSE = "verifying a residence dossier"


def test_official_searches_and_opens_a_record(server: Server, browser: Browser,
                                              shots: Path) -> None:
    base = server.base
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page.goto(base)
    expect(page.locator("h1")).to_have_text("Một danh tính cho mọi dịch vụ công")
    page.screenshot(path=shots / "portal-home.png", full_page=True)
    page.goto(f"{base}/console/login")
    page.screenshot(path=shots / "console-login.png", full_page=True)
    sign_in_with_keyboard(page, server)

    page.fill("#full_name", "nguyen")
    page.fill("#purpose", PURPOSE)
    page.click("button[type=submit].button")
    expect(page.locator("#results h2")).to_contain_text("Tìm thấy")
    assert "full_name=nguyen" in page.url  # HTMX pushed the search into the address bar
    page.screenshot(path=shots / "console-search.png", full_page=True)

    page.locator("#results tbody a").first.click()
    expect(page.locator("h2", has_text="Lịch sử hộ tịch")).to_be_visible()
    page.screenshot(path=shots / "console-person.png", full_page=True)

    page.click("a[lang=en]")
    expect(page.locator("h2", has_text="Civil-status history")).to_be_visible()
    page.close()


def test_the_console_works_on_a_phone_screen(server: Server, browser: Browser,
                                             shots: Path) -> None:
    base = server.base
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    sign_in_with_keyboard(page, server)
    page.goto(f"{base}/console/registry?full_name=tran&purpose={PURPOSE}&lang=en")
    expect(page.locator("#results h2")).to_contain_text("found")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page itself must not scroll sideways (tables scroll inside)"
    page.screenshot(path=shots / "console-search-mobile.png", full_page=True)
    page.close()


def test_a_search_refused_by_the_server_shows_its_error_inline(server: Server,
                                                               browser: Browser) -> None:
    """Issue 21: htmx used to drop the 422, so a search without a purpose showed nothing."""
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="vi-VN")
    sign_in_with_keyboard(page, server)

    page.fill("#full_name", "nguyen")
    page.fill("#purpose", "x")  # too short for the browser to stop it: the server refuses
    page.click("button[type=submit].button")

    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary")).to_contain_text("Có lỗi cần sửa")
    expect(page.locator("#purpose-error")).to_contain_text("hãy nêu lý do bạn cần dữ liệu")
    expect(page.locator("#results h2")).to_have_count(0)
    page.close()
