"""Issue 21's proof for the console: each demo official (admin, Hà Nội police, the Ba Đình ward
clerk, the Hà Nội hotline agent and programme officer) signs in with the authenticator and lands
on their own work; no link in the header is refused to them; every console page they may use
passes axe-core at 390 and 1280 px in Vietnamese and English, and keeps no catalogue sentence
in English when shown in Vietnamese.

A page's content is the same whichever role opens it (only the header and the rows within scope
change), so each role's own header is checked on its landing page at the four pairs, and every
page once at the four pairs by the admin, who may use them all."""

from __future__ import annotations

import pytest
from fastapi.routing import iter_route_contexts
from playwright.sync_api import Browser, BrowserContext, Page, expect

from civicstack.identity.demo import DEMO_OFFICIALS
from civicstack.kit.appservices import services_of
from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from civicstack.registry import service as registry
from tests.browser.conftest import Server
from tests.journeys.conftest import (
    DESKTOP,
    LANGUAGES,
    WIDTHS,
    Screenshot,
    check_page,
    open_page,
    show_in,
)
from tests.support.eid import code_for
from tests.support.officials import make_official

pytestmark = pytest.mark.browser
# Where each demo official's work is: the first finding was a programme officer landing
# on a refused register.
LANDING = {
    "admin": "/console/officials",
    "police.hanoi": "/console/accounts",
    "clerk.badinh": "/console/dossiers",
    "hotline.hanoi": "/console/support",
    "programme.hanoi": "/console/monitoring",
}
SIGN_IN_PAGES = ("/console/login", "/console/login/code")


def demo_official(demo_username: str) -> tuple[str, str, Role, str | None, str | None]:
    return next(row for row in DEMO_OFFICIALS if row[0] == demo_username)


def role_of(demo_username: str) -> Role:
    return demo_official(demo_username)[2]


def sign_in_as_demo(page: Page, server: Server, demo_username: str) -> None:
    """A fresh official with the demo official's role and scope signs in from the console's door
    (no `next`), password then authenticator code, and is left where the console sends them."""
    _, _, role, province_code, ward_code = demo_official(demo_username)
    services = services_of(server.app)
    with transaction(services.session_factory) as session:
        scope = registry.scope_for(session, province_code=province_code, ward_code=ward_code)
    official = make_official(services.session_factory, services.totp_key, role, scope)
    page.goto(f"{server.base}/console")
    page.fill("#username", official.username)
    page.fill("#password", official.password)
    page.click("button[type=submit]")
    page.fill("#code", code_for(official.secret, 1))
    page.click("button[type=submit]")
    page.wait_for_load_state()


def header_links(page: Page, server: Server) -> list[str]:
    """The header's links within the site (sections, password, languages, home)."""
    hrefs = page.locator("header a[href]").evaluate_all("links => links.map(a => a.href)")
    return sorted({href for href in hrefs if href.startswith(server.base)})


def console_pages(server: Server) -> list[str]:
    """The console's pages as the app lists its GET routes, the sign-in steps aside."""
    return sorted({
        str(context.path) for context in iter_route_contexts(server.app.routes)
        if context.path and context.path.startswith("/console") and "{" not in context.path
        and "GET" in (context.methods or set()) and context.path not in SIGN_IN_PAGES})


def html_pages_answering(context: BrowserContext, server: Server, status: int) -> list[str]:
    """The console pages that answer this official with `status` as a web page (a CSV or PDF
    download is not a page to check)."""
    found = []
    for path in console_pages(server):
        response = context.request.get(f"{server.base}{path}", max_redirects=0)
        if response.status == status and response.headers.get(
                "content-type", "").startswith("text/html"):
            found.append(path)
    return found


@pytest.mark.parametrize("demo_username", list(LANDING))
def test_each_official_lands_on_their_work_with_no_refused_link_in_the_header(
        browser: Browser, server: Server, screenshot: Screenshot, demo_username: str) -> None:
    page = open_page(browser, DESKTOP, "vi")
    sign_in_as_demo(page, server, demo_username)
    expect(page).to_have_url(f"{server.base}{LANDING[demo_username]}")
    expect(page.locator(".console-nav [aria-current=page]")).to_have_attribute(
        "href", LANDING[demo_username])
    screenshot(page, f"console-landing-{role_of(demo_username).value.replace('_', '-')}")

    refused = {href: page.request.get(href).status for href in header_links(page, server)}
    assert {href: status for href, status in refused.items() if status >= 400} == {}
    # And the other way round: every section the official may open is in the header.
    sections = set(page.locator(".console-nav a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"))
    usable = set(html_pages_answering(page.context, server, 200))
    assert sections <= usable

    for width in WIDTHS:
        for language in LANGUAGES:
            show_in(page, width, language)
            assert page.locator("html").get_attribute("lang") == language
            check_page(page)
    page.context.close()


@pytest.mark.parametrize("demo_username", [name for name in LANDING if name != "admin"])
def test_a_refused_console_page_sends_the_official_back_to_their_own_work(
        browser: Browser, server: Server, demo_username: str) -> None:
    """(The admin may use every page: the axe test below finds none refused to them.)"""
    page = open_page(browser, DESKTOP, "vi")
    sign_in_as_demo(page, server, demo_username)
    landing = LANDING[demo_username]

    refused = html_pages_answering(page.context, server, 403)
    assert refused
    assert landing not in refused
    page.goto(f"{server.base}{refused[0]}")
    back = page.get_by_role("link", name="Quay lại công việc của bạn trên trang quản trị")
    expect(back).to_have_attribute("href", landing)
    check_page(page)
    page.context.close()


def test_every_console_page_passes_axe_at_both_widths_in_both_languages(
        browser: Browser, server: Server) -> None:
    page = open_page(browser, DESKTOP, "vi")
    sign_in_as_demo(page, server, "admin")
    pages = html_pages_answering(page.context, server, 200)
    assert html_pages_answering(page.context, server, 403) == []
    assert len(pages) > 25, pages

    failures: dict[str, str] = {}
    for path in pages:
        page.goto(f"{server.base}{path}")
        for width in WIDTHS:
            for language in LANGUAGES:
                show_in(page, width, language)
                try:
                    check_page(page)
                except AssertionError as finding:
                    failures[f"{path} {width}px {language}"] = str(finding)
    assert failures == {}
    page.context.close()
