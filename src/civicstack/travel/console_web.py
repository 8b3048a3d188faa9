"""The travel officers' console page (`/console/travel`): a bag drop at the counter and a
document checked by hand at a lane, each a form with its errors next to its fields. Role and
scope: the dependency refuses other roles, lanes.py keeps the officer to their airports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.console import Official
from civicstack.kit.deps import Csrf, DbSession, html_router
from civicstack.kit.errors import DomainError
from civicstack.kit.web import field_errors, render
from civicstack.travel import lanes, touchpoints

router = html_router()
PAGE = "/console/travel"
FormText = Annotated[str, Form()]


def travel_officer(official: Official) -> Actor:
    """The signed-in official, refused (403) unless their role works airports' lanes."""
    official.require(Permission.TRAVEL_OPERATE)
    return official


Officer = Annotated[Actor, Depends(travel_officer)]


@router.get(PAGE, response_class=HTMLResponse)
def travel_page(request: Request, session: DbSession, officer: Officer) -> Response:
    return _page(request, session, officer)


@router.post(PAGE + "/bag-drops", response_class=HTMLResponse)
def bag_drop(request: Request, session: DbSession, officer: Officer, _: Csrf,
             airport: FormText = "", record_locator: FormText = "") -> Response:
    typed = {"airport": airport, "record_locator": record_locator.strip()}
    try:
        booking = lanes.drop_bags(session, officer, airport, record_locator)
    except DomainError as exc:
        return _page(request, session, officer, bags=typed, refusal=("bags", exc))
    return _page(request, session, officer, dropped=booking)


@router.post(PAGE + "/manual-checks", response_class=HTMLResponse)
def manual_check(request: Request, session: DbSession, officer: Officer, _: Csrf,
                 lane: FormText = "", record_locator: FormText = "",
                 document_type: FormText = "") -> Response:
    typed = {"lane": lane, "record_locator": record_locator.strip(),
             "document_type": document_type}
    try:
        decision = lanes.check_by_hand(session, officer, lane, record_locator, document_type)
    except DomainError as exc:
        return _page(request, session, officer, check=typed, refusal=("check", exc))
    return _page(request, session, officer, check=typed | {"record_locator": ""},
                 decision=decision)


def _page(request: Request, session: Session, officer: Actor, *,
          bags: dict[str, str] | None = None, check: dict[str, str] | None = None,
          refusal: tuple[str, DomainError] | None = None, **outcome: Any) -> Response:
    """Both forms; a refused one keeps what was typed, its errors shown beside its fields."""
    airports = lanes.airports_of(session, officer)
    # Each form's fields have ids of their own ("bags-record_locator"), which the error
    # summary's links point at.
    errors: dict[str, dict[str, str]] = {"bags": {}, "check": {}}
    if refusal:
        form, exc = refusal
        errors[form] = {name if name == "form" else f"{form}-{name}": reason
                        for name, reason in field_errors(exc).items()}
    return render(request, "console/travel.html", {
        "operator": officer, "airports": airports,
        "airport_options": [(a.code, f"{a.name} ({a.code})") for a in airports],
        "lane_options": [(lane.touchpoint.name, f"{lane.touchpoint.name} · {lane.airport.code}")
                         for lane in lanes.lanes_of(session, officer)],
        "document_types": touchpoints.DOCUMENT_TYPES, "errors": errors,
        "bags": bags or {"airport": airports[0].code if len(airports) == 1 else "",
                         "record_locator": ""},
        "check": check or {"lane": "", "record_locator": "", "document_type": ""},
        **outcome}, refusal[1].status if refusal else 200)
