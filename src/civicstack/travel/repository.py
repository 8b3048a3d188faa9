"""Every query of travel's tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import CursorResult, Result, delete, or_, select, update
from sqlalchemy.orm import Session

from civicstack.travel.models import (
    Airline,
    Airport,
    Booking,
    FaceToken,
    Flight,
    Touchpoint,
    TouchpointEvent,
    UrbanDailyCount,
    UrbanJourney,
    UrbanPass,
    UrbanSite,
)

Window = tuple[datetime, datetime]  # scheduled departures from .. to


def airport_by_code(session: Session, code: str) -> Airport | None:
    return session.execute(select(Airport).where(Airport.code == code)).scalar_one_or_none()


def airports(session: Session) -> list[Airport]:
    return list(session.scalars(select(Airport).order_by(Airport.code)))


def airport_lanes(session: Session, airport_ids: list[int]) -> list[Touchpoint]:
    """The airports' touchpoints where staff may check a document by hand instead."""
    return list(session.scalars(select(Touchpoint).where(
        Touchpoint.airport_id.in_(airport_ids),
        Touchpoint.kind.in_(("security_gate", "boarding_gate"))).order_by(Touchpoint.name)))


def airline_by_code(session: Session, code: str) -> Airline | None:
    return session.execute(select(Airline).where(Airline.code == code)).scalar_one_or_none()


def airline_by_lookup(session: Session, lookup_id: str) -> Airline | None:
    return session.execute(
        select(Airline).where(Airline.lookup_id == lookup_id)).scalar_one_or_none()


def flight_by_number(session: Session, airline_id: int, number: str,
                     on: date) -> Flight | None:
    return session.execute(select(Flight).where(
        Flight.airline_id == airline_id, Flight.number == number,
        Flight.departure_date == on)).scalar_one_or_none()


def bookings_of_flight(session: Session, flight_id: int) -> list[Booking]:
    return list(session.execute(select(Booking).where(Booking.flight_id == flight_id)
                                .order_by(Booking.record_locator)).scalars())


def booking_on_flight(session: Session, flight_id: int, record_locator: str) -> Booking | None:
    return session.execute(select(Booking).where(
        Booking.flight_id == flight_id,
        Booking.record_locator == record_locator)).scalar_one_or_none()


def bookings_by_locator_departing(session: Session, airport_id: int, window: Window,
                                  record_locator: str) -> list[tuple[Booking, Flight]]:
    found = session.execute(
        select(Booking, Flight).join(Flight, Flight.id == Booking.flight_id)
        .where(Booking.record_locator == record_locator, Flight.origin_airport_id == airport_id,
               Flight.scheduled_departure.between(*window)))
    return [(booking, flight) for booking, flight in found]


def locator_exists(session: Session, record_locator: str) -> bool:
    return session.execute(select(Booking.id).where(
        Booking.record_locator == record_locator).limit(1)).first() is not None


def opted_in_departing(session: Session, airport_id: int,
                       window: Window) -> list[tuple[Booking, Flight, FaceToken]]:
    """The gallery of a 1:N search: opted-in passengers of flights leaving here soon."""
    found = session.execute(
        select(Booking, Flight, FaceToken).join(Flight, Flight.id == Booking.flight_id)
        .join(FaceToken, FaceToken.booking_id == Booking.id)
        .where(Flight.origin_airport_id == airport_id,
               Flight.scheduled_departure.between(*window),
               Flight.status.in_(("scheduled", "delayed"))))
    return [(booking, flight, token) for booking, flight, token in found]


def token_of_booking(session: Session, booking_id: int) -> FaceToken | None:
    return session.execute(
        select(FaceToken).where(FaceToken.booking_id == booking_id)).scalar_one_or_none()


def token_of_pass(session: Session, pass_id: int) -> FaceToken | None:
    return session.execute(
        select(FaceToken).where(FaceToken.pass_id == pass_id)).scalar_one_or_none()


def bookings_of_person(session: Session, personal_id_number: str,
                       since: datetime) -> list[tuple[Booking, Flight, Airline, bool]]:
    """The person's bookings on flights departing after `since`, with whether opted in."""
    found = session.execute(
        select(Booking, Flight, Airline, FaceToken.id)
        .join(Flight, Flight.id == Booking.flight_id)
        .join(Airline, Airline.id == Flight.airline_id)
        .outerjoin(FaceToken, FaceToken.booking_id == Booking.id)
        .where(Booking.personal_id_number == personal_id_number,
               Flight.scheduled_departure >= since)
        .order_by(Flight.scheduled_departure))
    return [(booking, flight, airline, token_id is not None)
            for booking, flight, airline, token_id in found]


def touchpoint_by_name(session: Session, name: str) -> Touchpoint | None:
    return session.execute(
        select(Touchpoint).where(Touchpoint.name == name)).scalar_one_or_none()


def touchpoint_by_lookup(session: Session, lookup_id: str) -> Touchpoint | None:
    return session.execute(
        select(Touchpoint).where(Touchpoint.lookup_id == lookup_id)).scalar_one_or_none()


def urban_site_by_code(session: Session, code: str) -> UrbanSite | None:
    return session.execute(
        select(UrbanSite).where(UrbanSite.code == code)).scalar_one_or_none()


def urban_operators(session: Session) -> list[tuple[str, str]]:
    """(operator, site kind) pairs offered, for the portal's pass form."""
    found = session.execute(select(UrbanSite.operator, UrbanSite.kind).distinct()
                            .order_by(UrbanSite.operator))
    return [(operator, kind) for operator, kind in found]


def passes_of_person(session: Session,
                     personal_id_number: str) -> list[tuple[UrbanPass, bool]]:
    found = session.execute(
        select(UrbanPass, FaceToken.id).outerjoin(FaceToken, FaceToken.pass_id == UrbanPass.id)
        .where(UrbanPass.personal_id_number == personal_id_number,
               UrbanPass.ended_at.is_(None))
        .order_by(UrbanPass.created_at.desc()))
    return [(found_pass, token_id is not None) for found_pass, token_id in found]


def opted_in_passes(session: Session, operator: str, kind: str,
                    on: date) -> list[tuple[UrbanPass, FaceToken]]:
    found = session.execute(
        select(UrbanPass, FaceToken).join(FaceToken, FaceToken.pass_id == UrbanPass.id)
        .where(UrbanPass.operator == operator, UrbanPass.kind == kind,
               UrbanPass.ended_at.is_(None), UrbanPass.valid_until >= on))
    return [(found_pass, token) for found_pass, token in found]


def current_pass(session: Session, personal_id_number: str, operator: str,
                 kind: str) -> UrbanPass | None:
    """The person's pass of this operator and kind not yet ended, valid or expired."""
    return session.execute(select(UrbanPass).where(
        UrbanPass.personal_id_number == personal_id_number, UrbanPass.operator == operator,
        UrbanPass.kind == kind, UrbanPass.ended_at.is_(None))).scalar_one_or_none()


def open_journey(session: Session, pass_id: int) -> UrbanJourney | None:
    return session.execute(select(UrbanJourney).where(
        UrbanJourney.pass_id == pass_id, UrbanJourney.exited_at.is_(None))).scalar_one_or_none()


def journeys_of_person(session: Session, personal_id_number: str,
                       limit: int = 50) -> list[tuple[UrbanJourney, UrbanPass, UrbanSite]]:
    found = session.execute(
        select(UrbanJourney, UrbanPass, UrbanSite)
        .join(UrbanPass, UrbanPass.id == UrbanJourney.pass_id)
        .join(UrbanSite, UrbanSite.id == UrbanJourney.entry_site_id)
        .where(UrbanPass.personal_id_number == personal_id_number)
        .order_by(UrbanJourney.entered_at.desc()).limit(limit))
    return [(journey, found_pass, site) for journey, found_pass, site in found]


def flights_departed_before(session: Session, moment: datetime) -> list[Flight]:
    return list(session.execute(
        select(Flight).where(Flight.scheduled_departure < moment)).scalars())


def erase_flights(session: Session, flight_ids: list[int]) -> tuple[int, int]:
    """Delete these flights with their bookings and face tokens; their touchpoint events keep
    only the touchpoint, decision, reason and time. Returns (bookings, tokens) deleted."""
    booking_ids = select(Booking.id).where(Booking.flight_id.in_(flight_ids))
    tokens = _count(session.execute(
        delete(FaceToken).where(FaceToken.booking_id.in_(booking_ids))))
    session.execute(update(TouchpointEvent).where(TouchpointEvent.booking_id.in_(booking_ids))
                    .values(booking_id=None, distance=None))
    bookings = _count(session.execute(
        delete(Booking).where(Booking.flight_id.in_(flight_ids))))
    session.execute(delete(Flight).where(Flight.id.in_(flight_ids)))
    return bookings, tokens


def erase_tokens_of_person(session: Session, personal_id_number: str) -> int:
    bookings = select(Booking.id).where(Booking.personal_id_number == personal_id_number)
    passes = select(UrbanPass.id).where(UrbanPass.personal_id_number == personal_id_number)
    return _count(session.execute(delete(FaceToken).where(
        FaceToken.booking_id.in_(bookings) | FaceToken.pass_id.in_(passes))))


def erase_expired_pass_tokens(session: Session, before: date) -> int:
    expired = select(UrbanPass.id).where(UrbanPass.valid_until < before)
    return _count(session.execute(
        delete(FaceToken).where(FaceToken.pass_id.in_(expired))))


def forget_urban_gate_events(session: Session, before: datetime) -> int:
    """Rail and parking gates' decisions before `before` keep only the gate, decision, reason
    and time: the pass (so the person) and the face distance go, as a flight's do."""
    return _count(session.execute(
        update(TouchpointEvent).where(TouchpointEvent.occurred_at < before,
                                      TouchpointEvent.pass_id.is_not(None))
        .values(pass_id=None, distance=None)))


class JourneyFacts(NamedTuple):
    """What the daily counts keep of a trip or parking session."""

    entered_at: datetime
    site_id: int  # entered at
    operator: str
    closed: bool
    fee: int | None


def journeys_to_purge(session: Session, entered_before: datetime,
                      pass_ids: list[int]) -> list[tuple[int, JourneyFacts]]:
    """Trips and sessions entered before the moment, or of passes about to be deleted: each
    id with what the daily counts keep of it."""
    found = session.execute(
        select(UrbanJourney.id, UrbanJourney.entered_at, UrbanJourney.entry_site_id,
               UrbanSite.operator, UrbanJourney.exited_at.is_not(None), UrbanJourney.fee)
        .join(UrbanSite, UrbanSite.id == UrbanJourney.entry_site_id)
        .where(or_(UrbanJourney.entered_at < entered_before,
                   UrbanJourney.pass_id.in_(pass_ids))))
    return [(journey_id, JourneyFacts(entered, site_id, operator, bool(closed), fee))
            for journey_id, entered, site_id, operator, closed, fee in found]


def daily_count(session: Session, day: date, site_id: int) -> UrbanDailyCount | None:
    return session.execute(select(UrbanDailyCount).where(
        UrbanDailyCount.day == day, UrbanDailyCount.site_id == site_id)).scalar_one_or_none()


def delete_journeys(session: Session, journey_ids: list[int]) -> int:
    return _count(session.execute(delete(UrbanJourney).where(UrbanJourney.id.in_(journey_ids))))


def passes_expired_before(session: Session, day: date) -> list[int]:
    return list(session.execute(
        select(UrbanPass.id).where(UrbanPass.valid_until < day)).scalars())


def delete_passes(session: Session, pass_ids: list[int]) -> int:
    """Delete these passes with their face copies; their gate events keep no link to them."""
    session.execute(delete(FaceToken).where(FaceToken.pass_id.in_(pass_ids)))
    session.execute(update(TouchpointEvent).where(TouchpointEvent.pass_id.in_(pass_ids))
                    .values(pass_id=None, distance=None))
    return _count(session.execute(delete(UrbanPass).where(UrbanPass.id.in_(pass_ids))))


def _count(result: Result[Any]) -> int:
    return int(cast(CursorResult[Any], result).rowcount)
