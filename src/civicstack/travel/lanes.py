"""An airport's staffed lanes as travel officers work them in the console: a passenger's bags
taken at the counter, and a document checked by hand at a security or boarding gate when the
face did not do. Before, only an airline's system and a touchpoint device could record them
(the JSON API); the journey's rules are the same ones (service.drop_bags,
touchpoints.manual_check), and an officer reaches only the airports of their scope."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.errors import Invalid
from civicstack.kit.i18n import N_
from civicstack.travel import repository, service, touchpoints
from civicstack.travel.models import Airport, Booking, Touchpoint

NOT_DEPARTING = N_("No booking with this code leaves from this airport now.")


@dataclass(frozen=True)
class Lane:
    touchpoint: Touchpoint
    airport: Airport


def airports_of(session: Session, officer: Actor) -> list[Airport]:
    """The airports in the officer's scope (a province's, or every one for national scope)."""
    officer.require(Permission.TRAVEL_OPERATE)
    return [airport for airport in repository.airports(session)
            if officer.scope.covers_province(airport.province_code)]


def lanes_of(session: Session, officer: Actor) -> list[Lane]:
    airports = {airport.id: airport for airport in airports_of(session, officer)}
    return [Lane(lane, airports[lane.airport_id])
            for lane in repository.airport_lanes(session, list(airports))
            if lane.airport_id is not None]


def drop_bags(session: Session, officer: Actor, airport_code: str,
              record_locator: str) -> Booking:
    """The counter took the bags of a booking leaving from this airport now."""
    airport = _airport_in_scope(session, officer, airport_code)
    locator = _locator(record_locator)
    found = repository.bookings_by_locator_departing(session, airport.id,
                                                     touchpoints.departing_window(), locator)
    if not found:
        raise Invalid("record_locator", NOT_DEPARTING)
    booking, flight = found[0]
    return service.drop_bags(session, officer, flight, booking)


def check_by_hand(session: Session, officer: Actor, lane_name: str, record_locator: str,
                  document_type: str) -> touchpoints.Decision:
    """The officer saw the passenger's document at this lane and lets them through if the
    journey's rules allow it; the lane's decision names the officer as its staff member."""
    lane = next((found.touchpoint for found in lanes_of(session, officer)
                 if found.touchpoint.name == lane_name), None)
    if lane is None:
        raise Invalid("lane", N_("Choose one of the lanes of your airports."))
    if document_type not in touchpoints.DOCUMENT_TYPES:  # the API's sentence names its codes
        raise Invalid("document_type", N_("Choose the document you saw."))
    decision = touchpoints.manual_check(session, lane, _locator(record_locator),
                                        document_type, officer.name)
    audit.record(session, officer, "travel.manual_check", subject_type="touchpoint",
                 subject_id=lane.name, purpose="flight operations",
                 detail={"record_locator": _locator(record_locator),
                         "decision": "pass" if decision.passed else "fail",
                         "reason": decision.reason})
    return decision


def _airport_in_scope(session: Session, officer: Actor, code: str) -> Airport:
    found = next((airport for airport in airports_of(session, officer) if airport.code == code),
                 None)
    if found is None:
        raise Invalid("airport", N_("Choose one of the airports of your scope."))
    return found


def _locator(text: str) -> str:
    locator = text.strip().upper()
    if not (len(locator) == 6 and locator.isalnum()):
        raise Invalid("record_locator", N_("A booking code has six letters or digits."))
    return locator
