"""One camera frame at any touchpoint: airport devices decide by flight, urban gates by pass,
each within the gate's time budget. A traveller stands at the barrier while the gate waits: when
the database cannot take the decision in time (another transaction holds the lock it needs),
the answer is the staffed lane, never an error after the database's own long wait."""

from __future__ import annotations

import structlog
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.db import is_lock_timeout, lock_wait_limit, transaction
from civicstack.travel import touchpoints, urban
from civicstack.travel.models import Touchpoint
from civicstack.travel.site import TravelSite

# How long a gate's decision may wait for a database lock. Reading the face takes about half a
# second (docs/travel.md); with this wait a traveller has an answer within about three.
LOCK_WAIT_MS = 2000
UNDECIDED = "no_decision_in_time"

log = structlog.get_logger(__name__)


def decide(factory: sessionmaker[Session], site: TravelSite, device: Touchpoint, image: bytes,
           record_locator: str | None = None, declared_bags: int = 0) -> touchpoints.Decision:
    """The decision for one frame, committed in its own transaction (so a lock refused on the
    way leaves nothing half-written), or the staffed lane when it could not be taken in time."""
    try:
        with transaction(factory) as session, lock_wait_limit(session, LOCK_WAIT_MS):
            return _decide(session, site, device, image, record_locator, declared_bags)
    except OperationalError as refused:
        if not is_lock_timeout(refused):
            raise
    return _undecided(factory, device)


def _decide(session: Session, site: TravelSite, device: Touchpoint, image: bytes,
            record_locator: str | None, declared_bags: int) -> touchpoints.Decision:
    if device.kind in touchpoints.URBAN_KINDS:
        return urban.decide(session, site, device, image)
    return touchpoints.decide(session, site, device, image, record_locator, declared_bags)


def _undecided(factory: sessionmaker[Session], device: Touchpoint) -> touchpoints.Decision:
    """The fallback, recorded and audited like any decision when the database takes it in
    time; when it is still held, the log keeps the record instead (the answer goes out)."""
    decision = touchpoints.Decision(False, UNDECIDED)
    try:
        with transaction(factory) as session, lock_wait_limit(session, LOCK_WAIT_MS):
            touchpoints.record(session, device, decision, mode="undecided")
    except OperationalError as refused:
        if not is_lock_timeout(refused):
            raise
        log.warning("travel.gate.undecided", touchpoint=device.name, kind=device.kind,
                    reason=UNDECIDED)
    return decision
