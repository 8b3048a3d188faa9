"""The auditors' console page for citizens' reports of uses of their data they do not
recognise (identity/read_reports.py): the open reports with the entry each flags, and a form
to close each with what was found."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.identity import console, read_reports
from civicstack.kit.audit import Actor
from civicstack.kit.deps import DbSession
from civicstack.kit.errors import DomainError, Invalid
from civicstack.kit.web import check_csrf, render

router = APIRouter(include_in_schema=False)
PAGE = "/console/read-reports"


def _page(request: Request, session: Session, auditor: Actor,
          errors: dict[int, str] | None = None, status_code: int = 200) -> Response:
    try:
        reports = read_reports.open_reports(session, auditor)
    except DomainError as exc:
        return console.refusal_page(request, auditor, exc)
    return render(request, "console/read_reports.html",
                  {"operator": auditor, "reports": reports, "errors": errors or {}}, status_code)


@router.get(PAGE, response_class=HTMLResponse)
def open_reports(request: Request, session: DbSession) -> Response:
    auditor = console.signed_in_official(request, session)
    if auditor is None:
        return console.login_redirect(request)
    return _page(request, session, auditor)


@router.post(PAGE + "/{report_id}/close", response_class=HTMLResponse)
def close_report(request: Request, session: DbSession, report_id: int,
                 csrf_token: Annotated[str, Form()] = "",
                 outcome: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    auditor = console.signed_in_official(request, session)
    if auditor is None:
        return console.login_redirect(request)
    try:
        read_reports.close(session, auditor, report_id, outcome)
    except Invalid as exc:
        return _page(request, session, auditor, {report_id: exc.errors[0].reason}, exc.status)
    except DomainError as exc:
        return console.refusal_page(request, auditor, exc)
    return RedirectResponse(PAGE, status_code=303)
