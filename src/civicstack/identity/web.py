"""Citizen portal pages for the eID account, and the officials' approval queue.

Codes leave through the outbox after the request has committed (a background task hands them
to the configured channel), so a refused registration never sends one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from civicstack.identity import photos, service
from civicstack.identity.auth import CITIZEN_KEY, Citizen, MaybeCitizen
from civicstack.identity.data_use import DATA_USE_REPORTS
from civicstack.identity.face_holds import FACE_HOLDS
from civicstack.identity.models import CitizenAccount
from civicstack.identity.photos import PHOTO_VAULT
from civicstack.kit import console, qr
from civicstack.kit.appservices import AppServices, Services, services_of
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.console import Official
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import Conflict, DomainError, Forbidden, Invalid, RateLimited
from civicstack.kit.i18n import N_
from civicstack.kit.outbox import RetryPolicy, dispatch_pending
from civicstack.kit.threads import in_one_transaction
from civicstack.kit.transparency import LOG_PUBLISHING
from civicstack.kit.web import (
    client_address,
    field_errors,
    limiter,
    local_path,
    render,
)
from civicstack.kit.websession import rotate, store_in

router = html_router()
# `next` is where to go after signing in or stepping up; only local paths are followed.
NextQuery = Annotated[str, Query(alias="next")]
NextForm = Annotated[str, Form(alias="next")]
PHOTO_PURPOSE = "eID account approval: comparing the face photo with the applicant"
PENDING_KEY, RESET_KEY = "pending_pid", "reset_pid"
VERIFIED_KEY = "verified_pid"  # whose phone this browser proved: its account's state is shown
LOGIN_MESSAGES = {
    service.LoginOutcome.WRONG_CREDENTIALS: N_("Wrong ID number or password."),
    service.LoginOutcome.TEMPORARILY_LOCKED: N_("Too many failed attempts: try again later."),
    service.LoginOutcome.LOCKED: N_("This account is locked. Contact a service centre."),
    service.LoginOutcome.NOT_ACTIVE: N_("Your account is waiting for approval."),
    service.LoginOutcome.CLOSED: N_("This eID account has been closed and can no longer be "
                                    "used. Your record in the population register is kept."),
}
CLOSURE_ERRORS = {
    service.ClosureOutcome.WRONG_NUMBER: ("personal_id_number",
                                          N_("This is not the ID number of your account.")),
    service.ClosureOutcome.WRONG_PASSWORD: ("password", N_("Wrong password.")),
    service.ClosureOutcome.TEMPORARILY_LOCKED: (
        "password", N_("Too many failed attempts: try again later.")),
}
CODE_MESSAGES = {
    service.CodeOutcome.WRONG: N_("Wrong code."),
    service.CodeOutcome.EXPIRED: N_("The code has expired."),
    service.CodeOutcome.EXHAUSTED: N_("Too many wrong codes."),
    service.CodeOutcome.NO_CODE: N_("No code is waiting for this account."),
}
AUTHENTICATOR_MESSAGES = {
    **CODE_MESSAGES,
    service.CodeOutcome.EXHAUSTED: N_("Too many failed attempts: try again later."),
    service.CodeOutcome.NO_CODE: N_("Scan the QR code below first, then enter the code."),
}


def _send_codes(services: Services) -> BackgroundTask:
    return BackgroundTask(dispatch_pending, services.session_factory, services.channels,
                          RetryPolicy.from_settings(services.settings))


@router.get("/account/register", response_class=HTMLResponse)
def register_form(request: Request) -> Response:
    return render(request, "portal/register.html", {"form": {}, "errors": {}})


@router.post("/account/register", response_class=HTMLResponse)
def register(request: Request, session: DbSession, services: Services,
             personal_id_number: Annotated[str, Form()] = "",
             full_name: Annotated[str, Form()] = "", date_of_birth: Annotated[str, Form()] = "",
             phone: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
             face_photo: Annotated[UploadFile | None, File()] = None,
             face_consent: Annotated[str, Form()] = "") -> Response:
    form = {"personal_id_number": personal_id_number.strip(), "full_name": full_name,
            "date_of_birth": date_of_birth, "phone": phone.strip(),
            "face_consent": face_consent}
    # One byte over the limit is enough for the size check to refuse it.
    photo = face_photo.file.read(photos.MAX_BYTES + 1) if face_photo else b""
    try:
        service.register(session, services.pepper, services[PHOTO_VAULT],
                         service.Registration(form["personal_id_number"], full_name,
                                              _date(date_of_birth), form["phone"], password,
                                              photo, face_consent=face_consent == "yes"))
    except (Invalid, Conflict) as exc:
        return render(request, "portal/register.html",
                      {"form": form, "errors": field_errors(exc)}, exc.status)
    request.session[PENDING_KEY] = form["personal_id_number"]
    response = RedirectResponse("/account/verify-phone", status_code=303)
    response.background = _send_codes(services)
    return response


@router.get("/account/verify-phone", response_class=HTMLResponse)
def verify_form(request: Request) -> Response:
    return render(request, "portal/verify_phone.html", {"errors": {}})


@router.post("/account/verify-phone", response_class=HTMLResponse)
def verify(request: Request, session: DbSession, services: Services,
           code: Annotated[str, Form()] = "") -> Response:
    pending = str(request.session.get(PENDING_KEY, ""))
    outcome = service.verify_phone(session, services.pepper, pending, code)
    if outcome != service.CodeOutcome.ACCEPTED:
        return render(request, "portal/verify_phone.html",
                      {"errors": {"code": CODE_MESSAGES[outcome]}}, 422)
    request.session.pop(PENDING_KEY, None)
    request.session[VERIFIED_KEY] = pending
    return RedirectResponse("/account/verify-phone/done", status_code=303)


@router.get("/account/verify-phone/done", response_class=HTMLResponse)
def verified(request: Request, session: DbSession) -> Response:
    """Says where the account stands now: approval by the face match comes seconds after the
    code, so a reload tells an approved citizen to sign in rather than to wait."""
    proven = str(request.session.get(VERIFIED_KEY, ""))
    approved = bool(proven) and service.is_active(session, proven)
    return render(request, "portal/message.html",
                  {"message": "approved" if approved else "phone_verified"})


@router.get("/account/notifications", response_class=HTMLResponse)
def notifications(request: Request, session: DbSession, signed: Citizen) -> Response:
    return render(request, "portal/notifications.html",
                  {"notices": service.my_notifications(session, signed.account)})


@router.post("/account/verify-phone/resend", response_class=HTMLResponse)
def resend_code(request: Request, session: DbSession, services: Services) -> Response:
    pending = str(request.session.get(PENDING_KEY, ""))
    if not service.resend_phone_code(session, services.pepper, pending):
        return render(request, "portal/verify_phone.html",
                      {"errors": {"code": N_("No new code can be sent now; try again later.")}},
                      429)
    response = render(request, "portal/verify_phone.html", {"errors": {}, "resent": True})
    response.background = _send_codes(services)
    return response


@router.get("/account/login", response_class=HTMLResponse)
async def login_form(request: Request, next_path: NextQuery = "") -> Response:
    """Rendered on the event loop: the form needs nothing blocking, so not a thread hop."""
    return render(request, "portal/login.html",
                  {"form": {}, "errors": {}, "next": local_path(next_path, "")})


@router.post("/account/login", response_class=HTMLResponse)
async def login(request: Request, personal_id_number: Annotated[str, Form()] = "",
                password: Annotated[str, Form()] = "", next_path: NextForm = "") -> Response:
    """All the blocking work of a sign-in (the rate limit, the hash, the session and audit
    rows) in one transaction on one worker thread (kit/threads.py): a surge of sign-ins is
    the portal's busiest hour, and dependencies would each cross threads on their own."""
    services = services_of(request.app)
    return await in_one_transaction(services.session_factory, lambda session: _login(
        request, session, services, personal_id_number, password, next_path))


def _login(request: Request, session: Session, services: AppServices,
           personal_id_number: str, password: str, next_path: str) -> Response:
    form = {"personal_id_number": personal_id_number.strip()}
    target = local_path(next_path or request.query_params.get("next"), "")
    client = client_address(request)
    failures = limiter(request, "citizen_sign_in_failures")
    try:
        failures.check(session, client)
    except RateLimited as exc:
        return render(request, "portal/login.html", {
            "form": form, "errors": {"password": exc.detail}, "next": target}, exc.status)
    result = service.sign_in(session, services[service.UNKNOWN_IDENTIFIERS],
                             form["personal_id_number"], password)
    if result.outcome != service.LoginOutcome.SIGNED_IN:
        failures.failed(session, client)
        return render(request, "portal/login.html", {
            "form": form, "errors": {"password": LOGIN_MESSAGES[result.outcome]},
            "next": target}, 401)
    assert result.account is not None  # signed in means there is an account
    request.session.clear()
    request.session[CITIZEN_KEY] = service.start_session(
        session, result.account, request.headers.get("user-agent", "unknown"), client)
    store_in(session, request.session)
    return RedirectResponse(target or "/", status_code=303)  # the citizen's home


@router.get("/account/password-reset", response_class=HTMLResponse)
def reset_request_form(request: Request) -> Response:
    return render(request, "portal/reset_request.html", {"form": {}})


@router.post("/account/password-reset")
def reset_request(request: Request, session: DbSession, services: Services,
                  personal_id_number: Annotated[str, Form()] = "",
                  phone: Annotated[str, Form()] = "") -> Response:
    service.request_password_reset(session, services.pepper,
                                   personal_id_number.strip(), phone)
    request.session[RESET_KEY] = personal_id_number.strip()
    response = RedirectResponse("/account/password-reset/confirm", status_code=303)
    response.background = _send_codes(services)
    return response


@router.get("/account/password-reset/confirm", response_class=HTMLResponse)
def reset_confirm_form(request: Request) -> Response:
    return render(request, "portal/reset_confirm.html", {"errors": {}})


@router.post("/account/password-reset/confirm", response_class=HTMLResponse)
def reset_confirm(request: Request, session: DbSession, services: Services,
                  code: Annotated[str, Form()] = "",
                  password: Annotated[str, Form()] = "") -> Response:
    pid = str(request.session.get(RESET_KEY, ""))
    try:
        outcome = service.reset_password(session, services.pepper, pid, code, password)
    except Invalid as exc:
        return render(request, "portal/reset_confirm.html", {"errors": field_errors(exc)},
                      exc.status)
    if outcome != service.CodeOutcome.ACCEPTED:
        return render(request, "portal/reset_confirm.html",
                      {"errors": {"code": CODE_MESSAGES[outcome]}}, 422)
    request.session.clear()
    return RedirectResponse("/account/login", status_code=303)


def _page_number(asked: str) -> int:
    """A page number from the address; anything else is the first page."""
    return int(asked) if asked.isdigit() and 0 < int(asked) < 100_000 else 1


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, session: DbSession, services: Services,
                 signed: Citizen) -> Response:
    return _account_page(request, session, services, signed)


def _account_page(request: Request, session: Session, services: Services,
                  signed: service.SignedIn, report_errors: tuple[str, ...] = (),
                  status_code: int = 200) -> Response:
    account = signed.account
    pid = account.personal_id_number
    current = service.session_handle(signed.session_id)
    devices = [(service.session_handle(s.id), s) for s in service.live_sessions(session, account)]
    return render(request, "portal/account.html", {
        "account": account, "devices": devices, "current": current,
        "session_level": signed.level, "may_enrol": _may_enrol(account),
        "trail": service.my_audit_trail(
            session, pid, _page_number(request.query_params.get("uses_page", "1")),
            with_listings=request.query_params.get("listed") == "1"),
        "reports": services[DATA_USE_REPORTS].reports_of(session, pid),
        "me": str(Actor("citizen", pid)),
        "report_errors": report_errors}, status_code)


@router.post("/account/data-uses/{seq}/report", response_class=HTMLResponse)
def report_data_use(request: Request, session: DbSession, services: Services,
                    signed: Citizen, seq: int, note: Annotated[str, Form()] = "") -> Response:
    try:
        services[DATA_USE_REPORTS].report(session, signed.account.personal_id_number, seq,
                                          note)
    except DomainError as exc:
        return _account_page(request, session, services, signed,
                             tuple(field_errors(exc).values()), exc.status)
    return RedirectResponse("/account#uses", status_code=303)


@router.get("/account/data-uses/{seq}/proof")
def data_use_proof(session: DbSession, services: Services, signed: Citizen,
                   seq: int) -> Response:
    """The entry's inclusion proof, as a file to keep (checked with `civicstack audit
    verify-proof` or any C2SP tlog-proof verifier)."""
    proof = service.proof_of_my_data_use(session, services[LOG_PUBLISHING],
                                         signed.account.personal_id_number, seq)
    return Response(proof, media_type="text/plain; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="data-use-{seq}.tlog-proof"'})


def _may_enrol(account: CitizenAccount) -> bool:
    try:
        service.check_may_enrol(account)
    except DomainError:
        return False
    return True


@router.get("/account/step-up", response_class=HTMLResponse)
def step_up_form(request: Request, session: DbSession, signed: Citizen,
                 next_path: NextQuery = "") -> Response:
    target = local_path(next_path, "/account")
    return _step_up_page(request, session, signed.account, target, {})


def _step_up_page(request: Request, session: Session, account: CitizenAccount, target: str,
                  errors: dict[str, str], status_code: int = 200) -> Response:
    level_one = account.level < 2
    return render(request, "portal/step_up.html", {
        "next": target, "errors": errors, "level_one": level_one,
        "may_enrol": level_one and _may_enrol(account),
        "has_passkey": bool(service.my_passkeys(session, account)),
        "has_totp": account.totp_last_step is not None}, 403 if level_one else status_code)


@router.post("/account/step-up", response_class=HTMLResponse)
def step_up(request: Request, session: DbSession, services: Services, signed: Citizen,
            code: Annotated[str, Form()] = "", next_path: NextForm = "") -> Response:
    target = local_path(next_path, "/account")
    if signed.account.level < 2:
        return _step_up_page(request, session, signed.account, target, {})
    client = client_address(request)
    failures = limiter(request, "citizen_step_up_failures")
    try:
        failures.check(session, client)
    except RateLimited as exc:
        return _step_up_page(request, session, signed.account, target, {"code": exc.detail},
                             exc.status)
    outcome = service.step_up(session, services.totp_key, signed.session_id, code)
    if outcome != service.CodeOutcome.ACCEPTED:
        failures.failed(session, client)
        return _step_up_page(request, session, signed.account, target,
                             {"code": AUTHENTICATOR_MESSAGES[outcome]}, _code_status(outcome))
    rotate(request.session)  # more privilege, a new session id
    return RedirectResponse(target, status_code=303)


def _code_status(outcome: service.CodeOutcome) -> int:
    return 429 if outcome == service.CodeOutcome.EXHAUSTED else 422


@router.get("/account/second-factor", response_class=HTMLResponse)
def second_factor_form(request: Request, session: DbSession, services: Services,
                       signed: Citizen) -> Response:
    return _second_factor_page(request, session, services, signed.account, {})


def _second_factor_page(request: Request, session: Session, services: Services,
                        account: CitizenAccount, errors: dict[str, str],
                        status_code: int = 200) -> Response:
    try:
        enrolment = service.totp_enrolment(session, services.totp_key, account)
    except DomainError as exc:
        return render(request, "portal/second_factor.html",
                      {"refusal": exc, "level": account.level}, exc.status)
    return render(request, "portal/second_factor.html", {
        "secret": " ".join(enrolment.secret[i:i + 4] for i in range(0, len(enrolment.secret), 4)),
        # A white background of its own keeps the code scannable on a dark theme.
        "qr_svg": qr.svg_of(enrolment.uri),
        "errors": errors}, status_code)


@router.post("/account/second-factor", response_class=HTMLResponse)
def second_factor(request: Request, session: DbSession, services: Services, signed: Citizen,
                  code: Annotated[str, Form()] = "") -> Response:
    try:
        outcome = service.enrol_totp(session, services.totp_key, signed.account, code,
                                     signed.session_id)
    except DomainError as exc:
        return render(request, "portal/second_factor.html",
                      {"refusal": exc, "level": signed.account.level}, exc.status)
    if outcome != service.CodeOutcome.ACCEPTED:
        return _second_factor_page(request, session, services, signed.account,
                                   {"code": AUTHENTICATOR_MESSAGES[outcome]}, 422)
    rotate(request.session)  # more privilege, a new session id
    return RedirectResponse("/account", status_code=303)


@router.post("/account/sessions/{handle}/end")
def end_device_session(session: DbSession, signed: Citizen, handle: str) -> Response:
    service.end_session(session, signed.account, handle)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/sessions/end-all")
def sign_out_everywhere(request: Request, session: DbSession, signed: Citizen) -> Response:
    service.sign_out_everywhere(session, signed.account)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.post("/account/lock")
def lock_my_account(request: Request, session: DbSession, signed: Citizen) -> Response:
    service.lock_myself(session, signed.account.personal_id_number)
    request.session.clear()
    return render(request, "portal/message.html", {"message": "locked"})


@router.get("/account/close", response_class=HTMLResponse)
def close_account_form(request: Request, signed: Citizen) -> Response:
    return _close_account_page(request, signed, {})


def _close_account_page(request: Request, signed: service.SignedIn, errors: dict[str, str],
                        status_code: int = 200) -> Response:
    if signed.level < signed.account.level:  # as sure of the holder as the account allows
        return RedirectResponse("/account/step-up?next=/account/close", status_code=303)
    return render(request, "portal/close_account.html", {"errors": errors}, status_code)


@router.post("/account/close", response_class=HTMLResponse)
def close_account(request: Request, session: DbSession, signed: Citizen,
                  personal_id_number: Annotated[str, Form()] = "",
                  password: Annotated[str, Form()] = "") -> Response:
    outcome = service.close_my_account(session, signed, personal_id_number, password) \
        if signed.level >= signed.account.level else None
    if outcome is None or outcome != service.ClosureOutcome.CLOSED:
        errors = dict([CLOSURE_ERRORS[outcome]]) if outcome else {}
        return _close_account_page(request, signed, errors, 422)
    request.session.clear()
    return render(request, "portal/message.html", {"message": "closed"})


@router.post("/account/logout")
def logout(request: Request, session: DbSession, signed: MaybeCitizen) -> Response:
    """Ends the session on the server, not only in this browser: a copied cookie opens
    nothing afterwards, on any instance."""
    if signed is not None:
        service.end_session(session, signed.account, service.session_handle(signed.session_id))
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/console/accounts", response_class=HTMLResponse)
def approval_queue(request: Request, session: DbSession, services: Services,
                   official: Official) -> Response:
    """Approvals for `identity:approve`, level-2 activation for `identity:level2`."""
    may_approve = official.may(Permission.IDENTITY_APPROVE)
    may_level2 = official.may(Permission.IDENTITY_LEVEL2)
    context: dict[str, Any] = {"operator": official, "errors": {}, "may_approve": may_approve,
                               "may_level2": may_level2}
    if not (may_approve or may_level2):
        exc = Forbidden("your role may neither approve eID accounts nor activate level 2")
        return console.refusal_page(request, official, exc)
    if may_approve:
        pending = service.pending_approval(session, official)
        context["pending"] = pending
        context["held"] = services[FACE_HOLDS](
            session, [account.personal_id_number for account, _ in pending])
    return render(request, "console/accounts.html", context)


@router.get("/console/accounts/{personal_id_number}/photo")
def applicant_photo(session: DbSession, services: Services, official: Official,
                    personal_id_number: str) -> Response:
    """The applicant's registration photo, one audited read per look; never cached."""
    image, content_type = service.face_photo(
        session, official, services[PHOTO_VAULT], personal_id_number,
        PHOTO_PURPOSE)
    return Response(image, media_type=content_type,
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def _console_act(request: Request, official: Actor, change: Callable[[Actor], None],
                 ) -> Response:
    return console.act(request, official, change, "/console/accounts")


@router.post("/console/accounts/{personal_id_number}/approve")
def approve(request: Request, session: DbSession, services: Services, official: Official,
            personal_id_number: str, reason: Annotated[str, Form()] = "") -> Response:
    return _console_act(request, official, lambda official: service.approve(
        session, official, services[FACE_HOLDS], personal_id_number, reason))


@router.post("/console/accounts/lock-state")
def change_lock(request: Request, session: DbSession, official: Official,
                personal_id_number: Annotated[str, Form()] = "",
                action: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                ) -> Response:
    def change(official: Actor) -> None:
        chosen = {"lock": service.lock, "unlock": service.unlock}.get(action)
        if chosen is None:
            raise Invalid("action", "choose lock or unlock")
        chosen(session, official, personal_id_number.strip(), reason)

    return _console_act(request, official, change)


@router.post("/console/accounts/level-two")
def authorise_level_two(request: Request, session: DbSession, official: Official,
                        personal_id_number: Annotated[str, Form()] = "",
                        reason: Annotated[str, Form()] = "") -> Response:
    """A police official activates level 2 after seeing the citizen and their ID card."""
    return _console_act(request, official, lambda official: (
        service.authorise_level_two(session, official, personal_id_number.strip(), reason)))


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("date_of_birth", "use the form YYYY-MM-DD") from None
