"""Support's background work in the app: late tickets escalated (also `civicstack support
escalate`)."""

from __future__ import annotations

from civicstack.kit.appservices import AppServices
from civicstack.kit.audit import SYSTEM
from civicstack.kit.db import transaction
from civicstack.support import service


def escalate_late(services: AppServices) -> object:
    with transaction(services.session_factory) as session:
        done = service.escalate_late(session, SYSTEM)
    return len(done) or None
