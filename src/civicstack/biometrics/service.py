"""Face enrolment, 1:N de-duplication, 1:1 verification, consent and the level-1 face match.

Rules, because a face is sensitive personal data and 1:N search multiplies false matches: a
template is kept only with recorded consent, sealed at rest, never returned by any API; every
match is an audit entry the person can see; a face close to another person's is held for an
official, never refused on the face alone (twins); verification is 1:1 against the identity
claimed.
"""

from __future__ import annotations

import enum
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from civicstack.biometrics import liveness, repository
from civicstack.biometrics.faces import (
    Embedding,
    FaceReading,
    FaceRefused,
    Refusal,
    distance,
    portrait,
)
from civicstack.biometrics.models import (
    DuplicateCase,
    EnrolmentPhoto,
    FaceConsent,
    FaceTemplate,
    LivenessChallenge,
    RegistrationMatch,
)
from civicstack.biometrics.site import BiometricsSite
from civicstack.identity import photos
from civicstack.identity import service as identity
from civicstack.kit import audit, events
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.db import as_utc, transaction
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound
from civicstack.kit.reasons import stated_reason
from civicstack.registry import service as registry

FACE_MATCHER = Actor("system", "face-matcher")
CANDIDATES = 5  # nearest templates examined for de-duplication


class Source(enum.StrEnum):
    ID_CARD = "id_card"
    SELFIE = "selfie"


class Decision(enum.StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"


@dataclass(frozen=True)
class Enrolment:
    template_id: int
    held: bool  # a de-duplication case waits for an official
    resembles: tuple[str, ...]


@dataclass(frozen=True)
class Verification:
    decision: Decision
    distance: float
    threshold: float

    @property
    def score(self) -> float:
        """1 for identical embeddings, falling to 0 at twice the threshold's distance."""
        return round(max(0.0, 1.0 - self.distance / (2 * self.threshold)), 3)


@dataclass(frozen=True)
class Capture:
    """A usable face and the photo it was read from, re-encoded to be kept beside the template
    for an official's review."""
    reading: FaceReading
    portrait: bytes


def now() -> datetime:
    return datetime.now(UTC)


def read_face(site: BiometricsSite, image: bytes) -> FaceReading:
    """The one usable face of an image, or Invalid saying what to do about the photo."""
    try:
        return site.engine.read(image)
    except FaceRefused as refused:
        raise Invalid("image", refused.reason) from refused


def capture(site: BiometricsSite, image: bytes) -> Capture:
    return Capture(read_face(site, image), portrait(image))


# --- consent ------------------------------------------------------------------------------

def record_consent(session: Session, personal_id_number: str, channel: str) -> None:
    consent = repository.consent_of(session, personal_id_number)
    if consent is None:
        session.add(FaceConsent(personal_id_number=personal_id_number, granted_at=now(),
                                channel=channel))
    else:
        consent.granted_at, consent.channel, consent.withdrawn_at = now(), channel, None
    audit.record(session, Actor("citizen", personal_id_number), "biometrics.consent.grant",
                 subject_type="person", subject_id=personal_id_number,
                 purpose="face biometrics", detail={"channel": channel})


def has_consent(session: Session, personal_id_number: str) -> bool:
    consent = repository.consent_of(session, personal_id_number)
    return consent is not None and consent.withdrawn_at is None


def withdraw_consent(session: Session, site: BiometricsSite, personal_id_number: str) -> None:
    """The citizen withdraws: the template is deleted now, and with it any pending case."""
    consent = repository.consent_of(session, personal_id_number)
    if consent is None or consent.withdrawn_at is not None:
        raise Conflict("you have not consented to face biometrics")
    consent.withdrawn_at = now()
    _delete_template(session, site, personal_id_number, "withdrawn")
    events.publish(session, events.FACE_TEMPLATE_REVOKED, personal_id_number)
    audit.record(session, Actor("citizen", personal_id_number), "biometrics.consent.withdraw",
                 subject_type="person", subject_id=personal_id_number,
                 purpose="face biometrics")


def _delete_template(session: Session, site: BiometricsSite, personal_id_number: str,
                     case_outcome: str) -> None:
    removed = _erase_template(session, personal_id_number, case_outcome)
    if removed is not None:
        site.gallery.remove(removed)


def _erase_template(session: Session, personal_id_number: str, case_outcome: str) -> int | None:
    """Delete the person's template row and close their open cases; the template's id, if
    there was one. A gallery this process did not tell re-syncs from the table before its next
    search (biometrics/gallery.py), so the face is never matched again either way."""
    template = repository.template_of(session, personal_id_number)
    removed = template.id if template is not None else None
    if template is not None:
        photo = repository.photo_of(session, template.id)
        if photo is not None:  # the photo goes with its template (docs/biometrics.md)
            session.delete(photo)
            session.flush()  # before the template row it refers to
        session.delete(template)
    for case in repository.open_cases(session, personal_id_number):
        case.status, case.decided_at = case_outcome, now()
    session.flush()
    return removed


# --- life events ------------------------------------------------------------------------------

LIFE_EVENTS = Actor("system", "life-events")


def _forget_face(session: Session, personal_id_number: str, purpose: str) -> None:
    """Consent ended and the template deleted, with every copy made from it (travel's);
    nothing to do, and nothing audited, when neither is left (a replayed event)."""
    consent = repository.consent_of(session, personal_id_number)
    consenting = consent is not None and consent.withdrawn_at is None
    if consent is not None and consenting:
        consent.withdrawn_at = now()
    removed = _erase_template(session, personal_id_number, "withdrawn")
    if removed is None and not consenting:
        return
    events.publish(session, events.FACE_TEMPLATE_REVOKED, personal_id_number)
    audit.record(session, LIFE_EVENTS, "biometrics.template.erase", subject_type="person",
                 subject_id=personal_id_number, purpose=purpose,
                 detail={"template_deleted": removed is not None})


def on_person_died(session: Session, died: registry.PersonDied) -> None:
    """A face is kept only with its holder's consent, which ends with them (subscribed to
    `registry.PersonDied`: a police enrolment needs no eID account)."""
    _forget_face(session, died.personal_id_number, "holder recorded as deceased")


def on_account_closed(session: Session, closed: identity.AccountClosed) -> None:
    """Subscribed to `identity.AccountClosed`. A death reaches here twice (the closure it
    causes, and PersonDied itself): the first does it, the second finds nothing left."""
    _forget_face(session, closed.personal_id_number, "eID account closed")


# --- enrolment ----------------------------------------------------------------------------

def enrol_from_id_card(session: Session, site: BiometricsSite, actor: Actor,
                       personal_id_number: str, image: bytes) -> Enrolment:
    """An official enrols the face of the ID-card photo, the person in front of them having
    consented; scope-checked and audited like any read of the person."""
    actor.require(Permission.BIOMETRICS_ENROL)
    taken = capture(site, image)  # before the first write: no lock held while dlib works
    registry.get_person(session, actor, personal_id_number, "face enrolment from the ID card")
    record_consent(session, personal_id_number, "police")
    return _store(session, site, actor, personal_id_number, taken, Source.ID_CARD)


def _store(session: Session, site: BiometricsSite, actor: Actor, personal_id_number: str,
           taken: Capture, source: Source) -> Enrolment:
    """Replace the person's template (and its photo) with this one, after a 1:N search of
    everyone else's."""
    reading = taken.reading
    _delete_template(session, site, personal_id_number, "superseded")
    look_alikes = _look_alikes(session, site, reading.embedding, personal_id_number)
    template = FaceTemplate(
        personal_id_number=personal_id_number, source=source.value,
        status="held" if look_alikes else "active",
        sealed=site.seal(personal_id_number, reading.embedding), sharpness=reading.sharpness,
        face_pixels=reading.face_pixels, enrolled_at=now(), enrolled_by=str(actor))
    session.add(template)
    session.flush()
    session.add(EnrolmentPhoto(template_id=template.id,
                               sealed=site.seal_photo(personal_id_number, taken.portrait)))
    site.gallery.add(template.id, reading.embedding)
    for other, gap in look_alikes:
        session.add(DuplicateCase(personal_id_number=personal_id_number, resembles=other,
                                  distance=round(gap, 4), status="open", opened_at=now()))
    audit.record(session, actor, "biometrics.enrol", subject_type="person",
                 subject_id=personal_id_number, purpose="face enrolment",
                 detail={"source": source.value, "held": bool(look_alikes),
                         "look_alikes": len(look_alikes)})
    return Enrolment(template.id, bool(look_alikes), tuple(o for o, _ in look_alikes))


def _look_alikes(session: Session, site: BiometricsSite, embedding: Embedding,
                 personal_id_number: str) -> list[tuple[str, float]]:
    """Other people whose enrolled face lies within the threshold (the gallery is brought in
    line with the database first)."""
    sync_gallery(session, site)
    near = [c for c in site.gallery.search(embedding, CANDIDATES, site.threshold)
            if c.distance <= site.threshold]
    owners = {t.id: t.personal_id_number
              for t in repository.templates_by_id(session, [c.template_id for c in near])}
    return [(owners[c.template_id], c.distance) for c in near
            if c.template_id in owners and owners[c.template_id] != personal_id_number]


def sync_gallery(session: Session, site: BiometricsSite) -> None:
    site.gallery.sync(repository.fingerprint(session), lambda: repository.template_ids(session),
                      lambda ids: _opened(session, site, ids))


def rebuild_gallery(session: Session, site: BiometricsSite) -> int:
    """Rebuild the persisted index from the database (CLI: biometrics rebuild-index)."""
    return site.gallery.rebuild(_opened(session, site, repository.template_ids(session)))


def _opened(session: Session, site: BiometricsSite, ids: list[int]) -> dict[int, Embedding]:
    return {t.id: site.open(t.personal_id_number, t.sealed)
            for t in repository.templates_by_id(session, ids)}


# --- review of look-alikes ----------------------------------------------------------------

REVIEW = "face de-duplication review"


class Side(enum.StrEnum):
    """The two faces of a look-alike case."""

    NEW = "new"  # the face just enrolled, held
    ENROLLED = "enrolled"  # the other person's face, enrolled before, which it resembles


@dataclass(frozen=True)
class CaseReview:
    """What an official decides a case on: both people, both faces, the distance and the
    threshold it is measured against."""

    case: DuplicateCase
    newcomer: str  # full names; "—" for a person outside the official's scope
    resembled: str
    threshold: float
    photos: frozenset[Side]  # the faces whose enrolment photo is kept and may be shown
    outside_scope: frozenset[Side]  # the people the official may not see

    @property
    def within_threshold(self) -> bool:
        return self.case.distance <= self.threshold


def open_cases(session: Session, actor: Actor) -> list[tuple[DuplicateCase, str, str]]:
    """Open cases in the official's scope, with the names of both people (audited reads)."""
    actor.require(Permission.BIOMETRICS_REVIEW)
    cases = repository.open_cases(session)
    people = {c.personal_id_number for c in cases} | {c.resembles for c in cases}
    names = registry.names_in_scope(session, actor, sorted(people), REVIEW)
    return [(c, names[c.personal_id_number], names.get(c.resembles, "—"))
            for c in cases if c.personal_id_number in names]


def _open_case(session: Session, actor: Actor, case_id: int) -> tuple[DuplicateCase, str]:
    """An open case whose newcomer is in the official's scope (an audited read of them), with
    the newcomer's name: a case is decided where the new enrolment was made."""
    actor.require(Permission.BIOMETRICS_REVIEW)
    case = session.get(DuplicateCase, case_id)
    if case is None:
        raise NotFound("no such de-duplication case")
    newcomer = registry.get_person(session, actor, case.personal_id_number, REVIEW)
    if case.status != "open":
        raise Conflict("this case has already been decided")
    return case, newcomer.full_name


def case_review(session: Session, site: BiometricsSite, actor: Actor,
                case_id: int) -> CaseReview:
    """One open case as the official sees it; the look is audited (who saw which faces)."""
    case, newcomer = _open_case(session, actor, case_id)
    resembled = registry.names_in_scope(session, actor, [case.resembles], REVIEW)
    # The earlier person's face and record are shown only to an official who may see them.
    hidden = frozenset() if case.resembles in resembled else frozenset({Side.ENROLLED})
    photos = frozenset(side for side in Side
                       if side not in hidden and _photo(session, _owner(case, side)) is not None)
    audit.record(session, actor, "biometrics.case.view", subject_type="person",
                 subject_id=case.personal_id_number, purpose=REVIEW,
                 detail={"case": case.id, "resembles": case.resembles})
    return CaseReview(case, newcomer, resembled.get(case.resembles, "—"), site.threshold,
                      photos, hidden)


def case_photo(session: Session, site: BiometricsSite, actor: Actor, case_id: int,
               side: Side) -> bytes:
    """One face of an open case (a JPEG), for an official with the review permission whose
    scope holds the case and the face's owner; every look is an audit entry of that person."""
    case, _ = _open_case(session, actor, case_id)
    owner = _owner(case, side)
    if side is Side.ENROLLED:
        registry.get_person(session, actor, owner, REVIEW)
    photo = _photo(session, owner)
    if photo is None:
        raise NotFound("no photo is kept of this face: it was enrolled before photos were kept")
    audit.record(session, actor, "biometrics.photo.view", subject_type="person",
                 subject_id=owner, purpose=REVIEW, detail={"case": case.id, "side": side.value})
    return site.open_photo(owner, photo.sealed)


def _owner(case: DuplicateCase, side: Side) -> str:
    return case.personal_id_number if side is Side.NEW else case.resembles


def _photo(session: Session, personal_id_number: str) -> EnrolmentPhoto | None:
    template = repository.template_of(session, personal_id_number)
    return repository.photo_of(session, template.id) if template is not None else None


def decision_reason(reason: str) -> str:
    """The reason every decision needs, or Invalid (asked before the confirmation page too)."""
    return stated_reason(reason, max_length=500)


def decide_case(session: Session, site: BiometricsSite, actor: Actor, case_id: int,
                same_person_fraud: bool, reason: str) -> DuplicateCase:
    """Cleared: two people who look alike (the template is released once no case is open).
    Confirmed: the face belongs to the other person, so the newcomer's template is deleted."""
    actor.require(Permission.BIOMETRICS_REVIEW)
    reason = decision_reason(reason)
    case, _ = _open_case(session, actor, case_id)
    if same_person_fraud:
        _delete_template(session, site, case.personal_id_number, "confirmed")
        events.publish(session, events.FACE_TEMPLATE_REVOKED, case.personal_id_number)
    else:
        case.status, case.decided_at = "cleared", now()
        _release_if_clear(session, case.personal_id_number)
    case.decided_by, case.reason = str(actor), reason
    audit.record(session, actor, "biometrics.case.decide", subject_type="person",
                 subject_id=case.personal_id_number, purpose=REVIEW,
                 detail={"case": case.id, "outcome": case.status, "resembles": case.resembles})
    return case


def held_cases(session: Session, personal_id_numbers: list[str]) -> dict[str, int]:
    """ID number -> the open look-alike case holding that person's face: identity's approval
    queue asks (identity.face_holds, provided at install), since an account must not open on a
    face that may be someone else's."""
    return repository.held_cases(session, personal_id_numbers)


def _release_if_clear(session: Session, personal_id_number: str) -> None:
    template = repository.template_of(session, personal_id_number)
    if template is not None and not repository.open_cases(session, personal_id_number):
        template.status = "active"


# --- use of an enrolled template ----------------------------------------------------------

def enrolment_of(session: Session, personal_id_number: str) -> FaceTemplate | None:
    """The citizen's own enrolment facts (never the template itself) for their page."""
    return repository.template_of(session, personal_id_number)


def _usable_template(session: Session, site: BiometricsSite,
                     personal_id_number: str) -> Embedding:
    template = repository.template_of(session, personal_id_number)
    if template is None or not has_consent(session, personal_id_number):
        raise NotFound("this person has no enrolled face")
    if template.status != "active":
        raise Conflict("this person's face enrolment is held for an official's review")
    return site.open(personal_id_number, template.sealed)


def template_copy(session: Session, site: BiometricsSite, actor: Actor, personal_id_number: str,
                  purpose: str) -> Embedding:
    """The template opened for a copy bound to one journey (a flight, a rail pass): audited
    as a read of the person, so they see who took a copy and why."""
    embedding = _usable_template(session, site, personal_id_number)
    audit.record(session, actor, "biometrics.template.copy", subject_type="person",
                 subject_id=personal_id_number, purpose=registry.require_purpose(purpose))
    return embedding


def verify(session: Session, site: BiometricsSite, actor: Actor, personal_id_number: str,
           image: bytes, purpose: str) -> Verification:
    """1:1: is the face in this image the enrolled face of this person? Logged either way."""
    actor.require(Permission.BIOMETRICS_VERIFY)
    reading = read_face(site, image)  # before the first write: no lock held while dlib works
    registry.get_person(session, actor, personal_id_number, purpose)
    return compare(session, site, actor, personal_id_number, reading.embedding, purpose)


# --- 1:1 with challenge-response liveness ---------------------------------------------------

CHALLENGE_LIFETIME = timedelta(minutes=2)
MAX_FRAMES = 3
_DRAW = random.SystemRandom()  # the order of poses must not be predictable


@dataclass(frozen=True)
class LiveVerification:
    liveness: liveness.LivenessResult
    verification: Verification | None  # None when the liveness check failed


def start_liveness(session: Session, actor: Actor) -> LivenessChallenge:
    """A new random order of poses for the caller's camera, valid for two minutes."""
    actor.require(Permission.BIOMETRICS_VERIFY)
    challenge = LivenessChallenge(
        id=secrets.token_hex(16), issued_to=str(actor), expires_at=now() + CHALLENGE_LIFETIME,
        steps=",".join(liveness.new_challenge(_DRAW).steps))
    session.add(challenge)
    return challenge


def verify_live(session: Session, site: BiometricsSite, actor: Actor, challenge_id: str,
                personal_id_number: str, frames: list[bytes], purpose: str) -> LiveVerification:
    """The frames must answer the challenge (spent by this call, pass or fail); only then is
    the most frontal frame matched 1:1 against the person's enrolment."""
    actor.require(Permission.BIOMETRICS_VERIFY)
    if len(frames) > MAX_FRAMES:
        raise Invalid("frames", "send one photo for each instruction, no more")
    # The frames are read (seconds of dlib) before the first write, then the challenge is
    # spent under a row lock, which refuses a second answer that raced this one.
    asked = _usable_challenge(session, actor, challenge_id)
    steps = liveness.Challenge(tuple(liveness.Pose(p) for p in asked.steps.split(",")))
    checked = liveness.check(site.engine, steps, frames, site.threshold)
    registry.get_person(session, actor, personal_id_number, purpose)
    _usable_challenge(session, actor, challenge_id, lock=True).used_at = now()
    audit.record(session, actor, "biometrics.liveness", subject_type="person",
                 subject_id=personal_id_number, purpose=purpose,
                 detail={"passed": checked.passed,
                         "failure": checked.failure.value if checked.failure else None})
    if not checked.passed or checked.frontal_embedding is None:
        return LiveVerification(checked, None)
    return LiveVerification(checked, compare(session, site, actor, personal_id_number,
                                             checked.frontal_embedding, purpose))


def _usable_challenge(session: Session, actor: Actor, challenge_id: str,
                      lock: bool = False) -> LivenessChallenge:
    challenge = session.get(LivenessChallenge, challenge_id, with_for_update=lock,
                            populate_existing=lock)
    if challenge is None:
        raise NotFound("no such liveness challenge: ask for a new one")
    if challenge.issued_to != str(actor):
        raise Forbidden("this liveness challenge was given to another caller")
    if challenge.used_at is not None or as_utc(challenge.expires_at) <= now():
        raise Conflict("this liveness challenge is spent or expired: ask for a new one")
    return challenge


def compare(session: Session, site: BiometricsSite, actor: Actor, personal_id_number: str,
            probe: Embedding, purpose: str) -> Verification:
    gap = distance(_usable_template(session, site, personal_id_number), probe)
    result = Verification(Decision.MATCH if gap <= site.threshold else Decision.NO_MATCH,
                          round(gap, 4), site.threshold)
    audit.record(session, actor, "biometrics.match", subject_type="person",
                 subject_id=personal_id_number, purpose=purpose,
                 detail={"decision": result.decision.value, "distance": result.distance})
    return result


# --- level-1 registration: the selfie against the ID-card face -----------------------------

def consent_at_registration(session: Session, personal_id_number: str) -> None:
    """Subscribed to identity's 'face consent given' event: the box ticked at registration."""
    record_consent(session, personal_id_number, "registration")


def queue_registration_match(session: Session, personal_id_number: str) -> None:
    """Subscribed to identity's 'awaits approval' event (kit/events.py): the worker compares
    the registration selfie with the card face outside the request. Only with the citizen's
    consent: without it the selfie is not read at all, and an official compares it by eye."""
    if not has_consent(session, personal_id_number):
        return
    if session.get(RegistrationMatch, personal_id_number) is None:
        session.add(RegistrationMatch(personal_id_number=personal_id_number, queued_at=now()))


class MatchOutcome(enum.StrEnum):
    APPROVED = "approved"  # the selfie matches the ID-card face: the account is approved
    NO_MATCH = "no_match"  # left for an official, who sees the distance in the audit log
    NO_CARD_FACE = "no_card_face"  # the selfie is enrolled; an official approves
    UNUSABLE = "unusable"  # no usable face in the selfie; an official decides
    GONE = "gone"  # the account is no longer waiting, or its holder withdrew consent


def run_registration_matches(factory: sessionmaker[Session], site: BiometricsSite,
                             vault: photos.PhotoVault, limit: int = 50) -> dict[str, MatchOutcome]:
    """Each queued registration in short transactions of its own, the slow face read between
    them, so no write lock is held while dlib works (SQLite has one writer) and one failure
    never blocks the rest. A crash before the second transaction leaves the row queued."""
    with transaction(factory) as session:
        queued = repository.queued_registrations(session, limit)
    outcomes: dict[str, MatchOutcome] = {}
    for personal_id_number in queued:
        with transaction(factory) as session:
            selfie = identity.registration_selfie(session, vault, personal_id_number,
                                                  FACE_MATCHER)
        taken = _read_selfie(site, selfie)
        with transaction(factory) as session:
            if repository.dequeue_registration(session, personal_id_number):
                outcomes[personal_id_number] = _settle_registration(
                    session, site, personal_id_number, taken)
    return outcomes


def _read_selfie(site: BiometricsSite, selfie: bytes | None) -> Capture | Refusal | None:
    if selfie is None:
        return None
    try:
        return Capture(site.engine.read(selfie), portrait(selfie))
    except FaceRefused as refused:
        return refused.refusal


def _settle_registration(session: Session, site: BiometricsSite, personal_id_number: str,
                         taken: Capture | Refusal | None) -> MatchOutcome:
    if (taken is None or not identity.awaits_approval(session, personal_id_number)
            or not has_consent(session, personal_id_number)):
        return MatchOutcome.GONE  # decided or withdrawn meanwhile, or the account is gone
    if isinstance(taken, Refusal):
        _note(session, personal_id_number, MatchOutcome.UNUSABLE, {"refusal": taken.value})
        return MatchOutcome.UNUSABLE
    card = repository.template_of(session, personal_id_number)
    if card is None or card.source != Source.ID_CARD.value:
        _store(session, site, FACE_MATCHER, personal_id_number, taken, Source.SELFIE)
        _note(session, personal_id_number, MatchOutcome.NO_CARD_FACE, {})
        return MatchOutcome.NO_CARD_FACE
    result = compare(session, site, FACE_MATCHER, personal_id_number, taken.reading.embedding,
                     "eID registration: selfie against the ID-card face")
    if result.decision != Decision.MATCH:
        _note(session, personal_id_number, MatchOutcome.NO_MATCH, {"distance": result.distance})
        return MatchOutcome.NO_MATCH
    identity.approve_by_face(session, personal_id_number, FACE_MATCHER, result.distance)
    return MatchOutcome.APPROVED


def _note(session: Session, personal_id_number: str, outcome: MatchOutcome,
          detail: dict[str, object]) -> None:
    audit.record(session, FACE_MATCHER, "biometrics.registration_match", subject_type="person",
                 subject_id=personal_id_number, purpose="eID registration",
                 detail={"outcome": outcome.value, **detail})
