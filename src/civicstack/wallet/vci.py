"""OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow: a citizen hands one
document of the portal wallet to a standards wallet app. Issuer and authorization-server
metadata, the offer (a one-use code plus a PIN shown in the portal), the token, the c_nonce,
and the credential request with its key proof. Knows nothing of the web: refusals are
`OAuthError`s, the shape every wallet app parses (OpenID4VCI 1.0 sections 6.3 and 8.3.1)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.db import as_utc
from civicstack.kit.errors import Conflict, DomainError
from civicstack.kit.i18n import N_
from civicstack.oidc.protocol import OAuthError, digest, new_secret, now
from civicstack.wallet import jws, repository, sdjwt, service
from civicstack.wallet.models import CredentialOffer, DocumentType, Issuer, Nonce
from civicstack.wallet.site import WalletSite

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME = "openid-credential-offer://"
CREDENTIAL_FORMAT = "dc+sd-jwt"
PROOF_TYP = "openid4vci-proof+jwt"
OFFER_LIFETIME = timedelta(minutes=10)
ACCESS_TOKEN_LIFETIME_S = 300
NONCE_LIFETIME = timedelta(minutes=5)
NONCE_PURPOSE = "vci"
PROOF_MAX_AGE_S = 300
TX_CODE_LENGTH = 6
MAX_TX_CODE_FAILURES = 5
MAX_REQUEST_BYTES = 16_384  # a request with one key proof is well under 2 KiB
LOCALES = ("vi", "en")


# --- metadata -------------------------------------------------------------------------------

def _display(vietnamese: str, english: str) -> list[dict[str, str]]:
    return [{"name": name, "locale": locale}
            for name, locale in zip((vietnamese, english), LOCALES, strict=True)]


def _configuration(document: DocumentType) -> dict[str, Any]:
    return {
        "format": CREDENTIAL_FORMAT,
        "vct": service.vct_for(document),
        "cryptographic_binding_methods_supported": ["jwk"],
        "credential_signing_alg_values_supported": [jws.ALGORITHM],
        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported":
                                          [jws.ALGORITHM]}},
        "credential_metadata": {
            "display": _display(document.name, document.name_en),
            "claims": [{"path": [claim["name"]], "mandatory": bool(claim["required"]),
                        "display": _display(claim["label"], claim["label_en"])}
                       for claim in document.claims],
        },
    }


def _documents_of(session: Session, issuer: Issuer) -> list[DocumentType]:
    return [d for d in service.document_types(session) if d.issuer_id == issuer.id]


def issuer_metadata(session: Session, site: WalletSite, slug: str) -> dict[str, Any]:
    """Credential Issuer Metadata (section 12.2): one configuration per document type, keyed
    by its code. The issuer is its own authorization server, so `authorization_servers` is
    left out."""
    issuer = service.issuer(session, slug)
    url = site.issuer_url(slug)
    return {
        "credential_issuer": url,
        "credential_endpoint": f"{url}/credential",
        "nonce_endpoint": f"{url}/nonce",
        "display": _display(issuer.name, issuer.name_en),
        "credential_configurations_supported": {
            document.code: _configuration(document)
            for document in _documents_of(session, issuer)},
    }


def authorization_server_metadata(session: Session, site: WalletSite,
                                  slug: str) -> dict[str, Any]:
    """RFC 8414 metadata of the issuer's own token endpoint, for the pre-authorized grant."""
    service.issuer(session, slug)
    url = site.issuer_url(slug)
    return {
        "issuer": url,
        "token_endpoint": f"{url}/token",
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "token_endpoint_auth_methods_supported": ["none"],
        # RFC 8414 requires the member; there is no authorization endpoint, so no type.
        "response_types_supported": [],
    }


# --- the offer (in the portal) ---------------------------------------------------------------

@dataclass(frozen=True)
class NewOffer:
    uri: str  # openid-credential-offer://?credential_offer=...
    tx_code: str  # shown in the portal only, never put in the URI
    expires_at: datetime
    card: service.Card


def held_card(session: Session, site: WalletSite, subject_id: str,
              document_code: str) -> service.Card:
    """The newest valid, unexpired portal copy of this document: a wallet app receives only
    what the portal wallet holds now."""
    for card in service.cards(session, site, subject_id):
        if card.document.code == document_code and card.credential.status == "valid" \
                and not card.expired:
            return card
    raise Conflict("you hold no valid copy of this document in your portal wallet")


def _tx_code_digest(pre_authorized_code: str, tx_code: str) -> str:
    """Keyed by the pre-authorized code, which is stored only as its own digest: a million
    PINs cannot be tried against a leaked table without the code."""
    return hmac.new(pre_authorized_code.encode(), tx_code.encode(), hashlib.sha256).hexdigest()


def create_offer(session: Session, site: WalletSite, subject_id: str, document_code: str,
                 tx_code_description: str) -> NewOffer:
    """A one-use offer of one document, valid ten minutes, redeemable with the PIN."""
    card = held_card(session, site, subject_id, document_code)
    code = new_secret()
    tx_code = f"{secrets.randbelow(10 ** TX_CODE_LENGTH):0{TX_CODE_LENGTH}d}"
    moment = now()
    expires = moment + OFFER_LIFETIME
    session.add(CredentialOffer(
        code_digest=digest(code), tx_code_digest=_tx_code_digest(code, tx_code),
        failed_attempts=0, document_type_id=card.document.id, subject_id=subject_id,
        created_at=moment, expires_at=expires))
    audit.record(session, Actor("citizen", subject_id), "wallet.offer.create",
                 subject_type="person", subject_id=subject_id,
                 purpose="send a document to a wallet app",
                 detail={"document": document_code, "credential": card.credential.public_id,
                         "expires_at": expires.isoformat()})
    offer = {
        "credential_issuer": site.issuer_url(card.issuer.slug),
        "credential_configuration_ids": [document_code],
        "grants": {PRE_AUTHORIZED_GRANT: {
            "pre-authorized_code": code,
            "tx_code": {"input_mode": "numeric", "length": TX_CODE_LENGTH,
                        "description": tx_code_description}}},
    }
    text = json.dumps(offer, separators=(",", ":"), ensure_ascii=False)
    return NewOffer(f"{OFFER_SCHEME}?credential_offer={quote(text, safe='')}", tx_code, expires,
                    card)


# --- token ----------------------------------------------------------------------------------

def _issuer_slug(session: Session, offer: CredentialOffer) -> str:
    document = session.get(DocumentType, offer.document_type_id)
    assert document is not None  # a foreign key
    issuer = session.get(Issuer, document.issuer_id)
    assert issuer is not None
    return issuer.slug


def exchange(session: Session, slug: str, form: Mapping[str, str]) -> dict[str, Any]:
    """The token request of the pre-authorized code flow (section 6). A wrong PIN counts
    against the offer, which dies at the fifth; a replayed code also ends the access token it
    gave (RFC 6749 section 4.1.2), unless its credential was already fetched."""
    if "__repeated__" in form:
        raise OAuthError("invalid_request", "a parameter was sent more than once")
    if form.get("grant_type") != PRE_AUTHORIZED_GRANT:
        raise OAuthError("unsupported_grant_type", f"use {PRE_AUTHORIZED_GRANT}")
    code = form.get("pre-authorized_code", "")
    if not code:
        raise OAuthError("invalid_request", "send the pre-authorized_code of the offer")
    offer = repository.offer_by_code(session, digest(code))
    if offer is None or _issuer_slug(session, offer) != slug:
        raise OAuthError("invalid_grant", "unknown pre-authorized code")
    moment = now()
    if offer.redeemed_at is not None:
        if offer.credential_issued_at is None:
            offer.access_expires_at = moment
        raise OAuthError("invalid_grant", "this pre-authorized code was already used")
    if as_utc(offer.expires_at) <= moment:
        raise OAuthError("invalid_grant", "the offer has expired; make a new one in the portal")
    if offer.failed_attempts >= MAX_TX_CODE_FAILURES:
        raise OAuthError("invalid_grant", "too many wrong PINs; make a new offer in the portal")
    tx_code = form.get("tx_code", "")
    if not tx_code:
        raise OAuthError("invalid_request", "send the tx_code (PIN) shown in the portal")
    if not hmac.compare_digest(_tx_code_digest(code, tx_code), offer.tx_code_digest):
        offer.failed_attempts += 1
        left = MAX_TX_CODE_FAILURES - offer.failed_attempts
        # The holder sees it in their history: someone with the QR code is guessing the PIN.
        audit.record(session, audit.SYSTEM, "wallet.offer.wrong_pin", subject_type="person",
                     subject_id=offer.subject_id, purpose="a wallet app sent a wrong PIN",
                     detail={"attempts_left": left})
        raise OAuthError("invalid_grant", f"wrong PIN; {left} attempts left" if left else
                         "wrong PIN; the offer is now unusable, make a new one in the portal")
    token = new_secret()
    offer.redeemed_at = moment
    offer.access_token_digest = digest(token)
    offer.access_expires_at = moment + timedelta(seconds=ACCESS_TOKEN_LIFETIME_S)
    return {"access_token": token, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_LIFETIME_S}


# --- c_nonce --------------------------------------------------------------------------------

def new_c_nonce(session: Session, slug: str) -> dict[str, str]:
    """A one-use nonce for a key proof (section 7). Expired ones are forgotten here, so the
    table holds about five minutes of requests whatever the traffic."""
    service.issuer(session, slug)
    moment = now()
    repository.forget_nonces(session, NONCE_PURPOSE, moment)
    value = new_secret()
    session.add(Nonce(purpose=NONCE_PURPOSE, value_digest=digest(value),
                      expires_at=moment + NONCE_LIFETIME))
    return {"c_nonce": value}


def _use_nonce(session: Session, value: str) -> None:
    found = repository.nonce(session, NONCE_PURPOSE, digest(value))
    moment = now()
    if found is None:
        raise OAuthError("invalid_nonce", "unknown c_nonce; fetch one from the nonce endpoint")
    if found.used_at is not None:
        raise OAuthError("invalid_nonce", "this c_nonce was already used; fetch a fresh one")
    if as_utc(found.expires_at) <= moment:
        raise OAuthError("invalid_nonce", "this c_nonce has expired; fetch a fresh one")
    found.used_at = moment


# --- the credential request -----------------------------------------------------------------

def _offer_for_token(session: Session, slug: str, authorization: str) -> CredentialOffer:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise OAuthError("invalid_token", "send the access token as a Bearer token", 401)
    offer = repository.offer_by_access_token(session, digest(token.strip()))
    if offer is None or _issuer_slug(session, offer) != slug:
        raise OAuthError("invalid_token", "unknown access token", 401)
    if offer.credential_issued_at is not None:
        raise OAuthError("invalid_token", "this access token was already used", 401)
    if offer.access_expires_at is None or as_utc(offer.access_expires_at) <= now():
        raise OAuthError("invalid_token", "the access token has expired", 401)
    return offer


def _requested_document(session: Session, issuer_slug: str, offer: CredentialOffer,
                        request: Any) -> DocumentType:
    if not isinstance(request, dict):
        raise OAuthError("invalid_credential_request", "send the request as a JSON object")
    requested = request.get("credential_configuration_id")
    if not isinstance(requested, str) or not requested:
        raise OAuthError("invalid_credential_request", "name the credential_configuration_id")
    known = {d.code: d for d in _documents_of(session, service.issuer(session, issuer_slug))}
    if requested not in known:
        raise OAuthError("unknown_credential_configuration",
                         f"this issuer has no credential configuration '{requested}'")
    document = known[requested]
    if document.id != offer.document_type_id:
        raise OAuthError("invalid_credential_request",
                         f"this access token was not granted for '{requested}'")
    return document


def _single_proof(request: dict[str, Any]) -> str:
    """One credential per offer, so exactly one key proof, of type jwt."""
    proofs = request.get("proofs")
    if not isinstance(proofs, dict) or not proofs:
        raise OAuthError("invalid_proof", "send a key proof in proofs.jwt")
    jwts = proofs.get("jwt")
    if set(proofs) != {"jwt"} or not isinstance(jwts, list):
        raise OAuthError("invalid_proof", "only jwt key proofs are accepted")
    if len(jwts) != 1 or not isinstance(jwts[0], str):
        raise OAuthError("invalid_proof", "send exactly one key proof; this offer is for one "
                                          "credential")
    return jwts[0]


@dataclass(frozen=True)
class KeyProof:
    holder_jwk: dict[str, Any]  # public
    nonce: str


def check_proof(proof: str, credential_issuer: str, at: int) -> KeyProof:
    """A JWT key proof (appendix F.1): the wallet app's public key in the header, signed by
    that key, for this issuer, fresh, and answering one of our c_nonces (checked by the
    caller, which must also mark it used)."""
    try:
        header, payload, signing_input, signature = jws.signed_parts(proof, "the key proof")
        jws.check_header(header, PROOF_TYP, "the key proof")
        jwk = header.get("jwk")
        if not isinstance(jwk, dict) or "kid" in header or "x5c" in header:
            raise jws.PresentationRefused("the key proof must carry its key as 'jwk' only")
        jws.check_signature(sdjwt.public_key(jwk), signing_input, signature, "the key proof",
                            N_("the key proof signature does not verify"))
        if payload.get("aud") != credential_issuer:
            raise jws.PresentationRefused(f"the key proof's aud must be {credential_issuer}")
        made_at = jws.int_claim(payload, "iat", "the key proof")
    except jws.PresentationRefused as exc:
        raise OAuthError("invalid_proof", exc.reason) from exc
    if made_at > at + sdjwt.CLOCK_SKEW_S:
        raise OAuthError("invalid_proof", "the key proof is dated in the future")
    if made_at < at - PROOF_MAX_AGE_S:
        raise OAuthError("invalid_proof", "the key proof is too old; make a fresh one")
    nonce = payload.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise OAuthError("invalid_proof", "the key proof carries no c_nonce")
    return KeyProof({name: jwk[name] for name in ("kty", "crv", "x", "y")}, nonce)


def issue(session: Session, site: WalletSite, slug: str, authorization: str,
          body: bytes) -> dict[str, Any]:
    """The credential request (section 8): the document the offer named, with the claims of
    the citizen's current portal copy, bound to the key the wallet app proved it holds. The
    access token gives one credential; a refused proof leaves it usable for a retry."""
    offer = _offer_for_token(session, slug, authorization)
    if len(body) > MAX_REQUEST_BYTES:
        raise OAuthError("invalid_credential_request", "the request is too large")
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_credential_request", "the body is not JSON") from exc
    document = _requested_document(session, slug, offer, request)
    proof = check_proof(_single_proof(request), site.issuer_url(slug), int(now().timestamp()))
    _use_nonce(session, proof.nonce)
    try:
        card = held_card(session, site, offer.subject_id, document.code)
        issued = service.issue_credential(session, site, Actor("issuer", slug), document.code,
                                          offer.subject_id, card.claims,
                                          wallet_app_key=proof.holder_jwk,
                                          copy_of=card.credential)
    except DomainError as exc:
        raise OAuthError("credential_request_denied", exc.detail) from exc
    offer.credential_issued_at = now()
    return {"credentials": [{"credential": issued.sd_jwt}]}
