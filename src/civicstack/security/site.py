"""What the security domain takes from the running app and its settings."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from civicstack.config import Settings
from civicstack.kit.appservices import AppServices
from civicstack.kit.audit import Actor
from civicstack.security import service
from civicstack.security.service import Thresholds


def thresholds_from(settings: Settings) -> Thresholds:
    return Thresholds(
        failed_logins=settings.security_failed_logins, lockouts=settings.security_lockouts,
        rate_limit_refusals=settings.security_rate_limit_refusals,
        exchange_refusals=settings.security_exchange_refusals,
        chain_check_max_age=timedelta(hours=2 * settings.security_chain_check_hours))


def overview_of(services: AppServices, session: Session, operator: Actor) -> service.Overview:
    """The security page's figures, now, for the console page and the operators' API, with
    this process's latest refusals already shared."""
    services.flush_tallies()
    return service.overview(session, operator, services.limiters,
                            thresholds_from(services.settings), service.now())
