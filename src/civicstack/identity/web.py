"""Citizen portal pages for the eID account, and the officials' approval queue.

Codes leave through the outbox after the request has committed (a background task hands them
to the configured channel), so a refused registration never sends one.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from civicstack.identity import service
from civicstack.identity.models import CitizenAccount
from civicstack.kit import console
from civicstack.kit.deps import DbSession
from civicstack.kit.errors import Conflict, DomainError, Forbidden, Invalid, RateLimited
from civicstack.kit.i18n import N_
from civicstack.kit.outbox import dispatch_pending
from civicstack.kit.web import check_csrf, client_address, field_errors, limiter, render

router = APIRouter(include_in_schema=False)
CITIZEN_KEY, PENDING_KEY, RESET_KEY = "citizen_session", "pending_pid", "reset_pid"
LOGIN_MESSAGES = {
    service.LoginOutcome.WRONG_CREDENTIALS: N_("Wrong ID number or password."),
    service.LoginOutcome.TEMPORARILY_LOCKED: N_("Too many failed attempts: try again later."),
    service.LoginOutcome.LOCKED: N_("This account is locked. Contact a service centre."),
    service.LoginOutcome.NOT_ACTIVE: N_("Your account is waiting for approval."),
}
CODE_MESSAGES = {
    service.CodeOutcome.WRONG: N_("Wrong code."),
    service.CodeOutcome.EXPIRED: N_("The code has expired."),
    service.CodeOutcome.EXHAUSTED: N_("Too many wrong codes."),
    service.CodeOutcome.NO_CODE: N_("No code is waiting for this account."),
}


def _send_codes(request: Request) -> BackgroundTask:
    return BackgroundTask(dispatch_pending, request.app.state.session_factory,
                          {"sms": request.app.state.sms_channel})


@router.get("/account/register", response_class=HTMLResponse)
def register_form(request: Request) -> Response:
    return render(request, "portal/register.html", {"form": {}, "errors": {}})


@router.post("/account/register", response_class=HTMLResponse)
def register(request: Request, session: DbSession,
             personal_id_number: Annotated[str, Form()] = "",
             full_name: Annotated[str, Form()] = "", date_of_birth: Annotated[str, Form()] = "",
             phone: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
             csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    form = {"personal_id_number": personal_id_number.strip(), "full_name": full_name,
            "date_of_birth": date_of_birth, "phone": phone.strip()}
    try:
        service.register(session, request.app.state.pepper, service.Registration(
            form["personal_id_number"], full_name, _date(date_of_birth), form["phone"],
            password))
    except (Invalid, Conflict) as exc:
        return render(request, "portal/register.html",
                      {"form": form, "errors": field_errors(exc)}, exc.status)
    request.session[PENDING_KEY] = form["personal_id_number"]
    response = RedirectResponse("/account/verify-phone", status_code=303)
    response.background = _send_codes(request)
    return response


@router.get("/account/verify-phone", response_class=HTMLResponse)
def verify_form(request: Request) -> Response:
    return render(request, "portal/verify_phone.html", {"errors": {}})


@router.post("/account/verify-phone", response_class=HTMLResponse)
def verify(request: Request, session: DbSession, code: Annotated[str, Form()] = "",
           csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    pending = str(request.session.get(PENDING_KEY, ""))
    outcome = service.verify_phone(session, request.app.state.pepper, pending, code)
    if outcome != service.CodeOutcome.ACCEPTED:
        return render(request, "portal/verify_phone.html",
                      {"errors": {"code": CODE_MESSAGES[outcome]}}, 422)
    request.session.pop(PENDING_KEY, None)
    return render(request, "portal/message.html", {"message": "phone_verified"})


@router.post("/account/verify-phone/resend", response_class=HTMLResponse)
def resend_code(request: Request, session: DbSession,
                csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    pending = str(request.session.get(PENDING_KEY, ""))
    if not service.resend_phone_code(session, request.app.state.pepper, pending):
        return render(request, "portal/verify_phone.html",
                      {"errors": {"code": N_("No new code can be sent now; try again later.")}},
                      429)
    response = render(request, "portal/verify_phone.html", {"errors": {}, "resent": True})
    response.background = _send_codes(request)
    return response


@router.get("/account/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return render(request, "portal/login.html", {"form": {}, "errors": {}})


@router.post("/account/login", response_class=HTMLResponse)
def login(request: Request, session: DbSession,
          personal_id_number: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "",
          csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    form = {"personal_id_number": personal_id_number.strip()}
    client = client_address(request)
    failures = limiter(request, "citizen_sign_in_failures")
    try:
        failures.check(client)
    except RateLimited as exc:
        return render(request, "portal/login.html",
                      {"form": form, "errors": {"password": exc.detail}}, exc.status)
    result = service.sign_in(session, form["personal_id_number"], password)
    if result.outcome != service.LoginOutcome.SIGNED_IN:
        failures.failed(client)
        return render(request, "portal/login.html", {
            "form": form, "errors": {"password": LOGIN_MESSAGES[result.outcome]}}, 401)
    assert result.account is not None  # signed in means there is an account
    request.session.clear()
    request.session[CITIZEN_KEY] = service.start_session(
        session, result.account, request.headers.get("user-agent", "unknown"), client)
    return RedirectResponse("/account", status_code=303)


@router.get("/account/password-reset", response_class=HTMLResponse)
def reset_request_form(request: Request) -> Response:
    return render(request, "portal/reset_request.html", {"form": {}})


@router.post("/account/password-reset")
def reset_request(request: Request, session: DbSession,
                  personal_id_number: Annotated[str, Form()] = "",
                  phone: Annotated[str, Form()] = "",
                  csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    service.request_password_reset(session, request.app.state.pepper,
                                   personal_id_number.strip(), phone)
    request.session[RESET_KEY] = personal_id_number.strip()
    response = RedirectResponse("/account/password-reset/confirm", status_code=303)
    response.background = _send_codes(request)
    return response


@router.get("/account/password-reset/confirm", response_class=HTMLResponse)
def reset_confirm_form(request: Request) -> Response:
    return render(request, "portal/reset_confirm.html", {"errors": {}})


@router.post("/account/password-reset/confirm", response_class=HTMLResponse)
def reset_confirm(request: Request, session: DbSession, code: Annotated[str, Form()] = "",
                  password: Annotated[str, Form()] = "",
                  csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    pid = str(request.session.get(RESET_KEY, ""))
    try:
        outcome = service.reset_password(session, request.app.state.pepper, pid, code, password)
    except Invalid as exc:
        return render(request, "portal/reset_confirm.html", {"errors": field_errors(exc)},
                      exc.status)
    if outcome != service.CodeOutcome.ACCEPTED:
        return render(request, "portal/reset_confirm.html",
                      {"errors": {"code": CODE_MESSAGES[outcome]}}, 422)
    request.session.clear()
    return RedirectResponse("/account/login", status_code=303)


def _citizen(request: Request, session: Session) -> CitizenAccount | None:
    token = request.session.get(CITIZEN_KEY)
    account = service.session_account(session, str(token)) if token else None
    if account is None:
        request.session.pop(CITIZEN_KEY, None)
    return account


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, session: DbSession) -> Response:
    account = _citizen(request, session)
    if account is None:
        return RedirectResponse("/account/login", status_code=303)
    current = service.session_handle(str(request.session[CITIZEN_KEY]))
    devices = [(service.session_handle(s.id), s) for s in service.live_sessions(session, account)]
    return render(request, "portal/account.html", {
        "account": account, "devices": devices, "current": current,
        "trail": service.my_audit_trail(session, account.personal_id_number)})


@router.post("/account/sessions/{handle}/end")
def end_device_session(request: Request, session: DbSession, handle: str,
                       csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    account = _citizen(request, session)
    if account is None:
        return RedirectResponse("/account/login", status_code=303)
    service.end_session(session, account, handle)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/lock")
def lock_my_account(request: Request, session: DbSession,
                    csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    account = _citizen(request, session)
    if account is None:
        return RedirectResponse("/account/login", status_code=303)
    service.lock_myself(session, account.personal_id_number)
    request.session.clear()
    return render(request, "portal/message.html", {"message": "locked"})


@router.post("/account/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/console/accounts", response_class=HTMLResponse)
def approval_queue(request: Request, session: DbSession) -> Response:
    principal = console.signed_in_operator(request, session)
    if principal is None:
        return console.login_redirect(request)
    context: dict[str, Any] = {"operator": principal.actor, "errors": {}}
    try:
        principal.require("identity:approve")
        context["pending"] = service.pending_approval(session, principal.actor)
    except Forbidden as exc:
        return render(request, "console/error.html", {**context, "error": exc}, exc.status)
    return render(request, "console/accounts.html", context)


@router.post("/console/accounts/{personal_id_number}/approve")
def approve(request: Request, session: DbSession, personal_id_number: str,
            reason: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
            ) -> Response:
    check_csrf(request, csrf_token)
    principal = console.signed_in_operator(request, session)
    if principal is None:
        return console.login_redirect(request)
    try:
        principal.require("identity:approve")
        service.approve(session, principal.actor, personal_id_number, reason)
    except DomainError as exc:
        return render(request, "console/error.html",
                      {"operator": principal.actor, "error": exc}, exc.status)
    return RedirectResponse("/console/accounts", status_code=303)


@router.post("/console/accounts/lock-state")
def change_lock(request: Request, session: DbSession,
                personal_id_number: Annotated[str, Form()] = "",
                action: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    principal = console.signed_in_operator(request, session)
    if principal is None:
        return console.login_redirect(request)
    change = {"lock": service.lock, "unlock": service.unlock}.get(action)
    try:
        principal.require("identity:approve")
        if change is None:
            raise Invalid("action", "choose lock or unlock")
        change(session, principal.actor, personal_id_number.strip(), reason)
    except DomainError as exc:
        return render(request, "console/error.html",
                      {"operator": principal.actor, "error": exc}, exc.status)
    return RedirectResponse("/console/accounts", status_code=303)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("date_of_birth", "use the form YYYY-MM-DD") from None

