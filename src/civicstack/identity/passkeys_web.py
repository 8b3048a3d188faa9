"""Passkey pages and the JSON calls the browser's WebAuthn script makes (static/js/passkeys.js).

The JSON calls carry the CSRF token in an X-CSRF-Token header. The challenge of a ceremony is
kept in the server-side session, tagged with what it is for, and spent by the first answer.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from civicstack.identity import passkeys, service
from civicstack.identity.auth import Citizen, signed_in_citizen
from civicstack.kit.appservices import services_of
from civicstack.kit.b64 import b64url_decode, b64url_encode
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError, Invalid, Problem, RateLimited, Unauthorized
from civicstack.kit.i18n import N_, translate
from civicstack.kit.web import (
    client_address,
    limiter,
    local_path,
    render,
    request_locale,
)
from civicstack.kit.websession import rotate

router = html_router()
CHALLENGE_KEY = "passkey_ceremony"
NO_STORE = {"Cache-Control": "no-store"}
REFUSALS = {
    service.CodeOutcome.WRONG: N_("The passkey could not be verified. Try again, or use your "
                                  "authenticator app."),
    service.CodeOutcome.EXHAUSTED: N_("Too many failed attempts: try again later."),
}


class PasskeyAnswer(BaseModel):
    credential: dict[str, Any]  # PublicKeyCredential.toJSON()
    name: str = Field(default="", max_length=60)
    next: str = Field(default="", max_length=2000)


def _relying_party(request: Request) -> passkeys.RelyingParty:
    return passkeys.RelyingParty.for_site(services_of(request.app).settings.issuer)


def _calling_citizen(request: Request, session: DbSession) -> service.SignedIn:
    """The page's script calls these: a 401 it can show, not a redirect to follow."""
    found = signed_in_citizen(request, session)
    if found is None:
        raise Unauthorized("you are not signed in; sign in again")
    return found


CallingCitizen = Annotated[service.SignedIn, Depends(_calling_citizen)]


def _begin(request: Request, ceremony: passkeys.Ceremony, purpose: str) -> JSONResponse:
    request.session[CHALLENGE_KEY] = {"for": purpose,
                                      "challenge": b64url_encode(ceremony.challenge)}
    return JSONResponse(json.loads(ceremony.options_json), headers=NO_STORE)


def _spend_challenge(request: Request, purpose: str) -> bytes:
    kept = request.session.pop(CHALLENGE_KEY, None) or {}
    if kept.get("for") != purpose:
        raise Invalid(passkeys.FIELD, "this passkey request has expired; try again")
    return b64url_decode(str(kept["challenge"]))


@router.get("/account/passkeys", response_class=HTMLResponse)
def passkeys_page(request: Request, session: DbSession, signed: Citizen) -> Response:
    return render(request, "portal/passkeys.html", {
        "passkeys": service.my_passkeys(session, signed.account),
        "refusal": _refusal_to_add(signed), "session_level": signed.level})


def _refusal_to_add(signed: service.SignedIn) -> str | None:
    try:
        service.check_may_add_passkey(signed)
    except DomainError as exc:  # shown on the page as the reason, not raised
        return exc.detail
    return None


@router.post("/account/passkeys/options")
def creation_options(request: Request, session: DbSession, signed: CallingCitizen,
                     ) -> Response:
    ceremony = service.passkey_enrolment(session, _relying_party(request), signed)
    return _begin(request, ceremony, "create")


@router.post("/account/passkeys", status_code=201)
def add(request: Request, session: DbSession, signed: CallingCitizen,
        answer: PasskeyAnswer) -> Response:
    challenge = _spend_challenge(request, "create")
    service.add_passkey(session, _relying_party(request), signed, challenge,
                        json.dumps(answer.credential), answer.name)
    return JSONResponse({"redirect": "/account/passkeys"}, status_code=201, headers=NO_STORE)


@router.post("/account/passkeys/{passkey_id}/remove")
def remove(session: DbSession, signed: CallingCitizen, passkey_id: int) -> Response:
    service.remove_passkey(session, signed, passkey_id)
    return RedirectResponse("/account/passkeys", status_code=303)


@router.post("/account/step-up/passkey/options")
def request_options(request: Request, session: DbSession, signed: CallingCitizen,
                    ) -> Response:
    ceremony = service.passkey_step_up(session, _relying_party(request), signed.account)
    return _begin(request, ceremony, "get")


@router.post("/account/step-up/passkey")
def step_up(request: Request, session: DbSession, signed: CallingCitizen,
            answer: PasskeyAnswer) -> Response:
    """Failures are answered, not raised, so that the failure count they add is committed."""
    failures, client = limiter(request, "citizen_step_up_failures"), client_address(request)
    try:
        failures.check(session, client)
    except RateLimited as exc:
        return _refused(request, exc.status, translate(request_locale(request),
                                                       REFUSALS[service.CodeOutcome.EXHAUSTED]))
    challenge = _spend_challenge(request, "get")
    outcome = service.step_up_with_passkey(session, _relying_party(request), signed.session_id,
                                           challenge, json.dumps(answer.credential))
    if outcome != service.CodeOutcome.ACCEPTED:
        failures.failed(session, client)
        status = 429 if outcome == service.CodeOutcome.EXHAUSTED else 422
        return _refused(request, status, translate(request_locale(request), REFUSALS[outcome]))
    rotate(request.session)  # more privilege, a new session id
    return JSONResponse({"redirect": local_path(answer.next, "/account")}, headers=NO_STORE)


def _refused(request: Request, status: int, detail: str) -> JSONResponse:
    title = "Too many attempts" if status == 429 else "Passkey refused"
    return Problem(status, title, detail, "passkey-refused", request.url.path).response()
