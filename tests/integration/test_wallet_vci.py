"""OpenID4VCI 1.0, pre-authorized code flow: a signed-in citizen offers a document of the portal
wallet to a standards wallet app, which reads the issuer metadata, trades the code and PIN for
an access token, proves its own key and receives the credential bound to that key. The wallet
app here is simulated with its own P-256 key and speaks to the real app only over HTTP."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from fastapi.testclient import TestClient
from jwcrypto.jwk import JWK
from sd_jwt.holder import SDJWTHolder
from sd_jwt.verifier import SDJWTVerifier
from sqlalchemy import select, update

from civicstack.kit.b64 import b64url_encode
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from civicstack.wallet import sdjwt, service, vci
from civicstack.wallet.models import Credential, CredentialOffer
from civicstack.wallet.site import WALLET_SITE, WalletSite
from civicstack.wallet.trust import LiveTrust
from tests.integration.test_identity_web import approved_and_signed_in
from tests.support.api import audit_entries
from tests.support.wallet import give_id_card, now
from tests.support.web import Site

VERIFIER = "https://verifier.example"
POLICE_ISSUER = "bo-cong-an"
JUSTICE_ISSUER = "bo-tu-phap"


# --- the citizen's side: a portal copy and an offer -------------------------------------------

@pytest.fixture
def holder(site: Site, an: Person) -> Person:
    """An holds an eID account, is signed in, and has his ID card in the portal wallet."""
    with transaction(site.services.session_factory) as session:
        service.seed_catalogue(session)
        give_id_card(session, an)
        service.issue_from_register(session, wallet(site), an.personal_id_number, "id_card")
    approved_and_signed_in(site, an)
    return an


def wallet(site: Site) -> WalletSite:
    found: WalletSite = site.services[WALLET_SITE]
    return found


def ask_for_offer(site: Site, document_code: str = "id_card") -> httpx.Response:
    return site.client.post("/wallet/offer", follow_redirects=False, data={
        "document_code": document_code, "csrf_token": site.csrf("/account")})


@dataclass(frozen=True)
class Offer:
    credential_issuer: str
    configuration_ids: list[str]
    code: str
    pin: str
    tx_code: dict[str, Any]


def offer_on(page: httpx.Response) -> Offer:
    """What the wallet app scans (the link is the QR code's content) and the PIN it is told."""
    assert page.status_code == 200, page.text
    link = re.search(r'id="offer-link" href="([^"]+)"', page.text)
    pin = re.search(r'id="offer-pin">(\d{6})<', page.text)
    assert link
    assert pin
    uri = urlsplit(html.unescape(link.group(1)))
    assert uri.scheme == "openid-credential-offer"
    offer = json.loads(parse_qs(uri.query)["credential_offer"][0])
    grant = offer["grants"][vci.PRE_AUTHORIZED_GRANT]
    return Offer(offer["credential_issuer"], offer["credential_configuration_ids"],
                 grant["pre-authorized_code"], pin.group(1), grant["tx_code"])


def an_offer(site: Site) -> Offer:
    return offer_on(ask_for_offer(site))


# --- the wallet app's side ----------------------------------------------------------------------

def signed_jwt(header: dict[str, Any], payload: dict[str, Any], signer: JWK) -> str:
    signing_input = ".".join(b64url_encode(json.dumps(part).encode()) for part in (header, payload))
    der = signer.get_op_key("sign").sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{signing_input}.{b64url_encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def p256() -> JWK:
    return JWK.generate(kty="EC", crv="P-256")


@dataclass
class WalletApp:
    """A standards wallet app: its own HTTP client (no portal cookies) and its own key."""

    client: TestClient
    key: JWK = field(default_factory=p256)

    @property
    def public_jwk(self) -> dict[str, Any]:
        exported: dict[str, Any] = self.key.export_public(as_dict=True)
        return {name: exported[name] for name in ("kty", "crv", "x", "y")}

    def token(self, offer: Offer, pin: str | None = None,
              issuer: str | None = None) -> httpx.Response:
        return self.client.post(f"{issuer or offer.credential_issuer}/token", data={
            "grant_type": vci.PRE_AUTHORIZED_GRANT, "pre-authorized_code": offer.code,
            "tx_code": offer.pin if pin is None else pin})

    def access_token(self, offer: Offer) -> str:
        response = self.token(offer)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def nonce(self, issuer: str) -> str:
        response = self.client.post(f"{issuer}/nonce")
        assert response.status_code == 200, response.text
        return str(response.json()["c_nonce"])

    def proof(self, issuer: str, nonce: str | None, *, signer: JWK | None = None,
              header: dict[str, Any] | None = None, **claims: Any) -> str:
        payload: dict[str, Any] = {"aud": issuer, "iat": now(), **claims}
        if nonce is not None:
            payload["nonce"] = nonce
        return signed_jwt({"typ": vci.PROOF_TYP, "alg": "ES256", "jwk": self.public_jwk,
                           **(header or {})}, payload, signer or self.key)

    def credential(self, issuer: str, access_token: str,
                   request: dict[str, Any]) -> httpx.Response:
        return self.client.post(f"{issuer}/credential", json=request,
                                headers={"Authorization": f"Bearer {access_token}"})

    def request(self, issuer: str, proof: str | None,
                configuration: str = "id_card") -> dict[str, Any]:
        request: dict[str, Any] = {"credential_configuration_id": configuration}
        if proof is not None:
            request["proofs"] = {"jwt": [proof]}
        return request

    def fetch(self, offer: Offer, access_token: str | None = None) -> httpx.Response:
        """The whole exchange after the token: a fresh nonce, a proof, the request."""
        issuer = offer.credential_issuer
        token = access_token or self.access_token(offer)
        return self.credential(issuer, token,
                               self.request(issuer, self.proof(issuer, self.nonce(issuer))))


@pytest.fixture
def app(site: Site) -> WalletApp:
    return WalletApp(TestClient(site.app))


def oauth_error(response: httpx.Response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error, response.text
    assert response.headers["cache-control"] == "no-store"
    return str(response.json()["error_description"])


def well_known(issuer: str, kind: str) -> str:
    return f"/.well-known/{kind}{urlsplit(issuer).path}"


# --- the whole journey --------------------------------------------------------------------------

def test_a_wallet_app_receives_the_id_card_bound_to_its_own_key_and_it_verifies_everywhere(
        site: Site, holder: Person, app: WalletApp) -> None:
    page = ask_for_offer(site)
    assert page.headers["cache-control"] == "no-store"
    assert "<svg" in page.text  # the QR code
    offer = offer_on(page)
    issuer = wallet(site).issuer_url(POLICE_ISSUER)
    assert offer.credential_issuer == issuer
    assert offer.configuration_ids == ["id_card"]
    assert offer.tx_code["input_mode"] == "numeric"
    assert offer.tx_code["length"] == 6

    metadata = app.client.get(well_known(issuer, "openid-credential-issuer")).json()
    assert metadata["credential_issuer"] == issuer
    configuration = metadata["credential_configurations_supported"]["id_card"]
    assert configuration["format"] == "dc+sd-jwt"
    authorization = app.client.get(well_known(issuer, "oauth-authorization-server")).json()
    assert authorization["issuer"] == issuer

    tokens = app.client.post(authorization["token_endpoint"], data={
        "grant_type": vci.PRE_AUTHORIZED_GRANT, "pre-authorized_code": offer.code,
        "tx_code": offer.pin})
    assert tokens.status_code == 200, tokens.text
    assert tokens.headers["cache-control"] == "no-store"
    assert tokens.json()["token_type"] == "Bearer"
    assert tokens.json()["expires_in"] == 300
    nonce = app.client.post(metadata["nonce_endpoint"])
    assert nonce.headers["cache-control"] == "no-store"
    answer = app.client.post(metadata["credential_endpoint"], headers={
        "Authorization": f"Bearer {tokens.json()['access_token']}"}, json=app.request(
            issuer, app.proof(issuer, nonce.json()["c_nonce"])))
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    issuance = answer.json()["credentials"][0]["credential"]

    payload = sdjwt.credential_payload(issuance)
    assert payload["cnf"]["jwk"] == app.public_jwk
    assert payload["vct"] == configuration["vct"]
    assert sdjwt.disclosed_claims(issuance)["full_name"] == holder.full_name

    # The app presents with its own key; the reference library and our verifier agree.
    presenter = SDJWTHolder(issuance)
    presenter.create_presentation({"full_name": True, "date_of_birth": True}, nonce="n-42",
                                  aud=VERIFIER, holder_key=app.key, sign_alg="ES256")
    presentation = presenter.sd_jwt_presentation

    def issuer_key(iss: str, header: dict[str, Any]) -> JWK:
        published = {k["kid"]: k for k in wallet(site).jwks(iss.rsplit("/", 1)[1])["keys"]}
        return JWK(**published[header["kid"]])
    reference = SDJWTVerifier(presentation, issuer_key, VERIFIER, "n-42").get_verified_payload()
    assert reference["full_name"] == holder.full_name
    with transaction(site.services.session_factory) as session:
        ours = sdjwt.verify(presentation, LiveTrust(session, wallet(site)),
                            sdjwt.Expectations(VERIFIER, now(), nonce="n-42"))
        fetched = session.scalars(select(Credential).where(
            Credential.holder == "wallet-app")).one()
    assert ours.claims == {"full_name": holder.full_name,
                           "date_of_birth": holder.date_of_birth.isoformat()}
    assert ours.holder_jwk == app.public_jwk
    assert fetched.sealed_sd_jwt is None  # the app's copy is not kept, only its status

    offered = audit_entries(site.services.session_factory, "wallet.offer.create")
    assert [(e.actor, e.subject_id) for e in offered] == [
        (f"citizen:{holder.personal_id_number}", holder.personal_id_number)]
    issued = audit_entries(site.services.session_factory, "wallet.credential.issue")
    assert issued[-1].actor == f"issuer:{POLICE_ISSUER}"
    assert issued[-1].detail["holder"] == "wallet-app"


def test_issuer_metadata_describes_each_of_its_documents_with_labels_in_both_languages(
        site: Site, holder: Person, app: WalletApp) -> None:
    issuer = wallet(site).issuer_url(POLICE_ISSUER)
    response = app.client.get(well_known(issuer, "openid-credential-issuer"))
    metadata = response.json()
    assert metadata["credential_endpoint"] == f"{issuer}/credential"
    assert metadata["nonce_endpoint"] == f"{issuer}/nonce"
    assert {d["locale"] for d in metadata["display"]} == {"vi", "en"}
    configurations = metadata["credential_configurations_supported"]
    # the police's documents: a person's, an organisation's security-and-order certificate,
    # and the eID system's authorisation to act for an organisation
    assert set(configurations) == {"id_card", "driving_licence", "vehicle_registration",
                                   "residence_confirmation", "family_relations",
                                   "security_order_certificate", "organisation_authorisation"}
    licence = configurations["driving_licence"]
    assert licence["vct"] == "urn:vn:civicstack:driving_licence:1"
    assert licence["cryptographic_binding_methods_supported"] == ["jwk"]
    assert licence["credential_signing_alg_values_supported"] == ["ES256"]
    assert licence["proof_types_supported"] == {
        "jwt": {"proof_signing_alg_values_supported": ["ES256"]}}
    claims = {tuple(c["path"]): c for c in licence["credential_metadata"]["claims"]}
    assert claims[("classes",)]["display"] == [{"name": "Hạng", "locale": "vi"},
                                               {"name": "Classes", "locale": "en"}]
    assert {d["name"] for d in licence["credential_metadata"]["display"]} == {
        "Giấy phép lái xe", "Driving licence"}

    authorization = app.client.get(well_known(issuer, "oauth-authorization-server")).json()
    assert authorization["token_endpoint"] == f"{issuer}/token"
    assert authorization["pre-authorized_grant_anonymous_access_supported"] is True
    assert authorization["grant_types_supported"] == [vci.PRE_AUTHORIZED_GRANT]
    assert app.client.get("/.well-known/openid-credential-issuer/wallet/issuers/nobody"
                          ).status_code == 404


# --- the offer's refusals -----------------------------------------------------------------------

def test_an_offer_needs_a_signed_in_citizen(site: Site, an: Person) -> None:
    response = site.client.post("/wallet/offer", follow_redirects=False, data={
        "document_code": "id_card", "csrf_token": site.csrf("/account/login")})
    assert response.status_code == 303
    assert response.headers["location"] == "/account/login"  # a form is not replayed


def test_an_offer_is_refused_for_a_document_the_citizen_does_not_hold(
        site: Site, holder: Person) -> None:
    page = site.client.get("/account?lang=en")  # the language is remembered by cookie
    assert page.status_code == 200
    response = ask_for_offer(site, "driving_licence")
    assert response.status_code == 409
    assert "you hold no valid copy of this document in your portal wallet" in response.text
    assert 'id="offer-pin"' not in response.text
    with transaction(site.services.session_factory) as session:
        assert session.scalars(select(CredentialOffer)).all() == []


def test_an_offer_is_refused_once_the_portal_copy_is_suspended(
        site: Site, holder: Person) -> None:
    with transaction(site.services.session_factory) as session:
        card = service.cards(session, wallet(site), holder.personal_id_number)[0]
        service.report_lost(session, holder.personal_id_number, card.credential.public_id)
    assert ask_for_offer(site).status_code == 409


# --- the token's refusals -----------------------------------------------------------------------

def test_a_pre_authorized_code_works_once_and_its_replay_ends_the_token_it_gave(
        site: Site, holder: Person, app: WalletApp) -> None:
    offer = an_offer(site)
    first = app.access_token(offer)
    assert "already used" in oauth_error(app.token(offer), 400, "invalid_grant")
    oauth_error(app.fetch(offer, first), 401, "invalid_token")


def test_an_expired_offer_is_refused(site: Site, holder: Person, app: WalletApp) -> None:
    offer = an_offer(site)
    with transaction(site.services.session_factory) as session:
        session.execute(update(CredentialOffer).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert "expired" in oauth_error(app.token(offer), 400, "invalid_grant")


def test_a_wrong_pin_counts_and_the_fifth_makes_the_offer_unusable(
        site: Site, holder: Person, app: WalletApp) -> None:
    offer = an_offer(site)
    wrong = f"{(int(offer.pin) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        assert f"{left} attempts left" in oauth_error(app.token(offer, wrong), 400,
                                                      "invalid_grant")
    assert "unusable" in oauth_error(app.token(offer, wrong), 400, "invalid_grant")
    assert "too many" in oauth_error(app.token(offer), 400, "invalid_grant")
    guesses = audit_entries(site.services.session_factory, "wallet.offer.wrong_pin",
                            holder.personal_id_number)
    assert [g.detail["attempts_left"] for g in guesses] == [4, 3, 2, 1, 0]


def test_a_client_whose_token_requests_keep_failing_is_held_off(
        site: Site, holder: Person, app: WalletApp) -> None:
    offer = an_offer(site)
    issuer = offer.credential_issuer
    for _ in range(10):
        oauth_error(app.client.post(f"{issuer}/token", data={
            "grant_type": vci.PRE_AUTHORIZED_GRANT, "pre-authorized_code": "made-up",
            "tx_code": "123456"}), 400, "invalid_grant")
    held_off = app.token(offer)  # even the right code and PIN, for a while
    assert held_off.status_code == 429
    assert "too many failed attempts" in held_off.json()["detail"]


def test_nonces_are_handed_out_within_a_budget(site: Site, holder: Person,
                                               app: WalletApp) -> None:
    issuer = wallet(site).issuer_url(POLICE_ISSUER)
    for _ in range(60):
        app.nonce(issuer)
    flooded = app.client.post(f"{issuer}/nonce")
    assert flooded.status_code == 429
    assert "too many requests" in flooded.json()["detail"]


@pytest.mark.parametrize(("form", "error"), [
    ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
    ({"grant_type": vci.PRE_AUTHORIZED_GRANT}, "invalid_request"),
    ({"grant_type": vci.PRE_AUTHORIZED_GRANT, "pre-authorized_code": "made-up",
      "tx_code": "123456"}, "invalid_grant"),
])
def test_a_malformed_token_request_is_refused_in_oauth_terms(
        site: Site, holder: Person, app: WalletApp, form: dict[str, str], error: str) -> None:
    issuer = wallet(site).issuer_url(POLICE_ISSUER)
    oauth_error(app.client.post(f"{issuer}/token", data=form), 400, error)


def test_a_token_request_without_the_pin_is_refused_without_counting_against_the_offer(
        site: Site, holder: Person, app: WalletApp) -> None:
    offer = an_offer(site)
    response = app.client.post(f"{offer.credential_issuer}/token", data={
        "grant_type": vci.PRE_AUTHORIZED_GRANT, "pre-authorized_code": offer.code})
    oauth_error(response, 400, "invalid_request")
    assert app.token(offer).status_code == 200


def test_an_offer_is_redeemed_only_at_the_issuer_of_its_document(
        site: Site, holder: Person, app: WalletApp) -> None:
    offer = an_offer(site)
    elsewhere = wallet(site).issuer_url(JUSTICE_ISSUER)
    oauth_error(app.token(offer, issuer=elsewhere), 400, "invalid_grant")
    token = app.access_token(offer)  # not consumed by the wrong address
    request = app.request(elsewhere, app.proof(elsewhere, app.nonce(elsewhere)))
    oauth_error(app.credential(elsewhere, token, request), 401, "invalid_token")


# --- the credential request's refusals ----------------------------------------------------------

def test_an_access_token_gives_one_credential(site: Site, holder: Person,
                                              app: WalletApp) -> None:
    offer = an_offer(site)
    token = app.access_token(offer)
    assert app.fetch(offer, token).status_code == 200
    response = app.fetch(offer, token)
    assert "already used" in oauth_error(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize("authorization", ["", "Bearer ", "Basic abc", "Bearer made-up"])
def test_the_credential_endpoint_wants_a_live_bearer_token(
        site: Site, holder: Person, app: WalletApp, authorization: str) -> None:
    issuer = wallet(site).issuer_url(POLICE_ISSUER)
    response = app.client.post(f"{issuer}/credential", json={}, headers={
        "Authorization": authorization})
    oauth_error(response, 401, "invalid_token")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_expired_access_token_is_refused(site: Site, holder: Person,
                                            app: WalletApp) -> None:
    offer = an_offer(site)
    token = app.access_token(offer)
    with transaction(site.services.session_factory) as session:
        session.execute(update(CredentialOffer).values(
            access_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert "expired" in oauth_error(app.fetch(offer, token), 401, "invalid_token")


def stale(app: WalletApp, issuer: str, nonce: str) -> str:
    return app.proof(issuer, nonce, iat=now() - 301)


def from_the_future(app: WalletApp, issuer: str, nonce: str) -> str:
    return app.proof(issuer, nonce, iat=now() + 120)


def for_another_issuer(app: WalletApp, issuer: str, nonce: str) -> str:
    return app.proof(issuer, nonce, aud="https://issuer.example")


def signed_by_another_key(app: WalletApp, issuer: str, nonce: str) -> str:
    return app.proof(issuer, nonce, signer=p256())


def with_private_key_in_header(app: WalletApp, issuer: str, nonce: str) -> str:
    return app.proof(issuer, nonce, header={"jwk": app.key.export_private(as_dict=True)})


def of_the_wrong_type(app: WalletApp, issuer: str, nonce: str) -> str:
    return app.proof(issuer, nonce, header={"typ": "JWT"})


def without_nonce(app: WalletApp, issuer: str, nonce: str) -> str:
    return app.proof(issuer, None)


def with_an_unknown_nonce(app: WalletApp, issuer: str, nonce: str) -> str:
    return app.proof(issuer, "a-nonce-this-issuer-never-gave")


@pytest.mark.parametrize(("make_proof", "error", "reason"), [
    (stale, "invalid_proof", "too old"),
    (from_the_future, "invalid_proof", "in the future"),
    (for_another_issuer, "invalid_proof", "aud must be"),
    (signed_by_another_key, "invalid_proof", "signature does not verify"),
    (with_private_key_in_header, "invalid_proof", "not a public P-256 key"),
    (of_the_wrong_type, "invalid_proof", "type must be"),
    (without_nonce, "invalid_proof", "no c_nonce"),
    (with_an_unknown_nonce, "invalid_nonce", "unknown c_nonce"),
])
def test_a_bad_key_proof_is_refused_and_the_app_may_retry_with_a_good_one(
        site: Site, holder: Person, app: WalletApp, make_proof: Any, error: str,
        reason: str) -> None:
    offer = an_offer(site)
    issuer = offer.credential_issuer
    token = app.access_token(offer)
    bad = app.request(issuer, make_proof(app, issuer, app.nonce(issuer)))
    assert reason in oauth_error(app.credential(issuer, token, bad), 400, error)
    assert app.fetch(offer, token).status_code == 200


def test_a_nonce_answers_one_proof_only(site: Site, holder: Person, app: WalletApp) -> None:
    first, second = an_offer(site), an_offer(site)
    issuer = first.credential_issuer
    nonce = app.nonce(issuer)
    assert app.credential(issuer, app.access_token(first),
                          app.request(issuer, app.proof(issuer, nonce))).status_code == 200
    replayed = app.credential(issuer, app.access_token(second),
                              app.request(issuer, app.proof(issuer, nonce)))
    assert "already used" in oauth_error(replayed, 400, "invalid_nonce")


@pytest.mark.parametrize(("request_body", "error"), [
    ({"credential_configuration_id": "id_card"}, "invalid_proof"),
    ({"credential_configuration_id": "id_card", "proofs": {"jwt": []}}, "invalid_proof"),
    ({"credential_configuration_id": "passport", "proofs": {"jwt": ["x"]}},
     "unknown_credential_configuration"),
    ({"credential_configuration_id": "diploma", "proofs": {"jwt": ["x"]}},
     "unknown_credential_configuration"),  # another issuer's document
    ({"credential_configuration_id": "driving_licence", "proofs": {"jwt": ["x"]}},
     "invalid_credential_request"),  # this issuer's, but not what the offer was for
    ({"proofs": {"jwt": ["x"]}}, "invalid_credential_request"),
    ([], "invalid_credential_request"),
    ({"credential_configuration_id": "id_card", "padding": "x" * 20_000},
     "invalid_credential_request"),
])
def test_a_malformed_credential_request_is_refused_in_oauth_terms(
        site: Site, holder: Person, app: WalletApp, request_body: Any, error: str) -> None:
    offer = an_offer(site)
    response = app.client.post(f"{offer.credential_issuer}/credential", json=request_body,
                               headers={"Authorization": f"Bearer {app.access_token(offer)}"})
    oauth_error(response, 400, error)


def test_a_document_suspended_after_the_offer_is_not_handed_to_the_app(
        site: Site, holder: Person, app: WalletApp) -> None:
    offer = an_offer(site)
    token = app.access_token(offer)
    with transaction(site.services.session_factory) as session:
        card = service.cards(session, wallet(site), holder.personal_id_number)[0]
        service.report_lost(session, holder.personal_id_number, card.credential.public_id)
    oauth_error(app.fetch(offer, token), 400, "credential_request_denied")
