"""OpenID4VP: a relying party asks for named fields of a wallet document, the citizen approves
in the portal (or a wallet app answers by direct_post), and the relying party reads a verified
answer. Every way an answer can be wrong is refused, and the refusal is what the RP reads."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from sd_jwt.holder import SDJWTHolder
from sqlalchemy import update

from civicstack.kit.b64 import b64url_encode
from civicstack.kit.db import transaction
from civicstack.oidc import clients
from civicstack.oidc.protocol import JWT_BEARER
from civicstack.oidc.site import PROVIDER
from civicstack.registry.models import Person
from civicstack.wallet import sdjwt, service
from civicstack.wallet.models import PresentationRequest
from civicstack.wallet.site import WALLET_SITE, WalletSite
from tests.integration.test_identity_web import citizen_sign_in
from tests.support.api import assert_problem, audit_entries
from tests.support.eid import make_active_account
from tests.support.oidc import ADMIN, RP_REDIRECT
from tests.support.wallet import POLICE, give_id_card, grant
from tests.support.web import CSRF_PATTERN, Site

API = "/api/v1/wallet/presentation-requests"
ASK = {"document_type": "id_card", "claims": ["full_name", "date_of_birth"],
       "purpose": "open a bank account"}
CARD = re.compile(r'name="card" value="([^"]+)"')


@dataclass(frozen=True)
class RelyingParty:
    http: TestClient
    client_id: str
    secret: str

    def ask(self, **changes: Any) -> httpx.Response:
        return self.http.post(API, json={**ASK, **changes}, auth=(self.client_id, self.secret))

    def created(self, **changes: Any) -> dict[str, Any]:
        response = self.ask(**changes)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def read(self, request_id: str) -> httpx.Response:
        return self.http.get(f"{API}/{request_id}", auth=(self.client_id, self.secret))

    def outcome(self, request_id: str) -> dict[str, Any]:
        response = self.read(request_id)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@dataclass(frozen=True)
class Holder:
    person: Person
    card: str  # public id of the ID card in the portal wallet
    issuance: str  # the SD-JWT as issued, every disclosure included


def relying_party(site: Site, name: str = "Ngân hàng Demo") -> RelyingParty:
    with transaction(site.services.session_factory) as session:
        registered = clients.register_client(session, ADMIN, site.services.pepper,
                                             clients.NewClient(name, (RP_REDIRECT,)))
    assert registered.client_secret is not None
    return RelyingParty(TestClient(site.app), registered.client_id, registered.client_secret)


def wallet(site: Site) -> WalletSite:
    found: WalletSite = site.services[WALLET_SITE]
    return found


@pytest.fixture
def bank(site: Site) -> RelyingParty:
    return relying_party(site)


@pytest.fixture
def holder(site: Site, an: Person, tmp_path: Path) -> Holder:
    """An, with an approved eID account, an ID card from the register in his portal wallet,
    and signed in on `site.client`."""
    factory = site.services.session_factory
    make_active_account(factory, site.services.pepper, an, tmp_path / "mailbox")
    with transaction(factory) as session:
        service.seed_catalogue(session)
        give_id_card(session, an)
        issued = service.issue_from_register(session, wallet(site), an.personal_id_number,
                                             "id_card")
        card = issued.credential.public_id
    assert citizen_sign_in(site, an) == 303
    return Holder(an, card, issued.sd_jwt)


def approve(site: Site, created: dict[str, Any], decision: str = "approve") -> httpx.Response:
    page = site.client.get(urlsplit(created["wallet_url"]).path)
    assert page.status_code == 200, page.text
    csrf = CSRF_PATTERN.search(page.text)
    card = CARD.search(page.text)
    assert csrf
    return site.client.post(urlsplit(created["wallet_url"]).path, data={
        "decision": decision, "card": card.group(1) if card else "",
        "csrf_token": csrf.group(1)})


def present(site: Site, holder: Holder, audience: str, nonce: str,
            claims: tuple[str, ...] = ("full_name", "date_of_birth"),
            card: str | None = None) -> str:
    """What the portal wallet would present, made directly: for answers it would never send."""
    with transaction(site.services.session_factory) as session:
        return service.present(session, wallet(site), holder.person.personal_id_number,
                               card or holder.card, list(claims), audience, nonce)


def post_answer(site: Site, request_id: str, presentation: str,
                state: str | None = None) -> httpx.Response:
    """A wallet app's direct_post: a client with no cookies of the citizen's."""
    return TestClient(site.app).post(f"/wallet/presentation-requests/{request_id}/response",
                                     data={"vp_token": json.dumps({"document": [presentation]}),
                                           "state": state or request_id})


def assert_refused(site: Site, bank: RelyingParty, created: dict[str, Any],
                   presentation: str, reason: str) -> None:
    problem = assert_problem(post_answer(site, created["id"], presentation), 400)
    assert reason in problem["detail"]
    outcome = bank.outcome(created["id"])
    assert outcome["state"] == "refused"
    assert reason in outcome["refusal_reason"]
    assert outcome["claims"] == {}
    assert outcome["paper_not_required"] is False


def client_id_of(created: dict[str, Any]) -> str:
    return parse_qs(urlsplit(created["openid4vp_uri"]).query)["client_id"][0]


# --- the way it should go -------------------------------------------------------------------

def test_a_bank_reads_verified_id_card_fields_after_the_citizen_approves_and_needs_no_paper(
        site: Site, bank: RelyingParty, holder: Holder) -> None:
    created = bank.created(redirect_uri=RP_REDIRECT)
    assert bank.outcome(created["id"])["state"] == "pending"

    page = site.client.get(urlsplit(created["wallet_url"]).path + "?lang=en")
    assert "Ngân hàng Demo" in page.text
    assert "open a bank account" in page.text
    assert "Full name" in page.text
    assert "Date of birth" in page.text
    assert "Permanent residence" not in page.text  # only what is asked is listed
    assert "Nothing else from your wallet will be shared." in page.text
    assert holder.card in page.text

    shared = approve(site, created)
    assert shared.status_code == 200, shared.text
    assert "Shared with Ngân hàng Demo" in shared.text
    assert RP_REDIRECT in shared.text

    outcome = bank.outcome(created["id"])
    assert outcome["state"] == "verified"
    assert outcome["claims"] == {"full_name": holder.person.full_name,
                                 "date_of_birth": holder.person.date_of_birth.isoformat()}
    assert outcome["issuer"] == wallet(site).issuer_url("bo-cong-an")
    assert outcome["document_type"] == "id_card"
    assert outcome["paper_not_required"] is True
    assert outcome["verified_at"]

    reads = audit_entries(site.services.session_factory, "wallet.presentation.read")
    assert [(e.actor, e.subject_id, e.purpose) for e in reads] == [
        (f"relying_party:{bank.client_id}", holder.person.personal_id_number,
         "open a bank account")]


def test_the_same_fields_can_be_shared_again_with_a_new_request(
        site: Site, bank: RelyingParty, holder: Holder) -> None:
    """The replay guard keys on the key binding: the same disclosures shown twice are two
    presentations, not a replay."""
    for created in (bank.created(), relying_party(site, "Công ty Khác").created()):
        assert approve(site, created).status_code == 200
    assert len(audit_entries(site.services.session_factory, "wallet.presentation.read")) == 2


def test_the_consent_page_speaks_vietnamese_by_default(site: Site, bank: RelyingParty,
                                                       holder: Holder) -> None:
    page = site.client.get(urlsplit(bank.created()["wallet_url"]).path + "?lang=vi")
    assert "Họ, chữ đệm và tên" in page.text
    assert "Ngày sinh" in page.text
    assert "Không chia sẻ thông tin nào khác trong ví của bạn." in page.text


def test_the_request_object_is_signed_by_this_server_and_asks_by_dcql(
        site: Site, bank: RelyingParty) -> None:
    with transaction(site.services.session_factory) as session:
        service.seed_catalogue(session)
    created = bank.created()
    assert created["openid4vp_uri"].startswith("openid4vp://?")
    assert created["wallet_url"].endswith(f"/wallet/present/{created['id']}")
    fetched = site.client.get(urlsplit(created["request_uri"]).path)
    assert fetched.headers["content-type"] == "application/oauth-authz-req+jwt"
    keys = KeySet.import_key_set(site.client.get("/oidc/jwks").json())
    token = jwt.decode(fetched.text, keys, algorithms=["ES256"])
    assert token.header["typ"] == "oauth-authz-req+jwt"
    claims = token.claims
    assert claims["client_id"] == client_id_of(created) == bank.client_id
    assert claims["response_type"] == "vp_token"
    assert claims["response_mode"] == "direct_post"
    assert claims["response_uri"].endswith(f"/wallet/presentation-requests/{created['id']}"
                                           "/response")
    assert claims["nonce"] == created["nonce"]
    assert claims["state"] == created["id"]
    assert claims["client_metadata"]["client_name"] == "Ngân hàng Demo"
    assert claims["dcql_query"] == {"credentials": [{
        "id": "document", "format": "dc+sd-jwt",
        "meta": {"vct_values": ["urn:vn:civicstack:id_card:1"]},
        "claims": [{"path": ["full_name"]}, {"path": ["date_of_birth"]}]}]}


def test_an_independent_wallet_answers_by_direct_post(site: Site, bank: RelyingParty,
                                                      holder: Holder) -> None:
    """The reference SD-JWT library plays a standards wallet holding An's card and key."""
    created = bank.created()
    request_object = site.client.get(urlsplit(created["request_uri"]).path).text
    asked = jwt.decode(request_object, KeySet.import_key_set(
        site.client.get("/oidc/jwks").json()), algorithms=["ES256"]).claims
    with transaction(site.services.session_factory) as session:
        key = sdjwt.jwcrypto_key(service.holder_jwk(session, wallet(site),
                                                    holder.person.personal_id_number))
    wallet_app = SDJWTHolder(holder.issuance)
    wallet_app.create_presentation(
        {claim["path"][0]: True for claim in asked["dcql_query"]["credentials"][0]["claims"]},
        nonce=asked["nonce"], aud=asked["client_id"], holder_key=key, sign_alg="ES256")
    answer = TestClient(site.app).post(urlsplit(asked["response_uri"]).path, data={
        "vp_token": json.dumps({"document": [str(wallet_app.sd_jwt_presentation)]}),
        "state": asked["state"]})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {}

    outcome = bank.outcome(created["id"])
    assert outcome["state"] == "verified"
    assert set(outcome["claims"]) == {"full_name", "date_of_birth"}
    # no personal ID number was disclosed: the audit names the holder the issuer recorded
    reads = audit_entries(site.services.session_factory, "wallet.presentation.read")
    assert [e.subject_id for e in reads] == [holder.person.personal_id_number]


# --- asking wrongly -------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "field"), [
    ({"document_type": "passport"}, "document_type"),
    ({"document_type": "business_registration"}, "document_type"),
    ({"claims": ["full_name", "blood_type"]}, "claims.blood_type"),
    ({"claims": []}, "claims"),
    ({"purpose": "kyc"}, "purpose"),
    ({"redirect_uri": "https://evil.example/steal"}, "redirect_uri"),
])
def test_a_malformed_request_is_refused(site: Site, bank: RelyingParty, changes: dict[str, Any],
                                        field: str) -> None:
    with transaction(site.services.session_factory) as session:
        service.seed_catalogue(session)
    problem = assert_problem(bank.ask(**changes), 422)
    assert field in {error["field"] for error in problem["errors"]}


def test_an_unauthenticated_relying_party_is_refused(site: Site, bank: RelyingParty) -> None:
    with transaction(site.services.session_factory) as session:
        service.seed_catalogue(session)
    assert_problem(TestClient(site.app).post(API, json=ASK), 401)
    assert_problem(TestClient(site.app).post(API, json=ASK, auth=(bank.client_id, "wrong")), 401)
    created = bank.created()
    assert_problem(TestClient(site.app).get(f"{API}/{created['id']}"), 401)


def test_a_private_key_jwt_client_asks_and_reads_with_single_use_assertions(
        site: Site) -> None:
    with transaction(site.services.session_factory) as session:
        service.seed_catalogue(session)
        key = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, private=True)
        key.ensure_kid()
        client_id = clients.register_client(session, ADMIN, site.services.pepper,
                                            clients.NewClient(
                                                "Bảo hiểm Demo", (RP_REDIRECT,),
                                                auth_method="private_key_jwt",
                                                jwks={"keys": [key.as_dict(private=False)]})
                                            ).client_id
    audience = f"{site.services[PROVIDER].issuer}{API}"

    def assertion() -> dict[str, str]:
        moment = int(time.time())
        return {"client_assertion_type": JWT_BEARER, "client_assertion": jwt.encode(
            {"alg": "ES256"}, {"iss": client_id, "sub": client_id, "aud": audience,
                               "jti": secrets.token_urlsafe(8), "iat": moment,
                               "exp": moment + 60}, key)}

    http = TestClient(site.app)
    signed = assertion()
    created = http.post(API, json={**ASK, **signed})
    assert created.status_code == 201, created.text
    assert_problem(http.post(API, json={**ASK, **signed}), 401)  # an assertion is good once
    read = http.get(f"{API}/{created.json()['id']}", params=assertion())
    assert read.json()["state"] == "pending"


def test_another_relying_party_cannot_read_the_request(site: Site, bank: RelyingParty,
                                                       holder: Holder) -> None:
    created = bank.created()
    assert approve(site, created).status_code == 200
    assert_problem(relying_party(site, "Công ty Khác").read(created["id"]), 404)


# --- answers that are refused ---------------------------------------------------------------

def test_a_presentation_with_another_nonce_is_refused(site: Site, bank: RelyingParty,
                                                      holder: Holder) -> None:
    created = bank.created()
    presentation = present(site, holder, client_id_of(created), "a-nonce-of-another-request")
    assert_refused(site, bank, created, presentation, "nonce")


def test_a_presentation_made_for_another_relying_party_is_refused(
        site: Site, bank: RelyingParty, holder: Holder) -> None:
    created = bank.created()
    other = relying_party(site, "Công ty Khác")
    presentation = present(site, holder, other.client_id, created["nonce"])
    assert_refused(site, bank, created, presentation, "audience")


def test_a_replayed_vp_token_is_refused_by_the_same_and_by_another_request(
        site: Site, bank: RelyingParty, holder: Holder) -> None:
    created = bank.created()
    presentation = present(site, holder, client_id_of(created), created["nonce"])
    assert post_answer(site, created["id"], presentation).status_code == 200

    again = assert_problem(post_answer(site, created["id"], presentation), 400)
    assert "already answered" in again["detail"]
    assert bank.outcome(created["id"])["state"] == "verified"  # the first answer stands

    second = bank.created()
    assert_refused(site, bank, second, presentation, "nonce")


def test_a_requested_claim_left_undisclosed_is_refused(site: Site, bank: RelyingParty,
                                                       holder: Holder) -> None:
    created = bank.created()
    presentation = present(site, holder, client_id_of(created), created["nonce"],
                           claims=("full_name",))
    assert_refused(site, bank, created, presentation, "undisclosed claim requested: "
                                                      "date_of_birth")


def test_a_document_of_another_type_is_refused(site: Site, bank: RelyingParty,
                                               holder: Holder) -> None:
    created = bank.created(document_type="driving_licence")
    presentation = present(site, holder, client_id_of(created), created["nonce"])
    assert_refused(site, bank, created, presentation, "another document type")


def test_an_expired_request_is_refused(site: Site, bank: RelyingParty, holder: Holder) -> None:
    created = bank.created()
    presentation = present(site, holder, client_id_of(created), created["nonce"])
    with transaction(site.services.session_factory) as session:
        session.execute(update(PresentationRequest).where(
            PresentationRequest.public_id == created["id"]).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert_refused(site, bank, created, presentation, "expired")


def test_an_expired_request_unanswered_reads_as_refused(site: Site, bank: RelyingParty,
                                                        holder: Holder) -> None:
    created = bank.created()
    with transaction(site.services.session_factory) as session:
        session.execute(update(PresentationRequest).where(
            PresentationRequest.public_id == created["id"]).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert bank.outcome(created["id"])["state"] == "refused"
    page = site.client.get(urlsplit(created["wallet_url"]).path + "?lang=en")
    assert "expired" in page.text


@pytest.mark.parametrize(("status", "reason"), [("revoked", "revoked"),
                                                ("suspended", "suspended")])
def test_a_credential_no_longer_valid_is_refused(site: Site, bank: RelyingParty,
                                                 holder: Holder, status: str,
                                                 reason: str) -> None:
    created = bank.created()
    presentation = present(site, holder, client_id_of(created), created["nonce"])
    with transaction(site.services.session_factory) as session:
        grant(session, POLICE)
        service.change_status(session, POLICE, holder.card, status, "card reported stolen")
    assert_refused(site, bank, created, presentation, reason)


def test_a_tampered_disclosure_is_refused(site: Site, bank: RelyingParty,
                                          holder: Holder) -> None:
    created = bank.created()
    credential, first, *rest = present(site, holder, client_id_of(created),
                                       created["nonce"]).split("~")
    forged = b64url_encode(json.dumps([secrets.token_urlsafe(16), "full_name",
                                "Trần Thị Giả Mạo"]).encode())
    tampered = "~".join([credential, forged, *rest])
    assert first != forged
    assert_refused(site, bank, created, tampered, "not part of this credential")


def test_a_vp_token_that_is_not_the_dcql_shape_is_refused(site: Site, bank: RelyingParty,
                                                          holder: Holder) -> None:
    created = bank.created()
    presentation = present(site, holder, client_id_of(created), created["nonce"])
    answer = TestClient(site.app).post(f"/wallet/presentation-requests/{created['id']}/response",
                                       data={"vp_token": presentation, "state": created["id"]})
    assert "vp_token must be a JSON object" in assert_problem(answer, 400)["detail"]


# --- the citizen's side ---------------------------------------------------------------------

def test_the_citizen_declines_and_nothing_is_shared(site: Site, bank: RelyingParty,
                                                    holder: Holder) -> None:
    created = bank.created()
    declined = approve(site, created, decision="decline")
    assert declined.status_code == 200
    outcome = bank.outcome(created["id"])
    assert outcome["state"] == "declined"
    assert outcome["claims"] == {}
    assert audit_entries(site.services.session_factory, "wallet.presentation.read") == []
    # the request is closed: a wallet cannot answer it afterwards
    presentation = present(site, holder, client_id_of(created), created["nonce"])
    assert "already answered" in assert_problem(
        post_answer(site, created["id"], presentation), 400)["detail"]


def test_a_citizen_without_the_document_can_only_decline(site: Site, bank: RelyingParty,
                                                         holder: Holder) -> None:
    created = bank.created(document_type="driving_licence", claims=["licence_number"])
    page = site.client.get(urlsplit(created["wallet_url"]).path + "?lang=en")
    assert "holds no valid Driving licence" in page.text
    assert 'value="approve"' not in page.text
    assert 'value="decline"' in page.text


def test_the_consent_page_sends_a_signed_out_visitor_to_sign_in(site: Site,
                                                                bank: RelyingParty) -> None:
    with transaction(site.services.session_factory) as session:
        service.seed_catalogue(session)
    path = urlsplit(bank.created()["wallet_url"]).path
    response = TestClient(site.app).get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/account/login?next={quote(path, safe='')}"
