"""The officials' face biometrics page: enrol a person's face from the ID-card photo, and decide
the look-alike cases that de-duplication holds. Every rule is in service.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.biometrics import service
from civicstack.biometrics.site import image_bytes, site_of
from civicstack.identity import console
from civicstack.kit.audit import Actor
from civicstack.kit.deps import DbSession
from civicstack.kit.errors import DomainError, Forbidden, Invalid
from civicstack.kit.web import check_csrf, field_errors, render

router = APIRouter(include_in_schema=False)
PAGE = "/console/biometrics"


def _page(request: Request, session: Session, official: Actor,
          extra: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    context: dict[str, Any] = {"operator": official, "errors": {}, **(extra or {})}
    try:
        context["cases"] = service.open_cases(session, official)
    except Forbidden as exc:
        return console.refusal_page(request, official, exc)
    return render(request, "console/biometrics.html", context, status_code)


@router.get(PAGE, response_class=HTMLResponse)
def cases(request: Request, session: DbSession) -> Response:
    official = console.signed_in_official(request, session)
    if official is None:
        return console.login_redirect(request)
    return _page(request, session, official, {"enrolled": request.query_params.get("enrolled")})


@router.post(PAGE + "/enrol", response_class=HTMLResponse)
async def enrol(request: Request, session: DbSession,
                personal_id_number: Annotated[str, Form()] = "",
                photo: Annotated[UploadFile | None, File()] = None,
                csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    official = console.signed_in_official(request, session)
    if official is None:
        return console.login_redirect(request)
    image = await image_bytes(photo) if photo is not None else b""
    try:
        done = service.enrol_from_id_card(session, site_of(request), official,
                                          personal_id_number.strip(), image)
    except Invalid as exc:  # nothing was stored but the audited read of the person
        return _page(request, session, official, {"errors": field_errors(exc),
                                                  "pid": personal_id_number}, exc.status)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    outcome = "held" if done.held else "active"
    return RedirectResponse(f"{PAGE}?enrolled={outcome}", status_code=303)


@router.post(PAGE + "/cases/{case_id}", response_class=HTMLResponse)
def decide(request: Request, session: DbSession, case_id: int,
           outcome: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
           csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    official = console.signed_in_official(request, session)
    if official is None:
        return console.login_redirect(request)
    try:
        service.decide_case(session, site_of(request), official, case_id,
                            same_person_fraud=outcome == "confirm", reason=reason)
    except Invalid as exc:
        return _page(request, session, official,
                     {"errors": {f"case-{case_id}": field_errors(exc).get("reason", exc.detail)}},
                     exc.status)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return RedirectResponse(PAGE, status_code=303)
