"""The journeys' accessibility check finds what it must: a serious violation fails it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import Server
from tests.journeys.conftest import DESKTOP, assert_accessible, open_page, serious_violations

pytestmark = pytest.mark.browser


def test_axe_reports_an_image_without_alternative_text(browser: Browser) -> None:
    page = open_page(browser, DESKTOP, "en")
    page.set_content('<html lang="en"><title>t</title><main><img src="x.png"></main></html>')
    assert any(line.startswith("image-alt") for line in serious_violations(page))
    page.context.close()


def test_the_portal_home_is_accessible_in_both_languages(browser: Browser,
                                                         server: Server) -> None:
    for language in ("vi", "en"):
        page = open_page(browser, DESKTOP, language)
        page.goto(f"{server.base}/")
        assert page.locator("html").get_attribute("lang") == language
        assert_accessible(page)
        page.context.close()
