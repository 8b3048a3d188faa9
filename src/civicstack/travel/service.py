"""Travel's rules for flights: airports and airlines, flights and manifests from the airlines'
systems, bag drop, the passenger's opt-in to face boarding (a sealed one-flight copy of the
enrolled template), and the purge after departure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from civicstack.biometrics import service as biometrics
from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.calendar import VIETNAM
from civicstack.kit.db import as_utc
from civicstack.kit.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from civicstack.kit.i18n import N_
from civicstack.registry import service as registry
from civicstack.travel import credentials, repository
from civicstack.travel.models import Airline, Airport, Booking, FaceToken, Flight
from civicstack.travel.site import TravelSite, booking_owner

AIRPORT_CODE = re.compile(r"^[A-Z]{3}$")
AIRLINE_CODE = re.compile(r"^[A-Z0-9]{2}$")
FLIGHT_NUMBER = re.compile(r"^[A-Z0-9]{2}[0-9]{1,4}$")
RECORD_LOCATOR = re.compile(r"^[A-Z0-9]{6}$")
PERSONAL_ID = re.compile(r"^[0-9]{12}$")
SEAT = re.compile(r"^[0-9]{1,2}[A-K]$")
GATE = re.compile(r"^[A-Z0-9]{1,8}$")
MAX_BAGS = 9
MAX_MANIFEST_ROWS = 1000
FLIGHT_STATUSES = ("scheduled", "delayed", "departed", "cancelled")
ADMIN_PURPOSE = "travel reference data"


def now() -> datetime:
    return datetime.now(UTC)


def local_today() -> date:
    """Flights are dated, and galleries chosen, by the local day at Vietnam's airports."""
    return now().astimezone(VIETNAM).date()


# --- airports and airlines (the CLI, the demo) ------------------------------------------------

def add_airport(session: Session, actor: Actor, code: str, name: str,
                province_code: str) -> Airport:
    code = code.strip().upper()
    if not AIRPORT_CODE.match(code):
        raise Invalid("code", "an airport code is three letters (IATA), e.g. HAN")
    if province_code not in {p.code for p in registry.provinces(session)}:
        raise Invalid("province_code", "no such province")
    if repository.airport_by_code(session, code):
        raise Conflict(f"the airport {code} already exists")
    airport = Airport(code=code, name=" ".join(name.split()), province_code=province_code)
    session.add(airport)
    session.flush()
    audit.record(session, actor, "travel.airport.add", subject_type="airport", subject_id=code,
                 purpose=ADMIN_PURPOSE)
    return airport


def add_airline(session: Session, actor: Actor, pepper: str, code: str,
                name: str) -> tuple[Airline, str]:
    """The airline and its first client credential (shown once)."""
    code = code.strip().upper()
    if not AIRLINE_CODE.match(code):
        raise Invalid("code", "an airline code is two letters or digits (IATA), e.g. VN")
    if repository.airline_by_code(session, code):
        raise Conflict(f"the airline {code} already exists")
    airline = Airline(code=code, name=" ".join(name.split()))
    token = credentials.issue(airline, pepper, credentials.AIRLINE_PREFIX)
    session.add(airline)
    session.flush()
    audit.record(session, actor, "travel.airline.add", subject_type="airline", subject_id=code,
                 purpose=ADMIN_PURPOSE)
    return airline, token


def renew_airline_key(session: Session, actor: Actor, pepper: str, code: str) -> str:
    """A new credential for the airline; the old one stops working at once."""
    airline = _airline(session, code)
    token = credentials.issue(airline, pepper, credentials.AIRLINE_PREFIX)
    audit.record(session, actor, "travel.airline.key", subject_type="airline", subject_id=code,
                 purpose=ADMIN_PURPOSE)
    return token


def _airline(session: Session, code: str) -> Airline:
    airline = repository.airline_by_code(session, code.strip().upper())
    if airline is None:
        raise NotFound(f"no airline {code}")
    return airline


def authenticate_airline(session: Session, pepper: str, token: str) -> Airline:
    lookup_id = credentials.lookup_id_of(token, credentials.AIRLINE_PREFIX)
    airline = repository.airline_by_lookup(session, lookup_id)
    credentials.check(airline, pepper, token)
    assert airline is not None  # check() refused otherwise
    return airline


def airline_actor(airline: Airline) -> Actor:
    return Actor("airline", airline.code)


# --- flights ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FlightIn:
    number: str
    departure_date: date
    origin: str
    destination: str
    scheduled_departure: datetime
    gate: str


def register_flight(session: Session, airline: Airline, new: FlightIn) -> Flight:
    number = new.number.strip().upper()
    errors: list[FieldError] = []
    if not FLIGHT_NUMBER.match(number) or not number.startswith(airline.code):
        errors.append(FieldError("number", "a flight number is the airline's code and up to "
                                           "four digits, e.g. VN213"))
    origin = repository.airport_by_code(session, new.origin.strip().upper())
    destination = repository.airport_by_code(session, new.destination.strip().upper())
    if origin is None:
        errors.append(FieldError("origin", "no such airport"))
    if destination is None:
        errors.append(FieldError("destination", "no such airport"))
    if origin and destination and origin.id == destination.id:
        errors.append(FieldError("destination", "the destination is the origin"))
    if not GATE.match(new.gate.strip().upper()):
        errors.append(FieldError("gate", "a gate is up to eight letters or digits"))
    if new.scheduled_departure.tzinfo is None:
        errors.append(FieldError("scheduled_departure", "give the time with its offset"))
    elif new.scheduled_departure.astimezone(VIETNAM).date() != new.departure_date:
        errors.append(FieldError("scheduled_departure",
                                 "the departure time is not on the flight's date"))
    if errors:
        raise Invalid.of_fields(errors)
    assert origin is not None  # errors held it otherwise
    assert destination is not None
    if repository.flight_by_number(session, airline.id, number, new.departure_date):
        raise Conflict(f"the flight {number} on {new.departure_date} is already registered")
    flight = Flight(airline_id=airline.id, number=number, departure_date=new.departure_date,
                    origin_airport_id=origin.id, destination_airport_id=destination.id,
                    scheduled_departure=new.scheduled_departure.astimezone(UTC),
                    gate=new.gate.strip().upper(), boarding_open=False, status="scheduled")
    session.add(flight)
    session.flush()
    audit.record(session, airline_actor(airline), "travel.flight.register",
                 subject_type="flight", subject_id=str(flight.id), purpose="flight operations",
                 detail={"number": number, "date": new.departure_date})
    return flight


def own_flight(session: Session, airline: Airline, flight_id: int) -> Flight:
    """The flight, if this airline runs it: an airline never reads or touches another's."""
    flight = session.get(Flight, flight_id)
    if flight is None:
        raise NotFound(f"no flight {flight_id}")
    if flight.airline_id != airline.id:
        raise Forbidden("this flight belongs to another airline")
    return flight


@dataclass(frozen=True)
class FlightChange:
    gate: str | None = None
    boarding_open: bool | None = None
    status: str | None = None
    scheduled_departure: datetime | None = None


def change_flight(session: Session, airline: Airline, flight_id: int,
                  change: FlightChange) -> Flight:
    flight = own_flight(session, airline, flight_id)
    if change.gate is not None:
        if not GATE.match(change.gate.strip().upper()):
            raise Invalid("gate", "a gate is up to eight letters or digits")
        flight.gate = change.gate.strip().upper()
    if change.status is not None:
        if change.status not in FLIGHT_STATUSES:
            raise Invalid("status", "the status is scheduled, delayed, departed or cancelled")
        flight.status = change.status
    if change.scheduled_departure is not None:
        if change.scheduled_departure.tzinfo is None:
            raise Invalid("scheduled_departure", "give the time with its offset")
        flight.scheduled_departure = change.scheduled_departure.astimezone(UTC)
    if change.boarding_open is not None:
        if change.boarding_open and flight.status in ("departed", "cancelled"):
            raise Conflict(f"boarding cannot open on a {flight.status} flight")
        flight.boarding_open = change.boarding_open
    if flight.status in ("departed", "cancelled"):
        flight.boarding_open = False
    audit.record(session, airline_actor(airline), "travel.flight.change",
                 subject_type="flight", subject_id=str(flight.id), purpose="flight operations",
                 detail={k: v for k, v in vars(change).items() if v is not None})
    return flight


@dataclass(frozen=True)
class ManifestResult:
    added: int
    updated: int


def _manifest_row(index: int, row: Any) -> tuple[dict[str, Any], list[FieldError]]:
    where = f"bookings[{index}]"
    if not isinstance(row, dict):
        return {}, [FieldError(where, "each booking is an object")]
    errors: list[FieldError] = []
    cleaned = {
        "record_locator": str(row.get("record_locator", "")).strip().upper(),
        "personal_id_number": str(row.get("personal_id_number", "")).strip(),
        "passenger_name": " ".join(str(row.get("passenger_name", "")).split()),
        "seat": str(row.get("seat", "")).strip().upper(),
        "checked_bags": row.get("checked_bags", 0),
    }
    if not RECORD_LOCATOR.match(cleaned["record_locator"]):
        errors.append(FieldError(f"{where}.record_locator",
                                 "a record locator is six letters or digits"))
    if not PERSONAL_ID.match(cleaned["personal_id_number"]):
        errors.append(FieldError(f"{where}.personal_id_number",
                                 "a personal ID number is 12 digits"))
    if not 2 <= len(cleaned["passenger_name"]) <= 200:
        errors.append(FieldError(f"{where}.passenger_name", "give the passenger's name"))
    if not SEAT.match(cleaned["seat"]):
        errors.append(FieldError(f"{where}.seat", "a seat is a row and a letter, e.g. 12A"))
    bags = cleaned["checked_bags"]
    if isinstance(bags, bool) or not isinstance(bags, int) or not 0 <= bags <= MAX_BAGS:
        errors.append(FieldError(f"{where}.checked_bags",
                                 "checked bags is a whole number from 0 to 9"))
    return cleaned, errors


def upload_manifest(session: Session, airline: Airline, flight_id: int,
                    rows: list[Any]) -> ManifestResult:
    """Add or update bookings by record locator; one bad row refuses the whole upload, each
    problem named by its row."""
    flight = own_flight(session, airline, flight_id)
    if flight.status in ("departed", "cancelled"):
        raise Conflict(f"the flight is {flight.status}: its manifest is closed")
    if not rows or len(rows) > MAX_MANIFEST_ROWS:
        raise Invalid("bookings", "send from 1 to 1000 bookings")
    errors: list[FieldError] = []
    cleaned: list[dict[str, Any]] = []
    seen_locators: set[str] = set()
    seen_people: set[str] = set()
    for index, row in enumerate(rows):
        values, problems = _manifest_row(index, row)
        if not problems and values["record_locator"] in seen_locators:
            problems.append(FieldError(f"bookings[{index}].record_locator",
                                       "this record locator is already in the upload"))
        if not problems and values["personal_id_number"] in seen_people:
            problems.append(FieldError(f"bookings[{index}].personal_id_number",
                                       "this passenger is already in the upload"))
        errors.extend(problems)
        if not problems:
            seen_locators.add(values["record_locator"])
            seen_people.add(values["personal_id_number"])
            cleaned.append(values)
    if errors:
        raise Invalid.of_fields(errors)
    existing = {b.record_locator: b for b in repository.bookings_of_flight(session, flight.id)}
    taken = {b.personal_id_number: b.record_locator for b in existing.values()}
    for index, values in enumerate(cleaned):
        owner = taken.get(values["personal_id_number"])
        held = existing.get(values["record_locator"])
        if owner is not None and owner != values["record_locator"]:
            errors.append(FieldError(f"bookings[{index}].personal_id_number",
                                     "this passenger already holds another booking on the "
                                     "flight"))
        elif held is not None and held.personal_id_number != values["personal_id_number"]:
            # A face copy may be bound to the booking: it never passes to someone else.
            errors.append(FieldError(f"bookings[{index}].personal_id_number",
                                     "a booking's passenger cannot change"))
    if errors:
        raise Invalid.of_fields(errors)
    added = 0
    for values in cleaned:
        booking = existing.get(values["record_locator"])
        if booking is None:
            session.add(Booking(flight_id=flight.id, **values))
            added += 1
        else:
            for name, value in values.items():
                setattr(booking, name, value)
    session.flush()
    audit.record(session, airline_actor(airline), "travel.manifest.upload",
                 subject_type="flight", subject_id=str(flight.id), purpose="flight operations",
                 detail={"added": added, "updated": len(cleaned) - added})
    return ManifestResult(added, len(cleaned) - added)


def record_bag_drop(session: Session, airline: Airline, flight_id: int,
                    record_locator: str) -> Booking:
    """The airline's staff took the passenger's checked bags: security and boarding by face
    are open to them from now on."""
    flight = own_flight(session, airline, flight_id)
    booking = repository.booking_on_flight(session, flight.id, record_locator.strip().upper())
    if booking is None:
        raise NotFound(f"no booking {record_locator} on this flight")
    return drop_bags(session, airline_actor(airline), flight, booking)


def drop_bags(session: Session, actor: Actor, flight: Flight, booking: Booking) -> Booking:
    """The bags of a checked-in booking taken, by its airline's system or an official at the
    airport's counter (a second drop changes nothing)."""
    if booking.checked_in_at is None:
        raise Conflict(N_("the passenger has not checked in yet"))
    if booking.checked_bags == 0:
        raise Conflict(N_("the booking has no checked bags"))
    booking.bags_dropped_at = booking.bags_dropped_at or now()
    audit.record(session, actor, "travel.bags.drop", subject_type="person",
                 subject_id=booking.personal_id_number, purpose="flight operations",
                 detail={"flight": flight.number, "bags": booking.checked_bags})
    return booking


# --- the passenger's opt-in -------------------------------------------------------------------

def face_purpose(flight: Flight) -> str:
    return f"face boarding on flight {flight.number} of {flight.departure_date}"


def bookable_flight(session: Session, booking: Booking) -> Flight:
    flight = session.get(Flight, booking.flight_id)
    assert flight is not None  # a foreign key
    if flight.status in ("departed", "cancelled") or as_utc(flight.scheduled_departure) < now():
        raise Conflict("this flight has left or was cancelled")
    return flight


def make_token(session: Session, site: TravelSite, actor: Actor, booking: Booking,
               flight: Flight, channel: str) -> FaceToken:
    """Copy the enrolled template for this one boarding pass, sealed with travel's key."""
    if repository.token_of_booking(session, booking.id) is not None:
        raise Conflict("face boarding is already on for this booking")
    template = biometrics.template_copy(session, site.biometrics, actor,
                                        booking.personal_id_number,
                                        face_purpose(flight))
    token = FaceToken(booking_id=booking.id, sealed_template=site.seal(
        template, booking_owner(booking.id)), channel=channel, created_at=now())
    session.add(token)
    session.flush()
    audit.record(session, actor, "travel.face.opt_in", subject_type="person",
                 subject_id=booking.personal_id_number, purpose=face_purpose(flight),
                 detail={"booking": booking.record_locator, "channel": channel})
    return token


def _citizens_booking(session: Session, actor: Actor, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None or booking.personal_id_number != actor.name:
        raise NotFound("no such booking of yours")
    return booking


def opt_in(session: Session, site: TravelSite, actor: Actor, booking_id: int,
           consent: bool) -> FaceToken:
    """The signed-in citizen turns face boarding on for one of their bookings."""
    if not consent:
        raise Invalid("consent", "tick the box to agree to face boarding for this flight")
    booking = _citizens_booking(session, actor, booking_id)
    return make_token(session, site, actor, booking, bookable_flight(session, booking),
                      "portal")


def opt_out(session: Session, actor: Actor, booking_id: int) -> None:
    """Delete the booking's face copy: the passenger uses documents from now on."""
    booking = _citizens_booking(session, actor, booking_id)
    token = repository.token_of_booking(session, booking.id)
    if token is None:
        raise Conflict("face boarding is not on for this booking")
    session.delete(token)
    audit.record(session, actor, "travel.face.opt_out", subject_type="person",
                 subject_id=booking.personal_id_number, purpose="withdrawn face boarding",
                 detail={"booking": booking.record_locator})


def delete_copies_of(session: Session, personal_id_number: str) -> int:
    """Every journey's face copy of this person, deleted: for biometrics to call when the
    person withdraws consent to face biometrics (the copies must not outlive the enrolment)."""
    deleted = repository.erase_tokens_of_person(session, personal_id_number)
    audit.record(session, Actor("citizen", personal_id_number), "travel.face.opt_out",
                 subject_type="person", subject_id=personal_id_number,
                 purpose="consent to face biometrics withdrawn", detail={"copies": deleted})
    return deleted


@dataclass(frozen=True)
class MyFlight:
    booking: Booking
    flight: Flight
    airline: Airline
    opted_in: bool


def my_flights(session: Session, actor: Actor) -> list[MyFlight]:
    """The citizen's bookings on flights not yet purged, read for the citizen themself."""
    found = repository.bookings_of_person(session, actor.name, now() - timedelta(days=2))
    audit.record(session, actor, "travel.read", subject_type="person", subject_id=actor.name,
                 purpose="the citizen's own journeys", detail={"bookings": len(found)})
    return [MyFlight(*row) for row in found]


# --- the purge --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PurgeReport:
    flights: int
    bookings: int
    tokens: int
    pass_tokens: int


def purge(session: Session, hours: int, moment: datetime | None = None) -> PurgeReport:
    """Delete flights `hours` after their departure with their bookings and face copies (the
    touchpoint events keep no link to the passenger), and the face copies of expired urban
    passes."""
    moment = moment or now()
    flights = repository.flights_departed_before(session, moment - timedelta(hours=hours))
    bookings, tokens = repository.erase_flights(session, [f.id for f in flights]) \
        if flights else (0, 0)
    local_day = moment.astimezone(VIETNAM).date()
    pass_tokens = repository.erase_expired_pass_tokens(session, local_day)
    report = PurgeReport(len(flights), bookings, tokens, pass_tokens)
    if any(vars(report).values()):  # the worker runs it every 10 minutes; idle runs leave no trace
        audit.record(session, audit.SYSTEM, "travel.purge", subject_type="travel",
                     subject_id="purge", purpose="deletion after departure",
                     detail={**vars(report), "hours": hours})
    return report

