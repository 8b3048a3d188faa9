"""Back-channel endpoints of the provider: discovery, JWKS, PAR, token, userinfo, revocation
and introspection. Thin: parse the form, authenticate the client, call the rules.

Refusals are *returned* (not raised) so the request's transaction still commits what the
refusal itself changed: a replayed code or a reused refresh token revokes its whole family,
and that revocation must stick.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.appservices import services_of
from civicstack.oidc import clients, service, tokens
from civicstack.oidc.models import OidcClient
from civicstack.oidc.protocol import ACR_LEVELS, SCOPE_CLAIMS, SUPPORTED_SCOPES, OAuthError
from civicstack.oidc.site import PROVIDER

router = APIRouter(tags=["OpenID Connect"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM_LIMIT = 64


async def form_fields(request: Request) -> dict[str, str]:
    """The request's form as single values; OAuth forbids repeating a parameter (RFC 6749
    3.1), so a repeated one is refused rather than silently picking either."""
    form = await request.form(max_files=0, max_fields=FORM_LIMIT)
    pairs = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    fields = dict(pairs)
    if len(fields) != len(pairs):
        fields["__repeated__"] = "yes"
    return fields


Form = Annotated[dict[str, str], Depends(form_fields)]


def provider(request: Request) -> tokens.Provider:
    found: tokens.Provider = services_of(request.app)[PROVIDER]
    return found


def endpoint(request: Request, name: str) -> str:
    return f"{provider(request).issuer}/oidc/{name}"


def oauth_error(exc: OAuthError) -> JSONResponse:
    headers = dict(NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = (
            'Bearer error="invalid_token"' if exc.error == "invalid_token" else 'Basic')
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


Work = Callable[[Session], dict[str, Any] | None]


async def answer(request: Request, work: Work, status: int = 200) -> Response:
    """Run `work` in one transaction on one worker thread, reached through asyncio's executor.
    A dependency-injected session would cross threads three times per request (open, endpoint,
    close), and each of Starlette's anyio hops costs about 1 ms against 0.3 ms for the
    executor's (docs/benchmarks.md); the transaction commits before the response leaves."""
    factory: sessionmaker[Session] = services_of(request.app).session_factory

    def in_transaction() -> Response:
        with factory() as session, session.begin():
            try:
                body = work(session)
            except OAuthError as exc:
                return oauth_error(exc)
        if body is None:
            return Response(status_code=status, headers=NO_STORE)
        return JSONResponse(body, status_code=status, headers=NO_STORE)

    context = contextvars.copy_context()  # the request id bound for logging goes along
    return await asyncio.get_running_loop().run_in_executor(None, context.run, in_transaction)


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
    }


@router.get("/oidc/jwks")
def jwks(request: Request) -> JSONResponse:
    return JSONResponse(provider(request).keys.public_jwks(),
                        headers={"Cache-Control": "public, max-age=300"})


@router.post("/oidc/par", status_code=201)
async def pushed_authorization(request: Request, form: Form) -> Response:
    def work(session: Session) -> dict[str, Any]:
        client = _client(request, session, form)
        request_uri, expires_in = service.push_request(session, client, form)
        return {"request_uri": request_uri, "expires_in": expires_in}
    return await answer(request, work, status=201)


@router.post("/oidc/token")
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


@router.post("/oidc/revoke")
async def revoke(request: Request, form: Form) -> Response:
    def work(session: Session) -> None:
        tokens.revoke(session, _client(request, session, form), form.get("token", ""))
    return await answer(request, work)


@router.post("/oidc/introspect")
async def introspect(request: Request, form: Form) -> Response:
    def work(session: Session) -> dict[str, Any]:
        client = _client(request, session, form)
        return tokens.introspect(session, provider(request), client, form.get("token", ""))
    return await answer(request, work)


# OIDC Core 5.3.1 allows both methods; each gets its own OpenAPI operation id.
@router.get("/oidc/userinfo", operation_id="oidc_userinfo_get")
@router.post("/oidc/userinfo", operation_id="oidc_userinfo_post")
async def userinfo(request: Request) -> Response:
    def work(session: Session) -> dict[str, Any]:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise OAuthError("invalid_token", "send the access token as a Bearer token", 401)
        return tokens.userinfo(session, provider(request), value.strip())
    return await answer(request, work)
