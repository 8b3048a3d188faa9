"""Back-Channel and Front-Channel Logout end to end: a real provider over HTTP, the demo bank
served by it as a real relying party with its own back-channel endpoint, citizens' browsers.
Sign-out, "sign out everywhere", a lock and a lowered level each reach the bank; the bank
refuses every logout token the specification says it must."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import select, update

from civicstack.identity import service as identity
from civicstack.identity.models import CitizenSession
from civicstack.kit.appservices import services_of
from civicstack.kit.db import transaction
from civicstack.kit.errors import Invalid
from civicstack.oidc import backchannel
from civicstack.oidc.demo_rp import CONFIG_FILE, MOUNT, BankConfig, register_demo_bank
from civicstack.oidc.models import LogoutDelivery, OidcClient
from civicstack.oidc.site import PROVIDER
from civicstack.oidc.tokens import Provider
from civicstack.registry.models import Person
from tests.integration.test_oidc_flow import sign_in_to_rp
from tests.support.api import audit_entries
from tests.support.eid import code_for, make_level_two
from tests.support.oidc import ADMIN, POLICE, Citizen, LiveProvider, live_provider, relying_party
from tests.support.people import make_person

BANK = f"{MOUNT}/"
NOBODY_LISTENS = "http://127.0.0.1:9/backchannel-logout"  # the discard port: refused at once
JOB = "oidc_backchannel_logout"


@pytest.fixture
def provider(database_url: str, tmp_path: Path) -> Iterator[LiveProvider]:
    with live_provider(database_url, tmp_path / "data", demo_relying_party=True) as running:
        with transaction(running.factory) as session:
            register_demo_bank(session, ADMIN, services_of(running.app).pepper,
                               running.data_dir, running.base)
        yield running


@pytest.fixture
def by_hand(provider: LiveProvider) -> Iterator[Callable[[], int]]:
    """The worker's delivery job taken out of its loop and run when the test says, so every
    attempt is one the test made."""
    jobs = services_of(provider.app).jobs
    job = next(job for job in jobs if job.name == JOB)
    jobs.remove(job)
    yield lambda: backchannel.deliver_due_logouts(provider.factory, _provider(provider),
                                                  backchannel.HttpLogoutChannel())
    jobs.append(job)


@pytest.fixture
def an(provider: LiveProvider) -> Person:
    with transaction(provider.factory) as session:
        person = make_person(session, "Nguyễn Văn An", date(1990, 5, 17))
    provider.active_account(person)
    return person


def _provider(provider: LiveProvider) -> Provider:
    found: Provider = services_of(provider.app)[PROVIDER]
    return found


def _bank(provider: LiveProvider) -> BankConfig:
    return BankConfig(**json.loads((provider.data_dir / CONFIG_FILE).read_text()))


def _customer_at_the_bank(provider: LiveProvider, person: Person) -> Citizen:
    """A citizen signed in to the bank through the provider (consent given)."""
    citizen = Citizen(provider)
    citizen.http.headers["accept-language"] = "en"
    page = citizen.visit(f"{MOUNT}/login", person)
    answer = citizen.consent(page)
    landed = citizen.visit(answer.headers["location"])
    assert "Nguyễn Văn An" in landed.text, landed.text[:300]
    return citizen


def _signed_in_at_the_bank(citizen: Citizen) -> bool:
    return "Nguyễn Văn An" in citizen.http.get(BANK).text


def _sign_out_at_the_portal(citizen: Citizen) -> httpx.Response:
    account = citizen.http.get("/account")
    return citizen.http.post("/oidc/logout", data={"csrf_token": citizen.form_token(account)})


def _deliveries(provider: LiveProvider) -> list[LogoutDelivery]:
    with transaction(provider.factory) as session:
        found = list(session.execute(select(LogoutDelivery).order_by(LogoutDelivery.id))
                     .scalars())
        session.expunge_all()
    return found


# --- what the provider says and signs ---------------------------------------------------------

def test_discovery_advertises_back_and_front_channel_logout_with_sessions(
        provider: LiveProvider) -> None:
    metadata = httpx.get(f"{provider.base}/.well-known/openid-configuration").json()
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True
    assert metadata["frontchannel_logout_supported"] is True
    assert metadata["frontchannel_logout_session_supported"] is True


def test_id_tokens_carry_one_sid_per_session_of_the_citizen(
        provider: LiveProvider, an: Person) -> None:
    registered = provider.register_client()
    rp = relying_party(provider, registered)
    first, second = Citizen(provider), Citizen(provider)
    sids = [provider.verify_id_token(sign_in_to_rp(provider, rp, an, browser)["id_token"],
                                     registered.client_id)["sid"]
            for browser in (first, first, second)]
    assert sids[0] == sids[1] != sids[2]
    with transaction(provider.factory) as session:
        ids = session.execute(select(CitizenSession.id)).scalars().all()
    assert sorted(map(identity.provider_session_id, ids)) == sorted({sids[0], sids[2]})


# --- the bank hears of every end of the citizen's session -------------------------------------

def test_signing_out_at_the_portal_signs_the_citizen_out_of_the_bank(
        provider: LiveProvider, an: Person) -> None:
    citizen = _customer_at_the_bank(provider, an)
    done = _sign_out_at_the_portal(citizen)
    assert done.status_code == 200  # answered at once: the bank is told by the worker
    deadline = time.monotonic() + 20
    while _signed_in_at_the_bank(citizen) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _signed_in_at_the_bank(citizen)
    [delivery] = _deliveries(provider)
    assert delivery.delivered_at is not None
    assert delivery.attempts == 1
    assert delivery.reason == "signed_out"
    assert audit_entries(provider.factory, "oidc.logout.deliver", an.personal_id_number)


def _ends_everywhere(provider: LiveProvider, citizen: Citizen, person: Person) -> None:
    account = citizen.http.get("/account")
    citizen.http.post("/account/sessions/end-all",
                      data={"csrf_token": citizen.form_token(account)})


def _locked_by_the_police(provider: LiveProvider, citizen: Citizen, person: Person) -> None:
    with transaction(provider.factory) as session:
        identity.lock(session, POLICE, person.personal_id_number, "stolen ID card reported")


def _locked_by_the_citizen(provider: LiveProvider, citizen: Citizen, person: Person) -> None:
    account = citizen.http.get("/account")
    citizen.http.post("/account/lock", data={"csrf_token": citizen.form_token(account)})


@pytest.mark.parametrize(("end", "reason"), [(_ends_everywhere, "signed_out_everywhere"),
                                         (_locked_by_the_police, "locked"),
                                         (_locked_by_the_citizen, "locked")])
def test_sign_out_everywhere_and_locks_sign_the_citizen_out_of_the_bank(
        provider: LiveProvider, an: Person, by_hand: Callable[[], int],
        end: Callable[[LiveProvider, Citizen, Person], None], reason: str) -> None:
    citizen = _customer_at_the_bank(provider, an)
    end(provider, citizen, an)
    assert _signed_in_at_the_bank(citizen)  # nothing sent yet: the sign-out did not wait
    assert by_hand() == 1
    assert not _signed_in_at_the_bank(citizen)
    assert [d.reason for d in _deliveries(provider)] == [reason]
    assert by_hand() == 0  # delivered once


def test_a_lowered_level_signs_the_citizen_out_of_the_bank(
        provider: LiveProvider, an: Person, by_hand: Callable[[], int]) -> None:
    with transaction(provider.factory) as session:
        secret = make_level_two(session, services_of(provider.app).totp_key,
                                an.personal_id_number)
    citizen = _customer_at_the_bank(provider, an)
    page = citizen.http.get("/account/step-up")
    stepped = citizen.http.post("/account/step-up", data={
        "code": code_for(secret, 1), "next": "/account", "csrf_token": citizen.form_token(page)})
    assert stepped.status_code == 303, stepped.text[:300]
    with transaction(provider.factory) as session:  # the phone with the authenticator lost
        identity.authorise_level_two(session, POLICE, an.personal_id_number,
                                     "authenticator lost, citizen present")
    assert by_hand() == 1
    assert not _signed_in_at_the_bank(citizen)
    assert [d.reason for d in _deliveries(provider)] == ["level_lowered"]


def test_the_sessions_tokens_are_revoked_with_it(provider: LiveProvider, an: Person,
                                                 by_hand: Callable[[], int]) -> None:
    registered = provider.register_client(backchannel_logout_uri=NOBODY_LISTENS)
    rp = relying_party(provider, registered)
    citizen = Citizen(provider)
    token = sign_in_to_rp(provider, rp, an, citizen)
    _sign_out_at_the_portal(citizen)
    introspected = httpx.post(provider.url("introspect"), data={"token": token["access_token"]},
                              auth=(registered.client_id, str(registered.client_secret)))
    assert introspected.json() == {"active": False}
    refreshed = httpx.post(provider.url("token"), data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(registered.client_id, str(registered.client_secret)))
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"


# --- delivery when the party is down ----------------------------------------------------------

def _due_now(provider: LiveProvider) -> None:
    with transaction(provider.factory) as session:
        session.execute(update(LogoutDelivery).values(
            next_attempt_at=backchannel.now() - timedelta(seconds=1)))


def test_delivery_retries_with_back_off_while_the_party_is_down_then_gives_up(
        provider: LiveProvider, an: Person, by_hand: Callable[[], int]) -> None:
    registered = provider.register_client(backchannel_logout_uri=NOBODY_LISTENS)
    citizen = Citizen(provider)
    sign_in_to_rp(provider, relying_party(provider, registered), an, citizen)
    _sign_out_at_the_portal(citizen)
    assert by_hand() == 0
    [delivery] = _deliveries(provider)
    assert delivery.attempts == 1
    assert "ConnectError" in delivery.last_error
    assert by_hand() == 0
    assert _deliveries(provider)[0].attempts == 1
    for _ in range(backchannel.MAX_ATTEMPTS - 1):
        _due_now(provider)
        by_hand()
    [delivery] = _deliveries(provider)
    assert delivery.attempts == backchannel.MAX_ATTEMPTS
    assert delivery.abandoned_at is not None
    assert delivery.delivered_at is None
    assert audit_entries(provider.factory, "oidc.logout.abandon", an.personal_id_number)
    _due_now(provider)
    by_hand()
    assert _deliveries(provider)[0].attempts == backchannel.MAX_ATTEMPTS  # no more tries


def test_the_back_off_doubles_up_to_an_hour() -> None:
    assert [backchannel.retry_delay(n).total_seconds() for n in (1, 2, 3)] == [15, 30, 60]
    assert backchannel.retry_delay(20) == timedelta(hours=1)


# --- the bank refuses what it must ------------------------------------------------------------

def _token(provider: LiveProvider, *, header: dict[str, Any] | None = None,
           key: Any = None, **changes: Any) -> str:
    bank = _bank(provider)
    moment = int(time.time())
    claims = {"iss": provider.base, "aud": bank.client_id, "iat": moment, "exp": moment + 120,
              "jti": secrets.token_urlsafe(16), "sub": "someone", "sid": "some-session",
              "events": {backchannel.LOGOUT_EVENT: {}}, **changes}
    claims = {name: value for name, value in claims.items() if value is not None}
    signing = _provider(provider).keys.signing_key("ES256")
    return jwt.encode({"alg": "ES256", "kid": signing.kid, "typ": "logout+jwt",
                       **(header or {})}, claims, key or signing)


def _post(provider: LiveProvider, token: str) -> httpx.Response:
    return httpx.post(f"{provider.base}{MOUNT}/backchannel-logout",
                      data={"logout_token": token})


def test_the_bank_accepts_a_valid_logout_token_once(provider: LiveProvider) -> None:
    token = _token(provider)
    assert _post(provider, token).status_code == 200
    replayed = _post(provider, token)
    assert replayed.status_code == 400
    assert "already used" in replayed.json()["error_description"]


@pytest.mark.parametrize(("changes", "why"), [
    ({"key": ECKey.generate_key("P-256")}, "bad_signature"),
    ({"aud": "rp_someone_else"}, "'aud'"),
    ({"iss": "https://evil.example"}, "'iss'"),
    ({"nonce": "n-0S6_WzA2Mj"}, "never carries a nonce"),
    ({"events": None}, "no back-channel logout event"),
    ({"events": {"http://schemas.openid.net/event/other": {}}}, "no back-channel logout event"),
    ({"sid": None, "sub": None}, "names neither"),
    ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 720}, "expired"),
    ({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 3700}, "in the future"),
    ({"jti": None}, "'jti'"),
    ({"header": {"typ": "JWT"}}, "(typ)"),
])
def test_the_bank_refuses_a_forged_or_malformed_logout_token_with_400(
        provider: LiveProvider, changes: dict[str, Any], why: str) -> None:
    refused = _post(provider, _token(provider, **changes))
    assert refused.status_code == 400, why
    assert refused.json()["error"] == "invalid_request"
    assert why in refused.json()["error_description"]


def test_a_refused_token_leaves_the_customer_signed_in(provider: LiveProvider,
                                                       an: Person) -> None:
    citizen = _customer_at_the_bank(provider, an)
    assert _post(provider, _token(provider, nonce="x", sid=None, sub=None)).status_code == 400
    assert _signed_in_at_the_bank(citizen)


# --- front-channel logout ---------------------------------------------------------------------

def test_the_sign_out_page_frames_each_front_channel_uri_allowed_for_that_page_only(
        provider: LiveProvider, an: Person) -> None:
    registered = provider.register_client(
        frontchannel_logout_uri="https://rp.example/fc-logout?lang=vi",
        frontchannel_logout_session_required=True)
    citizen = Citizen(provider)
    token = sign_in_to_rp(provider, relying_party(provider, registered), an, citizen)
    sid = provider.verify_id_token(token["id_token"], registered.client_id)["sid"]
    done = _sign_out_at_the_portal(citizen)
    expected = (f"https://rp.example/fc-logout?lang=vi&amp;iss="
                f"{provider.base.replace(':', '%3A').replace('/', '%2F')}&amp;sid={sid}")
    assert f'src="{expected}"' in done.text
    policy = done.headers["content-security-policy"]
    assert "frame-src 'self' https://rp.example;" in policy
    assert "frame-src" not in citizen.http.get("/").headers["content-security-policy"]


# --- registration -----------------------------------------------------------------------------

@pytest.mark.parametrize("uri", ["http://bank.example/logout", "https://bank.example/l#x",
                                 "ftp://bank.example/logout", "/logout",
                                 "https://user@bank.example/logout"])
def test_logout_uris_must_be_https_or_loopback_http(provider: LiveProvider, uri: str) -> None:
    for field in ("backchannel_logout_uri", "frontchannel_logout_uri"):
        with pytest.raises(Invalid) as refused:
            provider.register_client(**{field: uri})
        assert refused.value.errors[0].field == field


def test_a_registered_party_keeps_its_logout_uris(provider: LiveProvider) -> None:
    registered = provider.register_client(
        backchannel_logout_uri="https://bank.example/bcl",
        backchannel_logout_session_required=True,
        frontchannel_logout_uri="http://127.0.0.1:8080/fcl")
    with transaction(provider.factory) as session:
        client = session.execute(select(OidcClient).where(
            OidcClient.client_id == registered.client_id)).scalar_one()
        assert (client.backchannel_logout_uri, client.backchannel_logout_session_required,
                client.frontchannel_logout_uri, client.frontchannel_logout_session_required) \
            == ("https://bank.example/bcl", True, "http://127.0.0.1:8080/fcl", False)
