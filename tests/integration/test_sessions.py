"""Browser sessions live on the server: a copied cookie is worth nothing after sign-out on any
instance, a restart keeps sessions, ids change at every change of privilege, and sessions end
after their idle and absolute lifetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from civicstack.kit.websession import COOKIE, WebSession, digest
from civicstack.registry.models import Person
from tests.integration.test_identity_level2 import level_two_account, step_up
from tests.integration.test_identity_web import approved_and_signed_in, citizen_sign_in
from tests.support.eid import PASSWORD, code_for
from tests.support.web import Site, make_site


def second_instance(site: Site, database_url: str) -> Site:
    """Another app process over the same database and the same shared data directory."""
    return make_site(database_url, site.services.settings.data_dir)


def with_cookie(other: Site, cookie: str) -> TestClient:
    other.client.cookies.set(COOKIE, cookie)
    return other.client


def test_a_citizen_cookie_copied_before_sign_out_opens_nothing_on_another_instance(
        site: Site, an: Person, database_url: str) -> None:
    approved_and_signed_in(site, an)
    copied = site.client.cookies[COOKIE]
    other = second_instance(site, database_url)
    assert with_cookie(other, copied).get("/account", follow_redirects=False).status_code == 200

    signed_out = site.client.post("/account/logout", follow_redirects=False,
                                  data={"csrf_token": site.csrf("/account")})
    assert signed_out.status_code == 303

    for page in ("/account", "/wallet"):
        refused = with_cookie(other, copied).get(page, follow_redirects=False)
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/account/login")


def test_sign_out_ends_the_device_session_the_account_page_lists(site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    site.client.post("/account/logout", data={"csrf_token": site.csrf("/account")})
    site.client.cookies.clear()
    assert citizen_sign_in(site, an) == 303
    # No other device to sign out: the session signed out is ended, not merely forgotten.
    assert re.search(r'action="/account/sessions/[0-9a-f]+/end"',
                     site.client.get("/account").text) is None


def test_an_official_cookie_copied_before_sign_out_opens_nothing_on_another_instance(
        site: Site, database_url: str) -> None:
    site.sign_in_as(Role.ADMIN)
    copied = site.client.cookies[COOKIE]
    other = second_instance(site, database_url)
    assert with_cookie(other, copied).get("/console/officials").status_code == 200

    site.client.post("/console/logout", data={"csrf_token": site.csrf("/console/officials")})

    refused = with_cookie(other, copied).get("/console/officials", follow_redirects=False)
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/console/login")


def test_a_session_survives_a_restart_of_the_app(site: Site, an: Person,
                                                 database_url: str) -> None:
    approved_and_signed_in(site, an)
    cookie = site.client.cookies[COOKIE]
    restarted = second_instance(site, database_url)
    del site
    assert with_cookie(restarted, cookie).get("/account").status_code == 200


def test_the_cookie_carries_only_an_opaque_id_and_the_database_only_its_digest(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    cookie = site.client.cookies[COOKIE]
    assert len(cookie) == 43
    assert "." not in cookie
    with transaction(site.services.session_factory) as session:
        stored = set(session.scalars(select(WebSession.id_digest)))
    assert digest(cookie) in stored
    assert cookie not in stored


def test_the_session_id_changes_at_sign_in_and_at_step_up(site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    first = site.client.cookies[COOKIE]
    assert citizen_sign_in(site, an) == 303  # again, over the live session: a new id
    signed_in = site.client.cookies[COOKIE]
    assert signed_in != first

    official = site.sign_in_as(Role.POLICE)
    assert site.client.cookies[COOKIE] != signed_in  # an official's sign-in, a new id too
    assert official.username


def test_a_sign_in_stores_the_new_browser_session_in_its_own_transaction(
        site: Site, an: Person) -> None:
    """The sign-in form stores no session (its CSRF token is signed, kit/csrf.py), and the new
    browser session is written with the account's session: the sign-in's one transaction is
    the request's only commit."""
    approved_and_signed_in(site, an)
    site.client.cookies.clear()
    token = site.csrf("/account/login")
    assert COOKIE not in site.client.cookies
    commits: list[object] = []

    def counted(connection: object) -> None:
        commits.append(connection)

    event.listen(site.services.engine, "commit", counted)
    try:
        signed_in = site.client.post("/account/login", follow_redirects=False, data={
            "personal_id_number": an.personal_id_number, "password": PASSWORD,
            "csrf_token": token})
    finally:
        event.remove(site.services.engine, "commit", counted)
    assert signed_in.status_code == 303
    assert len(commits) == 1
    assert site.client.get("/account", follow_redirects=False).status_code == 200
    with transaction(site.services.session_factory) as session:
        stored = set(session.scalars(select(WebSession.id_digest)))
    assert digest(site.client.cookies[COOKIE]) in stored


def test_a_session_idle_too_long_or_too_old_is_refused(site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    cookie_digest = digest(site.client.cookies[COOKIE])
    settings = site.services.settings

    def age(**moments: datetime) -> None:
        with transaction(site.services.session_factory) as session:
            session.execute(update(WebSession).where(WebSession.id_digest == cookie_digest)
                            .values(**moments))

    now = datetime.now(UTC)
    age(last_seen_at=now - timedelta(minutes=settings.session_idle_minutes, seconds=5))
    assert site.client.get("/account", follow_redirects=False).status_code == 303

    site.client.cookies.clear()
    assert citizen_sign_in(site, an) == 303
    cookie_digest = digest(site.client.cookies[COOKIE])
    age(created_at=now - timedelta(hours=settings.session_absolute_hours, seconds=5))
    assert site.client.get("/account", follow_redirects=False).status_code == 303


def test_an_unknown_or_ended_cookie_is_dropped_by_the_browser(site: Site) -> None:
    site.client.cookies.set(COOKIE, "x" * 43)
    response = site.client.get("/account/login")
    assert f"{COOKIE}=" in response.headers["set-cookie"]


def test_a_second_factor_step_up_gives_the_browser_session_a_new_id(
        site: Site, an: Person) -> None:
    secret = level_two_account(site, an)
    assert citizen_sign_in(site, an) == 303
    before = site.client.cookies[COOKIE]
    assert step_up(site, code_for(secret, 1)) == (303, "/account")
    assert site.client.cookies[COOKIE] != before
    assert site.client.get("/account").status_code == 200


def test_sign_out_everywhere_ends_every_device_on_every_instance(
        site: Site, an: Person, database_url: str) -> None:
    approved_and_signed_in(site, an)
    phone = site.client.cookies[COOKIE]
    laptop = second_instance(site, database_url)
    assert citizen_sign_in(laptop, an) == 303
    assert laptop.client.get("/account", follow_redirects=False).status_code == 200

    ended = site.client.post("/account/sessions/end-all", follow_redirects=False,
                             data={"csrf_token": site.csrf("/account")})
    assert (ended.status_code, ended.headers["location"]) == (303, "/")

    assert laptop.client.get("/account", follow_redirects=False).status_code == 303
    assert with_cookie(second_instance(site, database_url), phone).get(
        "/account", follow_redirects=False).status_code == 303


def test_a_page_without_a_session_stores_none_even_with_a_form(site: Site) -> None:
    """The home page and the sign-in form to an anonymous visitor write no session row: a
    crawler or a surge of visitors at the sign-in page costs the database nothing."""
    for page in ("/", "/account/login", "/console/login", "/account/register"):
        response = site.client.get(page)
        assert response.status_code == 200, page
        assert COOKIE not in response.headers.get("set-cookie", ""), page
    assert COOKIE not in site.client.cookies
    with transaction(site.services.session_factory) as session:
        assert session.scalars(select(WebSession.id_digest)).first() is None
