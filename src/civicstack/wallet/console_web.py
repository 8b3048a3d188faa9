"""The officials' wallet pages: the in-person verifier (the device camera reads the QR code,
or a handheld scanner types it into a text box) and a person's documents with revoke, suspend
and reinstate. Every rule is in verifier.py and service.py."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from civicstack.kit import console
from civicstack.kit.appservices import Services
from civicstack.kit.audit import Actor
from civicstack.kit.console import Official
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError, Forbidden, Invalid
from civicstack.kit.headers import allow_camera
from civicstack.kit.web import field_errors, render
from civicstack.wallet import service, verifier
from civicstack.wallet.jws import PresentationRefused
from civicstack.wallet.site import WALLET_SITE

router = html_router()
VERIFY = "/console/wallet/verify"
CREDENTIALS = "/console/wallet/credentials"


@router.get(VERIFY, response_class=HTMLResponse)
def verify_form(request: Request, official: Official) -> Response:
    return allow_camera(render(request, "console/wallet_verify.html", {"operator": official}))


@router.post(VERIFY, response_class=HTMLResponse)
def verify(request: Request, session: DbSession, services: Services, official: Official,
           presentation: Annotated[str, Form()] = "") -> Response:
    context: dict[str, Any] = {"operator": official}
    try:
        context["verified"] = verifier.verify_in_person(session, services[WALLET_SITE],
                                                        official, presentation)
    except Forbidden as exc:
        return console.refusal_page(request, official, exc)
    except PresentationRefused as refused:  # audited; shown in red with its reason
        return allow_camera(render(request, "console/wallet_verify.html",
                                   {**context, "refusal": refused.reason}, 422))
    return allow_camera(render(request, "console/wallet_verify.html", context))


# --- a person's documents -------------------------------------------------------------------

def _list_url(pid: str, purpose: str) -> str:
    return f"{CREDENTIALS}?{urlencode({'pid': pid, 'purpose': purpose})}"


@router.get(CREDENTIALS, response_class=HTMLResponse)
def credentials(request: Request, session: DbSession, official: Official, pid: str = "",
                purpose: str = "") -> Response:
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
def change_status(request: Request, session: DbSession, official: Official, public_id: str,
                  status: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                  pid: Annotated[str, Form()] = "", purpose: Annotated[str, Form()] = "",
                  ) -> Response:
    """Revoke, suspend or reinstate one document; back to the person's list."""
    def change(actor: Actor) -> None:
        service.change_status(session, actor, public_id, status, reason)

    return console.act(request, official, change, _list_url(pid, purpose))
