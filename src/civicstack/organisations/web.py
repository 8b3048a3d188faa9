"""Pages for organisation accounts: the citizen's organisations in the portal (register, see,
manage members) and the officials' check in the console. Every rule is in service.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.identity import service as identity
from civicstack.identity.auth import Citizen
from civicstack.kit import console
from civicstack.kit.console import Official
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import Conflict, DomainError, Forbidden, Invalid
from civicstack.kit.web import field_errors, render
from civicstack.organisations import service
from civicstack.organisations.service import NeedsStepUp, OrganisationDetails

router = html_router()
PORTAL = "/account/organisations"
CONSOLE = "/console/organisations"
FORM_FIELDS = ("tax_code", "name", "english_name", "short_name", "head_office_ward_code",
               "address_line")


# --- the citizen's portal --------------------------------------------------------------------

def _to_step_up(path: str) -> RedirectResponse:
    return RedirectResponse(f"/account/step-up?next={quote(path, safe='')}", status_code=303)


def _refusal(request: Request, exc: DomainError) -> Response:
    return render(request, "portal/organisation_refused.html", {"refusal": exc}, exc.status)


@router.get(PORTAL, response_class=HTMLResponse)
def my_organisations(request: Request, session: DbSession, signed: Citizen) -> Response:
    return render(request, "portal/organisations.html", {
        "memberships": service.my_organisations(session, signed.account),
        "may_register": signed.account.level == 2})


@router.get(f"{PORTAL}/new", response_class=HTMLResponse)
def registration_form(request: Request, session: DbSession, signed: Citizen) -> Response:
    try:
        service.check_may_act(session, signed)
    except NeedsStepUp:
        return _to_step_up(f"{PORTAL}/new")
    except Forbidden as exc:
        return _refusal(request, exc)
    return render(request, "portal/organisation_register.html", {"form": {}, "errors": {}})


@router.post(PORTAL, response_class=HTMLResponse)
def register(request: Request, session: DbSession, signed: Citizen,
             tax_code: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
             english_name: Annotated[str, Form()] = "", short_name: Annotated[str, Form()] = "",
             head_office_ward_code: Annotated[str, Form()] = "",
             address_line: Annotated[str, Form()] = "") -> Response:
    form = dict(zip(FORM_FIELDS, (tax_code, name, english_name, short_name,
                                  head_office_ward_code, address_line), strict=True))
    try:
        organisation = service.register(session, signed, OrganisationDetails(
            tax_code=tax_code, name=name, head_office_ward_code=head_office_ward_code,
            address_line=address_line, english_name=english_name, short_name=short_name))
    except NeedsStepUp:
        return _to_step_up(f"{PORTAL}/new")
    except Forbidden as exc:
        return _refusal(request, exc)
    except DomainError as exc:  # Invalid next to its fields, Conflict above the form
        return render(request, "portal/organisation_register.html",
                      {"form": form, "errors": field_errors(exc)}, exc.status)
    return RedirectResponse(f"{PORTAL}/{organisation.tax_code}", status_code=303)


@router.get(PORTAL + "/{tax_code}", response_class=HTMLResponse)
def organisation_page(request: Request, session: DbSession, signed: Citizen,
                      tax_code: str) -> Response:
    return _organisation_page(request, session, signed, tax_code, {})


def _organisation_page(request: Request, session: Session, signed: identity.SignedIn,
                       tax_code: str, errors: dict[str, str], form: dict[str, Any] | None = None,
                       status_code: int = 200) -> Response:
    try:
        view = service.organisation_page(session, signed.account, tax_code)
    except DomainError as exc:
        return _refusal(request, exc)
    return render(request, "portal/organisation.html", {
        "view": view, "errors": errors, "form": form or {},
        "session_level": signed.level}, status_code)


def _member_change(request: Request, session: Session, signed: identity.SignedIn,
                   tax_code: str, change: Callable[[], object],
                   typed: dict[str, Any] | None = None) -> Response:
    """The envelope of the representative's changes: step-up, and refusals shown on the
    organisation's page (a field's or a conflict) or on their own."""
    here = f"{PORTAL}/{tax_code}"
    try:
        change()
    except NeedsStepUp:
        return _to_step_up(here)
    except (Invalid, Conflict) as exc:
        return _organisation_page(request, session, signed, tax_code, field_errors(exc),
                                  typed, exc.status)
    except DomainError as exc:
        return _refusal(request, exc)
    return RedirectResponse(here, status_code=303)


@router.post(PORTAL + "/{tax_code}/members", response_class=HTMLResponse)
def add_member(request: Request, session: DbSession, signed: Citizen, tax_code: str,
               personal_id_number: Annotated[str, Form()] = "",
               permissions: Annotated[list[str] | None, Form()] = None) -> Response:
    chosen = permissions or []
    return _member_change(request, session, signed, tax_code,
                          lambda: service.add_member(session, signed, tax_code,
                                                     personal_id_number, chosen),
                          {"personal_id_number": personal_id_number.strip(),
                           "permissions": chosen})


@router.post(PORTAL + "/{tax_code}/members/{member_id}/revoke")
def revoke_member(request: Request, session: DbSession, signed: Citizen, tax_code: str,
                  member_id: int) -> Response:
    return _member_change(request, session, signed, tax_code,
                          lambda: service.revoke_member(session, signed, tax_code, member_id))


# --- the officials' console ------------------------------------------------------------------

@router.get(CONSOLE, response_class=HTMLResponse)
def approval_queue(request: Request, session: DbSession, official: Official) -> Response:
    try:
        waiting = service.pending(session, official)
        successions = service.awaiting_succession(session, official)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    context: dict[str, Any] = {"operator": official, "pending": waiting,
                               "successions": successions}
    return render(request, "console/organisations.html", context)


@router.post(CONSOLE + "/{tax_code}/decision")
def decide(request: Request, session: DbSession, official: Official, tax_code: str,
           action: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "") -> Response:
    """Approve or reject a registration, suspend or reinstate an organisation. Each rule
    checks the permission and the head office's place against the official's scope."""
    return console.act(request, official, lambda actor: service.decide(
        session, actor, tax_code, action, reason), CONSOLE)


@router.post(CONSOLE + "/status")
def change_status(request: Request, session: DbSession, official: Official,
                  tax_code: Annotated[str, Form()] = "", action: Annotated[str, Form()] = "",
                  reason: Annotated[str, Form()] = "") -> Response:
    """Suspend or reinstate by tax code (the form below the queue)."""
    return console.act(request, official, lambda actor: service.decide(
        session, actor, tax_code.strip(), action, reason), CONSOLE)


@router.post(CONSOLE + "/representative")
def change_representative(request: Request, session: DbSession, official: Official,
                          tax_code: Annotated[str, Form()] = "",
                          personal_id_number: Annotated[str, Form()] = "",
                          reason: Annotated[str, Form()] = "") -> Response:
    return console.act(request, official, lambda actor: service.change_representative(
        session, actor, tax_code.strip(), personal_id_number, reason), CONSOLE)
