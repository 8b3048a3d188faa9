"""Re-routing after a unit reform as the console runs it: a dry run that counts what would move,
a run asked for once (asking again for the same wards while it runs returns it), and the
worker's job that carries it out in batches, so the page can show its progress. What a move
does to a dossier is service.reroute_after_merger's."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from civicstack.kit import audit
from civicstack.kit.appservices import AppServices
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Permission, Role, ScopeLevel
from civicstack.kit.db import transaction
from civicstack.kit.errors import DomainError, FieldError, Forbidden, Invalid, NotFound
from civicstack.kit.i18n import N_
from civicstack.kit.reasons import stated_reason
from civicstack.registry import service as registry
from civicstack.services import repository, service
from civicstack.services.models import RerouteRun

# Dossiers moved per transaction: each batch commits, so the page's progress moves and a
# stopped worker resumes where it was (a moved dossier no longer matches the old ward).
BATCH = 200
SUBJECT = "reroute_run"


@dataclass(frozen=True)
class WardMove:
    old_ward: str
    new_province: str
    new_ward: str
    new_ward_name: str
    dossiers: int
    applicants: int


@dataclass(frozen=True)
class Preview:
    """What a run would move now, ward by ward; nothing is changed to find out."""

    ward_codes: list[str]
    moves: list[WardMove]

    @property
    def dossiers(self) -> int:
        return sum(move.dossiers for move in self.moves)

    @property
    def applicants(self) -> int:
        return sum(move.applicants for move in self.moves)


def require_national_manager(actor: Actor) -> None:
    """Re-routing moves dossiers between provinces: only a catalogue manager of national
    scope may ask for it (a province's admin sees one side of the move)."""
    actor.require(Permission.CATALOGUE_MANAGE)
    if actor.scope.level is not ScopeLevel.NATIONAL:
        raise Forbidden(N_("Only an official of national scope may re-route dossiers."))


@dataclass(frozen=True)
class RerouteRequest:
    """What the form asks for: the abolished wards' codes and the reason."""

    ward_codes: list[str]
    reason: str


def request_of(ward_text: str, reason: str) -> RerouteRequest:
    """The codes typed one per line or separated by commas or spaces, and the reason written
    in each moved dossier's history; both refusals at once."""
    codes = sorted(set(ward_text.replace(",", " ").split()))
    errors = [] if codes else [FieldError("ward_codes",
                                          N_("Give at least one abolished ward code."))]
    try:
        cleaned = stated_reason(reason, max_length=500, required=True)
    except Invalid as refused:
        errors += refused.errors or [FieldError("reason", refused.detail)]
        cleaned = ""
    if errors:
        raise Invalid.of_fields(errors)
    return RerouteRequest(codes, cleaned)


def preview(session: Session, actor: Actor, ward_codes: list[str]) -> Preview:
    require_national_manager(actor)
    mapping = service.legacy_successors(session, ward_codes)
    counts = repository.open_dossiers_by_ward(session, ward_codes, service.REROUTED_STATES)
    names = {code: place.ward_name for code, (_, ward) in mapping.items()
             if (place := registry.ward(session, ward)) is not None}
    return Preview(ward_codes, [
        WardMove(old, province, ward, names.get(old, ward), *counts.get(old, (0, 0)))
        for old, (province, ward) in sorted(mapping.items())])


def start(session: Session, actor: Actor, asked: RerouteRequest) -> RerouteRun:
    """A queued run for these wards, or the one already queued or running for them."""
    counted = preview(session, actor, asked.ward_codes)
    cleaned = asked.reason
    key = hashlib.sha256(",".join(counted.ward_codes).encode()).hexdigest()
    running = repository.active_reroute_run(session, key)
    if running is not None:
        return running
    run = RerouteRun(wards_key=key, ward_codes=counted.ward_codes, reason=cleaned,
                     requested_by=str(actor), state="queued", total=counted.dossiers,
                     moved=0, failure="", created_at=service.now())
    session.add(run)
    session.flush()
    audit.record(session, actor, "services.reroute.start", subject_type=SUBJECT,
                 subject_id=str(run.id), purpose=cleaned,
                 detail={"wards": counted.ward_codes, "dossiers": counted.dossiers})
    return run


def run_of(session: Session, actor: Actor, run_id: int) -> RerouteRun:
    require_national_manager(actor)
    found = session.get(RerouteRun, run_id)
    if found is None:
        raise NotFound(N_("No such re-routing run."))
    return found


def worker_actor(run: RerouteRun) -> Actor:
    """The worker moves the dossiers on the run's behalf; the run names who asked."""
    return Actor("system", f"reroute-run-{run.id}", NATIONAL, Role.ADMIN)


def advance(session: Session) -> RerouteRun | None:
    """One batch of the oldest unfinished run; the run is done when a batch comes up short."""
    run = repository.next_reroute_run(session)
    if run is None:
        return None
    run.state = "running"
    mapping = service.legacy_successors(session, run.ward_codes)
    moved = service.reroute_after_merger(session, worker_actor(run), mapping, run.reason,
                                         limit=BATCH)
    run.moved += moved
    if moved < BATCH:
        _finish(session, run, "done")
    return run


def _finish(session: Session, run: RerouteRun, state: str, failure: str = "") -> None:
    run.state, run.failure, run.finished_at = state, failure, service.now()
    audit.record(session, worker_actor(run), f"services.reroute.{state}", subject_type=SUBJECT,
                 subject_id=str(run.id), purpose=run.reason,
                 detail={"moved": run.moved, "requested_by": run.requested_by,
                         **({"failure": failure} if failure else {})})


def run_reroutes(services: AppServices) -> str | None:
    """The worker's job: batches until no run is left unfinished or a batch fails (the run is
    then marked failed with the refusal, and the dossiers already moved stay moved)."""
    batches = 0
    while True:
        try:
            with transaction(services.session_factory) as session:
                run = advance(session)
        except DomainError as refused:
            with transaction(services.session_factory) as session:
                failed = repository.next_reroute_run(session)
                if failed is not None:
                    _finish(session, failed, "failed", refused.detail[:500])
            continue
        if run is None:
            return f"{batches} re-routing batches" if batches else None
        batches += 1
