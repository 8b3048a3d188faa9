"""Identity's background work: expired phone codes and dead browser sessions deleted."""

from __future__ import annotations

from datetime import timedelta

from civicstack.identity import repository
from civicstack.identity.accounts import now
from civicstack.identity.sessions import SESSION_IDLE_LIMIT
from civicstack.kit.appservices import AppServices

# Past any session's idle limit, and a day to read a failed sign-in's trail.
EXPIRED_KEPT = SESSION_IDLE_LIMIT + timedelta(days=1)


def purge_expired(services: AppServices) -> int | None:
    return repository.purge_expired(services.session_factory, now() - EXPIRED_KEPT) or None
