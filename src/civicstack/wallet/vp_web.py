"""The citizen's consent to a relying party's presentation request, in the portal wallet:
who asks, why, exactly which fields, from which card; Approve or Decline. Rules in vp.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from civicstack.identity.web import signed_in_citizen, to_login
from civicstack.kit.deps import DbSession
from civicstack.kit.errors import DomainError
from civicstack.kit.web import check_csrf, render, request_locale
from civicstack.wallet import vp
from civicstack.wallet.models import PresentationRequest
from civicstack.wallet.site import site_of

router = APIRouter(include_in_schema=False)
PAGE = "/wallet/present/{public_id}"


def _to_login(public_id: str) -> RedirectResponse:
    return to_login(PAGE.format(public_id=public_id))



def _done(request: Request, outcome: str, asked: PresentationRequest | None = None,
          reason: str = "", status_code: int = 200) -> Response:
    """The end of the visit: shared, declined, refused (reason) or impossible (reason)."""
    return render(request, "portal/wallet_present_done.html", {
        "outcome": outcome, "asked": asked, "reason": reason,
        "back": vp.redirect_uri(asked) if asked else None}, status_code)


@router.get(PAGE, response_class=HTMLResponse)
def consent_page(request: Request, public_id: str, session: DbSession) -> Response:
    signed = signed_in_citizen(request, session)
    if signed is None:
        return _to_login(public_id)
    try:
        asked = vp.consent(session, site_of(request), public_id,
                           signed.account.personal_id_number)
    except DomainError as exc:
        return _done(request, "impossible", reason=exc.detail, status_code=exc.status)
    return render(request, "portal/wallet_present.html", {
        "asked": asked, "labels": asked.labels(request_locale(request))})


@router.post(PAGE, response_class=HTMLResponse)
def decide(request: Request, public_id: str, session: DbSession,
           decision: Annotated[str, Form()] = "", card: Annotated[str, Form()] = "",
           csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    signed = signed_in_citizen(request, session)
    if signed is None:
        return _to_login(public_id)
    holder = signed.account.personal_id_number
    try:
        if decision == "approve":
            answer = vp.approve(session, site_of(request), public_id, holder, card)
        else:
            return _done(request, "declined", vp.decline(session, public_id, holder))
    except DomainError as exc:
        return _done(request, "impossible", reason=exc.detail, status_code=exc.status)
    if answer.refusal:  # recorded on the request; rendered, not raised, so that it commits
        return _done(request, "refused", answer.request, answer.refusal, 400)
    return _done(request, "shared", answer.request)
