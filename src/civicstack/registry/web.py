"""HTML pages: the citizen portal's front page and the officials' register console.

Officials sign in with an operator API key until official accounts arrive with the identity
domain. The session keeps only the key's public lookup id; the key is re-checked on every
request, so revoking it ends the session. Every person shown is read through the audited
service with the purpose the official typed.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.kit import apikeys, console
from civicstack.kit.deps import DbSession
from civicstack.kit.errors import (
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthorized,
)
from civicstack.kit.web import check_csrf, client_address, field_errors, limiter, render
from civicstack.registry import service

router = APIRouter(include_in_schema=False)
SEARCH_FIELDS = ("full_name", "date_of_birth", "province_code", "purpose")
SEARCH_LIMIT = 50


@router.get("/", response_class=HTMLResponse)
def portal_home(request: Request) -> Response:
    return render(request, "portal/home.html")


@router.get("/console/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/console/registry") -> Response:
    return render(request, "console/login.html", {"next": _safe_next(next), "errors": {}})


@router.post("/console/login", response_class=HTMLResponse)
def login(request: Request, session: DbSession, token: Annotated[str, Form()] = "",
          csrf_token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/console/registry") -> Response:
    check_csrf(request, csrf_token)
    client = client_address(request)
    failures = limiter(request, "console_sign_in_failures")
    try:
        failures.check(client)
        principal = apikeys.authenticate(session, request.app.state.pepper, token.strip())
    except (Unauthorized, RateLimited) as exc:
        if isinstance(exc, Unauthorized):
            failures.failed(client)
        return render(request, "console/login.html",
                      {"next": _safe_next(next), "errors": {"token": exc.detail}}, exc.status)
    console.sign_in(request, token.strip(), principal)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/console/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    request.session.clear()
    return RedirectResponse("/console/login", status_code=303)


@router.get("/console/registry", response_class=HTMLResponse)
def registry_search(request: Request, session: DbSession) -> Response:
    principal = signed_in_reader(request, session)
    if principal is None:
        return console.login_redirect(request)
    query = {name: request.query_params.get(name, "").strip() for name in SEARCH_FIELDS}
    context: dict[str, Any] = {"query": query, "errors": {}, "results": None,
                               "provinces": service.provinces(session),
                               "operator": principal.actor}
    status = 200
    if query["full_name"] or query["purpose"]:
        try:
            results = service.search_persons(
                session, principal.actor, query["purpose"], full_name=query["full_name"],
                date_of_birth=_date(query["date_of_birth"]),
                province_code=query["province_code"] or None, limit=SEARCH_LIMIT)
            context.update(results=results, places=service.place_names(session, results),
                           limit=SEARCH_LIMIT)
        except (Invalid, Forbidden) as exc:
            context["errors"] = field_errors(exc)
            status = exc.status
    template = "console/_results.html" if request.headers.get("hx-request") else \
        "console/registry_search.html"
    return render(request, template, context, status)


@router.get("/console/registry/persons/{personal_id_number}", response_class=HTMLResponse)
def person_page(request: Request, session: DbSession, personal_id_number: str,
                purpose: str = "") -> Response:
    principal = signed_in_reader(request, session)
    if principal is None:
        return console.login_redirect(request)
    context: dict[str, Any] = {"pid": personal_id_number, "purpose": purpose, "errors": {},
                               "operator": principal.actor}
    if not purpose:
        return render(request, "console/purpose.html", context)
    try:
        history = service.person_history(session, principal.actor, personal_id_number, purpose)
        context.update(history=history, places=service.place_names(session, [history.person]))
    except Invalid as exc:
        context["errors"] = field_errors(exc)
        return render(request, "console/purpose.html", context, exc.status)
    except (NotFound, Forbidden) as exc:
        return render(request, "console/error.html", {**context, "error": exc}, exc.status)
    return render(request, "console/person.html", context)


def signed_in_reader(request: Request, session: Session) -> apikeys.Principal | None:
    principal = console.signed_in_operator(request, session)
    if principal is not None:
        principal.require("registry:read")
    return principal


def _safe_next(target: str) -> str:
    """Only ever redirect inside the console, never to another site."""
    return target if target.startswith("/console/") and "//" not in target else \
        "/console/registry"


def _date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("date_of_birth", "use the form YYYY-MM-DD") from None
