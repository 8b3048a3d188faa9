"""HTML pages: the citizen portal's front page and the officials' register console.

Officials sign in with their accounts (identity/console_web.py); reading the register needs
the registry:read permission, and the service keeps them to their scope. Every person shown
is read through the audited service with the purpose the official typed.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from civicstack.kit import console
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.console import Official
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import Forbidden, Invalid, NotFound
from civicstack.kit.web import field_errors, render
from civicstack.registry import service

router = html_router()
SEARCH_FIELDS = ("full_name", "date_of_birth", "province_code", "purpose")
SEARCH_LIMIT = 50


def register_reader(official: Official) -> Actor:
    """The signed-in official, refused (403) unless their role may read the register."""
    official.require(Permission.REGISTRY_READ)
    return official


Reader = Annotated[Actor, Depends(register_reader)]


@router.get("/", response_class=HTMLResponse)
def portal_home(request: Request) -> Response:
    return render(request, "portal/home.html")


@router.get("/console/registry", response_class=HTMLResponse)
def registry_search(request: Request, session: DbSession, official: Reader) -> Response:
    query = {name: request.query_params.get(name, "").strip() for name in SEARCH_FIELDS}
    context: dict[str, Any] = {"query": query, "errors": {}, "results": None,
                               "provinces": service.provinces(session),
                               "operator": official}
    status = 200
    if query["full_name"] or query["purpose"]:
        try:
            results = service.search_persons(
                session, official, query["purpose"], text=query["full_name"],
                date_of_birth=_date(query["date_of_birth"]),
                province_code=query["province_code"] or None, limit=SEARCH_LIMIT)
            context.update(results=results, places=service.place_names(session, results),
                           limit=SEARCH_LIMIT)
        except Invalid as exc:
            context["errors"] = field_errors(exc)
            status = exc.status
        except Forbidden as exc:  # the province chosen lies outside the official's scope
            context["errors"] = {"province_code": exc.detail}
            status = exc.status
    template = "console/_register_search.html" if request.headers.get("hx-request") else \
        "console/registry_search.html"
    return render(request, template, context, status)


@router.get("/console/registry/persons/{personal_id_number}", response_class=HTMLResponse)
def person_page(request: Request, session: DbSession, official: Reader,
                personal_id_number: str, purpose: str = "") -> Response:
    context: dict[str, Any] = {"pid": personal_id_number, "purpose": purpose, "errors": {},
                               "operator": official}
    if not purpose:
        return render(request, "console/purpose.html", context)
    try:
        history = service.person_history(session, official, personal_id_number, purpose)
        context.update(history=history, places=service.place_names(session, [history.person]))
    except Invalid as exc:
        context["errors"] = field_errors(exc)
        return render(request, "console/purpose.html", context, exc.status)
    except (NotFound, Forbidden) as exc:
        return console.refusal_page(request, official, exc)
    return render(request, "console/person.html", context)


def _date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("date_of_birth", "use the form YYYY-MM-DD") from None
