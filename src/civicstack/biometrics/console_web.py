"""The officials' face biometrics page: enrol a person's face from the ID-card photo, and decide
the look-alike cases that de-duplication holds. Every rule is in service.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.biometrics import service
from civicstack.biometrics.site import BIOMETRICS, image_bytes
from civicstack.kit import console
from civicstack.kit.appservices import Services
from civicstack.kit.audit import Actor
from civicstack.kit.console import Official
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError, Forbidden, Invalid
from civicstack.kit.web import field_errors, render

router = html_router()
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
def cases(request: Request, session: DbSession, official: Official) -> Response:
    return _page(request, session, official, {"enrolled": request.query_params.get("enrolled")})


@router.post(PAGE + "/enrol", response_class=HTMLResponse)
async def enrol(request: Request, session: DbSession, services: Services, official: Official,
                personal_id_number: Annotated[str, Form()] = "",
                photo: Annotated[UploadFile | None, File()] = None) -> Response:
    image = await image_bytes(photo) if photo is not None else b""
    try:
        done = service.enrol_from_id_card(session, services[BIOMETRICS], official,
                                          personal_id_number.strip(), image)
    except Invalid as exc:  # nothing was stored but the audited read of the person
        return _page(request, session, official, {"errors": field_errors(exc),
                                                  "pid": personal_id_number}, exc.status)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    outcome = "held" if done.held else "active"
    return RedirectResponse(f"{PAGE}?enrolled={outcome}", status_code=303)


@router.post(PAGE + "/cases/{case_id}", response_class=HTMLResponse)
def decide(request: Request, session: DbSession, services: Services, official: Official,
           case_id: int, outcome: Annotated[str, Form()] = "",
           reason: Annotated[str, Form()] = "") -> Response:
    try:
        service.decide_case(session, services[BIOMETRICS], official, case_id,
                            same_person_fraud=outcome == "confirm", reason=reason)
    except Invalid as exc:
        return _page(request, session, official,
                     {"errors": {f"case-{case_id}": field_errors(exc).get("reason", exc.detail)}},
                     exc.status)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return RedirectResponse(PAGE, status_code=303)
