"""The HTTP edge of OAuth-shaped endpoints, shared by the provider's back channel and the
wallet's OpenID4VCI issuer: the form read as single values, and the work done in one
transaction on one worker thread, a refusal answered in OAuth's shape (and returned, not
raised, so the transaction still commits what the refusal changed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from civicstack.kit.apisecurity import basic_checked_by_handler, bearer_checked_by_handler
from civicstack.kit.appservices import services_of
from civicstack.kit.threads import in_one_transaction
from civicstack.oidc.protocol import OAuthError

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


class OAuthRefusal(BaseModel):
    """A refusal's body in OAuth's shape (RFC 6749 5.2), for the OpenAPI document."""

    error: str
    error_description: str


# Declared for the OpenAPI document; the handlers check them inside their transaction.
CLIENT_AUTHENTICATION = basic_checked_by_handler(
    "clientSecretBasic",
    "A relying party's client_id and client_secret (client_secret_basic). A private_key_jwt "
    "client sends no header: it signs a client assertion and sends it as the form's "
    "`client_assertion` with `client_assertion_type` "
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer (RFC 7523).")
ACCESS_TOKEN = bearer_checked_by_handler(
    "accessToken", "JWT", "An access token from the token endpoint (RFC 6750).")


# The routers' `responses`: what `answer` sends for an OAuthError, not a problem body.
OAUTH_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"model": OAuthRefusal, "description": "Refused in OAuth's shape (RFC 6749 5.2)."},
    401: {"model": OAuthRefusal, "description": "The client or token is not accepted "
                                               "(RFC 6749 5.2, RFC 6750 3.1)."},
}


def oauth_error(exc: OAuthError) -> JSONResponse:
    headers = dict(NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = (
            'Bearer error="invalid_token"' if exc.error == "invalid_token" else 'Basic')
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


Work = Callable[[Session], dict[str, Any] | None]


async def answer(request: Request, work: Work, status: int = 200) -> Response:
    """`work`'s body as the JSON answer, or its OAuthError in OAuth's shape, in one
    transaction on one worker thread (kit/threads.py); a refusal commits too, since it may
    itself have changed something (a replayed code revokes its family)."""
    def respond(session: Session) -> Response:
        try:
            body = work(session)
        except OAuthError as exc:
            return oauth_error(exc)
        if body is None:
            return Response(status_code=status, headers=NO_STORE)
        return JSONResponse(body, status_code=status, headers=NO_STORE)

    return await in_one_transaction(services_of(request.app).session_factory, respond)
