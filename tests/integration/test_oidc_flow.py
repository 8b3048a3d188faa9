"""Single sign-on end to end: a real server over HTTP, a citizen's browser, and relying parties
built on Authlib's OAuth client. Every refusal the issue names has a test here."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import event, select, update

from civicstack.identity import service as identity
from civicstack.identity.models import CitizenSession
from civicstack.kit.appservices import services_of
from civicstack.kit.db import as_utc, transaction
from civicstack.kit.keys import KEY_CHECK_S, OIDC_RING, rotate
from civicstack.oidc.models import IssuedToken
from civicstack.registry.models import Person
from tests.support.api import audit_entries
from tests.support.eid import code_for, make_level_two, wrong_code
from tests.support.oidc import (
    POLICE,
    RP_LOGOUT,
    RP_REDIRECT,
    Citizen,
    LiveProvider,
    live_provider,
    redirect_params,
    relying_party,
)
from tests.support.people import make_person


@pytest.fixture
def provider(database_url: str, tmp_path: Path) -> Iterator[LiveProvider]:
    with live_provider(database_url, tmp_path / "data") as running:
        yield running


@pytest.fixture
def an(provider: LiveProvider) -> Person:
    """Nguyễn Văn An with an active level-1 eID account."""
    with transaction(provider.factory) as session:
        person = make_person(session, "Nguyễn Văn An", date(1990, 5, 17))
    provider.active_account(person)
    return person


def authorize(provider: LiveProvider, citizen: Citizen, rp: OAuth2Session, person: Person,
              **extra: str) -> tuple[str, str, str]:
    """Through sign-in and consent to the redirect back; (redirect URL, verifier, nonce)."""
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
    url, _state = rp.create_authorization_url(provider.url("authorize"), code_verifier=verifier,
                                              nonce=nonce, **extra)
    page = citizen.visit(url, person)
    if page.status_code == 200:
        page = citizen.consent(page)
    assert page.status_code == 303, page.text[:500]
    return page.headers["location"], verifier, nonce


def sign_in_to_rp(provider: LiveProvider, rp: OAuth2Session, person: Person,
                  citizen: Citizen | None = None, **extra: str) -> dict[str, Any]:
    callback, verifier, nonce = authorize(provider, citizen or Citizen(provider), rp, person,
                                          **extra)
    token = dict(rp.fetch_token(authorization_response=callback, code_verifier=verifier))
    token["nonce"] = nonce
    return token


def test_discovery_and_jwks_describe_the_provider(provider: LiveProvider) -> None:
    config = httpx.get(f"{provider.base}/.well-known/openid-configuration").json()
    assert config["issuer"] == provider.base
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["pushed_authorization_request_endpoint"] == provider.url("par")
    assert config["authorization_response_iss_parameter_supported"] is True
    assert {"private_key_jwt", "client_secret_basic"} <= set(
        config["token_endpoint_auth_methods_supported"])
    keys = httpx.get(config["jwks_uri"]).json()["keys"]
    assert {k["alg"] for k in keys} == {"ES256", "RS256"}
    assert all("d" not in k for k in keys), "private key material published"


def test_code_flow_with_pkce_signs_the_citizen_in_to_the_relying_party(
        provider: LiveProvider, an: Person) -> None:
    registered = provider.register_client()
    rp = relying_party(provider, registered)
    citizen = Citizen(provider)
    callback, verifier, nonce = authorize(provider, citizen, rp, an)
    answer = redirect_params(httpx.Response(303, headers={"location": callback}))
    assert answer["iss"] == provider.base  # RFC 9207
    token = rp.fetch_token(authorization_response=callback, code_verifier=verifier)

    claims = provider.verify_id_token(token["id_token"], registered.client_id)
    assert claims["nonce"] == nonce
    assert claims["acr"] == "urn:civicstack:loa:1"
    assert claims["amr"] == ["pwd"]
    assert claims["at_hash"] == base64.urlsafe_b64encode(
        hashlib.sha256(token["access_token"].encode()).digest()[:16]).rstrip(b"=").decode()
    info = rp.get(provider.url("userinfo")).json()
    assert info["sub"] == claims["sub"] != an.personal_id_number
    assert info["name"] == "Nguyễn Văn An"
    assert info["birthdate"] == "1990-05-17"
    assert info["address"]["country"] == "VN"
    assert "personal_id_number" not in info
    released = audit_entries(provider.factory, "registry.person.read")
    assert any(e.actor == f"relying_party:{registered.client_id}" for e in released)


def test_a_second_sign_in_needs_no_consent_and_the_connected_service_is_listed(
        provider: LiveProvider, an: Person) -> None:
    registered = provider.register_client()
    citizen = Citizen(provider)
    sign_in_to_rp(provider, relying_party(provider, registered), an, citizen)
    again, _, _ = authorize(provider, citizen, relying_party(provider, registered), an)
    assert "code=" in again  # straight back: signed in and consented already
    listed = citizen.http.get("/account/connected-services")
    assert "Ngân hàng Demo" in listed.text


def test_a_sign_on_at_the_authorization_endpoint_is_one_transaction(
        provider: LiveProvider, an: Person) -> None:
    """Every single sign-on passes the authorization endpoint: the browser's session is read
    in the endpoint's own transaction, with the citizen's session, the checks and the code,
    not in one of its own before it; and the browser keeps its session."""
    registered = provider.register_client()
    citizen = Citizen(provider)
    sign_in_to_rp(provider, relying_party(provider, registered), an, citizen)
    url, _ = relying_party(provider, registered).create_authorization_url(
        provider.url("authorize"), code_verifier=secrets.token_urlsafe(48),
        nonce=secrets.token_urlsafe(12))
    commits: list[object] = []

    def counted(connection: object) -> None:
        commits.append(connection)

    engine = services_of(provider.app).engine
    event.listen(engine, "commit", counted)
    try:
        answered = citizen.http.get(url)
    finally:
        event.remove(engine, "commit", counted)
    assert answered.status_code == 303
    assert "code=" in answered.headers["location"]
    assert len(commits) == 1
    assert "set-cookie" not in answered.headers  # the same session, kept as it was
    assert citizen.http.get("/account").status_code == 200


def test_pushed_authorization_request_is_used_once(provider: LiveProvider, an: Person) -> None:
    registered = provider.register_client()
    rp = relying_party(provider, registered)
    verifier = secrets.token_urlsafe(48)
    pushed = rp.post(provider.url("par"), withhold_token=True,
                     auth=rp.client_auth(rp.token_endpoint_auth_method), data={
                         "response_type": "code", "client_id": registered.client_id,
                         "redirect_uri": RP_REDIRECT, "scope": "openid profile",
                         "code_challenge": _challenge(verifier), "code_challenge_method": "S256",
                         "state": "par-state"})
    assert pushed.status_code == 201, pushed.text
    request_uri = pushed.json()["request_uri"]
    citizen = Citizen(provider)
    page = citizen.visit(f"{provider.url('authorize')}?client_id={registered.client_id}"
                         f"&request_uri={request_uri}", an)
    callback = citizen.consent(page).headers["location"]
    assert redirect_params(httpx.Response(303, headers={"location": callback}))["state"] == \
        "par-state"
    token = rp.fetch_token(authorization_response=callback, code_verifier=verifier)
    assert token["access_token"]
    replay = citizen.http.get(f"/oidc/authorize?client_id={registered.client_id}"
                              f"&request_uri={request_uri}")
    assert replay.status_code == 400
    assert "request_uri" in replay.text


def test_pushed_requests_are_validated_and_need_client_authentication(
        provider: LiveProvider) -> None:
    registered = provider.register_client()
    rp = relying_party(provider, registered)
    form = {"response_type": "code", "client_id": registered.client_id,
            "redirect_uri": "https://evil.example/cb", "scope": "openid",
            "code_challenge": _challenge("v" * 43), "code_challenge_method": "S256"}
    wrong_uri = rp.post(provider.url("par"), data=form, withhold_token=True,
                        auth=rp.client_auth(rp.token_endpoint_auth_method))
    assert wrong_uri.status_code == 400
    assert wrong_uri.json()["error"] == "invalid_request"
    anonymous = httpx.post(provider.url("par"), data={**form, "redirect_uri": RP_REDIRECT})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"


def test_private_key_jwt_authenticates_and_refuses_a_wrong_or_replayed_assertion(
        provider: LiveProvider, an: Person) -> None:
    key = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, private=True)
    key.ensure_kid()
    registered = provider.register_client(auth_method="private_key_jwt",
                                          jwks={"keys": [key.as_dict(private=False)]})
    rp = OAuth2Session(registered.client_id, key,
                       scope="openid profile", redirect_uri=RP_REDIRECT,
                       code_challenge_method="S256", token_endpoint=provider.url("token"),
                       token_endpoint_auth_method="private_key_jwt")
    rp.register_client_auth_method(PrivateKeyJWT(provider.url("token"), alg="ES256"))
    token = sign_in_to_rp(provider, rp, an)
    assert provider.verify_id_token(token["id_token"], registered.client_id)

    stranger = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, private=True)
    forged = _assertion(stranger, registered.client_id, provider.url("token"))
    assert _introspect_with(provider, forged, token["access_token"]).status_code == 401
    honest = _assertion(key, registered.client_id, provider.url("token"))
    assert _introspect_with(provider, honest, token["access_token"]).json()["active"] is True
    replayed = _introspect_with(provider, honest, token["access_token"])
    assert replayed.status_code == 401
    assert "already used" in replayed.json()["error_description"]


def _assertion(key: ECKey, client_id: str, audience: str) -> str:
    moment = int(time.time())
    return jwt.encode({"alg": "ES256"}, {"iss": client_id, "sub": client_id, "aud": audience,
                                         "jti": secrets.token_urlsafe(8), "iat": moment,
                                         "exp": moment + 60}, key)


def _introspect_with(provider: LiveProvider, assertion: str, token: str) -> httpx.Response:
    return httpx.post(provider.url("introspect"), data={
        "token": token, "client_assertion": assertion,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()) \
        .rstrip(b"=").decode()


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_sign_in(
        provider: LiveProvider, an: Person) -> None:
    registered = provider.register_client()
    rp = relying_party(provider, registered)
    first = sign_in_to_rp(provider, rp, an)
    second = rp.refresh_token(provider.url("token"), refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert provider.verify_id_token(second["id_token"], registered.client_id)["sub"] == \
        provider.verify_id_token(first["id_token"], registered.client_id)["sub"]
    with pytest.raises(AuthlibBaseError, match="invalid_grant"):
        rp.refresh_token(provider.url("token"), refresh_token=first["refresh_token"])
    with pytest.raises(AuthlibBaseError, match="invalid_grant"):
        rp.refresh_token(provider.url("token"), refresh_token=second["refresh_token"])
    assert not rp.introspect_token(provider.url("introspect"),
                                   token=second["access_token"]).json()["active"]
    assert audit_entries(provider.factory, "oidc.refresh.reuse_detected")


def _signed_in_days_ago(provider: LiveProvider, days: float) -> None:
    with transaction(provider.factory) as session:
        for token in session.scalars(select(IssuedToken)):
            token.auth_time = as_utc(token.auth_time) - timedelta(days=days)


def test_refresh_never_outlives_the_sign_in_it_came_from(
        provider: LiveProvider, an: Person) -> None:
    """Each rotation gives 30 days, but not past 90 days after the citizen signed in: a party
    that refreshes monthly must send the citizen back to sign in again."""
    rp = relying_party(provider, provider.register_client())
    first = sign_in_to_rp(provider, rp, an)
    _signed_in_days_ago(provider, 89.5)
    second = rp.refresh_token(provider.url("token"), refresh_token=first["refresh_token"])
    with transaction(provider.factory) as session:
        ends = session.scalars(select(IssuedToken.expires_at).where(
            IssuedToken.kind == "refresh", IssuedToken.rotated_at.is_(None))).one()
    assert as_utc(ends) - datetime.now(UTC) < timedelta(days=1)

    _signed_in_days_ago(provider, 1)
    with pytest.raises(AuthlibBaseError, match="invalid_grant"):
        rp.refresh_token(provider.url("token"), refresh_token=second["refresh_token"])


def test_revocation_and_introspection(provider: LiveProvider, an: Person) -> None:
    registered = provider.register_client()
    rp = relying_party(provider, registered)
    token = sign_in_to_rp(provider, rp, an)
    seen = rp.introspect_token(provider.url("introspect"), token=token["access_token"]).json()
    assert seen["active"] is True
    assert seen["client_id"] == registered.client_id
    assert seen["acr"] == "urn:civicstack:loa:1"
    other = relying_party(provider, provider.register_client(name="Another bank"))
    assert other.introspect_token(provider.url("introspect"),
                                  token=token["access_token"]).json() == {"active": False}

    assert rp.revoke_token(provider.url("revoke"), token=token["refresh_token"]).status_code \
        == 200
    for value in (token["access_token"], token["refresh_token"]):
        assert rp.introspect_token(provider.url("introspect"), token=value).json() == \
            {"active": False}
    assert rp.get(provider.url("userinfo")).status_code == 401
    assert rp.revoke_token(provider.url("revoke"), token="never-issued").status_code == 200


def test_a_replayed_code_is_refused_and_revokes_what_it_gave(
        provider: LiveProvider, an: Person) -> None:
    rp = relying_party(provider, provider.register_client())
    callback, verifier, _ = authorize(provider, Citizen(provider), rp, an)
    rp.fetch_token(authorization_response=callback, code_verifier=verifier)
    assert rp.get(provider.url("userinfo")).status_code == 200
    with pytest.raises(AuthlibBaseError, match="invalid_grant"):
        rp.fetch_token(authorization_response=callback, code_verifier=verifier)
    assert rp.get(provider.url("userinfo")).status_code == 401  # the first token died too


@pytest.mark.parametrize(("verifier", "reason"), [
    ("", "missing"), ("x" * 43, "does not match")])
def test_a_missing_or_wrong_code_verifier_is_refused(
        provider: LiveProvider, an: Person, verifier: str, reason: str) -> None:
    rp = relying_party(provider, provider.register_client())
    callback, _, _ = authorize(provider, Citizen(provider), rp, an)
    with pytest.raises(AuthlibBaseError, match=reason):
        rp.fetch_token(authorization_response=callback, code_verifier=verifier)


def test_authorization_requests_without_pkce_s256_go_back_with_an_error(
        provider: LiveProvider, an: Person) -> None:
    registered = provider.register_client()
    citizen = Citizen(provider)
    base = (f"/oidc/authorize?response_type=code&client_id={registered.client_id}"
            f"&redirect_uri={RP_REDIRECT}&scope=openid&state=s1")
    for suffix in ("", f"&code_challenge={'a' * 43}&code_challenge_method=plain"):
        answer = redirect_params(citizen.http.get(base + suffix))
        assert answer["error"] == "invalid_request"
        assert "PKCE" in answer["error_description"]
        assert answer["state"] == "s1"
        assert answer["iss"] == provider.base


def test_an_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(
        provider: LiveProvider) -> None:
    registered = provider.register_client()
    response = Citizen(provider).http.get(
        f"/oidc/authorize?response_type=code&client_id={registered.client_id}"
        f"&redirect_uri={RP_REDIRECT}/../evil&scope=openid"
        f"&code_challenge={'a' * 43}&code_challenge_method=S256")
    assert response.status_code == 400
    assert "location" not in response.headers
    unknown = Citizen(provider).http.get("/oidc/authorize?client_id=nobody&redirect_uri=x")
    assert unknown.status_code == 400


def test_a_wrong_client_secret_is_refused(provider: LiveProvider, an: Person) -> None:
    registered = provider.register_client()
    rp = relying_party(provider, registered)
    callback, verifier, _ = authorize(provider, Citizen(provider), rp, an)
    impostor = OAuth2Session(registered.client_id, "not-the-secret", redirect_uri=RP_REDIRECT,
                             token_endpoint=provider.url("token"))
    with pytest.raises(AuthlibBaseError, match="invalid_client"):
        impostor.fetch_token(authorization_response=callback, code_verifier=verifier)


def test_an_expired_access_token_is_refused(provider: LiveProvider, an: Person) -> None:
    rp = relying_party(provider, provider.register_client())
    token = sign_in_to_rp(provider, rp, an)
    with transaction(provider.factory) as session:
        session.execute(update(IssuedToken).values(
            expires_at=identity.now() - timedelta(seconds=1)))
    answer = rp.get(provider.url("userinfo"))
    assert answer.status_code == 401
    assert "invalid_token" in answer.headers["www-authenticate"]
    with pytest.raises(AuthlibBaseError, match="invalid_grant"):
        rp.refresh_token(provider.url("token"), refresh_token=token["refresh_token"])


def test_withdrawn_consent_stops_the_relying_party_at_once(
        provider: LiveProvider, an: Person) -> None:
    registered = provider.register_client()
    rp = relying_party(provider, registered)
    citizen = Citizen(provider)
    token = sign_in_to_rp(provider, rp, an, citizen)
    page = citizen.http.get("/account/connected-services")
    withdrawn = citizen.http.post(
        f"/account/connected-services/{registered.client_id}/withdraw",
        data={"csrf_token": citizen.form_token(page)})
    assert withdrawn.status_code == 303
    assert rp.get(provider.url("userinfo")).status_code == 401
    with pytest.raises(AuthlibBaseError, match="invalid_grant"):
        rp.refresh_token(provider.url("token"), refresh_token=token["refresh_token"])
    again = citizen.visit(rp.create_authorization_url(
        provider.url("authorize"), code_verifier=secrets.token_urlsafe(48))[0], an)
    assert again.status_code == 200
    assert 'name="pending"' in again.text


def test_a_locked_account_loses_its_tokens(provider: LiveProvider, an: Person) -> None:
    rp = relying_party(provider, provider.register_client())
    token = sign_in_to_rp(provider, rp, an)
    with transaction(provider.factory) as session:
        identity.lock(session, POLICE, an.personal_id_number, "reported stolen phone")
    assert rp.get(provider.url("userinfo")).status_code == 401
    with pytest.raises(AuthlibBaseError, match="invalid_grant"):
        rp.refresh_token(provider.url("token"), refresh_token=token["refresh_token"])


def test_declined_consent_and_silent_requests_answer_the_client(
        provider: LiveProvider, an: Person) -> None:
    rp = relying_party(provider, provider.register_client())
    citizen = Citizen(provider)
    url, state = rp.create_authorization_url(provider.url("authorize"),
                                             code_verifier=secrets.token_urlsafe(48))
    declined = redirect_params(citizen.consent(citizen.visit(url, an), decision="deny"))
    assert declined["error"] == "access_denied"
    assert declined["state"] == state
    silent, _ = rp.create_authorization_url(provider.url("authorize"), prompt="none",
                                            code_verifier=secrets.token_urlsafe(48))
    assert redirect_params(citizen.http.get(silent))["error"] == "consent_required"
    assert redirect_params(Citizen(provider).http.get(silent))["error"] == "login_required"


def test_subjects_are_pairwise_per_sector(provider: LiveProvider, an: Person) -> None:
    citizen = Citizen(provider)
    subjects = []
    for name, sector in (("Bank A", "bank-a.example"), ("Bank A app", "bank-a.example"),
                         ("Airline", "airline.example")):
        registered = provider.register_client(name=name, sector_identifier=sector)
        token = sign_in_to_rp(provider, relying_party(provider, registered), an, citizen)
        subjects.append(provider.verify_id_token(token["id_token"], registered.client_id)["sub"])
    assert subjects[0] == subjects[1] != subjects[2]


def test_rotated_keys_sign_new_tokens_while_old_ones_still_verify(
        provider: LiveProvider, an: Person) -> None:
    registered = provider.register_client(id_token_alg="RS256")
    rp = relying_party(provider, registered)
    citizen = Citizen(provider)
    before = sign_in_to_rp(provider, rp, an, citizen)["id_token"]
    rotation = rotate(services_of(provider.app).secrets, OIDC_RING, timedelta(days=1))
    time.sleep(KEY_CHECK_S)  # how often a running server looks for a rotation
    after = sign_in_to_rp(provider, rp, an, citizen)["id_token"]
    kid_after = jwt.decode(after, provider.jwks()).header["kid"]
    assert kid_after in rotation.new_kids
    assert jwt.decode(before, provider.jwks()).header["kid"] in rotation.retired_kids
    assert provider.verify_id_token(before, registered.client_id)


def test_rp_initiated_logout_signs_the_citizen_out_and_returns_with_state(
        provider: LiveProvider, an: Person) -> None:
    registered = provider.register_client()
    citizen = Citizen(provider)
    token = sign_in_to_rp(provider, relying_party(provider, registered), an, citizen)
    back = citizen.http.get("/oidc/logout", params={
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": RP_LOGOUT,
        "state": "bye"})
    assert back.headers["location"] == f"{RP_LOGOUT}?state=bye"
    assert citizen.http.get("/account").headers["location"].startswith("/account/login")


def test_logout_without_proof_asks_the_citizen_and_never_redirects_elsewhere(
        provider: LiveProvider, an: Person) -> None:
    citizen = Citizen(provider)
    citizen.sign_in(an)
    asked = citizen.http.get("/oidc/logout", params={
        "post_logout_redirect_uri": "https://evil.example/", "client_id": "nobody"})
    assert asked.status_code == 200
    assert 'action="/oidc/logout"' in asked.text
    assert citizen.http.get("/account").status_code == 200  # still signed in
    done = citizen.http.post("/oidc/logout", data={"csrf_token": citizen.form_token(asked),
                                                   "target": "https://evil.example/"})
    assert done.status_code == 200
    assert "location" not in done.headers
    assert citizen.http.get("/account").status_code == 303


@pytest.mark.parametrize("acr", ["urn:civicstack:loa:2", "urn:civicstack:loa:2-bio"])
def test_a_level_the_account_cannot_reach_is_refused_not_stepped_up(
        provider: LiveProvider, an: Person, acr: str) -> None:
    registered = provider.register_client(acr_values=(
        "urn:civicstack:loa:1", "urn:civicstack:loa:2", "urn:civicstack:loa:2-bio"))
    rp = relying_party(provider, registered)
    url, _ = rp.create_authorization_url(provider.url("authorize"), acr_values=acr,
                                         code_verifier=secrets.token_urlsafe(48))
    answer = redirect_params(Citizen(provider).visit(url, an))
    assert answer["error"] == "unmet_authentication_requirements"


def test_an_acr_the_client_may_not_ask_for_is_refused(provider: LiveProvider,
                                                      an: Person) -> None:
    rp = relying_party(provider, provider.register_client())  # loa:1 only
    url, _ = rp.create_authorization_url(provider.url("authorize"),
                                         acr_values="urn:civicstack:loa:2",
                                         code_verifier=secrets.token_urlsafe(48))
    answer = redirect_params(Citizen(provider).visit(url, an))
    assert answer["error"] == "invalid_request"


def test_a_level_two_request_steps_up_with_an_authenticator_code(
        provider: LiveProvider, an: Person) -> None:
    with transaction(provider.factory) as session:
        secret = make_level_two(session, services_of(provider.app).totp_key, an.personal_id_number)
    registered = provider.register_client(acr_values=("urn:civicstack:loa:1",
                                                      "urn:civicstack:loa:2"))
    rp = relying_party(provider, registered)
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(provider.url("authorize"), code_verifier=verifier,
                                         acr_values="urn:civicstack:loa:2")
    citizen = Citizen(provider)
    asked = citizen.visit(url, an)  # password first, then the provider asks for more
    assert asked.status_code == 200
    assert asked.url.path == "/account/step-up"
    target = asked.url.params["next"]
    assert target.startswith("/oidc/authorize?")

    refused = citizen.http.post("/account/step-up", data={
        "code": wrong_code(secret), "next": target, "csrf_token": citizen.form_token(asked)})
    assert refused.status_code == 422
    assert "code=" not in refused.headers.get("location", "")
    accepted = citizen.http.post("/account/step-up", data={
        "code": code_for(secret, 1), "next": target, "csrf_token": citizen.form_token(refused)})
    assert accepted.headers["location"] == target
    callback = citizen.consent(citizen.visit(target)).headers["location"]

    token = rp.fetch_token(authorization_response=callback, code_verifier=verifier)
    claims = provider.verify_id_token(token["id_token"], registered.client_id)
    assert claims["acr"] == "urn:civicstack:loa:2"
    assert claims["amr"] == ["pwd", "otp"]


def _decoded_id_token(provider: LiveProvider, rp: OAuth2Session, callback: str,
                      verifier: str) -> dict[str, Any]:
    token = rp.fetch_token(authorization_response=callback, code_verifier=verifier)
    return provider.verify_id_token(token["id_token"], rp.client_id)


def test_prompt_login_makes_a_signed_in_citizen_sign_in_again(
        provider: LiveProvider, an: Person) -> None:
    rp = relying_party(provider, provider.register_client())
    citizen = Citizen(provider)
    first = _decoded_id_token(provider, rp, *authorize(provider, citizen, rp, an)[:2])
    time.sleep(1.1)  # auth_time has one-second resolution
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(provider.url("authorize"), prompt="login",
                                         code_verifier=verifier)
    assert citizen.visit(url).url.path == "/account/login"  # not straight back with a code
    assert "code=" not in citizen.http.get(url).headers["location"]

    callback = citizen.visit(url, an).headers["location"]
    again = _decoded_id_token(provider, rp, callback, verifier)
    assert again["auth_time"] > first["auth_time"]
    assert again["sub"] == first["sub"]


def test_max_age_asks_for_a_sign_in_only_when_the_last_one_is_older(
        provider: LiveProvider, an: Person) -> None:
    rp = relying_party(provider, provider.register_client())
    citizen = Citizen(provider)
    authorize(provider, citizen, rp, an)
    recent, _ = rp.create_authorization_url(provider.url("authorize"), max_age="3600",
                                            code_verifier=secrets.token_urlsafe(48))
    assert "code=" in citizen.http.get(recent).headers["location"]
    with transaction(provider.factory) as session:
        session.execute(update(CitizenSession).values(
            authenticated_at=identity.now() - timedelta(hours=2)))
    assert "/account/login" in citizen.http.get(recent).headers["location"]
    silent, _ = rp.create_authorization_url(provider.url("authorize"), max_age="3600",
                                            prompt="none",
                                            code_verifier=secrets.token_urlsafe(48))
    assert redirect_params(citizen.http.get(silent))["error"] == "login_required"


@pytest.mark.parametrize("extra", [{"prompt": "none login"}, {"prompt": "select_account"},
                                   {"max_age": "soon"}, {"max_age": "-1"}])
def test_malformed_prompt_or_max_age_goes_back_as_invalid_request(
        provider: LiveProvider, an: Person, extra: dict[str, str]) -> None:
    rp = relying_party(provider, provider.register_client())
    url, _ = rp.create_authorization_url(provider.url("authorize"),
                                         code_verifier=secrets.token_urlsafe(48), **extra)
    assert redirect_params(Citizen(provider).http.get(url))["error"] == "invalid_request"


def test_prompt_consent_asks_again_once_and_an_offline_client_gets_its_refresh_token(
        provider: LiveProvider, an: Person) -> None:
    """OIDC Core 11: a client wanting offline_access sends prompt=consent. The consent just
    given answers that request; asking again after "Allow" would loop for ever."""
    rp = relying_party(provider, provider.register_client())
    citizen = Citizen(provider)
    sign_in_to_rp(provider, rp, an, citizen)  # consented once already
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(provider.url("authorize"), prompt="consent",
                                         code_verifier=verifier)
    asked = citizen.visit(url, an)
    assert 'name="pending"' in asked.text  # asked again, although consent is on record
    callback = citizen.consent(asked)
    assert callback.status_code == 303, callback.text[:300]
    assert "code=" in callback.headers["location"]
    token = rp.fetch_token(authorization_response=callback.headers["location"],
                           code_verifier=verifier)
    assert "offline_access" in token["scope"].split()
    assert rp.refresh_token(provider.url("token"),
                            refresh_token=token["refresh_token"])["access_token"]


def test_prompt_consent_with_a_pushed_request_completes_after_allow(
        provider: LiveProvider, an: Person) -> None:
    registered = provider.register_client()
    rp = relying_party(provider, registered)
    verifier = secrets.token_urlsafe(48)
    pushed = rp.post(provider.url("par"), withhold_token=True,
                     auth=rp.client_auth(rp.token_endpoint_auth_method), data={
                         "response_type": "code", "client_id": registered.client_id,
                         "redirect_uri": RP_REDIRECT, "scope": "openid offline_access",
                         "prompt": "consent", "code_challenge": _challenge(verifier),
                         "code_challenge_method": "S256"})
    citizen = Citizen(provider)
    page = citizen.visit(f"{provider.url('authorize')}?client_id={registered.client_id}"
                         f"&request_uri={pushed.json()['request_uri']}", an)
    callback = citizen.consent(page).headers["location"]
    assert "refresh_token" in rp.fetch_token(authorization_response=callback,
                                             code_verifier=verifier)


def test_scopes_the_provider_does_not_know_are_ignored_not_refused(
        provider: LiveProvider, an: Person) -> None:
    """OIDC Core 3.1.2.1: a standard client asking for `email` still signs the citizen in;
    the unknown scope is neither shown for consent nor granted."""
    rp = relying_party(provider, provider.register_client(), scope="openid profile email")
    citizen = Citizen(provider)
    verifier = secrets.token_urlsafe(48)
    url, _ = rp.create_authorization_url(provider.url("authorize"), code_verifier=verifier)
    asked = citizen.visit(url, an)
    assert 'name="pending"' in asked.text, asked.headers.get("location")
    shown = asked.text.split('class="plain consent-list">')[1].split("</ul>")[0]
    assert "email" not in shown
    callback = citizen.consent(asked).headers["location"]
    token = rp.fetch_token(authorization_response=callback, code_verifier=verifier)
    assert token["scope"] == "openid profile"
    assert "email" not in rp.get(provider.url("userinfo")).json()


def test_a_known_scope_the_client_is_not_registered_for_is_still_refused(
        provider: LiveProvider, an: Person) -> None:
    rp = relying_party(provider, provider.register_client(), scope="openid national_id email")
    url, state = rp.create_authorization_url(provider.url("authorize"),
                                             code_verifier=secrets.token_urlsafe(48))
    answer = redirect_params(Citizen(provider).visit(url, an))
    assert answer["error"] == "invalid_scope"
    assert answer["error_description"] == "not allowed for this client: national_id"
    assert answer["state"] == state
