"""What the security domain takes from the running app and its settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from civicstack.config import Settings
from civicstack.exchange.service import AUTHENTICATION_REFUSALS
from civicstack.kit.ratelimit import limiters_of
from civicstack.kit.tally import tally_of
from civicstack.security.service import ProcessCounts, Thresholds


def thresholds_from(settings: Settings) -> Thresholds:
    return Thresholds(
        failed_logins=settings.security_failed_logins, lockouts=settings.security_lockouts,
        rate_limit_refusals=settings.security_rate_limit_refusals,
        exchange_refusals=settings.security_exchange_refusals,
        chain_check_max_age=timedelta(hours=2 * settings.security_chain_check_hours))


def process_counts(state: Any) -> ProcessCounts:
    """The running app's counts (`state` is app.state)."""
    return ProcessCounts(limiters_of(state), tally_of(state, AUTHENTICATION_REFUSALS))
