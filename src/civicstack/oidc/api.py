"""Back-channel endpoints of the provider: discovery, JWKS, PAR, token, userinfo, revocation
and introspection. Thin: parse the form, authenticate the client, call the rules.

Refusals are *returned* (not raised) so the request's transaction still commits what the
refusal itself changed: a replayed code or a reused refresh token revokes its whole family,
and that revocation must stick.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Security
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from civicstack.kit.appservices import services_of
from civicstack.oidc import clients, service, tokens
from civicstack.oidc.models import OidcClient
from civicstack.oidc.oauth_http import (
    ACCESS_TOKEN,
    CLIENT_AUTHENTICATION,
    OAUTH_REFUSALS,
    Form,
    answer,
)
from civicstack.oidc.protocol import ACR_LEVELS, SCOPE_CLAIMS, SUPPORTED_SCOPES, OAuthError
from civicstack.oidc.site import PROVIDER

router = APIRouter(tags=["OpenID Connect"])
AUTHENTICATED_CLIENT = [Security(CLIENT_AUTHENTICATION)]


def provider(request: Request) -> tokens.Provider:
    found: tokens.Provider = services_of(request.app)[PROVIDER]
    return found


def endpoint(request: Request, name: str) -> str:
    return f"{provider(request).issuer}/oidc/{name}"


def _client(request: Request, session: Session, form: dict[str, str]) -> OidcClient:
    if "__repeated__" in form:
        raise OAuthError("invalid_request", "a parameter was sent more than once")
    issuer = provider(request).issuer
    audiences = (issuer, *(f"{issuer}/oidc/{name}" for name in ("token", "par", "revoke",
                                                                 "introspect")))
    return clients.authenticate_client(session, services_of(request.app).pepper,
                                       clients.ClientCredentials(
                                           request.headers.get("authorization", ""), form,
                                           audiences))


@router.get("/.well-known/openid-configuration")
def discovery(request: Request) -> dict[str, Any]:
    issuer = provider(request).issuer
    auth_methods = list(clients.AUTH_METHODS)
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oidc/authorize",
        "pushed_authorization_request_endpoint": endpoint(request, "par"),
        "token_endpoint": endpoint(request, "token"),
        "userinfo_endpoint": endpoint(request, "userinfo"),
        "jwks_uri": endpoint(request, "jwks"),
        "revocation_endpoint": endpoint(request, "revoke"),
        "introspection_endpoint": endpoint(request, "introspect"),
        "end_session_endpoint": endpoint(request, "logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": clients.ASSERTION_ALGORITHMS,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "scopes_supported": list(SUPPORTED_SCOPES),
        "claims_supported": sorted({c for claims in SCOPE_CLAIMS.values() for c in claims}
                                   | {"iss", "aud", "exp", "iat", "auth_time", "nonce", "acr",
                                      "amr", "sid"}),
        "acr_values_supported": list(ACR_LEVELS),
        "prompt_values_supported": sorted(service.KNOWN_PROMPTS),
        "authorization_response_iss_parameter_supported": True,
        "require_pushed_authorization_requests": False,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "ui_locales_supported": ["vi", "en"],
        # Back-Channel Logout 1.0 and Front-Channel Logout 1.0; logout tokens and frames
        # always carry the session's `sid` (and a frame `iss`, where the party asks for it).
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": True,
        "frontchannel_logout_session_supported": True,
    }


@router.get("/oidc/jwks")
def jwks(request: Request) -> JSONResponse:
    return JSONResponse(provider(request).keys.public_jwks(),
                        headers={"Cache-Control": "public, max-age=300"})


@router.post("/oidc/par", status_code=201, dependencies=AUTHENTICATED_CLIENT,
             responses=OAUTH_REFUSALS)
async def pushed_authorization(request: Request, form: Form) -> Response:
    def work(session: Session) -> dict[str, Any]:
        client = _client(request, session, form)
        request_uri, expires_in = service.push_request(session, client, form)
        return {"request_uri": request_uri, "expires_in": expires_in}
    return await answer(request, work, status=201)


@router.post("/oidc/token", dependencies=AUTHENTICATED_CLIENT,
             responses=OAUTH_REFUSALS)
async def token(request: Request, form: Form) -> Response:
    def work(session: Session) -> dict[str, Any]:
        client = _client(request, session, form)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return tokens.exchange_code(session, provider(request), client, form)
        if grant_type == "refresh_token":
            return tokens.refresh(session, provider(request), client, form)
        raise OAuthError("unsupported_grant_type", "use authorization_code or refresh_token")
    return await answer(request, work)


@router.post("/oidc/revoke", dependencies=AUTHENTICATED_CLIENT,
             responses=OAUTH_REFUSALS)
async def revoke(request: Request, form: Form) -> Response:
    def work(session: Session) -> None:
        tokens.revoke(session, _client(request, session, form), form.get("token", ""))
    return await answer(request, work)


@router.post("/oidc/introspect", dependencies=AUTHENTICATED_CLIENT,
             responses=OAUTH_REFUSALS)
async def introspect(request: Request, form: Form) -> Response:
    def work(session: Session) -> dict[str, Any]:
        client = _client(request, session, form)
        return tokens.introspect(session, provider(request), client, form.get("token", ""))
    return await answer(request, work)


# OIDC Core 5.3.1 allows both methods; each gets its own OpenAPI operation id.
@router.get("/oidc/userinfo", operation_id="oidc_userinfo_get",
            dependencies=[Security(ACCESS_TOKEN)], responses=OAUTH_REFUSALS)
@router.post("/oidc/userinfo", operation_id="oidc_userinfo_post",
             dependencies=[Security(ACCESS_TOKEN)], responses=OAUTH_REFUSALS)
async def userinfo(request: Request) -> Response:
    def work(session: Session) -> dict[str, Any]:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise OAuthError("invalid_token", "send the access token as a Bearer token", 401)
        return tokens.userinfo(session, provider(request), value.strip())
    return await answer(request, work)
