"""OpenID4VP over HTTP: the relying party's API (ask, then read the verified answer) and the
wallet-facing endpoints (the signed request object, the direct_post response). Thin: the
rules are in vp.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Form, Request, Security
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from civicstack.kit.appservices import services_of
from civicstack.kit.deps import DbSession
from civicstack.kit.errors import Problem, Unauthorized
from civicstack.oidc import clients
from civicstack.oidc.oauth_http import CLIENT_AUTHENTICATION
from civicstack.oidc.protocol import OAuthError
from civicstack.oidc.site import PROVIDER
from civicstack.oidc.tokens import Provider
from civicstack.wallet import vp
from civicstack.wallet.site import site_of

router = APIRouter(tags=["wallet: OpenID4VP"])
API_PATH = "/api/v1/wallet/presentation-requests"
NO_STORE = {"Cache-Control": "no-store"}


class ClientUnauthorized(Unauthorized):
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Basic realm="civicstack"'}


class PresentationAsk(BaseModel):
    document_type: str = Field(description="A document type code, e.g. `id_card`.",
                               examples=["id_card"])
    claims: list[str] = Field(description="Claim names of that document type's schema; the "
                                          "holder sees each one and nothing else is shared.",
                              examples=[["full_name", "date_of_birth"]])
    purpose: str = Field(description="Why you ask, 5 to 300 characters: shown to the holder "
                                     "and written to the audit log.",
                         examples=["open a bank account"])
    redirect_uri: str | None = Field(default=None, description="Where the holder goes back "
                                     "to afterwards; one of your registered redirect URIs.")
    client_assertion_type: str | None = Field(default=None, description="private_key_jwt "
                                              "clients: as at the token endpoint.")
    client_assertion: str | None = None


class PresentationRequestOut(BaseModel):
    id: str
    nonce: str
    request_uri: str
    wallet_url: str = Field(description="The portal wallet's consent page, for a holder on "
                                        "the same device.")
    openid4vp_uri: str = Field(description="For a wallet app: show it as a QR code or link.")
    expires_at: datetime


class PresentationOutcomeOut(BaseModel):
    state: str = Field(description="pending, verified, refused or declined.")
    document_type: str
    issuer: str | None
    claims: dict[str, Any] = Field(description="The verified claims, exactly those asked "
                                               "for; empty unless verified.")
    verified_at: datetime | None
    refusal_reason: str
    paper_not_required: bool = Field(description="True when verified: the issuing agency "
                                     "vouches for these data, so do not ask the person for "
                                     "paper copies or certified photocopies of them.")


def _relying_party(request: Request, session: Session, assertion_type: str | None,
                   assertion: str | None) -> vp.RelyingParty:
    """Client authentication as at the token endpoint: client_secret_basic, or a
    private_key_jwt assertion (single-use, its `jti` spent) naming the issuer or this API."""
    issuer = _provider(request).issuer
    form = {"client_assertion_type": assertion_type or "", "client_assertion": assertion or ""}
    try:
        client = clients.authenticate_client(session, services_of(request.app).pepper,
                                             clients.ClientCredentials(
                                                 request.headers.get("authorization", ""),
                                                 form, (issuer, f"{issuer}{API_PATH}")))
    except OAuthError as exc:
        raise ClientUnauthorized(exc.description) from None
    return vp.RelyingParty(client.client_id, client.name, tuple(client.redirect_uris))


def _provider(request: Request) -> Provider:
    found: Provider = services_of(request.app)[PROVIDER]
    return found



@router.post(API_PATH, status_code=201, response_model=PresentationRequestOut,
             dependencies=[Security(CLIENT_AUTHENTICATION)])
def create_presentation_request(request: Request, ask: PresentationAsk,
                                session: DbSession) -> PresentationRequestOut:
    """Ask a person for named claims of one wallet document (OpenID4VP 1.0, DCQL, SD-JWT VC).

    Authenticate as at the OpenID Connect token endpoint. Send the person to `wallet_url`
    (same device) or show `openid4vp_uri` as a QR code (a wallet app); the request lives ten
    minutes. Then read the answer at `GET .../{id}`. Verified claims come from the issuing
    agency through the person's wallet: a relying party that received them **must not ask
    the person for paper documents** proving the same data."""
    party = _relying_party(request, session, ask.client_assertion_type, ask.client_assertion)
    created = vp.create_request(session, party, vp.Ask(ask.document_type, ask.claims,
                                                       ask.purpose, ask.redirect_uri))
    base = _provider(request).issuer
    return PresentationRequestOut(
        id=created.public_id, nonce=created.nonce, request_uri=vp.request_uri(base, created),
        wallet_url=f"{base}{vp.wallet_path(created)}",
        openid4vp_uri=vp.openid4vp_uri(base, created), expires_at=created.expires_at)


@router.get(API_PATH + "/{public_id}", response_model=PresentationOutcomeOut,
            dependencies=[Security(CLIENT_AUTHENTICATION)])
def read_presentation_request(request: Request, public_id: str, session: DbSession,
                              client_assertion_type: str | None = None,
                              client_assertion: str | None = None) -> PresentationOutcomeOut:
    """The answer to one of your requests: poll until `state` is no longer `pending`.

    `claims` are verified: signed by the issuing agency, valid and not revoked or suspended
    at the time of the answer, bound to the holder's key, made for this request (nonce) and
    for you (audience), and approved by the person. With `paper_not_required`, do not ask
    for paper copies of these data. Another relying party's request is not found."""
    party = _relying_party(request, session, client_assertion_type, client_assertion)
    found = vp.outcome(session, party.client_id, public_id)
    verified = found.state == "verified"
    return PresentationOutcomeOut(
        state=found.state, document_type=found.request.document_type_code,
        issuer=found.issuer, claims=found.claims,
        verified_at=found.request.answered_at if verified else None,
        refusal_reason=found.refusal_reason, paper_not_required=verified)


@router.get("/wallet/presentation-requests/{public_id}/request",
            response_class=Response, tags=["wallet: OpenID4VP"])
def presentation_request_object(request: Request, public_id: str,
                                session: DbSession) -> Response:
    """The signed authorization request object a wallet fetches by `request_uri`
    (`typ: oauth-authz-req+jwt`, ES256, key in /oidc/jwks)."""
    found = vp.pending_request(session, public_id)
    key = _provider(request).keys.signing_key(vp.REQUEST_OBJECT_ALG)
    token = vp.request_object(session, _provider(request).issuer, found, key)
    return Response(token, media_type="application/oauth-authz-req+jwt", headers=NO_STORE)


@router.post("/wallet/presentation-requests/{public_id}/response")
def presentation_response(request: Request, public_id: str, session: DbSession,
                          vp_token: Annotated[str, Form()] = "",
                          state: Annotated[str, Form()] = "",
                          error: Annotated[str, Form()] = "") -> Response:
    """The wallet's answer (`response_mode=direct_post`): `vp_token` is
    `{"document": ["<SD-JWT presentation>"]}`. A refused answer is a problem response and
    closes the request; the relying party must ask again."""
    answer = vp.receive(session, site_of(request), public_id,
                        vp.WalletResponse(vp_token=vp_token, state=state, error=error))
    if answer.refusal:  # returned, not raised: the refusal is recorded and must commit
        problem = Problem(400, "Presentation refused", answer.refusal, "presentation-refused",
                          request.url.path, headers=dict(NO_STORE))
        return problem.response()
    back = vp.redirect_uri(answer.request)
    return JSONResponse({"redirect_uri": back} if back else {}, headers=NO_STORE)
