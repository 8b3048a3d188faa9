"""Travel's background work in the app: the purge of flight data and face copies past their
delay after departure, and of rail and parking history past its own (also `civicstack travel
purge`)."""

from __future__ import annotations

from civicstack.kit.appservices import AppServices
from civicstack.kit.db import transaction
from civicstack.travel import service, urban


def purge(services: AppServices) -> object:
    settings = services.settings
    with transaction(services.session_factory) as session:
        flights = service.purge(session, settings.travel_purge_hours)
        history = urban.purge_history(session, service.now(), settings.travel_purge_hours,
                                      settings.travel_trip_days)
    done = {**vars(flights), **vars(history)}
    return done if any(done.values()) else None
