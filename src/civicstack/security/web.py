"""The operators' security page in the console (`security:read`, admins): signals against their
thresholds, alerts, the logs' chain verifications (and a button to verify now), and the latest
failed sign-ins, lockouts, rate-limit refusals and exchange refusals."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from civicstack.kit import console
from civicstack.kit.appservices import Services
from civicstack.kit.console import Official
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError
from civicstack.kit.transparency import LOG_PUBLISHING
from civicstack.kit.web import render
from civicstack.security import service
from civicstack.security.site import overview_of

router = html_router()
PAGE = "/console/security"


@router.get(PAGE, response_class=HTMLResponse)
def security_page(request: Request, session: DbSession, services: Services,
                  operator: Official) -> Response:
    try:
        shown = overview_of(services, session, operator)
    except DomainError as exc:
        return console.refusal_page(request, operator, exc)
    return render(request, "console/security.html", {"operator": operator, "view": shown})


@router.post(PAGE + "/verify-chains")
def verify_chains(request: Request, session: DbSession, services: Services,
                  operator: Official) -> Response:
    return console.act(request, operator, lambda operator: service.verify_chains_now(
        session, services[LOG_PUBLISHING], operator, service.now()), PAGE + "#chains")
