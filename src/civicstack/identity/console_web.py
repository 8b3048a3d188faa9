"""The officials' console sign-in (password, then authenticator code; enrolment at the first
sign-in), the page where an official chooses their own password, sign-out, and the admins'
page for officials' accounts."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.identity import auth, console, officials
from civicstack.identity.auth import PASSWORD_PAGE
from civicstack.identity.models import OfficialAccount
from civicstack.identity.officials import PasswordOutcome
from civicstack.identity.service import UNKNOWN_IDENTIFIERS, CodeOutcome
from civicstack.kit import console as kit_console
from civicstack.kit import qr
from civicstack.kit.appservices import Services
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission, Role, Scope, ScopeLevel
from civicstack.kit.console import Official
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError, Invalid, RateLimited
from civicstack.kit.i18n import N_
from civicstack.kit.ratelimit import FailureLimiter
from civicstack.kit.web import client_address, field_errors, limiter, render
from civicstack.registry import service as registry

router = html_router()
HOME = "/console"  # the front door: it sends each official to their own work
PASSWORD_MESSAGES = {
    PasswordOutcome.WRONG_CREDENTIALS: N_("Wrong username or password."),
    PasswordOutcome.TEMPORARILY_LOCKED: N_("Too many failed attempts: try again later."),
    PasswordOutcome.DISABLED: N_("This account is disabled. Ask an administrator."),
}
CODE_MESSAGES = {
    CodeOutcome.WRONG: N_("Wrong or already used code. Wait for the next code and try again."),
    CodeOutcome.EXHAUSTED: N_("Too many failed attempts: try again later."),
}
# A scope level and the form field that carries its code.
SCOPE_FIELDS = {ScopeLevel.PROVINCE: "province_code", ScopeLevel.WARD: "ward_code"}


def safe_next(target: str) -> str:
    """Only ever redirect inside the console, never to another site."""
    return target if target.startswith("/console/") and "//" not in target else HOME


def _failures(request: Request) -> FailureLimiter:
    return limiter(request, "console_sign_in_failures")


def _limit_keys(request: Request, username: str) -> tuple[str, str]:
    """Failures count per address and per username: spreading guesses over many addresses
    still locks the one account, and one address cannot try many accounts."""
    return f"ip:{client_address(request)}", f"user:{username[:100]}"


@router.get("/console/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = HOME) -> Response:
    return render(request, "console/login.html",
                  {"next": safe_next(next), "errors": {}, "form": {}})


@router.post("/console/login", response_class=HTMLResponse)
def login(request: Request, session: DbSession, services: Services,
          username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = HOME) -> Response:
    username, target = username.strip().lower(), safe_next(next)
    context = {"next": target, "form": {"username": username}}
    keys = _limit_keys(request, username)
    try:
        for key in keys:
            _failures(request).check(session, key)
    except RateLimited as exc:
        return render(request, "console/login.html",
                      {**context, "errors": {"password": exc.detail}}, exc.status)
    result = officials.check_password(session, services[UNKNOWN_IDENTIFIERS], username,
                                      password)
    if not result.passed or result.official is None:
        for key in keys:
            _failures(request).failed(session, key)
        status = 429 if result.outcome == PasswordOutcome.TEMPORARILY_LOCKED else 401
        return render(request, "console/login.html", {
            **context, "errors": {"password": PASSWORD_MESSAGES[result.outcome]}}, status)
    console.begin(request, result.official)
    return RedirectResponse(f"/console/login/code?next={quote(target, safe='')}",
                            status_code=303)


@router.get("/console/login/code", response_class=HTMLResponse)
def code_form(request: Request, session: DbSession, services: Services,
              next: str = HOME) -> Response:
    official = _pending_official(request, session)
    if official is None:
        return RedirectResponse("/console/login", status_code=303)
    return _code_page(request, session, services, official, safe_next(next), {})


def _pending_official(request: Request, session: Session) -> OfficialAccount | None:
    found = console.pending(request)
    return officials.official_by_id(session, found[0]) if found else None


def _code_page(request: Request, session: Session, services: Services,
               official: OfficialAccount, target: str, errors: dict[str, str],
               status_code: int = 200) -> Response:
    context: dict[str, Any] = {"next": target, "errors": errors, "username": official.username}
    if official.totp_enrolled_at is None:
        enrolment = officials.enrolment(session, services.totp_key, official)
        secret = enrolment.secret
        context.update(
            secret=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
            # A white background of its own keeps the code scannable on a dark theme.
            qr_svg=qr.svg_of(enrolment.uri))
    return render(request, "console/login_code.html", context, status_code)


@router.post("/console/login/code", response_class=HTMLResponse)
def code(request: Request, session: DbSession, services: Services,
         code: Annotated[str, Form()] = "", next: Annotated[str, Form()] = HOME) -> Response:
    target, found = safe_next(next), console.pending(request)
    official = officials.official_by_id(session, found[0]) if found else None
    if found is None or official is None:
        return RedirectResponse("/console/login", status_code=303)
    keys = _limit_keys(request, official.username)
    try:
        for key in keys:
            _failures(request).check(session, key)
    except RateLimited as exc:
        return _code_page(request, session, services, official, target, {"code": exc.detail},
                          exc.status)
    outcome = officials.check_code(session, services.totp_key, *found, code)
    if outcome == CodeOutcome.NO_CODE:
        request.session.clear()
        return RedirectResponse("/console/login", status_code=303)
    if outcome != CodeOutcome.ACCEPTED:
        for key in keys:
            _failures(request).failed(session, key)
        return _code_page(request, session, services, official, target,
                          {"code": CODE_MESSAGES[outcome]},
                          429 if outcome == CodeOutcome.EXHAUSTED else 401)
    console.complete(request, official, registry.scope_label(session, official.scope))
    return RedirectResponse(target, status_code=303)


# --- the official's own password (forced while it is one an admin handed over) -----------------

@router.get(PASSWORD_PAGE, response_class=HTMLResponse)
def password_form(request: Request, session: DbSession, next: str = HOME) -> Response:
    official = auth.console_account(request, session)
    if official is None:
        return RedirectResponse(kit_console.official_login(PASSWORD_PAGE), status_code=303)
    return _password_page(request, official, safe_next(next), {})


def _password_page(request: Request, official: OfficialAccount, target: str,
                   errors: dict[str, str], status_code: int = 200) -> Response:
    return render(request, "console/password.html", {
        "next": target, "errors": errors, "must_change": official.must_change_password},
        status_code)


@router.post(PASSWORD_PAGE, response_class=HTMLResponse)
def choose_password(request: Request, session: DbSession,
                    current_password: Annotated[str, Form()] = "",
                    new_password: Annotated[str, Form()] = "",
                    new_password_again: Annotated[str, Form()] = "",
                    next: Annotated[str, Form()] = HOME) -> Response:
    official, target = auth.console_account(request, session), safe_next(next)
    if official is None:
        return RedirectResponse(kit_console.official_login(PASSWORD_PAGE), status_code=303)
    keys = _limit_keys(request, official.username)
    try:
        for key in keys:
            _failures(request).check(session, key)
        if new_password != new_password_again:
            raise Invalid("new_password_again", "the two new passwords differ")
        officials.choose_password(session, official, current_password, new_password)
    except Invalid as exc:
        if "current_password" in field_errors(exc):  # guessing it counts as a failed sign-in
            for key in keys:
                _failures(request).failed(session, key)
        return _password_page(request, official, target, field_errors(exc), exc.status)
    except RateLimited as exc:
        return _password_page(request, official, target, {"current_password": exc.detail},
                              exc.status)
    # The generation moved on, ending every session: this one starts afresh.
    console.complete(request, official, registry.scope_label(session, official.scope))
    return RedirectResponse(target, status_code=303)


@router.post("/console/logout")
def logout(request: Request) -> Response:
    request.session.clear()  # the session ends on the server: a copied cookie opens nothing
    return RedirectResponse("/console/login", status_code=303)


# --- officials' accounts (admins) --------------------------------------------------------------

@router.get("/console/officials", response_class=HTMLResponse)
def officials_page(request: Request, session: DbSession, admin: Official) -> Response:
    return _officials_page(request, session, admin, {}, {})


def _officials_page(request: Request, session: Session, admin: Actor, form: dict[str, str],
                    errors: dict[str, str], status_code: int = 200,
                    created: tuple[str, str] | None = None,
                    reset: tuple[str, str] | None = None) -> Response:
    """`created` and `reset` are (username, password): a password to hand over, shown once."""
    context: dict[str, Any] = {"operator": admin, "form": form, "errors": errors,
                               "roles": list(Role), "created": created, "reset": reset}
    try:
        context["officials"] = officials.officials_in_scope(session, admin)
    except DomainError as exc:
        return kit_console.refusal_page(request, admin, exc)
    return render(request, "console/officials.html", context, status_code)


@router.post("/console/officials", response_class=HTMLResponse)
def create_official(request: Request, session: DbSession, admin: Official,
                    username: Annotated[str, Form()] = "", full_name: Annotated[str, Form()] = "",
                    role: Annotated[str, Form()] = "", scope_level: Annotated[str, Form()] = "",
                    scope_code: Annotated[str, Form()] = "") -> Response:
    form = {"username": username.strip().lower(), "full_name": full_name.strip(), "role": role,
            "scope_level": scope_level, "scope_code": scope_code.strip()}
    password = officials.initial_password()
    try:
        admin.require(Permission.OFFICIALS_MANAGE)  # before the scope's codes are looked up
        official = officials.create(session, admin, officials.NewOfficial(
            form["username"], form["full_name"], _role(role),
            _scope(session, scope_level, form["scope_code"]), password))
    except Invalid as exc:
        return _officials_page(request, session, admin, form, field_errors(exc), exc.status)
    except DomainError as exc:
        return kit_console.refusal_page(request, admin, exc)
    # Shown once, to hand over in person; the official enrols an authenticator at first use.
    return _officials_page(request, session, admin, {}, {}, 201,
                           created=(official.username, password))


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise Invalid("role", f"choose one of {', '.join(r.value for r in Role)}") from None


def _scope(session: Session, level: str, code: str) -> Scope:
    if level == ScopeLevel.NATIONAL.value:
        return Scope.national()
    if level not in (ScopeLevel.PROVINCE.value, ScopeLevel.WARD.value):
        raise Invalid("scope_level", "choose national, province or ward")
    if not code:
        raise Invalid("scope_code", "give the province or ward code")
    return registry.scope_for(session, **{SCOPE_FIELDS[ScopeLevel(level)]: code})


@router.post("/console/officials/{username}/reset-password", response_class=HTMLResponse)
def reset_password(request: Request, session: DbSession, admin: Official,
                   username: str) -> Response:
    try:
        password = officials.reset_password(session, admin, username)
    except DomainError as exc:
        return kit_console.refusal_page(request, admin, exc)
    return _officials_page(request, session, admin, {}, {}, reset=(username, password))


OFFICIAL_ACTIONS = {
    "disable": officials.disable,
    "enable": officials.enable,
    "reset-second-factor": officials.reset_second_factor,
}


@router.post("/console/officials/{username}/{action}")
def change_official(request: Request, session: DbSession, official: Official, username: str,
                    action: str, role: Annotated[str, Form()] = "") -> Response:
    def change(admin: Actor) -> None:
        if action == "role":
            officials.change_role(session, admin, username, _role(role))
        elif action in OFFICIAL_ACTIONS:
            OFFICIAL_ACTIONS[action](session, admin, username)
        else:
            raise Invalid("action", "choose disable, enable, reset-second-factor or role")

    return kit_console.act(request, official, change, "/console/officials")


@router.get("/console")
def landing(official: Official) -> Response:
    return RedirectResponse(kit_console.landing_of(official), status_code=303)
