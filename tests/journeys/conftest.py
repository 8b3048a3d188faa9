"""Journeys: each role's work walked in a real browser, in Vietnamese and English, on a phone
(390 px) and a desktop (1280 px), with axe-core run on every page.

The server, Chromium and screenshot folder are the browser tests' fixtures (a seeded SQLite
register served by uvicorn, Debian's Chromium); this file adds the viewports, the languages and
the accessibility check that every journey shares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from tests.browser.conftest import browser, server, shots  # noqa: F401  (fixtures)
from tests.support.untranslated import english_left

PHONE, DESKTOP = 390, 1280
WIDTHS = (PHONE, DESKTOP)
LANGUAGES = ("vi", "en")
# The impacts the quality bar forbids; "moderate" and "minor" findings are reported, not failed.
FORBIDDEN_IMPACTS = frozenset({"serious", "critical"})
_AXE = Axe()


Screenshot = Callable[[Page, str], Path]


def open_page(browser: Browser, width: int, language: str) -> Page:  # noqa: F811
    """A fresh browser context (no cookies) at `width`, asking for `language` first."""
    context = browser.new_context(
        viewport={"width": width, "height": 900 if width == DESKTOP else 844},
        locale="vi-VN" if language == "vi" else "en-GB",
        extra_http_headers={"Accept-Language": language})
    return context.new_page()


@pytest.fixture(params=[(width, language) for width in WIDTHS for language in LANGUAGES],
                ids=lambda value: f"{value[0]}px-{value[1]}")
def page_at(request: pytest.FixtureRequest, browser: Browser  # noqa: F811
            ) -> Iterator[tuple[Page, int, str]]:
    """A page at each of the four (width, language) pairs; the context closes afterwards."""
    width, language = request.param
    page = open_page(browser, width, language)
    yield page, width, language
    page.context.close()


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    results = _AXE.run(page)
    return [f"{violation['id']} ({violation['impact']}): {violation['help']} — "
            f"{len(violation['nodes'])} element(s), e.g. {violation['nodes'][0]['target']}: "
            f"{violation['nodes'][0]['failureSummary']}"
            for violation in results.response["violations"]
            if violation["impact"] in FORBIDDEN_IMPACTS]


def assert_accessible(page: Page) -> None:
    """Fails with axe-core's findings when the page has a serious or critical violation."""
    found = serious_violations(page)
    assert not found, f"{page.url}:\n" + "\n".join(found)


def check_page(page: Page) -> None:
    """What every page a journey visits must be: accessible, and when it is in Vietnamese, with
    no sentence of the catalogue left in English."""
    assert_accessible(page)
    if page.locator("html").get_attribute("lang") == "vi":
        assert english_left(page.content()) == [], page.url


def show_in(page: Page, width: int, language: str) -> None:
    """The same page again at another width and language, switched the way a person does it
    (the header's language link, which the server remembers), so one sign-in serves all four
    pairs."""
    page.set_viewport_size({"width": width, "height": 900 if width == DESKTOP else 844})
    if page.locator("html").get_attribute("lang") != language:
        with page.expect_navigation():
            page.locator(f".languages a[lang={language}]").click()


@pytest.fixture
def screenshot(shots: Path) -> Screenshot:  # noqa: F811
    """`screenshot(page, name)`: the whole page as docs/screenshots/<name>.png when
    CIVICSTACK_SCREENSHOTS=1, else in the test's temporary folder."""
    def take(page: Page, name: str) -> Path:
        path = shots / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path
    return take
