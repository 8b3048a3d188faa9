"""The operators' security page in the console (`security:read`, admins): signals against their
thresholds, alerts, the logs' chain verifications (and a button to verify now), and the latest
failed sign-ins, lockouts, rate-limit refusals and exchange refusals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.identity import console
from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.deps import DbSession
from civicstack.kit.errors import DomainError
from civicstack.kit.web import check_csrf, render
from civicstack.security import service
from civicstack.security.site import process_counts, thresholds_from

router = APIRouter(include_in_schema=False)
PAGE = "/console/security"


def overview_of(request: Request, session: Session, operator: Actor) -> service.Overview:
    services = services_of(request.app)
    return service.overview(session, operator, process_counts(services),
                            thresholds_from(services.settings), service.now())


@router.get(PAGE, response_class=HTMLResponse)
def security_page(request: Request, session: DbSession) -> Response:
    operator = console.signed_in_official(request, session)
    if operator is None:
        return console.login_redirect(request)
    try:
        shown = overview_of(request, session, operator)
    except DomainError as exc:
        return console.refusal_page(request, operator, exc)
    return render(request, "console/security.html", {"operator": operator, "view": shown})


@router.post(PAGE + "/verify-chains")
def verify_chains(request: Request, session: DbSession,
                  csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    operator = console.signed_in_official(request, session)
    if operator is None:
        return console.login_redirect(request)
    try:
        service.verify_chains_now(session, operator, service.now())
    except DomainError as exc:
        return console.refusal_page(request, operator, exc)
    return RedirectResponse(PAGE + "#chains", status_code=303)
