"""Security's background work in the app: the logs checked against their witnessed
checkpoints when due (also `civicstack security verify-chains`) and the alerts, from the counts
every instance shares."""

from __future__ import annotations

from datetime import timedelta

from civicstack.kit.appservices import AppServices
from civicstack.kit.db import transaction
from civicstack.kit.transparency import LOG_PUBLISHING
from civicstack.security import service
from civicstack.security.site import thresholds_from


def verify_chains(services: AppServices) -> object:
    every = timedelta(hours=services.settings.security_chain_check_hours)
    with transaction(services.session_factory) as session:
        checks = service.verify_chains_when_due(session, services[LOG_PUBLISHING], service.now(),
                                                every)
    return {check.log: check.intact for check in checks} or None


def evaluate_alerts(services: AppServices) -> object:
    services.flush_tallies()  # what this process refused counts at once
    with transaction(services.session_factory) as session:
        changes = service.evaluate_alerts(session, thresholds_from(services.settings),
                                          services.settings.security_contact, service.now())
    return [f"{change.kind} {'raised' if change.raised else 'cleared'}"
            for change in changes] or None
