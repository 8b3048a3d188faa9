"""Travel's background work in the app: the purge of flight data and face copies past their
delay after departure (also `civicstack travel purge`)."""

from __future__ import annotations

from civicstack.kit.appservices import AppServices
from civicstack.kit.db import transaction
from civicstack.travel import service


def purge(services: AppServices) -> object:
    with transaction(services.session_factory) as session:
        report = service.purge(session, services.settings.travel_purge_hours)
    return report if any(vars(report).values()) else None
