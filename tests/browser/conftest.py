"""Browser fixtures: a real server over a seeded SQLite register, and Debian's Chromium.

Screenshots go to docs/screenshots/ when CIVICSTACK_SCREENSHOTS=1 (how the committed ones were
made), else to the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect, sync_playwright

from civicstack.app import create_app
from civicstack.config import Settings
from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.db import transaction
from civicstack.kit.throwaway_pg import free_port
from civicstack.oidc.demo_rp import register_demo_bank
from tests.support.browsers import SeededRegister
from tests.support.eid import code_for
from tests.support.officials import Official, make_official

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Server:
    base: str
    data_dir: Path
    population: Path
    app: FastAPI

    def official(self, role: Role = Role.SERVICE_CLERK, enrolled: bool = True) -> Official:
        """A national official; a fresh one per sign-in, since a code is accepted only once."""
        services = services_of(self.app)
        return make_official(services.session_factory, services.totp_key,
                             role, enrolled=enrolled)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           seeded_register: SeededRegister) -> Iterator[Server]:
    """A real server over a seeded SQLite register, this module's own copy."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    shutil.copytree(seeded_register.folder, data_dir, dirs_exist_ok=True)
    url = f"sqlite:///{data_dir / seeded_register.database.name}"
    population = data_dir / seeded_register.population.name
    port = free_port()
    # localhost, not 127.0.0.1: WebAuthn refuses an IP address as the relying party's ID.
    base = f"http://localhost:{port}"
    app = create_app(Settings(database_url=url, data_dir=data_dir, log_level="WARNING",
                              public_url=base, demo_relying_party=True))
    with transaction(services_of(app).session_factory) as session:
        register_demo_bank(session, Actor("test", "browser", NATIONAL, Role.ADMIN),
                           services_of(app).pepper, data_dir, base)
    runner = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    while not runner.started:
        time.sleep(0.05)
    yield Server(base, data_dir, population, app)
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


def sign_in_with_keyboard(page: Page, server: Server) -> None:
    """A service-centre clerk with an authenticator signs in by keyboard alone, to search the
    register (a clerk's own landing is the dossier inbox)."""
    official = server.official()
    page.goto(f"{server.base}/console/login?next=/console/registry")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator(".skip-link")).to_be_focused()
    page.locator("#username").focus()
    page.keyboard.type(official.username)
    page.keyboard.press("Tab")
    page.keyboard.type(official.password)
    page.keyboard.press("Enter")
    expect(page.locator("#code")).to_be_visible()
    page.locator("#code").focus()
    page.keyboard.type(code_for(official.secret, 1))
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server.base}/console/registry")


def console_sign_in(page: Page, server: Server, official: Official, next_path: str) -> None:
    """An enrolled official signs in (password, then a code) and lands on `next_path`."""
    page.goto(f"{server.base}/console/login?next={next_path}")
    page.fill("#username", official.username)
    page.fill("#password", official.password)
    page.click("button[type=submit]")
    page.fill("#code", code_for(official.secret, 1))
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.base}{next_path}")
