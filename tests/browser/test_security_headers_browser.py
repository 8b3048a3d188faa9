"""The Content-Security-Policy in Chromium: the portal, the console's htmx search, the passkeys,
the kiosk and the demo bank run without one refusal reported, and what moved out of the pages
(the confirmation before locking an account, Enter sending a scanned code) still works. A sign-in
to a relying party on another origin lands there: browsers check form-action on every redirect
after a form, so the policy names the relying party the citizen is signing in to."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from datetime import date
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, expect

from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.db import transaction
from civicstack.oidc import clients
from civicstack.registry.models import Person
from civicstack.travel import service as travel
from civicstack.travel import touchpoints
from tests.browser.conftest import Server, sign_in_with_keyboard
from tests.support.eid import PASSWORD, POLICE_HANOI, make_active_account
from tests.support.people import make_person
from tests.support.travel import TRAVEL_ADMIN

pytestmark = pytest.mark.browser
ADMIN = Actor("test", "browser-admin", NATIONAL, Role.ADMIN)
PURPOSE = "verifying a residence dossier"


class Refusals:
    """What the browser reports while a page runs: policy refusals and script errors."""

    def __init__(self, page: Page) -> None:
        self.found: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.found.append(f"script error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.found.append(f"{message.page.url if message.page else ''}: {message.text}")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def citizen(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Person:
    state = services_of(server.app)
    with transaction(state.session_factory) as session:
        person = make_person(session, "Trần Thị Bình", date(1991, 3, 8), phone="0912000333")
        session.expunge(person)
    make_active_account(state.session_factory, state.pepper, person,
                        tmp_path_factory.mktemp("mailbox"), POLICE_HANOI)
    return person


def sign_in(page: Page, server: Server, person: Person, next_path: str = "") -> None:
    page.goto(f"{server.base}/account/login" + (f"?next={next_path}" if next_path else ""))
    page.fill("#personal_id_number", person.personal_id_number)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")


def test_the_portal_and_the_demo_bank_run_under_the_policy(server: Server, page: Page) -> None:
    refusals = Refusals(page)
    for path in ("/", "/services", "/wallet/documents", "/services/statistics",
                 "/account/login", "/demo/bank/"):
        page.goto(f"{server.base}{path}")
    expect(page.locator("h1")).to_contain_text("Open an account")  # the bank's own stylesheet
    assert page.locator("header").evaluate(
        "element => getComputedStyle(element).backgroundColor") == "rgb(15, 81, 50)"
    assert refusals.found == []


def test_the_consoles_htmx_search_and_the_scanner_field_run_under_the_policy(
        server: Server, page: Page) -> None:
    refusals = Refusals(page)
    sign_in_with_keyboard(page, server)
    page.fill("#full_name", "nguyen")
    page.fill("#purpose", PURPOSE)
    page.click("button[type=submit].button")
    expect(page.locator("#results h2")).to_contain_text("found")
    assert "full_name=nguyen" in page.url  # htmx swapped the results in and pushed the URL
    assert page.evaluate("sessionStorage.getItem('htmx-history-cache')") is None
    page.go_back()
    expect(page.locator("#full_name")).to_be_visible()

    page.goto(f"{server.base}/console/wallet/verify")
    page.fill("#presentation", "not a presentation")
    page.locator("#presentation").press("Enter")  # what a handheld scanner does
    expect(page.locator("#verification")).to_be_visible()
    assert refusals.found == []


def test_the_passkeys_page_and_the_lock_confirmation_run_under_the_policy(
        server: Server, page: Page, citizen: Person) -> None:
    refusals = Refusals(page)
    sign_in(page, server, citizen)
    expect(page).to_have_url(f"{server.base}/")  # the citizen's home
    page.goto(f"{server.base}/account")
    questions: list[str] = []

    def decline(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    page.get_by_role("button", name="Lost your phone? Lock my account").click()
    assert questions == ["Lock your account now? Only a service centre can unlock it."]
    expect(page).to_have_url(f"{server.base}/account")  # declined: nothing was sent
    page.goto(f"{server.base}/account/passkeys")
    assert refusals.found == []


def test_the_kiosk_runs_under_the_policy(server: Server, page: Page) -> None:
    with transaction(services_of(server.app).session_factory) as session:
        travel.add_airport(session, TRAVEL_ADMIN, "VII", "Vinh", "40")
        _, credential = touchpoints.register(session, TRAVEL_ADMIN,
                                             services_of(server.app).pepper,
                                             touchpoints.TouchpointIn(
                                                 "VII kiosk 1", "check_in_kiosk", airport="VII"))
    refusals = Refusals(page)
    page.goto(f"{server.base}/kiosk")
    page.fill("#credential", credential)
    page.click("button[type=submit]")
    expect(page.locator("#image")).to_have_attribute("capture", "user")
    assert refusals.found == []


def test_a_sign_in_lands_on_a_relying_party_on_another_origin(
        server: Server, browser: Browser, citizen: Person) -> None:
    elsewhere = server.base.replace("localhost", "127.0.0.1")  # another origin, same server
    with transaction(services_of(server.app).session_factory) as session:
        registered = clients.register_client(
            session, ADMIN, services_of(server.app).pepper, clients.NewClient(
                name="Ngân hàng Khác", redirect_uris=(f"{elsewhere}/callback",),
                scopes=("openid",)))
    page = browser.new_page(locale="en-GB")
    refusals = Refusals(page)
    page.goto(authorization_url(server, registered.client_id, f"{elsewhere}/callback"))
    sign_in_form_posted(page, citizen)
    page.get_by_role("button", name="Allow").click()  # consent: the form that ends there
    page.wait_for_url(f"{elsewhere}/callback?*")
    assert "code=" in page.url

    page.context.clear_cookies()  # consent given: now the sign-in form itself ends there
    page.goto(authorization_url(server, registered.client_id, f"{elsewhere}/callback"))
    sign_in_form_posted(page, citizen)
    page.wait_for_url(f"{elsewhere}/callback?*")
    assert refusals.found == []
    page.close()


def sign_in_form_posted(page: Page, person: Person) -> None:
    page.wait_for_url("**/account/login?next=*")
    page.fill("#personal_id_number", person.personal_id_number)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")


def authorization_url(server: Server, client_id: str, redirect_uri: str) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return f"{server.base}/oidc/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
        "scope": "openid", "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge, "code_challenge_method": "S256"})
