"""eID level 2: a police official activates it, the citizen enrols an authenticator app, and a
signed-in session steps up with a code; every refusal along the way, and no open redirects."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from civicstack.identity import service
from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.errors import Conflict, Forbidden, NotFound, Unauthorized
from civicstack.registry.models import Person
from tests.integration.test_identity_web import PASSWORD, approved, citizen_sign_in
from tests.support.eid import (
    POLICE_HANOI,
    account_of,
    code_for,
    code_of_step,
    live_session_ids,
    make_level_two,
    secret_on_page,
    wrong_code,
)
from tests.support.web import Site

LEVEL2_FORM = "/console/accounts/level-two"

HANOI = Scope.province("01")


def totp_key(site: Site) -> str:
    """The key the app seals authenticator secrets with."""
    return str(site.services.totp_key)


def activate_as_police(site: Site, an: Person, role: Role = Role.POLICE,
                       scope: Scope = HANOI, username: str = "police.hanoi.l2") -> int:
    site.sign_in(site.new_official(role, scope, username))
    response = site.client.post(LEVEL2_FORM, follow_redirects=False, data={
        "personal_id_number": an.personal_id_number,
        "reason": "citizen present with chip-based ID card",
        "csrf_token": site.csrf("/console/accounts")})
    site.client.cookies.clear()
    return response.status_code


def enrol_in_browser(site: Site, code_of: str | None = None) -> tuple[int, str]:
    """Open the set-up page, read the secret, send a code; returns (status, secret)."""
    page = site.client.get("/account/second-factor")
    assert page.status_code == 200, page.text
    secret = secret_on_page(page.text)
    response = site.client.post("/account/second-factor", follow_redirects=False, data={
        "code": code_of or code_for(secret), "csrf_token": site.csrf("/account/second-factor")})
    return response.status_code, secret


def the_only_session(site: Site, an: Person) -> service.SignedIn:
    with transaction(site.services.session_factory) as session:
        [token] = live_session_ids(session, an.personal_id_number)
        found = service.signed_in(session, token)
        assert found is not None
        return found


def level_two_account(site: Site, an: Person) -> str:
    approved(site, an)
    with transaction(site.services.session_factory) as session:
        return make_level_two(session, totp_key(site), an.personal_id_number)


def step_up(site: Site, code: str, next_path: str = "/account") -> tuple[int, str]:
    response = site.client.post("/account/step-up", follow_redirects=False, data={
        "code": code, "next": next_path, "csrf_token": site.csrf("/account/step-up")})
    return response.status_code, response.headers.get("location", response.text)


# --- activation by a police official ------------------------------------------------------

def test_police_activate_level_two_and_the_citizen_enrols_an_authenticator(
        site: Site, an: Person) -> None:
    approved(site, an)
    site.sign_in_as(Role.POLICE, HANOI)
    console = site.client.get("/console/accounts?lang=en")
    assert console.status_code == 200
    assert "Activate level 2" in console.text
    site.client.cookies.clear()
    assert activate_as_police(site, an) == 303

    assert citizen_sign_in(site, an) == 303
    assert 'href="/account/second-factor"' in site.client.get("/account").text
    page = site.client.get("/account/second-factor?lang=en")
    assert "<svg" in page.text
    assert 'autocomplete="one-time-code"' in page.text
    assert 'inputmode="numeric"' in page.text
    status, secret = enrol_in_browser(site, code_of=None)
    assert status == 303

    signed = the_only_session(site, an)
    assert (signed.account.level, signed.level, signed.amr) == (2, 2, ("pwd", "otp"))
    with transaction(site.services.session_factory) as session:
        stored = account_of(session, an.personal_id_number)
        assert stored.totp_secret is not None
        assert secret not in stored.totp_secret  # sealed, not stored in the clear
        assert stored.level2_authorised_by == "official:police.hanoi.l2"
        actions = set(session.execute(select(AuditEntry.action).where(
            AuditEntry.subject_id == an.personal_id_number)).scalars())
    assert {"identity.level2.authorise", "identity.totp.enrolment_start",
            "identity.totp.enrol"} <= actions


def test_the_approve_scope_alone_cannot_activate_level_two(site: Site, an: Person) -> None:
    approved(site, an)
    site.sign_in_as(Role.SERVICE_CLERK, HANOI)
    assert "Activate level 2" not in site.client.get("/console/accounts?lang=en").text
    site.client.cookies.clear()
    assert activate_as_police(site, an, Role.SERVICE_CLERK, username="clerk-2") == 403
    with transaction(site.services.session_factory) as session:
        assert account_of(session, an.personal_id_number).level2_authorised_at is None


def test_the_accounts_page_needs_one_of_the_identity_scopes(site: Site) -> None:
    site.sign_in_as(Role.AGENCY_APPROVER)
    assert site.client.get("/console/accounts").status_code == 403


def test_police_of_another_province_cannot_activate_level_two(site: Site, an: Person) -> None:
    approved(site, an)
    assert activate_as_police(site, an, scope=Scope.province("79"),
                              username="police-hcmc") == 404  # as if nobody had the number


def test_only_an_active_account_can_be_activated(site: Site, an: Person) -> None:
    with transaction(site.services.session_factory) as session, \
            pytest.raises(NotFound, match="no eID account"):
        service.authorise_level_two(session, POLICE_HANOI, an.personal_id_number, "checked")
    approved(site, an)
    with transaction(site.services.session_factory) as session:
        service.lock(session, POLICE_HANOI, an.personal_id_number, "stolen card")
    assert activate_as_police(site, an) == 409


# --- enrolment --------------------------------------------------------------------------

def test_enrolment_without_activation_is_refused(site: Site, an: Person) -> None:
    approved(site, an)
    assert citizen_sign_in(site, an) == 303
    page = site.client.get("/account/second-factor?lang=en")
    assert page.status_code == 403
    assert "police office" in page.text
    refused = site.client.post("/account/second-factor", data={
        "code": "123456", "csrf_token": site.csrf("/account")})
    assert refused.status_code == 403
    assert 'href="/account/second-factor"' not in site.client.get("/account").text


def test_enrolment_refuses_a_wrong_code_and_stays_at_level_one(site: Site, an: Person) -> None:
    approved(site, an)
    activate_as_police(site, an)
    citizen_sign_in(site, an)
    page = site.client.get("/account/second-factor")
    secret = secret_on_page(page.text)
    refused = site.client.post("/account/second-factor", data={
        "code": wrong_code(secret), "csrf_token": site.csrf("/account")})
    assert refused.status_code == 422
    assert 'id="code-error"' in refused.text
    assert secret_on_page(refused.text) == secret  # the same secret until confirmed
    assert the_only_session(site, an).level == 1


def test_an_activation_expires_after_a_week(site: Site, an: Person) -> None:
    approved(site, an)
    activate_as_police(site, an)
    with transaction(site.services.session_factory) as session:
        account = account_of(session, an.personal_id_number)
        assert account.level2_authorised_at is not None
        account.level2_authorised_at -= service.ENROLMENT_WINDOW + timedelta(minutes=1)
    citizen_sign_in(site, an)
    assert site.client.get("/account/second-factor").status_code == 403


def test_an_enrolled_authenticator_cannot_be_replaced_by_the_password_alone(
        site: Site, an: Person) -> None:
    level_two_account(site, an)
    citizen_sign_in(site, an)
    page = site.client.get("/account/second-factor?lang=en")
    assert page.status_code == 409
    assert "already level 2" in page.text


def test_a_new_activation_replaces_a_lost_authenticator(site: Site, an: Person) -> None:
    old_secret = level_two_account(site, an)
    citizen_sign_in(site, an)
    assert step_up(site, code_for(old_secret, 1))[0] == 303
    assert the_only_session(site, an).level == 2

    with transaction(site.services.session_factory) as session:
        service.authorise_level_two(session, POLICE_HANOI, an.personal_id_number, "lost phone")
        account = account_of(session, an.personal_id_number)
        assert (account.level, account.totp_secret) == (1, None)
    assert the_only_session(site, an).amr == ("pwd",)  # no longer proven by the old phone
    assert enrol_in_browser(site)[0] == 303


# --- step-up ----------------------------------------------------------------------------

def test_step_up_raises_the_session_to_level_two(site: Site, an: Person) -> None:
    secret = level_two_account(site, an)
    assert citizen_sign_in(site, an) == 303
    before = the_only_session(site, an)
    assert (before.level, before.amr) == (1, ("pwd",))  # a password proves level 1 only

    target = "/oidc/authorize?client_id=bank&scope=openid"
    form = site.client.get(f"/account/step-up?next={quote(target, safe='')}")
    assert form.status_code == 200
    assert f'name="next" value="{target.replace("&", "&amp;")}"' in form.text
    assert step_up(site, code_for(secret, 1), target) == (303, target)

    after = the_only_session(site, an)
    assert (after.level, after.amr) == (2, ("pwd", "otp"))
    assert after.authenticated_at >= before.authenticated_at
    assert after.session_id == before.session_id


def test_a_replayed_code_is_refused(site: Site, an: Person) -> None:
    secret = level_two_account(site, an)
    factory = site.services.session_factory
    citizen_sign_in(site, an)
    with transaction(factory) as session:
        # the step enrolment spent, read back: "now" may already be the next step
        spent = account_of(session, an.personal_id_number).totp_last_step
        [token] = live_session_ids(session, an.personal_id_number)
    assert spent is not None
    for code, outcome in [(code_of_step(secret, spent), service.CodeOutcome.WRONG),
                          (code_of_step(secret, spent + 1), service.CodeOutcome.ACCEPTED),
                          (code_of_step(secret, spent + 1), service.CodeOutcome.WRONG)]:
        with transaction(factory) as session:
            assert service.step_up(session, totp_key(site), token, code) == outcome


def test_wrong_step_up_codes_count_toward_the_lock(site: Site, an: Person) -> None:
    secret = level_two_account(site, an)
    citizen_sign_in(site, an)
    statuses = [step_up(site, wrong_code(secret))[0]
                for _ in range(service.FREE_LOGIN_FAILURES)]
    assert statuses == [422] * service.FREE_LOGIN_FAILURES
    locked, page = step_up(site, code_for(secret, 1))  # even the right code waits now
    assert locked == 429
    assert 'id="code-error"' in page
    with transaction(site.services.session_factory) as session:
        account = account_of(session, an.personal_id_number)
        assert account.failed_logins == service.FREE_LOGIN_FAILURES
        assert account.locked_until is not None
        result = service.sign_in(session, service.UnknownIdentifiers(), an.personal_id_number,
                                 PASSWORD)
    assert result.outcome == service.LoginOutcome.TEMPORARILY_LOCKED
    assert the_only_session(site, an).level == 1


def test_step_up_on_a_level_one_account_is_refused_with_the_way_to_level_two(
        site: Site, an: Person) -> None:
    approved(site, an)
    citizen_sign_in(site, an)
    page = site.client.get("/account/step-up?next=/account&lang=en")
    assert page.status_code == 403
    assert "police office" in page.text
    assert 'name="code"' not in page.text
    refused = site.client.post("/account/step-up", data={
        "code": "123456", "next": "/account", "csrf_token": site.csrf("/account")})
    assert refused.status_code == 403
    with transaction(site.services.session_factory) as session:
        [token] = live_session_ids(session, an.personal_id_number)
        with pytest.raises(Conflict, match="level 1"):
            service.step_up(session, totp_key(site), token, "123456")


def test_step_up_needs_a_signed_in_session(site: Site, an: Person) -> None:
    response = site.client.get("/account/step-up?next=/account/x", follow_redirects=False)
    assert response.status_code == 303
    # Back to this very page, query and all, after signing in.
    assert response.headers["location"] == \
        "/account/login?next=%2Faccount%2Fstep-up%3Fnext%3D%2Faccount%2Fx"
    with transaction(site.services.session_factory) as session, \
            pytest.raises(Unauthorized, match="not signed in"):
        service.step_up(session, totp_key(site), "no-such-session", "123456")


# --- where to go after signing in ---------------------------------------------------------

def sign_in_with_next(site: Site, an: Person, next_path: str) -> str:
    page = f"/account/login?next={quote(next_path, safe='')}"
    response = site.client.post(page, follow_redirects=False, data={
        "personal_id_number": an.personal_id_number, "password": PASSWORD,
        "next": next_path, "csrf_token": site.csrf(page)})
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_sign_in_returns_to_a_local_next(site: Site, an: Person) -> None:
    approved(site, an)
    target = "/oidc/authorize?client_id=bank&scope=openid%20profile"
    form = site.client.get(f"/account/login?next={quote(target, safe='')}")
    assert 'name="next"' in form.text
    assert sign_in_with_next(site, an, target) == target


@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example", "/\\evil.example", "/\t/evil.example",
    "javascript:alert(1)", "evil.example", "",
])
def test_sign_in_never_redirects_off_site(site: Site, an: Person, target: str) -> None:
    approved(site, an)
    assert sign_in_with_next(site, an, target) == "/"  # the citizen's home


def test_step_up_never_redirects_off_site(site: Site, an: Person) -> None:
    secret = level_two_account(site, an)
    citizen_sign_in(site, an)
    assert step_up(site, code_for(secret, 1), "https://evil.example") == (303, "/account")


def test_service_refusals_are_typed(site: Site, an: Person) -> None:
    """Enrolment refusals are 4xx domain errors the pages and the provider can show."""
    approved(site, an)
    with transaction(site.services.session_factory) as session:
        account = account_of(session, an.personal_id_number)
        with pytest.raises(Forbidden):
            service.totp_enrolment(session, totp_key(site), account)
        with pytest.raises(Forbidden):
            service.enrol_totp(session, totp_key(site), account, "123456")

