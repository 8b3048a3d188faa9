"""The administrators' catalogue pages in the officials' console: the procedures with a filter
by agency, and one procedure's edit form with its publication in each province. The rules are
in catalogue_admin.py; officials without catalogue:manage get the console's refusal page."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from civicstack.kit import console
from civicstack.kit.audit import Actor
from civicstack.kit.console import Official
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError, Invalid
from civicstack.kit.web import field_errors, render
from civicstack.registry import service as registry
from civicstack.services import catalogue_admin, repository
from civicstack.services.catalogue_admin import LocalFees, ProcedureChanges

router = html_router()
CATALOGUE = "/console/catalogue"


@router.get(CATALOGUE, response_class=HTMLResponse)
def catalogue_list(request: Request, session: DbSession, official: Official,
                   agency: str = "") -> Response:
    agencies = repository.agencies(session)
    chosen = agency if agency in {a.code for a in agencies} else ""
    try:
        rows = catalogue_admin.catalogue_rows(session, official, chosen)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return render(request, "console/services_catalogue.html", {
        "operator": official, "rows": rows, "agencies": agencies, "agency": chosen})


def _form_of(current: catalogue_admin.AdminProcedure) -> dict[str, Any]:
    """The form as the procedure stands now."""
    found = current.procedure
    return {
        "name": found.name, "name_en": found.name_en, "online_level": found.online_level,
        "legal_basis": found.legal_basis, "fee": str(found.fee),
        "online_fee": str(found.online_fee), "processing_days": str(found.processing_days),
        "active": found.active,
        "offered": {code: LocalFees("" if o.fee is None else str(o.fee),
                                    "" if o.online_fee is None else str(o.online_fee))
                    for code, o in current.offerings.items()}}


def _edit_page(request: Request, session: Session, official: Actor, code: str,
               form: dict[str, Any] | None = None, refusal: DomainError | None = None,
               saved: bool = False) -> Response:
    try:
        current = catalogue_admin.procedure_for_admin(session, official, code)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return render(request, "console/services_catalogue_edit.html", {
        "operator": official, "procedure": current.procedure, "agency": current.agency,
        "provinces": registry.provinces(session), "form": form or _form_of(current),
        "errors": field_errors(refusal) if refusal else {}, "saved": saved},
        refusal.status if refusal else 200)


@router.get(CATALOGUE + "/{code}", response_class=HTMLResponse)
def edit_form(request: Request, session: DbSession, official: Official, code: str,
              saved: str = "") -> Response:
    return _edit_page(request, session, official, code, saved=bool(saved))


def _changes(form: FormData) -> ProcedureChanges:
    """The posted form: each offered province's box is `offered` with the province code as
    its value; its local fees are `fee_<code>` and `online_fee_<code>`."""
    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    return ProcedureChanges(
        name=text("name"), name_en=text("name_en"), online_level=text("online_level"),
        legal_basis=text("legal_basis"), fee=text("fee"), online_fee=text("online_fee"),
        processing_days=text("processing_days"), active=text("active") == "1",
        offered={str(code): LocalFees(text(f"fee_{code}"), text(f"online_fee_{code}"))
                 for code in form.getlist("offered")})


@router.post(CATALOGUE + "/{code}", response_class=HTMLResponse)
async def save(request: Request, session: DbSession, official: Official,
               code: str) -> Response:
    """Save the whole form, or nothing: a refusal shows the form as typed, each mistake next
    to its field."""
    changes = _changes(await request.form())
    try:
        with session.begin_nested():
            catalogue_admin.update_procedure(session, official, code, changes)
    except Invalid as exc:
        return _edit_page(request, session, official, code, vars(changes), exc)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return RedirectResponse(f"{CATALOGUE}/{code}?saved=1", status_code=303)
