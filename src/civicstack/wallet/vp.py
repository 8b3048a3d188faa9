"""OpenID4VP 1.0 verifier: a relying party asks for named claims of one document type, the
holder answers by `direct_post` (a wallet app, or the portal wallet after the citizen's
consent), and the verified claims wait for the relying party. No web framework here.

Client identifier: the relying party's CivicStack `client_id`, without a prefix, i.e. a
pre-registered client (OpenID4VP 1.0, 5.9.1). Relying parties are registered here, and the
request object is signed with CivicStack's OpenID Connect key (published at /oidc/jwks). The
`redirect_uri:` prefix was not used because it forbids signed request objects (5.9.3); its
per-request identifier would also make every request's audience different, where a relying
party's own identifier tells the holder (and the audit log) who is asking.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from sqlalchemy.orm import Session

from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.db import as_utc
from civicstack.kit.errors import Conflict, FieldError, Invalid, NotFound
from civicstack.kit.i18n import N_
from civicstack.kit.keys import SigningKey
from civicstack.wallet import replay, repository, sdjwt, service
from civicstack.wallet.jws import PresentationRefused
from civicstack.wallet.models import DocumentType, Issuer, PresentationRequest
from civicstack.wallet.site import KEY_BINDING_MAX_AGE_S, WalletSite
from civicstack.wallet.trust import LiveTrust

REQUEST_LIFETIME = timedelta(minutes=10)
MIN_PURPOSE_LENGTH = 5
MAX_PURPOSE_LENGTH = 300
QUERY_ID = "document"  # the DCQL credential query's id, hence the key of the vp_token object
REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
REQUEST_OBJECT_ALG = "ES256"
# OpenID4VP 5.8: the audience of a request object for a wallet found by static discovery.
SELF_ISSUED_AUDIENCE = "https://self-issued.me/v2"
DECLINED_BY_WALLET = "access_denied"  # OpenID4VP 8.5: the holder said no
ALREADY_USED = N_("this presentation was already used")


def now() -> datetime:
    return datetime.now(UTC)


# --- asking ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RelyingParty:
    """An authenticated OpenID Connect client, as far as the verifier needs it."""

    client_id: str
    name: str
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class Ask:
    document_type: str
    claims: list[str]
    purpose: str
    redirect_uri: str | None = None


def create_request(session: Session, party: RelyingParty, ask: Ask) -> PresentationRequest:
    """A pending request for ten minutes, with a fresh nonce the key binding must carry."""
    document = _asked_document(session, ask.document_type)
    claims = _asked_claims(document, ask.claims)
    purpose = " ".join(ask.purpose.split())
    if not MIN_PURPOSE_LENGTH <= len(purpose) <= MAX_PURPOSE_LENGTH:
        raise Invalid("purpose", "say in 5 to 300 characters why you ask; the holder reads it")
    if ask.redirect_uri is not None and ask.redirect_uri not in party.redirect_uris:
        raise Invalid("redirect_uri", "must be one of your registered redirect URIs")
    moment = now()
    request = PresentationRequest(
        public_id=secrets.token_hex(16), client_id=party.client_id,
        verifier_name=party.name[:200], purpose=purpose, nonce=secrets.token_urlsafe(32),
        document_type_code=document.code, requested_claims=claims, state="pending",
        # `result` keeps where the holder goes back to, and later what was verified
        result={"redirect_uri": ask.redirect_uri} if ask.redirect_uri else None,
        refusal_reason="", subject_id=None, created_at=moment,
        expires_at=moment + REQUEST_LIFETIME)
    session.add(request)
    session.flush()
    return request


def _asked_document(session: Session, code: str) -> DocumentType:
    try:
        document = service.document_type(session, code)
    except NotFound:
        raise Invalid("document_type", "no such document type in the wallet") from None
    if document.subject_kind != "person":
        raise Invalid("document_type", "only a person's documents can be asked for here")
    return document


def _asked_claims(document: DocumentType, asked: list[str]) -> list[str]:
    if not asked:
        raise Invalid("claims", "ask for at least one claim")
    known = {spec["name"] for spec in document.claims}
    errors = [FieldError(f"claims.{name}", "not a claim of this document type")
              for name in asked if name not in known]
    if errors:
        raise Invalid.of_fields(errors)
    return list(dict.fromkeys(asked))  # each once, in the order asked


# --- the protocol's addresses and request object --------------------------------------------

def audience(request: PresentationRequest) -> str:
    """The client_id of the request object, hence what the key-binding JWT's `aud` must be."""
    return request.client_id


def request_uri(base_url: str, request: PresentationRequest) -> str:
    return f"{base_url}/wallet/presentation-requests/{request.public_id}/request"


def response_uri(base_url: str, request: PresentationRequest) -> str:
    return f"{base_url}/wallet/presentation-requests/{request.public_id}/response"


def wallet_path(request: PresentationRequest) -> str:
    """The portal wallet's consent page, for a citizen on the same device."""
    return f"/wallet/present/{request.public_id}"


def openid4vp_uri(base_url: str, request: PresentationRequest) -> str:
    """For a wallet app, by QR code or link: the request is passed by reference."""
    return "openid4vp://?" + urlencode({"client_id": audience(request),
                                        "request_uri": request_uri(base_url, request)})


def dcql_query(request: PresentationRequest, vct: str) -> dict[str, Any]:
    return {"credentials": [{
        "id": QUERY_ID, "format": sdjwt.CREDENTIAL_TYP, "meta": {"vct_values": [vct]},
        "claims": [{"path": [name]} for name in request.requested_claims]}]}


def request_object(session: Session, base_url: str, request: PresentationRequest,
                   key: SigningKey) -> str:
    """The signed authorization request (OpenID4VP 5, RFC 9101) a wallet fetches."""
    _still_open(request)
    document = service.document_type(session, request.document_type_code)
    claims = {
        "aud": SELF_ISSUED_AUDIENCE, "iat": int(request.created_at.timestamp()),
        "exp": int(as_utc(request.expires_at).timestamp()),
        "response_type": "vp_token", "response_mode": "direct_post",
        "response_uri": response_uri(base_url, request), "client_id": audience(request),
        "nonce": request.nonce, "state": request.public_id,
        "dcql_query": dcql_query(request, service.vct_for(document)),
        "client_metadata": {"client_name": request.verifier_name,
                            "vp_formats_supported": {sdjwt.CREDENTIAL_TYP: {
                                "sd-jwt_alg_values": ["ES256"],
                                "kb-jwt_alg_values": ["ES256"]}}},
        "purpose": request.purpose,
    }
    header = {"alg": REQUEST_OBJECT_ALG, "kid": key.kid, "typ": REQUEST_OBJECT_TYP}
    return jwt.encode(header, claims, key)


def _still_open(request: PresentationRequest) -> None:
    if request.state != "pending":
        raise Conflict("this request was already answered")
    if as_utc(request.expires_at) <= now():
        raise Conflict("this request has expired; ask the service for a new one")


def pending_request(session: Session, public_id: str) -> PresentationRequest:
    found = repository.presentation_request(session, public_id)
    if found is None:
        raise NotFound("no such presentation request")
    return found


# --- answering ------------------------------------------------------------------------------

@dataclass(frozen=True)
class WalletResponse:
    """The fields of a direct_post (OpenID4VP 8.2): a vp_token or an error, and the state."""

    vp_token: str
    state: str
    error: str = ""


@dataclass(frozen=True)
class Answer:
    request: PresentationRequest
    refusal: str  # why the answer was refused; "" when it was accepted


def receive(session: Session, site: WalletSite, public_id: str,
            response: WalletResponse) -> Answer:
    """The one place an answer is judged, from a wallet app or the portal wallet. A request is
    answered once: the first answer, accepted or refused, is final, so a presentation cannot
    be tried again and again against it."""
    request = repository.presentation_request(session, public_id, lock=True)
    if request is None:
        raise NotFound("no such presentation request")
    if request.state != "pending":
        return Answer(request, "this request was already answered")
    moment = now()
    if as_utc(request.expires_at) <= moment:
        return _refuse(request, N_("the request has expired"), moment)
    if response.state != request.public_id:
        return _refuse(request, "the state does not match this request", moment)
    if response.error:
        if response.error == DECLINED_BY_WALLET:
            _close(request, "declined", moment, None)
            return Answer(request, "")
        return _refuse(request, f"the wallet answered with the error {response.error[:100]}",
                       moment)
    try:
        presentation = _presentation(response.vp_token)
        verified = sdjwt.verify(presentation, LiveTrust(session, site), sdjwt.Expectations(
            audience(request), int(moment.timestamp()), nonce=request.nonce,
            max_key_binding_age_s=KEY_BINDING_MAX_AGE_S))
        _check_answers_request(session, site, request, verified)
        subject_id = _subject(session, site, presentation, verified)
        replay.accept_once(session, verified, ALREADY_USED)
    except PresentationRefused as exc:
        return _refuse(request, str(exc), moment)
    _accept(session, request, verified, subject_id, moment)
    return Answer(request, "")


def _presentation(vp_token: str) -> str:
    """vp_token is a JSON object keyed by the DCQL query id (OpenID4VP 8.1)."""
    try:
        token = json.loads(vp_token)
    except ValueError:
        token = None
    presentations = token.get(QUERY_ID) if isinstance(token, dict) else None
    if not isinstance(presentations, list) or len(presentations) != 1 or \
            not isinstance(presentations[0], str):
        expected = f'{{"{QUERY_ID}": ["<SD-JWT presentation>"]}}'
        raise PresentationRefused(f"vp_token must be a JSON object {expected}")
    return presentations[0]


def _check_answers_request(session: Session, site: WalletSite, request: PresentationRequest,
                           verified: sdjwt.VerifiedPresentation) -> None:
    if service.document_code_of(verified.vct) != request.document_type_code:
        raise PresentationRefused("the presentation is of another document type")
    document = service.document_type(session, request.document_type_code)
    issuer = session.get(Issuer, document.issuer_id)
    assert issuer is not None  # a foreign key
    if verified.issuer != site.issuer_url(issuer.slug):
        raise PresentationRefused("the document was not issued by the agency that issues it")
    missing = [name for name in request.requested_claims if name not in verified.claims]
    if missing:
        raise PresentationRefused(f"undisclosed claim requested: {', '.join(missing)}")


def _subject(session: Session, site: WalletSite, presentation: str,
             verified: sdjwt.VerifiedPresentation) -> str:
    """Whose data this is: the disclosed personal ID number, else the holder the issuer
    recorded at the credential's status position."""
    disclosed = verified.claims.get("personal_id_number")
    if isinstance(disclosed, str) and disclosed:
        return disclosed
    reference = sdjwt.credential_payload(presentation)["status"]["status_list"]
    issuer_url, _, number = str(reference["uri"]).rpartition("/status/")
    slug = issuer_url.rsplit("/", 1)[-1]
    issuer = repository.issuer_by_slug(session, slug)
    listed = repository.status_list(session, issuer.id, int(number)) \
        if issuer and site.issuer_url(slug) == issuer_url and number.isdigit() else None
    credential = repository.credential_at(session, listed.id, int(reference["idx"])) \
        if listed else None
    if credential is None:
        raise PresentationRefused("the credential is not in its issuer's records")
    return credential.subject_id


def _accept(session: Session, request: PresentationRequest,
            verified: sdjwt.VerifiedPresentation, subject_id: str, moment: datetime) -> None:
    # Only what was asked is kept: a wallet that discloses more does not get it passed on.
    claims = {name: verified.claims[name] for name in request.requested_claims}
    request.result = {**(request.result or {}), "issuer": verified.issuer, "vct": verified.vct,
                      "claims": claims}
    _close(request, "verified", moment, subject_id)
    audit.record(session, Actor("relying_party", request.client_id), "wallet.presentation.read",
                 subject_type="person", subject_id=subject_id, purpose=request.purpose,
                 detail={"request": request.public_id, "document_type":
                         request.document_type_code, "issuer": verified.issuer,
                         "claims": sorted(claims)})


def _refuse(request: PresentationRequest, reason: str, moment: datetime) -> Answer:
    request.refusal_reason = reason[:300]
    _close(request, "refused", moment, request.subject_id)
    return Answer(request, reason)


def _close(request: PresentationRequest, state: str, moment: datetime,
           subject_id: str | None) -> None:
    request.state, request.answered_at, request.subject_id = state, moment, subject_id


# --- the citizen's consent in the portal wallet ---------------------------------------------

@dataclass(frozen=True)
class Consent:
    request: PresentationRequest
    document: DocumentType
    cards: list[service.Card]  # the holder's usable cards of the asked type, newest first

    def labels(self, locale: str) -> list[str]:
        """The asked claims as people read them, in the asked order."""
        specs = {spec["name"]: spec for spec in self.document.claims}
        key = "label_en" if locale == "en" else "label"
        return [str(specs[name][key]) for name in self.request.requested_claims]


def consent(session: Session, site: WalletSite, public_id: str, subject_id: str) -> Consent:
    request = pending_request(session, public_id)
    _still_open(request)
    document = service.document_type(session, request.document_type_code)
    usable = [card for card in service.cards(session, site, subject_id)
              if card.document.code == document.code and card.credential.status == "valid"
              and not card.expired]
    return Consent(request, document, usable)


def approve(session: Session, site: WalletSite, public_id: str, subject_id: str,
            card_public_id: str) -> Answer:
    """The citizen approved: the portal wallet presents exactly the asked claims of the chosen
    card, and the answer goes through the same judgement as a wallet app's."""
    chosen = consent(session, site, public_id, subject_id)
    if card_public_id not in {card.credential.public_id for card in chosen.cards}:
        raise Invalid("card", "choose one of your documents of the type asked for")
    request = chosen.request
    presentation = service.present(session, site, subject_id, card_public_id,
                                   list(request.requested_claims), audience(request),
                                   request.nonce)
    return receive(session, site, public_id, WalletResponse(
        vp_token=json.dumps({QUERY_ID: [presentation]}), state=request.public_id))


def decline(session: Session, public_id: str, subject_id: str) -> PresentationRequest:
    request = repository.presentation_request(session, public_id, lock=True)
    if request is None:
        raise NotFound("no such presentation request")
    _still_open(request)
    _close(request, "declined", now(), subject_id)
    return request


# --- the relying party's reading ------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    request: PresentationRequest
    state: str  # pending, verified, refused or declined; an unanswered, expired one is refused
    refusal_reason: str

    @property
    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = (self.request.result or {}).get("claims", {})
        return claims if self.state == "verified" else {}

    @property
    def issuer(self) -> str | None:
        issuer = (self.request.result or {}).get("issuer")
        return str(issuer) if issuer and self.state == "verified" else None


def outcome(session: Session, client_id: str, public_id: str) -> Outcome:
    """A relying party reads its own requests only; another's is not found."""
    request = repository.presentation_request(session, public_id)
    if request is None or request.client_id != client_id:
        raise NotFound("no such presentation request")
    if request.state == "pending" and as_utc(request.expires_at) <= now():
        return Outcome(request, "refused", "the request expired unanswered")
    return Outcome(request, request.state, request.refusal_reason)


def redirect_uri(request: PresentationRequest) -> str | None:
    found = (request.result or {}).get("redirect_uri")
    return str(found) if found else None
