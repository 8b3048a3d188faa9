"""The officials' wallet pages: the in-person verifier (a handheld scanner types the QR code
into a text box) and a person's documents with revoke, suspend and reinstate. Every rule is in
verifier.py and service.py."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from civicstack.identity import console
from civicstack.kit.audit import Actor
from civicstack.kit.deps import DbSession
from civicstack.kit.errors import DomainError, Forbidden, Invalid
from civicstack.kit.web import check_csrf, field_errors, render
from civicstack.wallet import service, verifier
from civicstack.wallet.jws import PresentationRefused
from civicstack.wallet.site import site_of

router = APIRouter(include_in_schema=False)
VERIFY = "/console/wallet/verify"
CREDENTIALS = "/console/wallet/credentials"



@router.get(VERIFY, response_class=HTMLResponse)
def verify_form(request: Request, session: DbSession) -> Response:
    official = console.signed_in_official(request, session)
    if official is None:
        return console.login_redirect(request)
    return render(request, "console/wallet_verify.html", {"operator": official})


@router.post(VERIFY, response_class=HTMLResponse)
def verify(request: Request, session: DbSession, presentation: Annotated[str, Form()] = "",
           csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    official = console.signed_in_official(request, session)
    if official is None:
        return console.login_redirect(request)
    context: dict[str, Any] = {"operator": official}
    try:
        context["verified"] = verifier.verify_in_person(session, site_of(request), official,
                                                        presentation)
    except Forbidden as exc:
        return console.refusal_page(request, official, exc)
    except PresentationRefused as refused:  # audited; shown in red with its reason
        return render(request, "console/wallet_verify.html",
                      {**context, "refusal": refused.reason}, 422)
    return render(request, "console/wallet_verify.html", context)


# --- a person's documents -------------------------------------------------------------------

def _list_url(pid: str, purpose: str) -> str:
    return f"{CREDENTIALS}?{urlencode({'pid': pid, 'purpose': purpose})}"


@router.get(CREDENTIALS, response_class=HTMLResponse)
def credentials(request: Request, session: DbSession, pid: str = "",
                purpose: str = "") -> Response:
    official = console.signed_in_official(request, session)
    if official is None:
        return console.login_redirect(request)
    context: dict[str, Any] = {"operator": official, "pid": pid.strip(), "purpose": purpose,
                               "errors": {}}
    if not pid and not purpose:
        return render(request, "console/wallet_credentials.html", context)
    try:
        context["person"], context["held"] = service.credentials_of_person(
            session, official, pid, purpose)
    except Invalid as exc:
        return render(request, "console/wallet_credentials.html",
                      {**context, "errors": field_errors(exc)}, exc.status)
    except DomainError as exc:  # no permission, no such person, outside the official's scope
        return console.refusal_page(request, official, exc)
    return render(request, "console/wallet_credentials.html", context)


@router.post(CREDENTIALS + "/{public_id}/status")
def change_status(request: Request, session: DbSession, public_id: str,
                  status: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                  pid: Annotated[str, Form()] = "", purpose: Annotated[str, Form()] = "",
                  csrf_token: Annotated[str, Form()] = "") -> Response:
    """Revoke, suspend or reinstate one document; back to the person's list."""
    def change(official: Actor) -> None:
        service.change_status(session, official, public_id, status, reason)

    return console.legacy_act(request, session, csrf_token, change, _list_url(pid, purpose))
