"""Every query of travel's tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Result, delete, select, update
from sqlalchemy.orm import Session

from civicstack.travel.models import (
    Airline,
    Airport,
    Booking,
    FaceToken,
    Flight,
    Touchpoint,
    TouchpointEvent,
    UrbanJourney,
    UrbanPass,
    UrbanSite,
)

Window = tuple[datetime, datetime]  # scheduled departures from .. to


def airport_by_code(session: Session, code: str) -> Airport | None:
    return session.execute(select(Airport).where(Airport.code == code)).scalar_one_or_none()


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
        .where(UrbanPass.personal_id_number == personal_id_number)
        .order_by(UrbanPass.created_at.desc()))
    return [(found_pass, token_id is not None) for found_pass, token_id in found]


def opted_in_passes(session: Session, operator: str, kind: str,
                    on: date) -> list[tuple[UrbanPass, FaceToken]]:
    found = session.execute(
        select(UrbanPass, FaceToken).join(FaceToken, FaceToken.pass_id == UrbanPass.id)
        .where(UrbanPass.operator == operator, UrbanPass.kind == kind,
               UrbanPass.valid_until >= on))
    return [(found_pass, token) for found_pass, token in found]


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


def _count(result: Result[Any]) -> int:
    return int(cast(CursorResult[Any], result).rowcount)
