"""Urban rail, railway stations and parking lots: sites with a simple tariff, passes bound to
the citizen's eID (with their own purpose-bound face copy, like a flight's), and the gates'
decisions: a face at an entry gate opens a trip or a parking session, at an exit gate closes it
with its fare or fee."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from civicstack.biometrics import faces
from civicstack.biometrics import service as biometrics
from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.db import as_utc
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound
from civicstack.registry import service as registry
from civicstack.travel import repository, service
from civicstack.travel.models import (
    FaceToken,
    Touchpoint,
    UrbanJourney,
    UrbanPass,
    UrbanSite,
)
from civicstack.travel.site import TravelSite, pass_owner
from civicstack.travel.touchpoints import Decision, Refused, best_of, record

SITE_CODE = re.compile(r"^[A-Z0-9-]{3,20}$")
SITE_KINDS = ("rail_station", "railway_station", "parking_lot")
PASS_DAYS = 30


def pass_kind(site_kind: str) -> str:
    return "parking" if site_kind == "parking_lot" else "rail"


@dataclass(frozen=True)
class SiteIn:
    code: str
    name: str
    operator: str
    kind: str
    province_code: str
    base_fare: int
    hourly_fee: int


def add_site(session: Session, actor: Actor, new: SiteIn) -> UrbanSite:
    code = new.code.strip().upper()
    if not SITE_CODE.match(code):
        raise Invalid("code", "a site code is 3 to 20 letters, digits or dashes")
    if new.kind not in SITE_KINDS:
        raise Invalid("kind", "the kind is rail_station, railway_station or parking_lot")
    if new.province_code not in {p.code for p in registry.provinces(session)}:
        raise Invalid("province_code", "no such province")
    if new.base_fare < 0 or new.hourly_fee < 0:
        raise Invalid("base_fare", "fares and fees are not negative")
    if repository.urban_site_by_code(session, code):
        raise Conflict(f"the site {code} already exists")
    site = UrbanSite(code=code, name=" ".join(new.name.split()),
                     operator=" ".join(new.operator.split()), kind=new.kind,
                     province_code=new.province_code, base_fare=new.base_fare,
                     hourly_fee=new.hourly_fee)
    session.add(site)
    session.flush()
    audit.record(session, actor, "travel.site.add", subject_type="urban_site",
                 subject_id=code, purpose=service.ADMIN_PURPOSE)
    return site


def fee_for(site: UrbanSite, hours: float) -> int:
    """The base fare, plus the hourly fee for each started hour (at least one)."""
    return site.base_fare + site.hourly_fee * max(1, math.ceil(hours))


def pass_purpose(found: UrbanPass) -> str:
    return f"face entry on the {found.kind} pass of {found.operator}"


def open_pass(session: Session, site: TravelSite, actor: Actor, operator: str, kind: str,
              consent: bool) -> UrbanPass:
    """The signed-in citizen takes a pass of one operator with face entry: a copy of their
    enrolled template sealed to this pass only."""
    if not consent:
        raise Invalid("consent", "tick the box to agree to face entry with this pass")
    if (operator, kind) not in {(o, pass_kind(k)) for o, k in
                                repository.urban_operators(session)}:
        raise Invalid("operator", "this operator runs no such stations or parking lots")
    today = service.local_today()
    found = UrbanPass(personal_id_number=actor.name, operator=operator, kind=kind,
                      created_at=service.now(), valid_until=today + timedelta(days=PASS_DAYS))
    session.add(found)
    session.flush()
    template = biometrics.template_copy(session, site.biometrics, actor, actor.name,
                                        pass_purpose(found))
    session.add(FaceToken(pass_id=found.id, sealed_template=site.seal(
        template, pass_owner(found.id)), channel="portal", created_at=service.now()))
    audit.record(session, actor, "travel.face.opt_in", subject_type="person",
                 subject_id=actor.name, purpose=pass_purpose(found),
                 detail={"pass": found.id})
    return found


def end_face_entry(session: Session, actor: Actor, pass_id: int) -> None:
    """Delete the pass's face copy: the citizen taps a card or shows a QR code instead."""
    found = session.get(UrbanPass, pass_id)
    if found is None or found.personal_id_number != actor.name:
        raise NotFound("no such pass of yours")
    token = repository.token_of_pass(session, found.id)
    if token is None:
        raise Conflict("face entry is not on for this pass")
    session.delete(token)
    audit.record(session, actor, "travel.face.opt_out", subject_type="person",
                 subject_id=actor.name, purpose="withdrawn face entry",
                 detail={"pass": found.id})


def decide(session: Session, site: TravelSite, touchpoint: Touchpoint,
           image: bytes) -> Decision:
    """A frame at an urban gate: 1:N over the operator's opted-in, valid passes of this kind."""
    if touchpoint.urban_site_id is None:
        raise Forbidden("this touchpoint is not at a station or parking lot")
    place = session.get(UrbanSite, touchpoint.urban_site_id)
    assert place is not None  # a foreign key
    person: str | None = None
    pass_id: int | None = None
    try:
        gallery = [
            (site.open(token.sealed_template, pass_owner(found.id)), found)
            for found, token in repository.opted_in_passes(
                session, place.operator, pass_kind(place.kind), service.local_today())]
        if not gallery:  # nobody opted in here: no face is read at all
            raise Refused("no_pass")
        try:
            probe = site.engine.read(image).embedding
        except faces.FaceRefused as refused:
            raise Refused(refused.refusal.value) from refused
        entry, distance = best_of(probe, gallery, site.threshold)
        person, pass_id = entry.personal_id_number, entry.id
        try:
            decision = _pass_gate(session, touchpoint, place, entry, distance)
        except Refused as refused:
            refused.distance = distance
            raise
    except Refused as refused:
        decision = Decision(False, refused.reason, distance=refused.distance)
    record(session, touchpoint, decision, mode="1:N", pass_id=pass_id, person=person)
    return decision


def _pass_gate(session: Session, touchpoint: Touchpoint, place: UrbanSite, found: UrbanPass,
               distance: float) -> Decision:
    journey = repository.open_journey(session, found.id)
    moment = service.now()
    if touchpoint.direction == "entry":
        if journey is not None:
            raise Refused("journey_open")
        session.add(UrbanJourney(pass_id=found.id, entry_site_id=place.id, entered_at=moment))
        return Decision(True, "journey_started", distance=distance)
    if journey is None:
        raise Refused("no_open_journey")
    entered = session.get(UrbanSite, journey.entry_site_id)
    assert entered is not None  # a foreign key
    hours = (moment - as_utc(journey.entered_at)).total_seconds() / 3600
    # Rail is charged by the tariff of the station entered; parking by the lot's own.
    journey.exit_site_id, journey.exited_at = place.id, moment
    journey.fee = fee_for(entered, hours)
    return Decision(True, "journey_ended", distance=distance, fee=journey.fee)


@dataclass(frozen=True)
class MyJourney:
    journey: UrbanJourney
    urban_pass: UrbanPass
    entry_site: UrbanSite


def my_passes(session: Session, actor: Actor) -> list[tuple[UrbanPass, bool]]:
    return repository.passes_of_person(session, actor.name)


def my_journeys(session: Session, actor: Actor) -> list[MyJourney]:
    return [MyJourney(*row) for row in repository.journeys_of_person(session, actor.name)]
