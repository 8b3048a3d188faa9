"""The citizen's consent to a relying party's presentation request, in the portal wallet:
who asks, why, exactly which fields, from which card; Approve or Decline. Rules in vp.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from civicstack.identity.auth import Citizen
from civicstack.kit.appservices import Services
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError
from civicstack.kit.web import render, request_locale
from civicstack.wallet import vp
from civicstack.wallet.models import PresentationRequest
from civicstack.wallet.site import WALLET_SITE

router = html_router()
PAGE = "/wallet/present/{public_id}"


def _done(request: Request, outcome: str, asked: PresentationRequest | None = None,
          reason: str = "", status_code: int = 200) -> Response:
    """The end of the visit: shared, declined, refused (reason) or impossible (reason)."""
    return render(request, "portal/wallet_present_done.html", {
        "outcome": outcome, "asked": asked, "reason": reason,
        "back": vp.redirect_uri(asked) if asked else None}, status_code)


@router.get(PAGE, response_class=HTMLResponse)
def consent_page(request: Request, public_id: str, session: DbSession, services: Services,
                 signed: Citizen) -> Response:
    try:
        asked = vp.consent(session, services[WALLET_SITE], public_id,
                           signed.account.personal_id_number)
    except DomainError as exc:
        return _done(request, "impossible", reason=exc.detail, status_code=exc.status)
    return render(request, "portal/wallet_present.html", {
        "asked": asked, "labels": asked.labels(request_locale(request))})


@router.post(PAGE, response_class=HTMLResponse)
def decide(request: Request, public_id: str, session: DbSession, services: Services,
           signed: Citizen, decision: Annotated[str, Form()] = "",
           card: Annotated[str, Form()] = "") -> Response:
    holder = signed.account.personal_id_number
    try:
        if decision == "approve":
            answer = vp.approve(session, services[WALLET_SITE], public_id, holder, card)
        else:
            return _done(request, "declined", vp.decline(session, public_id, holder))
    except DomainError as exc:
        return _done(request, "impossible", reason=exc.detail, status_code=exc.status)
    if answer.refusal:  # recorded on the request; rendered, not raised, so that it commits
        return _done(request, "refused", answer.request, answer.refusal, 400)
    return _done(request, "shared", answer.request)
