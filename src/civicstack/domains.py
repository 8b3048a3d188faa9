"""The domains this system is made of, in the order they install: routes are matched in that
order, so the OpenID provider's endpoints, which relying parties call most, come first, and
each domain's jobs run in this order at every tick."""

from __future__ import annotations

from civicstack import (
    biometrics,
    exchange,
    identity,
    learning,
    monitoring,
    oidc,
    organisations,
    registry,
    security,
    services,
    support,
    travel,
    wallet,
)
from civicstack.kit.installing import Installer

DOMAINS = (oidc, registry, identity, organisations, wallet, services, biometrics, travel,
           exchange, security, support, learning, monitoring)


def install_all(installer: Installer) -> None:
    for domain in DOMAINS:
        domain.install(installer)
