"""The provider's background work: pushed requests, codes and tokens deleted once expired."""

from __future__ import annotations

from datetime import timedelta

from civicstack.kit.appservices import AppServices
from civicstack.oidc import repository
from civicstack.oidc.protocol import now

# Kept a day past expiry: enough to read a failed sign-in's trail, not a growing table.
EXPIRED_KEPT = timedelta(days=1)


def purge_expired(services: AppServices) -> int | None:
    return repository.purge_expired(services.session_factory, now() - EXPIRED_KEPT) or None
