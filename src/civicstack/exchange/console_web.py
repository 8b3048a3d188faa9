"""The data exchange in the officials' console, for holders of `exchange:manage` (admins):
members (list, add, suspend), agreements and agreement requests (ask for a member; grant, or
refuse with a justification), and data-quality reports (run a check, download the clean-up
list). The same service calls as the CLI and the members' API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.exchange import datasets, quality, service
from civicstack.kit import assertions, console
from civicstack.kit.audit import Actor
from civicstack.kit.console import Official
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError, Invalid
from civicstack.kit.web import csv_download, field_errors, render

router = html_router()
MEMBERS = "/console/exchange"
AGREEMENTS = "/console/exchange/agreements"
QUALITY = "/console/exchange/quality"
REQUEST_FIELDS = ("consumer", "dataset", "fields", "purpose", "legal_basis", "valid_from",
                  "valid_to")


def _shown(request: Request, admin: Actor, template: str,
           build: Callable[[], dict[str, Any]], status_code: int = 200) -> Response:
    """A console page whose content the admin's permission allows; else the refusal page."""
    try:
        context = build()
    except DomainError as exc:
        return console.refusal_page(request, admin, exc)
    return render(request, template, {"operator": admin, **context}, status_code)


# --- members --------------------------------------------------------------------------------

def _members_page(request: Request, session: Session, admin: Actor, form: dict[str, str],
                  errors: dict[str, str], status_code: int = 200) -> Response:
    return _shown(request, admin, "console/exchange_members.html", lambda: {
        "members": service.members(session, admin), "kinds": service.MEMBER_KINDS,
        "form": form, "errors": errors}, status_code)


@router.get(MEMBERS, response_class=HTMLResponse)
def members(request: Request, session: DbSession, admin: Official) -> Response:
    return _members_page(request, session, admin, {}, {})


@router.post(MEMBERS, response_class=HTMLResponse)
def add_member(request: Request, session: DbSession, admin: Official,
               code: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
               kind: Annotated[str, Form()] = "", jwks: Annotated[str, Form()] = "") -> Response:
    try:
        service.register_member(session, admin, code, name, kind,
                                assertions.jwks_from_text(jwks))
    except Invalid as exc:
        return _members_page(request, session, admin,
                             {"code": code, "name": name, "kind": kind, "jwks": jwks},
                             field_errors(exc), exc.status)
    except DomainError as exc:
        return console.refusal_page(request, admin, exc)
    return RedirectResponse(MEMBERS, status_code=303)


@router.post(MEMBERS + "/{code}/suspend")
def suspend(request: Request, session: DbSession, admin: Official, code: str) -> Response:
    return console.act(request, admin,
                       lambda admin: service.suspend_member(session, admin, code), MEMBERS)


# --- agreements and requests ------------------------------------------------------------

def _agreements_page(request: Request, session: Session, admin: Actor, form: dict[str, str],
                     errors: dict[str, str], status_code: int = 200,
                     refusing: int | None = None) -> Response:
    return _shown(request, admin, "console/exchange_agreements.html", lambda: {
        "view": service.agreements_view(session, admin),
        "datasets": datasets.all_codes(session), "form": form, "errors": errors,
        "refusing": refusing}, status_code)


@router.get(AGREEMENTS, response_class=HTMLResponse)
def agreements(request: Request, session: DbSession, admin: Official) -> Response:
    return _agreements_page(request, session, admin, {}, {})


def _date(name: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(name, "give a date") from None


@router.post(AGREEMENTS + "/requests", response_class=HTMLResponse)
async def ask_for_agreement(request: Request, session: DbSession, admin: Official) -> Response:
    """An admin asks for an agreement on a member's behalf (a member asks through the API)."""
    form = await request.form(max_files=0)
    values = {name: str(form.get(name, "")).strip() for name in REQUEST_FIELDS}
    try:
        service.request_agreement(session, admin, service.NewAgreement(
            values["consumer"], values["dataset"],
            tuple(f.strip() for f in values["fields"].split(",") if f.strip()),
            values["purpose"], values["legal_basis"], _date("valid_from", values["valid_from"]),
            _date("valid_to", values["valid_to"])))
    except Invalid as exc:
        return _agreements_page(request, session, admin, values, field_errors(exc), exc.status)
    except DomainError as exc:
        return console.refusal_page(request, admin, exc)
    return RedirectResponse(AGREEMENTS, status_code=303)


@router.post(AGREEMENTS + "/requests/{request_id}/decision", response_class=HTMLResponse)
def decide(request: Request, session: DbSession, admin: Official, request_id: int,
           decision: Annotated[str, Form()] = "", justification: Annotated[str, Form()] = "",
           ) -> Response:
    """Grant, or refuse with a justification (shown again with the error when missing)."""
    try:
        service.decide_request(session, admin, request_id, decision == "grant", justification)
    except Invalid as exc:
        return _agreements_page(request, session, admin, {"justification": justification},
                                field_errors(exc), exc.status, refusing=request_id)
    except DomainError as exc:
        return console.refusal_page(request, admin, exc)
    return RedirectResponse(AGREEMENTS, status_code=303)


# --- data quality -------------------------------------------------------------------------

@router.get(QUALITY, response_class=HTMLResponse)
def quality_reports(request: Request, session: DbSession, admin: Official) -> Response:
    return _shown(request, admin, "console/exchange_quality.html", lambda: {
        "overview": quality.overview(session, admin), "fresh_days": quality.FRESH_DAYS})


@router.post(QUALITY + "/{code}/check")
def run_check(request: Request, session: DbSession, admin: Official, code: str) -> Response:
    return console.act(request, admin,
                       lambda admin: quality.check_dataset(session, admin, code), QUALITY)


@router.get(QUALITY + "/{report_id}.csv", response_class=Response)
def report_csv(request: Request, session: DbSession, admin: Official,
               report_id: int) -> Response:
    try:
        view = quality.report_of(session, admin, report_id)
    except DomainError as exc:
        return console.refusal_page(request, admin, exc)
    return csv_download(quality.issue_rows(view), f"{view.dataset.code}-quality-{report_id}.csv")
