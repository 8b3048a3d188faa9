"""Travel's JSON API: airlines' systems register flights, upload manifests and record bag drops
(an airline's credential reaches only its own flights); touchpoint devices post camera frames,
turn face boarding on at a kiosk, and record staff's manual checks. Every rule is in
service.py, touchpoints.py and urban.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, File, Form, Request, Security, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from civicstack.biometrics.site import image_bytes
from civicstack.kit.appservices import services_of
from civicstack.kit.deps import DbSession, RowKey
from civicstack.kit.errors import Unauthorized
from civicstack.travel import credentials, frames, service, touchpoints
from civicstack.travel.models import Airline, Booking, Flight, Touchpoint
from civicstack.travel.site import TRAVEL, TravelSite

router = APIRouter(prefix="/travel", tags=["travel"])


def site_of(request: Request) -> TravelSite:
    found: TravelSite = services_of(request.app)[TRAVEL]
    return found


# Each credential a scheme of the OpenAPI document; the dependencies below refuse in our
# problem shape rather than FastAPI's.
AIRLINE_KEY = HTTPBearer(scheme_name="airlineKey", auto_error=False,
                         bearerFormat=f"{credentials.AIRLINE_PREFIX}_<lookup id>_<secret>",
                         description="An airline's credential (`civicstack travel airline`): "
                                     "its own flights only.")
TOUCHPOINT_KEY = HTTPBearer(scheme_name="touchpointKey", auto_error=False,
                            bearerFormat=f"{credentials.TOUCHPOINT_PREFIX}_<lookup id>_<secret>",
                            description="A touchpoint device's credential (a gate, a kiosk).")
Presented = HTTPAuthorizationCredentials | None


def bearer(presented: Presented, what: str) -> str:
    if presented is None:
        raise Unauthorized(f"send the {what} credential as 'Authorization: Bearer <key>'")
    return presented.credentials


def airline(request: Request, session: DbSession,
            presented: Annotated[Presented, Security(AIRLINE_KEY)]) -> Airline:
    return service.authenticate_airline(session, services_of(request.app).pepper,
                                        bearer(presented, "airline's"))


def touchpoint(request: Request, session: DbSession,
               presented: Annotated[Presented, Security(TOUCHPOINT_KEY)]) -> Touchpoint:
    return touchpoints.authenticate(session, services_of(request.app).pepper,
                                    bearer(presented, "touchpoint's"))


AirlineClient = Annotated[Airline, Depends(airline)]
TouchpointDevice = Annotated[Touchpoint, Depends(touchpoint)]


# --- airlines ---------------------------------------------------------------------------------

class FlightCreate(BaseModel):
    number: str = Field(max_length=8, examples=["VN213"])
    departure_date: date
    origin: str = Field(max_length=3, examples=["HAN"])
    destination: str = Field(max_length=3, examples=["SGN"])
    scheduled_departure: datetime = Field(examples=["2026-12-01T18:30:00+07:00"])
    gate: str = Field(max_length=8, examples=["12"])


class FlightPatch(BaseModel):
    gate: str | None = Field(default=None, max_length=8)
    boarding_open: bool | None = None
    status: str | None = Field(default=None, examples=["delayed"])
    scheduled_departure: datetime | None = None


class FlightOut(BaseModel):
    id: int
    number: str
    departure_date: date
    scheduled_departure: datetime
    gate: str
    boarding_open: bool
    status: str


class ManifestIn(BaseModel):
    # Rows are checked one by one by the service, so a bad row is named by its index.
    bookings: list[Any] = Field(examples=[[{
        "record_locator": "ABC123", "personal_id_number": "001090000001",
        "passenger_name": "Nguyễn Văn An", "seat": "12A", "checked_bags": 0}]])


class ManifestOut(BaseModel):
    added: int
    updated: int


class BookingOut(BaseModel):
    record_locator: str
    seat: str
    checked_bags: int
    checked_in: bool
    bags_dropped: bool


def flight_out(flight: Flight) -> FlightOut:
    return FlightOut(id=flight.id, number=flight.number, departure_date=flight.departure_date,
                     scheduled_departure=flight.scheduled_departure, gate=flight.gate,
                     boarding_open=flight.boarding_open, status=flight.status)


@router.post("/flights", status_code=201)
def register_flight(body: FlightCreate, client: AirlineClient, session: DbSession) -> FlightOut:
    return flight_out(service.register_flight(session, client, service.FlightIn(
        body.number, body.departure_date, body.origin, body.destination,
        body.scheduled_departure, body.gate)))


@router.get("/flights/{flight_id}")
def get_flight(flight_id: RowKey, client: AirlineClient, session: DbSession) -> FlightOut:
    return flight_out(service.own_flight(session, client, flight_id))


@router.patch("/flights/{flight_id}")
def change_flight(flight_id: RowKey, body: FlightPatch, client: AirlineClient,
                  session: DbSession) -> FlightOut:
    return flight_out(service.change_flight(session, client, flight_id, service.FlightChange(
        body.gate, body.boarding_open, body.status, body.scheduled_departure)))


@router.post("/flights/{flight_id}/manifest")
def upload_manifest(flight_id: RowKey, body: ManifestIn, client: AirlineClient,
                    session: DbSession) -> ManifestOut:
    result = service.upload_manifest(session, client, flight_id, body.bookings)
    return ManifestOut(added=result.added, updated=result.updated)


@router.post("/flights/{flight_id}/bookings/{record_locator}/bag-drop")
def bag_drop(flight_id: RowKey, record_locator: str, client: AirlineClient,
             session: DbSession) -> BookingOut:
    booking = service.record_bag_drop(session, client, flight_id, record_locator)
    return BookingOut(record_locator=booking.record_locator, seat=booking.seat,
                      checked_bags=booking.checked_bags,
                      checked_in=booking.checked_in_at is not None,
                      bags_dropped=booking.bags_dropped_at is not None)


# --- touchpoints ------------------------------------------------------------------------------

class DecisionOut(BaseModel):
    decision: str = Field(examples=["pass", "fail"])
    reason: str = Field(examples=["boarded", "no_match"])
    message: str
    fallback: str | None = Field(description="Where to go when the face did not do")
    record_locator: str | None = None
    seat: str | None = None
    distance: float | None = None
    fee: int | None = Field(default=None, description="VND, at an urban exit gate")


def decision_out(decision: touchpoints.Decision) -> DecisionOut:
    booking: Booking | None = decision.booking
    return DecisionOut(
        decision="pass" if decision.passed else "fail", reason=decision.reason,
        message=decision.message, fallback=decision.fallback,
        record_locator=booking.record_locator if booking else None,
        seat=booking.seat if booking else None,
        distance=None if decision.distance is None else round(decision.distance, 4),
        fee=decision.fee)


DeclaredBags = Annotated[int, Form(ge=0, le=service.MAX_BAGS, description=(
    "Bags the passenger declares at a check-in kiosk; they add to the manifest's count"))]


@router.post("/touchpoint/frames")
async def post_frame(request: Request, device: TouchpointDevice,
                     image: Annotated[UploadFile, File()],
                     record_locator: Annotated[str | None, Form(max_length=6)] = None,
                     checked_bags: DeclaredBags = 0) -> DecisionOut:
    """One camera frame, optionally with the scanned boarding pass (and, at a check-in kiosk,
    the bags the passenger declares): pass or fail, and why.
    A gate that cannot decide in time answers `no_decision_in_time` with the staffed lane."""
    # In a worker thread: reading the face and a wait for the database would hold the event
    # loop, and every other request of this process with it.
    return decision_out(await to_thread.run_sync(
        frames.decide, services_of(request.app).session_factory, site_of(request), device,
        await image_bytes(image), record_locator, checked_bags))


@router.post("/touchpoint/opt-in")
async def opt_in_at_kiosk(request: Request, device: TouchpointDevice, session: DbSession,
                          image: Annotated[UploadFile, File()],
                          record_locator: Annotated[str, Form(max_length=6)],
                          consent: Annotated[bool, Form()] = False,
                          checked_bags: DeclaredBags = 0) -> DecisionOut:
    """At a check-in kiosk: the passenger agrees, the frame is matched to their enrolled face,
    the one-flight copy is made and they are checked in."""
    return decision_out(touchpoints.opt_in_at_kiosk(
        session, site_of(request), device, await image_bytes(image), record_locator, consent,
        checked_bags))


class ManualCheckIn(BaseModel):
    record_locator: str = Field(max_length=6)
    document_type: str = Field(examples=["id_card", "passport", "wallet_qr"])
    staff_name: str = Field(max_length=100)


@router.post("/touchpoint/manual-checks")
def manual_check(body: ManualCheckIn, device: TouchpointDevice,
                 session: DbSession) -> DecisionOut:
    """Staff at the lane checked a document instead of the face."""
    return decision_out(touchpoints.manual_check(session, device, body.record_locator,
                                                 body.document_type, body.staff_name))
