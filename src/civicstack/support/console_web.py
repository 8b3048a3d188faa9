"""The officials' side of support in the console: the queue, a ticket (answer, internal note,
assign, close), the hotline's "open a ticket for a caller", verification requests to
citizens, and the review of clean-up proposals. Every rule is in the support modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.kit import console
from civicstack.kit.audit import Actor
from civicstack.kit.console import Official
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError, Invalid, NotFound
from civicstack.kit.web import field_errors, render
from civicstack.support import cleanup, service, verification
from civicstack.support.states import Party, State, Topic, allowed_actions

router = html_router()
QUEUE = "/console/support"
Text = Annotated[str, Form()]
DECISIONS = {"approve": cleanup.approve, "reject": cleanup.reject}


def _submit(request: Request, official: Actor, change: Callable[[Actor], str],
            invalid_page: Callable[[Actor, Invalid], Response]) -> Response:
    """A console form: `change` returns where to go next; bad input shows the form again
    with its errors, any other refusal the error page."""
    try:
        done = change(official)
    except Invalid as exc:
        return invalid_page(official, exc)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return RedirectResponse(done, status_code=303)


@router.get(QUEUE, response_class=HTMLResponse)
def queue(request: Request, session: DbSession, official: Official,
          closed: str = "") -> Response:
    try:
        service.require_support_pages(official)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    rows = service.queue_tickets(session, official, include_closed=bool(closed)) \
        if service.works_a_queue(official) else None
    return render(request, "console/support_queue.html", {
        "operator": official, "rows": rows, "closed": bool(closed)})


def ticket_in_scope(session: DbSession, official: Official,
                    ticket_id: int) -> service.TicketView:
    """The ticket named in the path, if it is in one of the official's queues within their
    scope; any other is answered as missing (someone else's ticket is not confirmed)."""
    return service.official_ticket(session, official, ticket_id)


ScopedTicket = Annotated[service.TicketView, Depends(ticket_in_scope)]


def _ticket_page(request: Request, official: Actor, view: service.TicketView,
                 errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return render(request, "console/support_ticket.html", {
        "operator": official, "view": view, "errors": errors or {},
        "actions": allowed_actions(State(view.ticket.state), Party.OFFICIAL)}, status_code)


@router.get(QUEUE + "/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(request: Request, official: Official, view: ScopedTicket) -> Response:
    return _ticket_page(request, official, view)


@router.post(QUEUE + "/tickets/{ticket_id}/answer", response_class=HTMLResponse)
def answer(request: Request, session: DbSession, official: Official, ticket_id: int,
           text: Text = "", internal: Text = "") -> Response:
    def send(official: Actor) -> str:
        service.answer(session, official, ticket_id, text, internal=bool(internal))
        return f"{QUEUE}/tickets/{ticket_id}"

    return _submit(request, official, send, lambda official, exc: _ticket_page(
        request, official, ticket_in_scope(session, official, ticket_id), field_errors(exc),
        exc.status))


@router.post(QUEUE + "/tickets/{ticket_id}/assign", response_class=HTMLResponse)
def assign(request: Request, session: DbSession, official: Official, ticket_id: int,
           username: Text = "") -> Response:
    return console.act(request, official, lambda official: service.assign(
        session, official, ticket_id, username), f"{QUEUE}/tickets/{ticket_id}")


@router.post(QUEUE + "/tickets/{ticket_id}/close", response_class=HTMLResponse)
def close(request: Request, session: DbSession, official: Official,
          ticket_id: int) -> Response:
    return console.act(request, official, lambda official: service.close(
        session, official, ticket_id), f"{QUEUE}/tickets/{ticket_id}")


# --- the hotline -------------------------------------------------------------------------

def _hotline_page(request: Request, official: Actor, form: dict[str, str] | None = None,
                  errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return render(request, "console/support_hotline.html", {
        "operator": official, "topics": list(Topic), "form": form or {},
        "errors": errors or {}}, status_code)


@router.get(QUEUE + "/hotline", response_class=HTMLResponse)
def hotline_form(request: Request, official: Official) -> Response:
    return _hotline_page(request, official)


@router.post(QUEUE + "/hotline", response_class=HTMLResponse)
def hotline_open(request: Request, session: DbSession, official: Official,
                 personal_id_number: Text = "", topic: Text = "", subject: Text = "",
                 text: Text = "", ward_code: Text = "", reference: Text = "") -> Response:
    form = {"personal_id_number": personal_id_number.strip(), "topic": topic,
            "subject": subject, "text": text, "ward_code": ward_code, "reference": reference}

    def open_for_caller(official: Actor) -> str:
        ticket = service.open_ticket(session, official, service.NewTicket(
            form["personal_id_number"], topic, subject, text, ward_code, reference))
        return f"{QUEUE}/tickets/{ticket.id}"

    return _submit(request, official, open_for_caller, lambda official, exc:
                   _hotline_page(request, official, form, field_errors(exc), exc.status))


# --- verification requests ---------------------------------------------------------------

def _verifications_page(request: Request, session: Session, official: Actor,
                        form: dict[str, str] | None = None,
                        errors: dict[str, str] | None = None,
                        status_code: int = 200) -> Response:
    try:
        made = verification.requests_by(session, official)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return render(request, "console/support_verifications.html", {
        "operator": official, "requests": [(r, verification.answer_of(r)) for r in made],
        "fields": verification.FIELDS, "form": form or {}, "errors": errors or {}},
        status_code)


@router.get(QUEUE + "/verifications", response_class=HTMLResponse)
def verifications(request: Request, session: DbSession, official: Official) -> Response:
    return _verifications_page(request, session, official)


@router.post(QUEUE + "/verifications", response_class=HTMLResponse)
def ask_verification(request: Request, session: DbSession, official: Official,
                     personal_id_number: Text = "", field: Text = "", value: Text = "",
                     agency: Text = "", days: Text = "14") -> Response:
    form = {"personal_id_number": personal_id_number.strip(), "field": field, "value": value,
            "agency": agency, "days": days}

    def ask(official: Actor) -> str:
        verification.ask(session, official, form["personal_id_number"], field, value, agency,
                         int(days) if days.strip().isdigit() else 0)
        return f"{QUEUE}/verifications"

    return _submit(request, official, ask, lambda official, exc:
                   _verifications_page(request, session, official, form, field_errors(exc),
                                       exc.status))


# --- account clean-up --------------------------------------------------------------------

@router.get(QUEUE + "/cleanup", response_class=HTMLResponse)
def cleanup_review(request: Request, session: DbSession, official: Official) -> Response:
    try:
        waiting = cleanup.proposals(session, official)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return render(request, "console/support_cleanup.html",
                  {"operator": official, "proposals": waiting})


@router.post(QUEUE + "/cleanup/{candidate_id}/{decision}", response_class=HTMLResponse)
def decide_cleanup(request: Request, session: DbSession, official: Official,
                   candidate_id: int, decision: str, note: Text = "") -> Response:
    def decide(official: Actor) -> None:
        if decision not in DECISIONS:
            raise NotFound("no such decision")
        DECISIONS[decision](session, official, candidate_id, note)

    return console.act(request, official, decide, f"{QUEUE}/cleanup")
