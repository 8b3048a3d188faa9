"""The console in headless Chromium: keyboard sign-in, HTMX search, record page, language switch.

Screenshots go to docs/screenshots/ when CIVICSTACK_SCREENSHOTS=1 (how the committed ones were
made), else to the test's temporary folder.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from civicstack.app import create_app
from civicstack.config import Settings
from civicstack.kit import apikeys
from civicstack.kit.db import make_engine, make_session_factory, transaction
from civicstack.kit.migrate import upgrade
from civicstack.kit.throwaway_pg import free_port
from civicstack.registry.demo import seed_population, write_demo_population
from civicstack.registry.units import sync_reference_units

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
PURPOSE = "verifying a residence dossier"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real server over a seeded SQLite register; yields (base URL, console key)."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    url = f"sqlite:///{data_dir / 'civicstack.db'}"
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    with transaction(factory) as session:
        sync_reference_units(session)
    seed_population(factory, write_demo_population(data_dir, 300, seed=11))
    app = create_app(Settings(database_url=url, data_dir=data_dir, log_level="WARNING"))
    with transaction(app.state.session_factory) as session:
        token = apikeys.create_key(session, app.state.pepper, "browser-clerk",
                                   ["registry:read"]).token
    port = free_port()
    runner = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    while not runner.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", token
    runner.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium (make test does)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"])
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    if os.environ.get("CIVICSTACK_SCREENSHOTS") == "1":
        return REPO / "docs" / "screenshots"
    return tmp_path


def sign_in_with_keyboard(page: Page, base: str, token: str) -> None:
    page.goto(f"{base}/console/login")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator(".skip-link")).to_be_focused()
    page.locator("#token").focus()
    page.keyboard.type(token)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/console/registry")


def test_official_searches_and_opens_a_record(server: tuple[str, str], browser: Browser,
                                              shots: Path) -> None:
    base, token = server
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page.goto(base)
    expect(page.locator("h1")).to_have_text("Một danh tính cho mọi dịch vụ công")
    page.screenshot(path=shots / "portal-home.png", full_page=True)
    page.goto(f"{base}/console/login")
    page.screenshot(path=shots / "console-login.png", full_page=True)
    sign_in_with_keyboard(page, base, token)

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


def test_the_console_works_on_a_phone_screen(server: tuple[str, str], browser: Browser,
                                             shots: Path) -> None:
    base, token = server
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    sign_in_with_keyboard(page, base, token)
    page.goto(f"{base}/console/registry?full_name=tran&purpose={PURPOSE}&lang=en")
    expect(page.locator("#results h2")).to_contain_text("found")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page itself must not scroll sideways (tables scroll inside)"
    page.screenshot(path=shots / "console-search-mobile.png", full_page=True)
    page.close()
