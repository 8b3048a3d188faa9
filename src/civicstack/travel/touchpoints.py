"""Touchpoints at airports: devices with their own credentials, and the decision each camera
frame gets. A scanned boarding pass means 1:1 against that pass's face copy; no pass means a
1:N search over the opted-in passengers of today's flights from this airport only, accepted
when the best is under the threshold and clearly ahead of the second best (near ties go to
staff). Every fail sends the passenger to the staffed lane, where staff record a manual check
of a document instead. Every decision is an event row and an audit entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.orm import Session

from civicstack.biometrics import faces
from civicstack.biometrics import service as biometrics
from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound
from civicstack.kit.i18n import N_
from civicstack.travel import credentials, repository, service
from civicstack.travel.models import (
    TOUCHPOINT_KINDS,
    Booking,
    Flight,
    Touchpoint,
    TouchpointEvent,
)
from civicstack.travel.site import TravelSite, booking_owner

AIRPORT_KINDS = ("check_in_kiosk", "security_gate", "boarding_gate")
URBAN_KINDS = ("rail_gate", "parking_gate")
# How far ahead of the second-best candidate the best must be in a 1:N search; the shared test
# faces put the same person under 0.45 and others over 0.75 (docs/biometrics.md).
MIN_GAP = 0.1
NEXT_DEPARTURES, RECENT_DEPARTURES = timedelta(hours=24), timedelta(hours=3)
DOCUMENT_TYPES = ("id_card", "passport", "wallet_qr")
Candidate = TypeVar("Candidate")
FALLBACK = N_("Please go to the staffed lane: your ID card, passport or wallet QR code is "
              "accepted there.")

MESSAGES: dict[str, str] = {
    "checked_in": N_("You are checked in. Go to security."),
    "checked_in_drop_bags": N_("You are checked in. Drop your checked bags at your airline's "
                               "bag-drop counter, then go to security."),
    "cleared": N_("Security check passed. Go to your gate."),
    "boarded": N_("Have a good flight."),
    "manual_check": N_("Document checked by staff."),
    "journey_started": N_("Welcome: your journey has started."),
    "journey_ended": N_("Goodbye: your journey has ended."),
    "wrong_flight": N_("This boarding pass is not for a flight from here, now."),
    "unknown_booking": N_("This boarding pass is not known."),
    "not_checked_in": N_("You have not checked in yet."),
    "gate_closed": N_("Boarding is not open at this gate."),
    "flight_closed": N_("This flight has left or was cancelled."),
    "no_match": N_("Your face did not match."),
    "near_tie": N_("Your face could not be told apart with certainty."),
    "not_opted_in": N_("Face boarding is not on for this booking."),
    "not_enrolled": N_("No enrolled face was found for you."),
    "enrolment_in_review": N_("Your face enrolment is being reviewed by an official."),
    "bags_not_dropped": N_("Drop your checked bags at your airline's bag-drop counter "
                           "before security."),
    "no_pass": N_("No pass with face entry was found for you here."),
    "journey_open": N_("Your previous journey has not ended: use an exit gate first."),
    "no_open_journey": N_("No journey was started: enter through an entry gate first."),
    "no_decision_in_time": N_("The gate could not decide in time."),
    **{refusal.value: reason for refusal, reason in faces.REASONS.items()},
}


@dataclass(frozen=True)
class Decision:
    passed: bool
    reason: str
    booking: Booking | None = None
    distance: float | None = None
    fee: int | None = None

    @property
    def message(self) -> str:
        return MESSAGES[self.reason]

    @property
    def fallback(self) -> str | None:
        return None if self.passed else FALLBACK


class Refused(Exception):
    """A fail decision, raised where the rule is and turned into an event by `decide`."""

    def __init__(self, reason: str, booking: Booking | None = None,
                 distance: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.booking, self.distance = reason, booking, distance


# --- devices ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TouchpointIn:
    name: str
    kind: str
    airport: str | None = None
    urban_site: str | None = None
    gate: str | None = None
    direction: str | None = None


def register(session: Session, actor: Actor, pepper: str,
             new: TouchpointIn) -> tuple[Touchpoint, str]:
    """A device and its credential, shown once."""
    name = new.name.strip()
    if not 3 <= len(name) <= 60:
        raise Invalid("name", "a touchpoint's name is 3 to 60 characters")
    if new.kind not in TOUCHPOINT_KINDS:
        raise Invalid("kind", "the kind is check_in_kiosk, security_gate, boarding_gate, "
                              "rail_gate or parking_gate")
    if repository.touchpoint_by_name(session, name):
        raise Conflict(f"a touchpoint named '{name}' already exists")
    touchpoint = Touchpoint(name=name, kind=new.kind, created_at=service.now())
    if new.kind in AIRPORT_KINDS:
        airport = repository.airport_by_code(session, (new.airport or "").upper())
        if airport is None:
            raise Invalid("airport", "an airport touchpoint needs a known airport")
        touchpoint.airport_id = airport.id
        if new.kind == "boarding_gate":
            if not new.gate or not service.GATE.match(new.gate.upper()):
                raise Invalid("gate", "a boarding gate needs the gate it serves")
            touchpoint.gate = new.gate.upper()
    else:
        site = repository.urban_site_by_code(session, new.urban_site or "")
        if site is None:
            raise Invalid("urban_site", "an urban gate needs a known station or parking lot")
        if (new.kind == "parking_gate") != (site.kind == "parking_lot"):
            raise Invalid("kind", "parking gates are at parking lots, rail gates at stations")
        if new.direction not in ("entry", "exit"):
            raise Invalid("direction", "an urban gate faces entry or exit")
        touchpoint.urban_site_id, touchpoint.direction = site.id, new.direction
    token = credentials.issue(touchpoint, pepper, credentials.TOUCHPOINT_PREFIX)
    session.add(touchpoint)
    session.flush()
    audit.record(session, actor, "travel.touchpoint.register", subject_type="touchpoint",
                 subject_id=name, purpose=service.ADMIN_PURPOSE, detail={"kind": new.kind})
    return touchpoint, token


def revoke(session: Session, actor: Actor, name: str) -> None:
    touchpoint = repository.touchpoint_by_name(session, name)
    if touchpoint is None:
        raise NotFound(f"no touchpoint named '{name}'")
    if touchpoint.revoked_at is not None:
        raise Conflict(f"the touchpoint '{name}' was already revoked")
    touchpoint.revoked_at = service.now()
    audit.record(session, actor, "travel.touchpoint.revoke", subject_type="touchpoint",
                 subject_id=name, purpose=service.ADMIN_PURPOSE)


def authenticate(session: Session, pepper: str, token: str) -> Touchpoint:
    lookup_id = credentials.lookup_id_of(token, credentials.TOUCHPOINT_PREFIX)
    touchpoint = repository.touchpoint_by_lookup(session, lookup_id)
    credentials.check(touchpoint, pepper, token)
    assert touchpoint is not None  # check() refused otherwise
    return touchpoint


def signed_in(session: Session, lookup_id: str) -> Touchpoint | None:
    """The device a kiosk page signed in as (kept in its signed session by lookup id, never
    the secret), while its credential is neither revoked nor replaced."""
    touchpoint = repository.touchpoint_by_lookup(session, lookup_id)
    return touchpoint if touchpoint and touchpoint.revoked_at is None else None


def actor_of(touchpoint: Touchpoint) -> Actor:
    return Actor("touchpoint", touchpoint.name)


def require_airport(touchpoint: Touchpoint) -> int:
    if touchpoint.airport_id is None:
        raise Forbidden("this touchpoint is not at an airport")
    return touchpoint.airport_id


# --- decisions at the airport -----------------------------------------------------------------

def bags_to_drop(booking: Booking) -> bool:
    """Checked bags the airline has not taken yet: security and boarding wait for them."""
    return booking.checked_bags > 0 and booking.bags_dropped_at is None


def advance(touchpoint: Touchpoint, booking: Booking, flight: Flight, moment: datetime,
            declared_bags: int = 0) -> str:
    """The journey's rules at this touchpoint, once the passenger is known: the reason it
    passes, or Refused. A manual check goes through the same rules: staff replace the face,
    not the gate's state. At a kiosk the passenger may declare bags the manifest lacks (bought
    at the airport): they are added, never taken away, since the airline's count stands."""
    if flight.status in ("departed", "cancelled"):
        raise Refused("flight_closed", booking)
    if touchpoint.kind == "check_in_kiosk":
        booking.checked_in_at = booking.checked_in_at or moment
        booking.checked_bags = max(booking.checked_bags, declared_bags)
        # Told "go to security" with bags in hand, the passenger would be refused there.
        return "checked_in_drop_bags" if bags_to_drop(booking) else "checked_in"
    if touchpoint.kind == "boarding_gate" and flight.gate != touchpoint.gate:
        raise Refused("wrong_flight", booking)
    if booking.checked_in_at is None:
        raise Refused("not_checked_in", booking)
    if bags_to_drop(booking):
        raise Refused("bags_not_dropped", booking)
    if touchpoint.kind == "security_gate":
        booking.security_passed_at = booking.security_passed_at or moment
        return "cleared"
    if not flight.boarding_open:
        raise Refused("gate_closed", booking)
    booking.boarded_at = booking.boarded_at or moment
    return "boarded"


def departing_window() -> repository.Window:
    """The flights a touchpoint serves now: leaving within the next day, or having left in
    the last hours (a late departure not yet marked departed still boards)."""
    moment = service.now()
    return moment - RECENT_DEPARTURES, moment + NEXT_DEPARTURES


def _scanned(session: Session, airport_id: int, record_locator: str) -> tuple[Booking, Flight]:
    locator = record_locator.strip().upper()
    found = repository.bookings_by_locator_departing(session, airport_id, departing_window(),
                                                     locator)
    if not found:
        raise Refused("wrong_flight" if repository.locator_exists(session, locator)
                      else "unknown_booking")
    return found[0]


def _read(site: TravelSite, image: bytes, booking: Booking | None = None) -> faces.Embedding:
    try:
        return site.engine.read(image).embedding
    except faces.FaceRefused as refused:
        raise Refused(refused.refusal.value, booking) from refused


def _one_to_one(session: Session, site: TravelSite, image: bytes, booking: Booking) -> float:
    token = repository.token_of_booking(session, booking.id)
    if token is None:
        raise Refused("not_opted_in", booking)
    probe = _read(site, image, booking)
    distance = faces.distance(probe, site.open(token.sealed_template, booking_owner(booking.id)))
    if distance > site.threshold:
        raise Refused("no_match", booking, distance)
    return distance


def best_of(probe: faces.Embedding, gallery: list[tuple[faces.Embedding, Candidate]],
            threshold: float) -> tuple[Candidate, float]:
    """The gallery entry the probe matches, with its distance; Refused when none is under the
    threshold, or when the second best is within MIN_GAP of it (a near tie, e.g. twins)."""
    scored = sorted(((faces.distance(probe, template), entry) for template, entry in gallery),
                    key=lambda pair: pair[0])
    if not scored or scored[0][0] > threshold:
        raise Refused("no_match", distance=scored[0][0] if scored else None)
    if len(scored) > 1 and scored[1][0] - scored[0][0] < MIN_GAP:
        raise Refused("near_tie", distance=scored[0][0])
    return scored[0][1], scored[0][0]


def _one_to_many(session: Session, site: TravelSite, image: bytes,
                 airport_id: int) -> tuple[Booking, Flight, float]:
    gallery = [
        (site.open(token.sealed_template, booking_owner(booking.id)), (booking, flight))
        for booking, flight, token in repository.opted_in_departing(
            session, airport_id, departing_window())]
    if not gallery:  # nobody opted in here: no face is read at all
        raise Refused("no_match")
    probe = _read(site, image)
    (booking, flight), distance = best_of(probe, gallery, site.threshold)
    return booking, flight, distance


def decide(session: Session, site: TravelSite, touchpoint: Touchpoint, image: bytes,
           record_locator: str | None = None, declared_bags: int = 0) -> Decision:
    """The decision for one camera frame at an airport touchpoint (recorded and audited), with
    the bags a passenger declares at a kiosk."""
    airport_id = require_airport(touchpoint)
    try:
        if record_locator:
            booking, flight = _scanned(session, airport_id, record_locator)
            distance = _one_to_one(session, site, image, booking)
        else:
            booking, flight, distance = _one_to_many(session, site, image, airport_id)
        try:
            reason = advance(touchpoint, booking, flight, service.now(), declared_bags)
        except Refused as refused:
            refused.distance = distance
            raise
        decision = Decision(True, reason, booking, distance)
    except Refused as refused:
        decision = Decision(False, refused.reason, refused.booking, refused.distance)
    record(session, touchpoint, decision, mode="1:1" if record_locator else "1:N")
    return decision


def opt_in_at_kiosk(session: Session, site: TravelSite, touchpoint: Touchpoint, image: bytes,
                    record_locator: str, consent: bool, declared_bags: int = 0) -> Decision:
    """A passenger turns face boarding on at a check-in kiosk: the pass says who they claim to
    be, the frame must match that person's enrolled face, then the copy is made and the
    passenger is checked in."""
    if touchpoint.kind != "check_in_kiosk":
        raise Forbidden("face boarding is turned on at a check-in kiosk")
    if not consent:
        raise Invalid("consent", "tick the box to agree to face boarding for this flight")
    airport_id = require_airport(touchpoint)
    try:
        booking, flight = _scanned(session, airport_id, record_locator)
        if repository.token_of_booking(session, booking.id) is None:
            template = _enrolled_template(session, site, touchpoint, booking, flight)
            distance = faces.distance(_read(site, image, booking), template)
            if distance > site.threshold:
                raise Refused("no_match", booking, distance)
            if flight.status in ("departed", "cancelled"):
                raise Refused("flight_closed", booking, distance)
            service.make_token(session, site, actor_of(touchpoint), booking, flight, "kiosk")
        else:
            distance = _one_to_one(session, site, image, booking)
        decision = Decision(True, advance(touchpoint, booking, flight, service.now(),
                                          declared_bags), booking, distance)
    except Refused as refused:
        decision = Decision(False, refused.reason, refused.booking, refused.distance)
    record(session, touchpoint, decision, mode="opt-in")
    return decision


def _enrolled_template(session: Session, site: TravelSite, touchpoint: Touchpoint,
                       booking: Booking, flight: Flight) -> faces.Embedding:
    try:
        return biometrics.template_copy(session, site.biometrics, actor_of(touchpoint),
                                        booking.personal_id_number, service.face_purpose(flight))
    except NotFound as absent:
        raise Refused("not_enrolled", booking) from absent
    except Conflict as held:
        raise Refused("enrolment_in_review", booking) from held


def manual_check(session: Session, touchpoint: Touchpoint, record_locator: str,
                 document_type: str, staff_name: str) -> Decision:
    """Staff at the lane saw a document (ID card, passport, wallet QR) and let the passenger
    through; the journey's rules still apply. Refused rules come back as a fail decision."""
    if document_type not in DOCUMENT_TYPES:
        raise Invalid("document_type", "the document is id_card, passport or wallet_qr")
    staff = " ".join(staff_name.split())
    if not 2 <= len(staff) <= 100:
        raise Invalid("staff_name", "give the name of the staff member who checked")
    airport_id = require_airport(touchpoint)
    try:
        booking, flight = _scanned(session, airport_id, record_locator)
        advance(touchpoint, booking, flight, service.now())
        decision = Decision(True, "manual_check", booking)
    except Refused as refused:
        decision = Decision(False, refused.reason, refused.booking)
    record(session, touchpoint, decision, mode="manual", document_type=document_type,
           staff_name=staff)
    return decision


def record(session: Session, touchpoint: Touchpoint, decision: Decision, *, mode: str,
           document_type: str | None = None, staff_name: str | None = None,
           pass_id: int | None = None, person: str | None = None) -> None:
    booking = decision.booking
    session.add(TouchpointEvent(
        touchpoint_id=touchpoint.id, booking_id=booking.id if booking else None,
        pass_id=pass_id, decision="pass" if decision.passed else "fail",
        reason=decision.reason, distance=decision.distance, document_type=document_type,
        staff_name=staff_name, occurred_at=service.now()))
    person = booking.personal_id_number if booking else person
    subject = ("person", person) if person else ("touchpoint", touchpoint.name)
    audit.record(session, actor_of(touchpoint), "travel.touchpoint.decision",
                 subject_type=subject[0], subject_id=subject[1],
                 purpose="identity check at a travel touchpoint",
                 detail={"decision": "pass" if decision.passed else "fail",
                         "reason": decision.reason, "mode": mode,
                         "distance": None if decision.distance is None
                         else round(decision.distance, 4),
                         "document_type": document_type})
