"""Officials' console accounts: refusals first (roles, scopes, disabled accounts, wrong and
replayed codes, locks, rate limits), then creation, first sign-in and the admins' page."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from civicstack.identity import officials
from civicstack.identity.models import OfficialAccount
from civicstack.identity.service import FREE_LOGIN_FAILURES, CodeOutcome, UnknownIdentifiers
from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import NATIONAL, Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.errors import Conflict, Forbidden, Invalid
from civicstack.registry.models import Person
from tests.support.api import audit_entries
from tests.support.eid import code_for, code_of_step, secret_on_page, wrong_code
from tests.support.officials import ADMIN, OFFICIAL_PASSWORD, Official, make_official
from tests.support.web import Site

HANOI, BA_DINH = Scope.province("01"), Scope.ward("01", "00004")
HANOI_ADMIN = Actor("official", "hanoi-admin", HANOI, Role.ADMIN)


def new(username: str, scope: Scope = HANOI, role: Role = Role.POLICE,
        password: str = OFFICIAL_PASSWORD) -> officials.NewOfficial:
    return officials.NewOfficial(username, "Lê Văn Hùng", role, scope, password)


def actions(factory: sessionmaker[Session], username: str) -> list[str]:
    return [e.action for e in audit_entries(factory, subject_id=username)]


# --- refusals: who may manage whom ------------------------------------------------------------

@pytest.mark.parametrize("scope", [NATIONAL, Scope.province("79"), Scope.ward("79", "26506")])
def test_a_province_admin_cannot_create_officials_outside_their_province(
        session: Session, scope: Scope) -> None:
    with pytest.raises(Forbidden, match="does not include"):
        officials.create(session, HANOI_ADMIN, new("too-wide", scope))
    assert officials.officials_in_scope(session, ADMIN) == []


def test_a_province_admin_creates_officials_in_their_province_and_sees_only_those(
        session: Session) -> None:
    officials.create(session, HANOI_ADMIN, new("ward.clerk", BA_DINH, Role.SERVICE_CLERK))
    officials.create(session, ADMIN, new("hcmc.police", Scope.province("79")))
    assert [o.username for o in officials.officials_in_scope(session, HANOI_ADMIN)] == \
        ["ward.clerk"]
    with pytest.raises(Forbidden):
        officials.disable(session, HANOI_ADMIN, "hcmc.police")


@pytest.mark.parametrize("role", [Role.POLICE, Role.SERVICE_CLERK, Role.AGENCY_APPROVER])
def test_only_admins_manage_officials(session: Session, role: Role) -> None:
    actor = Actor("official", "not-admin", NATIONAL, role)
    with pytest.raises(Forbidden, match="may not manage officials"):
        officials.create(session, actor, new("someone", NATIONAL))
    with pytest.raises(Forbidden, match="may not manage officials"):
        officials.officials_in_scope(session, actor)


@pytest.mark.parametrize(("username", "password", "field"), [
    ("Bad Name", OFFICIAL_PASSWORD, "username"),
    ("ab", OFFICIAL_PASSWORD, "username"),
    ("le.van.hung", "password123", "password"),
    ("le.van.hung", "short", "password"),
    ("le.van.hung", "levanhung-2026!", "password"),  # built from the official's name
])
def test_bad_usernames_and_weak_passwords_are_refused(
        session: Session, username: str, password: str, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        officials.create(session, ADMIN, new(username, password=password))
    assert field in {error.field for error in refused.value.errors}


def test_a_username_is_taken_once(session: Session) -> None:
    officials.create(session, ADMIN, new("twin"))
    with pytest.raises(Conflict, match="already exists"):
        officials.create(session, ADMIN, new("twin", Scope.province("79")))


def test_management_is_audited_with_who_did_it(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        officials.create(session, HANOI_ADMIN, new("audited"))
        officials.change_role(session, HANOI_ADMIN, "audited", Role.SERVICE_CLERK)
        officials.disable(session, HANOI_ADMIN, "audited")
        officials.enable(session, HANOI_ADMIN, "audited")
        officials.reset_second_factor(session, HANOI_ADMIN, "audited")
        with pytest.raises(Conflict):
            officials.enable(session, HANOI_ADMIN, "audited")
    entries = audit_entries(session_factory, subject_id="audited")
    assert [e.action for e in entries] == [
        "identity.official.create", "identity.official.role_change",
        "identity.official.disable", "identity.official.enable",
        "identity.official.reset_second_factor"]
    assert {e.actor for e in entries} == {"official:hanoi-admin"}
    assert entries[0].detail == {"role": "police", "scope": "province 01"}
    assert entries[1].detail == {"from": "police", "to": "service_clerk"}


# --- refusals: signing in ---------------------------------------------------------------------

def test_a_disabled_official_cannot_sign_in_and_their_session_ends(site: Site) -> None:
    official = site.sign_in_as(Role.POLICE)
    assert site.client.get("/console/registry", follow_redirects=False).status_code == 200
    with transaction(site.services.session_factory) as session:
        officials.disable(session, ADMIN, official.username)
    assert site.client.get("/console/registry", follow_redirects=False).status_code == 303
    assert site.enter_password(official.username) == 401
    page = site.client.post("/console/login?lang=en", data={
        "username": official.username, "password": OFFICIAL_PASSWORD,
        "csrf_token": site.csrf()})
    assert "disabled" in page.text


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(site: Site) -> None:
    official = site.new_official()
    for username, password in ((official.username, "not the password"), ("nobody", "x" * 12)):
        response = site.client.post("/console/login?lang=en", follow_redirects=False, data={
            "username": username, "password": password, "csrf_token": site.csrf()})
        assert response.status_code == 401
        assert "Wrong username or password." in response.text
    assert actions(site.services.session_factory, "nobody") == [
        "identity.official.login.wrong_credentials"]


def test_the_password_alone_does_not_sign_in(site: Site) -> None:
    official = site.new_official()
    assert site.enter_password(official.username) == 303
    assert site.client.get("/console/registry", follow_redirects=False).status_code == 303


def test_a_wrong_code_is_refused(site: Site) -> None:
    official = site.new_official()
    assert site.enter_password(official.username) == 303
    assert site.enter_code(wrong_code(official.secret)) == 401
    assert site.client.get("/console/registry", follow_redirects=False).status_code == 303
    assert site.official_row(official.username).failed_logins == 1
    assert "identity.official.login.code_wrong" in actions(site.services.session_factory,
                                                           official.username)


def test_a_code_from_a_spent_time_step_is_refused(site: Site) -> None:
    official = site.new_official()
    site.sign_in(official)
    spent = site.official_row(official.username).totp_last_step
    assert spent is not None
    site.client.cookies.clear()
    assert site.enter_password(official.username) == 303
    assert site.enter_code(code_of_step(official.secret, spent)) == 401  # the same code again
    assert site.enter_code(code_of_step(official.secret, spent - 1)) == 401  # an older one


def test_the_code_step_without_a_password_goes_back_to_the_password(site: Site) -> None:
    official = site.new_official()
    response = site.client.post("/console/login/code", follow_redirects=False, data={
        "code": code_for(official.secret, 1), "csrf_token": site.csrf()})
    assert (response.status_code, response.headers["location"]) == (303, "/console/login")


def test_failures_lock_the_account_even_against_the_right_password(
        session_factory: sessionmaker[Session]) -> None:
    official = make_official(session_factory, "k" * 32, Role.POLICE, username="locked.out")
    for _ in range(FREE_LOGIN_FAILURES):
        with transaction(session_factory) as session:
            assert officials.check_password(session, UnknownIdentifiers(), "locked.out",
                                            "not it at all").outcome == \
                officials.PasswordOutcome.WRONG_CREDENTIALS
    with transaction(session_factory) as session:
        locked = officials.check_password(session, UnknownIdentifiers(), "locked.out",
                                          official.password)
    assert locked.outcome == officials.PasswordOutcome.TEMPORARILY_LOCKED
    assert "identity.official.login.temporarily_locked" in actions(session_factory,
                                                                   "locked.out")


def test_wrong_codes_count_toward_the_same_lock(session_factory: sessionmaker[Session]) -> None:
    key = "k" * 32
    official = make_official(session_factory, key, username="fumbler")
    with transaction(session_factory) as session:
        row = officials.check_password(session, UnknownIdentifiers(), "fumbler",
                                       official.password).official
        assert row is not None
        official_id, generation = row.id, row.session_generation
    outcomes = []
    for _ in range(FREE_LOGIN_FAILURES):
        with transaction(session_factory) as session:
            outcomes.append(officials.check_code(session, key, official_id, generation,
                                                 wrong_code(official.secret)))
    with transaction(session_factory) as session:
        outcomes.append(officials.check_code(session, key, official_id, generation,
                                             code_for(official.secret, 1)))
    assert outcomes[:-1] == [CodeOutcome.WRONG] * FREE_LOGIN_FAILURES
    assert outcomes[-1] == CodeOutcome.EXHAUSTED


def test_sign_in_attempts_are_rate_limited_per_address(site: Site) -> None:
    official = site.new_official()
    for number in range(10):
        site.enter_password(f"guess-{number}", "wrong password!")
    assert site.enter_password(official.username) == 429


def test_sign_in_attempts_are_rate_limited_per_username(site: Site) -> None:
    """Guesses at one name spread over addresses still stop (an unknown name here: it locks
    after the free failures as an account would, and the per-name limit holds past that)."""
    answers = [site.enter_password("ghost", "wrong password!") for _ in range(10)]
    assert answers == [401] * FREE_LOGIN_FAILURES + [429] * (10 - FREE_LOGIN_FAILURES)
    site.client = TestClient(site.app, client=("203.0.113.9", 50000))  # another address
    assert site.enter_password("ghost", "wrong password!") == 429
    assert site.enter_password(site.new_official().username) == 303  # other names still go


def password_answers(site: Site, address: str, username: str) -> list[tuple[int, str]]:
    """Wrong passwords for one username, one past the free failures, each answer's status and
    message; from an address of its own, so the per-address limit plays no part."""
    console = Site(site.app, TestClient(site.app, client=(address, 50000)))
    answers = []
    for _ in range(FREE_LOGIN_FAILURES + 1):
        page = console.client.post("/console/login?lang=en", data={
            "username": username, "password": "wrong password!", "csrf_token": console.csrf()})
        message = re.search(r'id="password-error"[^>]*>([^<]*)<', page.text)
        answers.append((page.status_code, message.group(1) if message else ""))
    return answers


def test_an_unknown_username_locks_after_the_same_failures_as_an_account(site: Site) -> None:
    real = password_answers(site, "203.0.113.1", site.new_official().username)
    unknown = password_answers(site, "203.0.113.2", "nobody.here")
    assert real == unknown
    assert real[-1] == (429, "Too many failed attempts: try again later.")
    assert set(real[:-1]) == {(401, "Wrong username or password.")}


# --- refusals: roles and scopes in the console ------------------------------------------------

@pytest.mark.parametrize("role", [Role.POLICE, Role.SERVICE_CLERK, Role.AGENCY_APPROVER])
def test_only_admins_open_the_officials_page(site: Site, role: Role) -> None:
    site.sign_in_as(role)
    assert site.client.get("/console/officials").status_code == 403
    created = site.client.post("/console/officials", data={
        "username": "sneaky", "full_name": "Kẻ Lạ", "role": "admin", "scope_level": "national",
        "csrf_token": site.csrf("/console/registry")})
    assert created.status_code == 403
    with transaction(site.services.session_factory) as session:
        assert "sneaky" not in [o.username for o in officials.officials_in_scope(session, ADMIN)]


def test_a_province_admin_cannot_create_a_national_official_in_the_console(site: Site) -> None:
    site.sign_in_as(Role.ADMIN, HANOI)
    response = site.client.post("/console/officials", data={
        "username": "national.police", "full_name": "Lê Văn Hùng", "role": "police",
        "scope_level": "national", "csrf_token": site.csrf("/console/officials")})
    assert response.status_code == 403
    assert "does not include national" in response.text


def test_an_agency_approver_cannot_approve_eid_accounts(site: Site, an: Person) -> None:
    site.sign_in_as(Role.AGENCY_APPROVER)
    response = site.client.post(f"/console/accounts/{an.personal_id_number}/approve", data={
        "reason": "trying", "csrf_token": site.csrf("/console/registry")})
    assert response.status_code == 403
    assert "không được phê duyệt, khóa và mở khóa tài khoản định danh điện tử" in response.text


# --- creation and the first sign-in -----------------------------------------------------------

def test_an_admin_creates_an_official_who_enrols_an_authenticator_at_first_sign_in(
        site: Site) -> None:
    site.sign_in_as(Role.ADMIN, HANOI)
    created = site.client.post("/console/officials?lang=en", data={
        "username": "ward.clerk", "full_name": "Phạm Thị Lan", "role": "service_clerk",
        "scope_level": "ward", "scope_code": "00004",
        "csrf_token": site.csrf("/console/officials")})
    assert created.status_code == 201
    password = created.text.split('<code id="initial-password">')[1].split("</code>")[0]
    assert "ward.clerk" in created.text
    site.client.cookies.clear()

    assert site.enter_password("ward.clerk", password) == 303
    page = site.client.get("/console/login/code?lang=en")
    assert "<svg" in page.text
    secret = secret_on_page(page.text)
    assert site.enter_code(code_for(secret)) == 303
    assert choose_password(site, password, CHOSEN).status_code == 303
    header = site.client.get("/console/registry?lang=en").text
    assert "Phạm Thị Lan" in header
    assert "Service-centre clerk" in header
    assert "Phường Ba Đình" in header
    row = site.official_row("ward.clerk")
    assert (row.scope, row.role, row.created_by) == (BA_DINH, Role.SERVICE_CLERK,
                                                     f"official:{row.created_by.split(':')[1]}")
    assert row.totp_secret is not None
    assert secret not in row.totp_secret  # sealed
    assert actions(site.services.session_factory, "ward.clerk") == [
        "identity.official.create", "identity.official.login.needs_enrolment",
        "identity.official.enrolment_start", "identity.official.enrol",
        "identity.official.login.signed_in", "identity.official.password_change"]


@pytest.mark.parametrize(("level", "code", "field"), [
    ("province", "99", "province"), ("ward", "99999", "ward"), ("province", "", "scope_code"),
    ("planet", "", "scope_level")])
def test_an_unknown_scope_is_shown_next_to_its_field(
        site: Site, level: str, code: str, field: str) -> None:
    site.sign_in_as(Role.ADMIN)
    response = site.client.post("/console/officials", data={
        "username": "somebody", "full_name": "Lê Văn Hùng", "role": "police",
        "scope_level": level, "scope_code": code, "csrf_token": site.csrf("/console/officials")})
    assert response.status_code == 422
    assert 'role="alert"' in response.text


def test_resetting_the_second_factor_ends_sessions_and_forces_a_new_enrolment(
        site: Site) -> None:
    official = site.sign_in_as(Role.POLICE)
    with transaction(site.services.session_factory) as session:
        officials.reset_second_factor(session, ADMIN, official.username)
    assert site.client.get("/console/registry", follow_redirects=False).status_code == 303
    assert site.enter_password(official.username) == 303
    new_secret = secret_on_page(site.client.get("/console/login/code").text)
    assert new_secret != official.secret
    assert site.enter_code(code_for(official.secret, 1)) == 401  # the lost phone's code


def test_the_admin_disables_and_reenables_from_the_console(site: Site) -> None:
    other = site.new_official(Role.POLICE, HANOI)
    site.sign_in_as(Role.ADMIN, HANOI)
    token = site.csrf("/console/officials")
    for action, status in (("disable", "disabled"), ("enable", "active")):
        response = site.client.post(f"/console/officials/{other.username}/{action}",
                                    data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 303
        assert site.official_row(other.username).status == status
    changed = site.client.post(f"/console/officials/{other.username}/role",
                               data={"role": "service_clerk", "csrf_token": token})
    assert changed.status_code == 200
    assert site.official_row(other.username).role == Role.SERVICE_CLERK
    refused = site.client.post("/console/officials/nobody/disable", data={"csrf_token": token})
    assert refused.status_code == 404


def test_sign_out_ends_the_console_session(site: Site) -> None:
    site.sign_in_as()
    token = site.csrf("/console/registry")
    site.client.post("/console/logout", data={"csrf_token": token}, follow_redirects=False)
    assert site.client.get("/console/registry", follow_redirects=False).status_code == 303


def test_the_console_audit_records_the_official(site: Site, an: Person) -> None:
    official = site.sign_in_as(Role.POLICE, HANOI)
    site.client.get(f"/console/registry/persons/{an.personal_id_number}",
                    params={"purpose": "checking a residence dossier"})
    with transaction(site.services.session_factory) as session:
        reads = session.execute(select(AuditEntry.actor).where(
            AuditEntry.action == "registry.person.history")).scalars().all()
    assert reads == [f"official:{official.username}"]


# --- a handed-over password is good for one sign-in ------------------------------------------

CHOSEN = "copper harbour evening 19"


def first_sign_in(site: Site, official: Official, password: str = OFFICIAL_PASSWORD) -> None:
    """Password and enrolment of the authenticator: what an official does with the password
    an admin handed over."""
    assert site.enter_password(official.username, password) == 303
    secret = secret_on_page(site.client.get("/console/login/code").text)
    assert site.enter_code(code_for(secret)) == 303


def choose_password(site: Site, current: str, new: str, again: str | None = None,
                    next_page: str = "/console/registry") -> httpx.Response:
    return site.client.post("/console/password?lang=en", follow_redirects=False, data={
        "current_password": current, "new_password": new,
        "new_password_again": new if again is None else again, "next": next_page,
        "csrf_token": site.csrf("/console/password")})


@pytest.mark.parametrize("path", [
    "/console", "/console/registry", "/console/officials", "/console/accounts",
    "/console/dossiers", "/console/wallet/credentials", "/console/relying-parties",
    "/console/security"])
def test_a_handed_over_password_opens_only_the_page_to_choose_a_new_one(
        site: Site, path: str) -> None:
    official = site.new_official(Role.ADMIN, enrolled=False)
    first_sign_in(site, official)
    response = site.client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/password?next={quote(path, safe='')}"
    refused = site.client.post("/console/officials", follow_redirects=False, data={
        "username": "made.anyway", "full_name": "Lê Văn Hùng", "role": "police",
        "scope_level": "national", "csrf_token": site.csrf("/console/password")})
    assert refused.headers["location"] == "/console/password"
    assert site.official_row(official.username).must_change_password
    with transaction(site.services.session_factory) as session:
        assert "made.anyway" not in [o.username for o in officials.officials_in_scope(session,
                                                                                      ADMIN)]


def test_after_choosing_a_password_the_handed_over_one_is_refused(site: Site) -> None:
    official = site.new_official(enrolled=False)
    first_sign_in(site, official)
    page = site.client.get("/console/password?lang=en")
    assert "An administrator gave you the password" in page.text
    chosen = choose_password(site, OFFICIAL_PASSWORD, CHOSEN, next_page="/console/dossiers")
    assert chosen.headers["location"] == "/console/dossiers"
    assert site.client.get("/console/dossiers", follow_redirects=False).status_code == 200
    assert not site.official_row(official.username).must_change_password

    site.client.cookies.clear()
    assert site.enter_password(official.username, OFFICIAL_PASSWORD) == 401
    assert site.enter_password(official.username, CHOSEN) == 303


@pytest.mark.parametrize(("current", "new", "again", "field", "reason"), [
    (OFFICIAL_PASSWORD, "password123", None, "new_password", "too common"),
    (OFFICIAL_PASSWORD, "short", None, "new_password", "between 10 and 128"),
    (OFFICIAL_PASSWORD, "Nguyễn Thị Cán Bộ 1990", None, "new_password", "your name"),
    (OFFICIAL_PASSWORD, OFFICIAL_PASSWORD, None, "new_password", "different from your"),
    (OFFICIAL_PASSWORD, CHOSEN, "copper harbour evening 91", "new_password_again", "differ"),
    ("not the password at all", CHOSEN, None, "current_password", "not your current"),
])
def test_the_new_password_follows_the_password_rules(
        site: Site, current: str, new: str, again: str | None, field: str,
        reason: str) -> None:
    official = site.new_official(enrolled=False)
    first_sign_in(site, official)
    refused = choose_password(site, current, new, again)
    assert refused.status_code == 422
    assert f'id="{field}-error"' in refused.text
    assert reason in refused.text.split(f'id="{field}-error"')[1].split("</p>")[0]
    assert site.official_row(official.username).must_change_password
    assert site.client.get("/console/registry", follow_redirects=False).status_code == 303


def test_guessing_the_current_password_on_that_page_is_rate_limited(site: Site) -> None:
    official = site.new_official(enrolled=False)
    first_sign_in(site, official)
    for number in range(10):
        assert choose_password(site, f"guess number {number}", CHOSEN).status_code == 422
    assert choose_password(site, OFFICIAL_PASSWORD, CHOSEN).status_code == 429
    assert site.official_row(official.username).must_change_password


def test_a_password_reset_by_an_admin_is_one_time_too(site: Site) -> None:
    official = site.new_official(Role.POLICE, HANOI)
    their_browser = TestClient(site.app)
    Site(site.app, their_browser).sign_in(official)
    site.sign_in_as(Role.ADMIN, HANOI)
    reset = site.client.post(f"/console/officials/{official.username}/reset-password?lang=en",
                             data={"csrf_token": site.csrf("/console/officials")})
    assert reset.status_code == 200
    assert "one-time password" in reset.text
    one_time = reset.text.split('<code id="initial-password">')[1].split("</code>")[0]
    assert their_browser.get("/console/registry", follow_redirects=False).status_code == 303

    site.client = TestClient(site.app)  # the official, at the next sign-in a minute later,
    with transaction(site.services.session_factory) as session:  # their last code long gone
        session.execute(update(OfficialAccount).where(
            OfficialAccount.username == official.username).values(totp_last_step=None))
    assert site.enter_password(official.username, OFFICIAL_PASSWORD) == 401
    assert site.enter_password(official.username, one_time) == 303
    assert site.enter_code(code_for(official.secret, 1)) == 303
    assert site.client.get("/console/registry", follow_redirects=False).headers[
        "location"].startswith("/console/password")
    assert choose_password(site, one_time, CHOSEN).status_code == 303
    site.client.cookies.clear()
    assert site.enter_password(official.username, one_time) == 401
    changes = {"identity.official.reset_password", "identity.official.password_change"}
    assert [action for action in actions(site.services.session_factory, official.username)
            if action in changes] == ["identity.official.password_change",  # make_official's
                                      "identity.official.reset_password",
                                      "identity.official.password_change"]


def test_a_password_reset_stays_within_the_admins_scope_and_not_on_their_own_account(
        session: Session) -> None:
    officials.create(session, ADMIN, new("hcmc.police", Scope.province("79")))
    with pytest.raises(Forbidden):
        officials.reset_password(session, HANOI_ADMIN, "hcmc.police")
    officials.create(session, ADMIN, new("hanoi-admin", HANOI, Role.ADMIN))
    with pytest.raises(Conflict, match="your own password"):
        officials.reset_password(session, HANOI_ADMIN, "hanoi-admin")
    with pytest.raises(Forbidden, match="may not manage officials"):
        officials.reset_password(session, Actor("official", "clerk", NATIONAL, Role.POLICE),
                                 "hcmc.police")
