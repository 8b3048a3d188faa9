"""Support's background work in the app: late tickets escalated (also `civicstack support
escalate`), and deaths no domain acted on announced again (`civicstack support
life-events-check`)."""

from __future__ import annotations

from civicstack.kit.appservices import AppServices
from civicstack.kit.audit import SYSTEM
from civicstack.kit.db import transaction
from civicstack.support import cleanup, service

LIFE_EVENTS_CHECK_EVERY_S = 3600


def escalate_late(services: AppServices) -> object:
    with transaction(services.session_factory) as session:
        done = service.escalate_late(session, SYSTEM)
    return len(done) or None


def life_events_check(services: AppServices) -> object:
    """Reported in the worker's log by ID number: each one is a death some domain missed."""
    with transaction(services.session_factory) as session:
        repaired = cleanup.repair_deaths_not_acted_on(session)
    return repaired or None
