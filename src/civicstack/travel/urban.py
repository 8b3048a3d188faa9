"""Urban rail, railway stations and parking lots: sites with a simple tariff, passes bound to
the citizen's eID (with their own purpose-bound face copy, like a flight's), and the gates'
decisions: a face at an entry gate opens a trip or a parking session, at an exit gate closes it
with its fare or fee."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from civicstack.biometrics import faces
from civicstack.biometrics import service as biometrics
from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.calendar import VIETNAM
from civicstack.kit.db import as_utc
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound
from civicstack.registry import service as registry
from civicstack.travel import repository, service
from civicstack.travel.models import (
    FaceToken,
    Touchpoint,
    UrbanDailyCount,
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
    enrolled template sealed to this pass only. One pass per operator and kind at a time: a
    second copy of the same face in the gates' gallery would make every photo of it a near
    tie with itself. An expired pass is ended by the new one."""
    if not consent:
        raise Invalid("consent", "tick the box to agree to face entry with this pass")
    if (operator, kind) not in {(o, pass_kind(k)) for o, k in
                                repository.urban_operators(session)}:
        raise Invalid("operator", "this operator runs no such stations or parking lots")
    today = service.local_today()
    held = repository.current_pass(session, actor.name, operator, kind)
    if held is not None and held.valid_until >= today:
        raise Conflict("you already hold a valid pass of this operator: turn its face entry "
                       "on or off on this page")
    if held is not None:
        _end_pass(session, held)
    found = UrbanPass(personal_id_number=actor.name, operator=operator, kind=kind,
                      created_at=service.now(), valid_until=today + timedelta(days=PASS_DAYS))
    session.add(found)
    session.flush()
    _copy_face(session, site, actor, found)
    return found


def _end_pass(session: Session, expired: UrbanPass) -> None:
    expired.ended_at = service.now()
    token = repository.token_of_pass(session, expired.id)
    if token is not None:
        session.delete(token)
    session.flush()  # before the new pass takes its place in the one-current-pass index


def _copy_face(session: Session, site: TravelSite, actor: Actor, found: UrbanPass) -> None:
    template = biometrics.template_copy(session, site.biometrics, actor, actor.name,
                                        pass_purpose(found))
    session.add(FaceToken(pass_id=found.id, sealed_template=site.seal(
        template, pass_owner(found.id)), channel="portal", created_at=service.now()))
    audit.record(session, actor, "travel.face.opt_in", subject_type="person",
                 subject_id=actor.name, purpose=pass_purpose(found),
                 detail={"pass": found.id})


def _citizens_pass(session: Session, actor: Actor, pass_id: int) -> UrbanPass:
    found = session.get(UrbanPass, pass_id)
    if found is None or found.personal_id_number != actor.name or found.ended_at is not None:
        raise NotFound("no such pass of yours")
    return found


def resume_face_entry(session: Session, site: TravelSite, actor: Actor, pass_id: int,
                      consent: bool) -> None:
    """Face entry back on for a pass where it was turned off: a new copy, as at the start."""
    if not consent:
        raise Invalid("consent", "tick the box to agree to face entry with this pass")
    found = _citizens_pass(session, actor, pass_id)
    if repository.token_of_pass(session, found.id) is not None:
        raise Conflict("face entry is already on for this pass")
    if found.valid_until < service.local_today():
        raise Conflict("this pass has expired: take a new one")
    _copy_face(session, site, actor, found)


def end_face_entry(session: Session, actor: Actor, pass_id: int) -> None:
    """Delete the pass's face copy: the citizen taps a card or shows a QR code instead."""
    found = _citizens_pass(session, actor, pass_id)
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


# --- the purge --------------------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryPurge:
    gate_events: int  # decisions that lost their pass and face distance
    trips: int  # trips and parking sessions folded into the daily counts and deleted
    passes: int


def purge_history(session: Session, moment: datetime, event_hours: int,
                  trip_days: int) -> HistoryPurge:
    """Rail and parking history past its delay: gate decisions older than `event_hours` lose
    their pass and distance; trips and sessions older than `trip_days` are added to the
    anonymous daily counts per site and deleted; passes `trip_days` past their last valid day
    are deleted with their face copies."""
    cutoff = moment - timedelta(days=trip_days)
    events = repository.forget_urban_gate_events(session, moment - timedelta(hours=event_hours))
    old_passes = repository.passes_expired_before(session, cutoff.astimezone(VIETNAM).date())
    journeys = repository.journeys_to_purge(session, cutoff, old_passes)
    _add_to_daily_counts(session, [facts for _, facts in journeys])
    trips = repository.delete_journeys(session, [journey_id for journey_id, _ in journeys])
    report = HistoryPurge(events, trips, repository.delete_passes(session, old_passes))
    if any(vars(report).values()):  # the worker runs it every 10 minutes
        audit.record(session, audit.SYSTEM, "travel.purge.urban", subject_type="travel",
                     subject_id="purge", purpose="deletion of rail and parking history",
                     detail={**vars(report), "event_hours": event_hours,
                             "trip_days": trip_days})
    return report


def _add_to_daily_counts(session: Session, journeys: list[repository.JourneyFacts]) -> None:
    for (day, site_id, operator), group in _by_day_and_site(journeys).items():
        count = repository.daily_count(session, day, site_id)
        if count is None:
            count = UrbanDailyCount(day=day, site_id=site_id, operator=operator, trips=0,
                                    completed=0, fees=0)
            session.add(count)
        count.trips += len(group)
        count.completed += sum(1 for facts in group if facts.closed)
        count.fees += sum(facts.fee or 0 for facts in group if facts.closed)
    session.flush()


def _by_day_and_site(journeys: list[repository.JourneyFacts],
                     ) -> dict[tuple[date, int, str], list[repository.JourneyFacts]]:
    """Grouped by the local day of entry (the day a traveller would name) and the site."""
    groups: dict[tuple[date, int, str], list[repository.JourneyFacts]] = defaultdict(list)
    for facts in journeys:
        day = as_utc(facts.entered_at).astimezone(VIETNAM).date()
        groups[(day, facts.site_id, facts.operator)].append(facts)
    return groups
