"""What the OpenID provider keeps for the running app: the provider with its signing keys."""

from __future__ import annotations

from civicstack.kit.appservices import AppServices, ServiceKey
from civicstack.kit.keys import OIDC_RING, KeyRing
from civicstack.oidc.tokens import Provider

PROVIDER = ServiceKey[Provider]("oidc_provider")
PAIRWISE_SALT = "pairwise-salt"


def provider_of(services: AppServices) -> Provider:
    return Provider(services.settings.issuer, KeyRing(services.secrets, OIDC_RING),
                    services.secrets.secret(PAIRWISE_SALT))
