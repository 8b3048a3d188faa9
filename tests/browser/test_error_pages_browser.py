"""Errors a browser meets are pages in the site's layout and the reader's language, at phone
and desktop widths, with a way back: a missing page (404), a wrong method (405) and a page the
official's role may not use (403)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server, console_sign_in

pytestmark = pytest.mark.browser
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
HEADINGS = {
    404: {"vi": "Không tìm thấy trang", "en": "Page not found"},
    405: {"vi": "Không thể dùng trang này theo cách này",
          "en": "This page cannot be used this way"},
    403: {"vi": "Không được phép", "en": "Not allowed"},
}


def check_page(page: Page, status: int, lang: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("h1")).to_have_text(HEADINGS[status][lang])
    expect(page.locator(".site-header")).to_be_visible()
    expect(page.locator("main a").first).to_be_visible()  # a way back


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_missing_page_and_wrong_method_are_pages_in_the_layout(
        server: Server, browser: Browser, shots: Path, lang: str, width: str) -> None:
    page = browser.new_page(viewport=WIDTHS[width], locale="vi-VN")
    response = page.goto(f"{server.base}/no/such/page?lang={lang}")
    assert response is not None
    assert response.status == 404
    check_page(page, 404, lang)
    page.screenshot(path=shots / f"error-404-{lang}-{width}.png", full_page=True)

    # Signing out is a form's POST: typing its address in the bar is a GET it does not take.
    response = page.goto(f"{server.base}/account/logout?lang={lang}")
    assert response is not None
    assert response.status == 405
    check_page(page, 405, lang)
    page.locator("main a", has_text={"vi": "Về trang chủ", "en": "Go to the home page"}[lang]
                 ).click()
    expect(page).to_have_url(f"{server.base}/")
    page.close()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_page_the_role_may_not_use_is_refused_in_the_console_layout(
        server: Server, browser: Browser, shots: Path, lang: str) -> None:
    page = browser.new_page(viewport=WIDTHS["desktop"], locale="vi-VN")
    page.goto(f"{server.base}/?lang={lang}")
    console_sign_in(page, server, server.official(), "/console/registry")
    response = page.goto(f"{server.base}/console/officials")  # administrators only
    assert response is not None
    assert response.status == 403
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("h1")).to_have_text(HEADINGS[403][lang])
    expect(page.locator("body.console")).to_be_visible()
    page.screenshot(path=shots / f"error-403-console-{lang}.png", full_page=True)
    page.close()
