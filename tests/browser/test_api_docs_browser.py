"""/api/docs in headless Chromium with every other site unreachable: Swagger UI renders from
the app's own files under the page's Content-Security-Policy, and its Authorize button offers
the API's credentials."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Route, expect

from tests.browser.conftest import Server

pytestmark = pytest.mark.browser


def test_api_docs_work_offline_under_the_pages_policy(server: Server, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    elsewhere: list[str] = []
    refused: list[str] = []

    def only_this_site(route: Route) -> None:
        if route.request.url.startswith(server.base):
            route.continue_()
        else:  # a CDN, say: as if offline
            elsewhere.append(route.request.url)
            route.abort()

    def policy_violations(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.route("**/*", only_this_site)
    page.on("console", policy_violations)
    page.goto(f"{server.base}/api/docs")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/registry/persons").first
           ).to_be_visible()
    page.locator("button.authorize").first.click()
    dialog = page.locator(".auth-container")
    for scheme in ("operatorKey", "clientSecretBasic", "accessToken", "memberAssertion"):
        expect(dialog.filter(has_text=scheme).first).to_be_visible()
    assert elsewhere == []
    assert refused == []
    page.close()
