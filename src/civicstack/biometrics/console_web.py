"""The officials' face biometrics pages: enrol a person's face from the ID-card photo, and decide
the look-alike cases that de-duplication holds, with both faces side by side and a confirmation
before the new template is deleted. Every rule is in service.py."""

from __future__ import annotations

from typing import Annotated, Any

from babel.numbers import format_decimal
from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.biometrics import service
from civicstack.biometrics.site import BIOMETRICS, image_bytes
from civicstack.kit import console
from civicstack.kit.appservices import AppServices, Services
from civicstack.kit.audit import Actor
from civicstack.kit.console import Official
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError, Forbidden, Invalid
from civicstack.kit.web import field_errors, render, request_locale

router = html_router()
PAGE = "/console/biometrics"
DISTANCE = "0.00"  # distances and the threshold, in the reader's locale (0,41 in Vietnamese)


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
    return _page(request, session, official, {"enrolled": request.query_params.get("enrolled"),
                                              "decided": request.query_params.get("decided")})


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


def _case_page(request: Request, session: Session, services: AppServices, official: Actor,
               case_id: int, errors: dict[str, str] | None = None,
               status_code: int = 200) -> Response:
    try:
        review = service.case_review(session, services[BIOMETRICS], official, case_id)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    locale = request_locale(request)
    return render(request, "console/biometrics_case.html", {
        "operator": official, "review": review, "errors": errors or {},
        "distance": format_decimal(review.case.distance, DISTANCE, locale=locale),
        "threshold": format_decimal(review.threshold, DISTANCE, locale=locale),
        "purpose": service.REVIEW}, status_code)


@router.get(PAGE + "/cases/{case_id}", response_class=HTMLResponse)
def case(request: Request, session: DbSession, services: Services, official: Official,
         case_id: int) -> Response:
    return _case_page(request, session, services, official, case_id)


@router.get(PAGE + "/cases/{case_id}/photos/{side}")
def case_photo(session: DbSession, services: Services, official: Official, case_id: int,
               side: service.Side) -> Response:
    """One face of the case, one audited read per look; never cached."""
    image = service.case_photo(session, services[BIOMETRICS], official, case_id, side)
    return Response(image, media_type="image/jpeg",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.post(PAGE + "/cases/{case_id}", response_class=HTMLResponse)
def decide(request: Request, session: DbSession, services: Services, official: Official,
           case_id: int, outcome: Annotated[str, Form()] = "",
           reason: Annotated[str, Form()] = "") -> Response:
    """Releasing is decided here; deleting the new template is asked again on a confirmation
    page first, since it cannot be undone."""
    if outcome == "confirm":
        try:
            reason = service.decision_reason(reason)
            review = service.case_review(session, services[BIOMETRICS], official, case_id)
        except Invalid as exc:
            return _case_page(request, session, services, official, case_id,
                              field_errors(exc), exc.status)
        except DomainError as exc:
            return console.refusal_page(request, official, exc)
        return render(request, "console/biometrics_delete_confirm.html",
                      {"operator": official, "review": review, "reason": reason})
    return _decide(request, session, services, official, case_id, False, reason)


@router.post(PAGE + "/cases/{case_id}/delete", response_class=HTMLResponse)
def delete_new_template(request: Request, session: DbSession, services: Services,
                        official: Official, case_id: int,
                        reason: Annotated[str, Form()] = "") -> Response:
    """The confirmation page's "yes": the same face under two identities."""
    return _decide(request, session, services, official, case_id, True, reason)


def _decide(request: Request, session: Session, services: AppServices, official: Actor,
            case_id: int, same_person_fraud: bool, reason: str) -> Response:
    try:
        decided = service.decide_case(session, services[BIOMETRICS], official, case_id,
                                      same_person_fraud=same_person_fraud, reason=reason)
    except Invalid as exc:
        return _case_page(request, session, services, official, case_id, field_errors(exc),
                          exc.status)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return RedirectResponse(f"{PAGE}?decided={decided.status}", status_code=303)
