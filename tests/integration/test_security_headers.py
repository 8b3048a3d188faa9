"""Every answer carries the security headers: a Content-Security-Policy that runs only the
scripts the page itself names (a fresh nonce each time, never 'unsafe-inline'), refuses to be
framed and keeps forms on this site; nosniff, a Referrer-Policy, and no stored copy of a page.
The browser routes are enumerated from the app, so a page added later is covered without a
word."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response

from civicstack.app import create_app
from civicstack.config import Settings
from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from civicstack.kit.headers import content_security_policy
from civicstack.kit.web import TEMPLATE_DIR
from civicstack.registry.models import Person
from tests.support.eid import PASSWORD, make_active_account
from tests.support.oidc import RP_REDIRECT, Citizen, LiveProvider, live_provider, relying_party
from tests.support.people import make_person
from tests.support.web import Site

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.I)


def directives(response: Response) -> dict[str, list[str]]:
    policy = response.headers.get("content-security-policy", "")
    found = {}
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        name, *sources = directive.split()
        found[name] = sources
    return found


def nonce_of(response: Response) -> str:
    sources = directives(response).get("script-src", [])
    nonces = [source[len("'nonce-"):-1] for source in sources if source.startswith("'nonce-")]
    assert len(nonces) == 1, f"no script nonce in {sources}"
    return nonces[0]


def html_get_routes(site: Site) -> list[str]:
    """Every GET route outside the API's schema: the browser pages (and the API's own docs)."""
    return sorted({str(route.path) for route in iter_route_contexts(site.app.routes)
                   if not getattr(route, "include_in_schema", True)
                   and "GET" in (getattr(route, "methods", None) or set())})


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def header_faults(path: str, response: Response) -> list[str]:
    """What is missing from an answer; an HTML page also must not run anything unnamed."""
    policy = directives(response)
    faults = []
    if "'unsafe-inline'" in policy.get("script-src", ["'unsafe-inline'"]):
        faults.append("script-src missing or allows 'unsafe-inline'")
    if not any(source.startswith("'nonce-") for source in policy.get("script-src", [])):
        faults.append("script-src has no nonce")
    for name, wanted in (("frame-ancestors", ["'none'"]), ("object-src", ["'none'"]),
                         ("base-uri", ["'none'"])):
        if policy.get(name) != wanted:
            faults.append(f"{name} is {policy.get(name)}")
    if "'self'" not in policy.get("form-action", []):
        faults.append("no form-action")
    for header, value in (("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"),
                          ("referrer-policy", "strict-origin-when-cross-origin")):
        if response.headers.get(header) != value:
            faults.append(f"{header}: {response.headers.get(header)}")
    if response.headers.get("content-type", "").startswith("text/html"):
        faults.extend(page_faults(response))
    return [f"GET {path} ({response.status_code}): {fault}" for fault in faults]


def page_faults(response: Response) -> list[str]:
    nonce = nonce_of(response) if "script-src" in directives(response) else "?"
    faults = [f"script without the nonce: {tag}" for tag in SCRIPT_TAG.findall(response.text)
              if f'nonce="{nonce}"' not in tag]
    faults += [f"inline handler: {tag[:80]}" for tag in INLINE_HANDLER.findall(response.text)]
    faults += [f"style attribute: {tag[:80]}" for tag in STYLE_ATTRIBUTE.findall(response.text)]
    return faults


def test_every_browser_page_answers_with_the_security_headers(site: Site) -> None:
    site.sign_in_as(Role.ADMIN)  # so the console's pages answer with themselves
    routes = html_get_routes(site)
    assert len(routes) > 80
    assert "/api/docs" in routes
    faults = []
    for path in routes:
        response = site.client.get(concrete(path), headers=BROWSER, follow_redirects=False)
        faults += header_faults(path, response)
    assert faults == [], "\n".join(faults)


def test_the_api_and_errors_carry_them_too(site: Site) -> None:
    for path, status in (("/api/v1/registry/persons", 401), ("/no/such/page", 404),
                         ("/static/css/civicstack.css", 200)):
        response = site.client.get(path, headers=BROWSER)
        assert response.status_code == status
        assert header_faults(path, response) == []


def test_the_catch_alls_answer_carries_them_too(tmp_path: Path) -> None:
    """A database that cannot be reached while loading the session: the answer comes from
    Starlette's outermost layer, the one every other middleware sits inside."""
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:9/none",
                              data_dir=tmp_path / "data", log_json=False, log_level="CRITICAL",
                              db_connect_retry_s=0))  # the answer is checked, not the retries
    client = TestClient(app, raise_server_exceptions=False)
    client.cookies.set("civicstack_session", "x" * 43)
    response = client.get("/account", headers=BROWSER)
    assert response.status_code == 503
    assert header_faults("/account", response) == []


def test_each_answer_has_its_own_nonce_and_every_script_carries_it(site: Site) -> None:
    first, second = site.client.get("/", headers=BROWSER), site.client.get("/", headers=BROWSER)
    assert nonce_of(first) != nonce_of(second)
    assert len(nonce_of(first)) >= 22  # 128 bits at least, unguessable
    scripts = SCRIPT_TAG.findall(first.text)
    assert scripts  # htmx and the forms' behaviours
    assert all(f'nonce="{nonce_of(first)}"' in tag for tag in scripts)
    assert page_faults(first) == []
    # htmx runs no eval, injects no style and executes no script it swaps in
    assert '"allowEval": false' in first.text
    assert '"allowScriptTags": false' in first.text
    assert '"includeIndicatorStyles": false' in first.text


def test_no_template_holds_an_inline_handler_a_style_attribute_or_an_unnamed_script() -> None:
    """Pages the enumeration reaches only with data (a signed-in citizen's account, the
    console's forms) are covered by reading their templates."""
    faults = []
    for template in sorted(TEMPLATE_DIR.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        name = template.relative_to(TEMPLATE_DIR)
        faults += [f"{name}: {tag}" for tag in SCRIPT_TAG.findall(text)
                   if 'nonce="{{ csp_nonce }}"' not in tag]
        faults += [f"{name}: {tag[:80]}" for tag in INLINE_HANDLER.findall(text)]
        faults += [f"{name}: {tag[:80]}" for tag in STYLE_ATTRIBUTE.findall(text)]
        if re.search(r"<style\b", text):
            faults.append(f"{name}: a <style> element")
    assert faults == [], "\n".join(faults)


def test_a_signed_in_citizens_page_and_a_console_page_are_not_stored(
        site: Site, an: Person, tmp_path: Path) -> None:
    public = site.client.get("/services/statistics", headers=BROWSER)
    assert public.headers["cache-control"] == "no-store"  # every page: each is made for its reader
    make_active_account(site.services.session_factory, site.services.pepper, an,
                        tmp_path / "mailbox")
    assert site.client.post("/account/login", follow_redirects=False, data={
        "personal_id_number": an.personal_id_number, "password": PASSWORD,
        "csrf_token": site.csrf("/account/login")}).status_code == 303
    account = site.client.get("/account", headers=BROWSER)
    assert account.status_code == 200
    assert an.personal_id_number in account.text
    assert account.headers["cache-control"] == "no-store"

    site.sign_in_as(Role.ADMIN)
    console = site.client.get("/console/registry", headers=BROWSER)
    assert console.status_code == 200
    assert console.headers["cache-control"] == "no-store"
    assert site.client.get("/static/css/civicstack.css").headers.get(
        "cache-control") != "no-store"  # the shared files stay cacheable


def test_hsts_only_when_the_site_says_it_is_served_over_https(
        site: Site, database_url: str, tmp_path: Path) -> None:
    assert "strict-transport-security" not in site.client.get("/").headers
    https = TestClient(create_app(Settings(
        database_url=database_url, data_dir=tmp_path / "https-data", log_json=False,
        log_level="WARNING", hsts_seconds=31_536_000)))
    assert https.get("/").headers["strict-transport-security"] == \
        "max-age=31536000; includeSubDomains"


def test_forms_lead_only_here_and_to_the_relying_party_the_citizen_signs_in_to(
        database_url: str, tmp_path: Path) -> None:
    """Browsers check form-action on every redirect after a form is sent: the sign-in and the
    consent must be allowed to end at the relying party's redirect URI, and only there."""
    with live_provider(database_url, tmp_path / "data") as provider:
        person = active_person(provider)
        rp = relying_party(provider, provider.register_client())
        url, _ = rp.create_authorization_url(provider.url("authorize"),
                                             code_verifier="v" * 48)
        citizen = Citizen(provider)
        stranger = Citizen(provider).http.get("/account/login")
        assert directives(stranger)["form-action"] == ["'self'"]
        login = citizen.http.get(citizen.http.get(url).headers["location"])
        assert login.status_code == 200
        assert directives(login)["form-action"] == ["'self'", "http://127.0.0.1:9"]
        consent = citizen.visit(url, person)
        assert 'name="pending"' in consent.text
        assert directives(consent)["form-action"] == ["'self'", "http://127.0.0.1:9"]
        assert citizen.consent(consent).headers["location"].startswith(RP_REDIRECT)


def active_person(provider: LiveProvider) -> Person:
    with transaction(provider.factory) as session:
        person = make_person(session, "Nguyễn Văn An", date(1990, 5, 17))
    provider.active_account(person)
    return person


def test_a_form_target_cannot_add_a_directive_or_a_source() -> None:
    policy = content_security_policy("n0nce", [
        "https://bank.example", "https://a.example; script-src *", "https://b.example *"])
    assert "form-action 'self' https://bank.example;" in policy
    assert "*" not in policy
