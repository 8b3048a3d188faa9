"""OpenID4VCI endpoints of each issuing agency: metadata, token, nonce and credential. Thin:
the rules are in vci.py; refusals leave in OAuth's shape and, being returned rather than
raised, commit what they changed (a wrong PIN counts, a used nonce stays used)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Security
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from civicstack.kit.apisecurity import bearer_checked_by_handler
from civicstack.kit.deps import DbSession
from civicstack.kit.ratelimit import FailureLimiter
from civicstack.kit.web import client_address, limiter
from civicstack.oidc.oauth_http import OAUTH_REFUSALS, Form, answer
from civicstack.oidc.protocol import OAuthError
from civicstack.wallet import vci
from civicstack.wallet.site import site_of

router = APIRouter(tags=["wallet: OpenID4VCI"])
ISSUER = "/wallet/issuers/{slug}"
METADATA_CACHE = {"Cache-Control": "public, max-age=300"}
NONCES_PER_MINUTE = 60  # far above any wallet app's need; a client past it is flooding
# No client authentication here, so no 401; a client refused for flooding (too many failures,
# too many nonces) gets a problem, not OAuth's shape.
OAUTH_OR_LIMITED: dict[int | str, dict[str, Any]] = {400: OAUTH_REFUSALS[400], 429: {}}
CREDENTIAL_ACCESS_TOKEN = bearer_checked_by_handler(  # declared; vci.issue checks it
    "credentialAccessToken", "opaque",
    "An access token from the issuer's own token endpoint (OpenID4VCI pre-authorized code).")


def _nonce_budget(request: Request) -> FailureLimiter:
    """Nonces are stored until they expire, so an unauthenticated endpoint gets a budget."""
    return limiter(request, "vci_nonce_requests", NONCES_PER_MINUTE, 60, "too many requests")


@router.get("/.well-known/openid-credential-issuer" + ISSUER)
def credential_issuer_metadata(request: Request, session: DbSession, slug: str) -> JSONResponse:
    return JSONResponse(vci.issuer_metadata(session, site_of(request), slug),
                        headers=METADATA_CACHE)


@router.get("/.well-known/oauth-authorization-server" + ISSUER)
def authorization_server_metadata(request: Request, session: DbSession,
                                  slug: str) -> JSONResponse:
    return JSONResponse(vci.authorization_server_metadata(session, site_of(request), slug),
                        headers=METADATA_CACHE)


@router.post(ISSUER + "/token", responses=OAUTH_OR_LIMITED)
async def token(request: Request, form: Form, slug: str) -> Response:
    """Pre-authorized code for an access token; a client whose codes or PINs keep failing is
    refused for a while (429), on top of each offer's own limit of five PINs."""
    failures, client = limiter(request, "vci_token_failures"), client_address(request)

    def work(session: Session) -> dict[str, Any]:
        failures.check(session, client)
        try:
            return vci.exchange(session, slug, form)
        except OAuthError:
            failures.failed(session, client)  # answered, not raised: it commits
            raise
    return await answer(request, work)


@router.post(ISSUER + "/nonce", responses=OAUTH_OR_LIMITED)
async def nonce(request: Request, slug: str) -> Response:
    budget, client = _nonce_budget(request), client_address(request)

    def work(session: Session) -> dict[str, Any]:
        budget.check(session, client)
        budget.failed(session, client)  # every nonce counts against the budget, not only failures
        return vci.new_c_nonce(session, slug)
    return await answer(request, work)


async def _capped_body(request: Request) -> bytes:
    """The body, read no further than one byte past what a credential request may weigh."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > vci.MAX_REQUEST_BYTES:
            break
    return bytes(body)


@router.post(ISSUER + "/credential", responses=OAUTH_REFUSALS,
             dependencies=[Security(CREDENTIAL_ACCESS_TOKEN)])
async def credential(request: Request, slug: str) -> Response:
    body = await _capped_body(request)
    authorization = request.headers.get("authorization", "")

    def work(session: Session) -> dict[str, Any]:
        return vci.issue(session, site_of(request), slug, authorization, body)
    return await answer(request, work)
