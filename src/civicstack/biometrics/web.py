"""The citizen's face biometrics page: what is enrolled (never the template), the consent and
its withdrawal, and every use of their face."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from civicstack.biometrics import service
from civicstack.biometrics.site import BIOMETRICS
from civicstack.identity.auth import Citizen
from civicstack.kit import audit
from civicstack.kit.appservices import Services
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import Conflict
from civicstack.kit.web import field_errors, render

router = html_router()
FACE = "/account/face"


@router.get(FACE, response_class=HTMLResponse)
def face_page(request: Request, session: DbSession, signed: Citizen) -> Response:
    return _page(request, session, signed.account.personal_id_number)


def _page(request: Request, session: DbSession, personal_id_number: str,
          errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    uses = [e for e in audit.entries_for_subject(session, "person", personal_id_number, limit=200)
            if e.action.startswith("biometrics.")]
    return render(request, "portal/face.html", {
        "enrolment": service.enrolment_of(session, personal_id_number),
        "consented": service.has_consent(session, personal_id_number),
        "uses": uses, "errors": errors or {}}, status_code=status_code)


@router.post(FACE + "/consent", response_class=HTMLResponse)
def consent(session: DbSession, signed: Citizen) -> Response:
    """Consent given later, from the account: kept for the next enrolment; it makes no
    template by itself."""
    service.record_consent(session, signed.account.personal_id_number, "account")
    return RedirectResponse(FACE, status_code=303)


@router.post(FACE + "/withdraw", response_class=HTMLResponse)
def withdraw(request: Request, session: DbSession, services: Services,
             signed: Citizen) -> Response:
    pid = signed.account.personal_id_number
    try:
        service.withdraw_consent(session, services[BIOMETRICS], pid)
    except Conflict as exc:
        return _page(request, session, pid, field_errors(exc), exc.status)
    return RedirectResponse(FACE, status_code=303)
