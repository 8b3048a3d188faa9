"""The public verifier page: a bank, a landlord or an employer checks a citizen's QR code
without signing in (camera, handheld scanner or pasted text). Every rule is in verifier.py;
this page adds the limit on refused checks that an open form needs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from civicstack.kit.appservices import Services
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import RateLimited
from civicstack.kit.headers import allow_camera
from civicstack.kit.ratelimit import FailureLimiter
from civicstack.kit.web import client_address, limiter, render
from civicstack.wallet import verifier
from civicstack.wallet.jws import PresentationRefused
from civicstack.wallet.site import WALLET_SITE

router = html_router()
PUBLIC_VERIFY = "/wallet/verify"
TEMPLATE = "portal/wallet_verify.html"
# A real QR code is refused now and then (too old, shown twice); a run of refusals from one
# address is someone trying forgeries, each costing signature checks and an audit entry.
REFUSALS_ALLOWED, REFUSAL_WINDOW_S = 20, 600


def _refusals(request: Request) -> FailureLimiter:
    return limiter(request, "public_verifier_refusals", REFUSALS_ALLOWED, REFUSAL_WINDOW_S,
                   "too many refused checks from this address")


@router.get(PUBLIC_VERIFY, response_class=HTMLResponse)
def verify_form(request: Request) -> Response:
    return allow_camera(render(request, TEMPLATE))


@router.post(PUBLIC_VERIFY, response_class=HTMLResponse)
def verify(request: Request, session: DbSession, services: Services,
           presentation: Annotated[str, Form()] = "") -> Response:
    refusals, client = _refusals(request), client_address(request)
    try:
        refusals.check(session, client)
        verified = verifier.verify_for_anyone(session, services[WALLET_SITE], presentation)
    except RateLimited as exc:  # said in the page's language; the wait is a few minutes
        return allow_camera(render(request, TEMPLATE, {"limited": True}, exc.status))
    except PresentationRefused as refused:  # audited and counted; both commit with the answer
        refusals.failed(session, client)
        return allow_camera(render(request, TEMPLATE, {"refusal": refused.reason}, 422))
    return allow_camera(render(request, TEMPLATE, {"verified": verified}))
