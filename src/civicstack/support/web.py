"""The citizen's side of support in the portal: "Help / My requests" (open a request, the
list, each thread with reply, close and reopen) and the agencies' verification requests to
confirm or dispute. Every rule is in service.py and verification.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.identity.auth import Citizen
from civicstack.identity.service import SignedIn
from civicstack.kit.audit import Actor
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError, NotFound
from civicstack.kit.web import field_errors, render
from civicstack.support import service, verification
from civicstack.support.states import Party, State, Topic, allowed_actions

router = html_router()
HELP = "/support"
Text = Annotated[str, Form()]


def _pid(signed: SignedIn) -> str:
    return signed.account.personal_id_number


def _help_page(request: Request, session: Session, signed: SignedIn,
               form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
               status_code: int = 200) -> Response:
    pid = _pid(signed)
    requests = verification.requests_of(session, pid)
    return render(request, "portal/support_help.html", {
        "tickets": service.tickets_of(session, pid), "topics": list(Topic),
        "verifications": [(r, verification.answer_of(r)) for r in requests],
        "fields": verification.FIELDS, "form": form or {}, "errors": errors or {}},
        status_code)


@router.get(HELP, response_class=HTMLResponse)
def help_page(request: Request, session: DbSession, signed: Citizen) -> Response:
    return _help_page(request, session, signed)


@router.post(HELP + "/tickets", response_class=HTMLResponse)
def open_ticket(request: Request, session: DbSession, signed: Citizen, topic: Text = "",
                subject: Text = "", text: Text = "", reference: Text = "") -> Response:
    form = {"topic": topic, "subject": subject, "text": text, "reference": reference}
    try:
        ticket = service.open_ticket(session, Actor("citizen", _pid(signed)), service.NewTicket(
            _pid(signed), topic, subject, text, reference=reference))
    except DomainError as exc:
        return _help_page(request, session, signed, form, field_errors(exc), exc.status)
    return RedirectResponse(f"{HELP}/tickets/{ticket.id}", status_code=303)


def _refused(request: Request, exc: DomainError) -> Response:
    return render(request, "portal/support_refused.html", {"refusal": exc}, exc.status)


def _ticket_page(request: Request, session: Session, signed: SignedIn, ticket_id: int,
                 errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    try:
        view = service.citizen_ticket(session, _pid(signed), ticket_id)
    except DomainError as exc:
        return _refused(request, exc)
    return render(request, "portal/support_ticket.html", {
        "view": view, "actions": allowed_actions(State(view.ticket.state), Party.CITIZEN),
        "errors": errors or {}}, status_code)


@router.get(HELP + "/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(request: Request, session: DbSession, signed: Citizen,
                ticket_id: int) -> Response:
    return _ticket_page(request, session, signed, ticket_id)


@router.post(HELP + "/tickets/{ticket_id}/{action}", response_class=HTMLResponse)
def ticket_action(request: Request, session: DbSession, signed: Citizen, ticket_id: int,
                  action: str, text: Text = "") -> Response:
    """reply, close or reopen (reopening takes a message too)."""
    changes = {"reply": lambda: service.citizen_reply(session, _pid(signed), ticket_id, text),
               "close": lambda: service.citizen_close(session, _pid(signed), ticket_id),
               "reopen": lambda: service.reopen(session, _pid(signed), ticket_id, text)}
    if action not in changes:
        return _refused(request, NotFound("no such action"))
    try:
        changes[action]()
    except DomainError as exc:
        return _ticket_page(request, session, signed, ticket_id, field_errors(exc), exc.status)
    return RedirectResponse(f"{HELP}/tickets/{ticket_id}", status_code=303)


@router.post(HELP + "/verifications/{request_id}", response_class=HTMLResponse)
def answer_verification(request: Request, session: DbSession, signed: Citizen,
                        request_id: int, decision: Text = "", comment: Text = "") -> Response:
    try:
        verification.respond(session, _pid(signed), request_id, decision == "confirm", comment)
    except DomainError as exc:
        return _help_page(request, session, signed, None,
                          {f"verification-{request_id}": field_errors(exc).popitem()[1]},
                          exc.status)
    return RedirectResponse(f"{HELP}#verifications", status_code=303)
