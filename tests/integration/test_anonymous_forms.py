"""An anonymous visitor's forms (sign-in, registration, recovery) carry a signed double-submit
CSRF token rather than a session's: the token is an HMAC of a random seed the browser keeps in
an HttpOnly cookie. It is refused with another browser's seed, without a seed, when forged, and
once the visitor has a session (whose own token then counts alone)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from civicstack.app import create_app
from civicstack.config import Settings
from civicstack.kit.websession import COOKIE
from civicstack.registry.models import Person
from tests.integration.test_identity_web import approved_and_signed_in
from tests.support.eid import PASSWORD
from tests.support.web import CSRF_PATTERN, Site, make_site

SEED = "civicstack_form"


def sign_in_with(client: TestClient, an: Person, token: str) -> int:
    return client.post("/account/login", follow_redirects=False, data={
        "personal_id_number": an.personal_id_number, "password": PASSWORD,
        "csrf_token": token}).status_code


def attributes(cookie: str) -> set[str]:
    return {part.strip() for part in cookie.split(";")}


def form_token(client: TestClient, page: str = "/account/login") -> str:
    found = CSRF_PATTERN.search(client.get(page).text)
    assert found, page
    return found.group(1)


def test_the_form_sets_an_http_only_seed_cookie_and_the_token_is_not_the_seed(
        site: Site) -> None:
    response = site.client.get("/account/login")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SEED}=")
    assert {"HttpOnly", "SameSite=Lax", "Path=/"} <= attributes(cookie)
    token = CSRF_PATTERN.search(response.text)
    assert token
    assert token.group(1) != site.client.cookies[SEED]
    # The same browser keeps its seed: a second form gives the same token, no new cookie.
    again = site.client.get("/account/login")
    assert "set-cookie" not in again.headers
    assert form_token(site.client) == token.group(1)


def test_an_anonymous_token_signs_in_only_with_its_own_browsers_seed(
        site: Site, an: Person, database_url: str) -> None:
    approved_and_signed_in(site, an)
    site.client.cookies.clear()
    mine = form_token(site.client)
    other = make_site(database_url, site.services.settings.data_dir)  # another instance too
    theirs = form_token(other.client)

    assert sign_in_with(other.client, an, mine) == 403  # their seed, my token
    other.client.cookies.clear()
    assert sign_in_with(other.client, an, theirs) == 403  # no seed at all
    other.client.cookies.set(SEED, "A" * 43)
    assert sign_in_with(other.client, an, "A" * 43) == 403  # a seed is not its own token
    assert sign_in_with(site.client, an, mine[:-1] + ("A" if mine[-1] != "A" else "B")) == 403
    assert COOKIE not in site.client.cookies  # nothing refused left a session behind

    other.client.cookies.clear()
    assert sign_in_with(other.client, an, form_token(other.client)) == 303  # any instance
    assert sign_in_with(site.client, an, mine) == 303


def test_a_malformed_seed_is_ignored_and_replaced(site: Site) -> None:
    site.client.cookies.set(SEED, "not a seed;")
    response = site.client.get("/account/login")
    assert re.match(rf"{SEED}=[A-Za-z0-9_-]{{43}};", response.headers["set-cookie"])


def test_once_signed_in_only_the_sessions_token_counts(site: Site, an: Person) -> None:
    site.client.cookies.clear()
    anonymous = form_token(site.client)
    approved_and_signed_in(site, an)
    session_token = form_token(site.client, "/account")
    assert session_token != anonymous
    refused = site.client.post("/account/logout", follow_redirects=False,
                               data={"csrf_token": anonymous})
    assert refused.status_code == 403
    assert site.client.get("/account", follow_redirects=False).status_code == 200
    signed_out = site.client.post("/account/logout", follow_redirects=False,
                                  data={"csrf_token": session_token})
    assert signed_out.status_code == 303


def test_over_https_the_seed_cookie_is_host_prefixed_and_secure(database_url: str,
                                                                 tmp_path: Path) -> None:
    app = create_app(Settings(database_url=database_url, data_dir=tmp_path, log_json=False,
                              log_level="WARNING", session_cookie_secure=True))
    client = TestClient(app, base_url="https://testserver")
    cookie = client.get("/account/login").headers["set-cookie"]
    # __Host-: only this host, over HTTPS, may set it; a sibling domain cannot plant a seed.
    assert cookie.startswith(f"__Host-{SEED}=")
    assert {"Secure", "Path=/"} <= attributes(cookie)
    assert not any(part.startswith("Domain") for part in attributes(cookie))
