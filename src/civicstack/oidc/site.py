"""What the OpenID provider keeps for the running app: the provider with its signing keys."""

from __future__ import annotations

from civicstack.kit.appservices import AppServices, ServiceKey
from civicstack.kit.keys import KeyRing
from civicstack.kit.secrets import load_or_create_secret
from civicstack.oidc.tokens import Provider

PROVIDER = ServiceKey[Provider]("oidc_provider")


def provider_of(services: AppServices) -> Provider:
    data_dir = services.settings.data_dir
    return Provider(services.settings.issuer, KeyRing(data_dir / "keys"),
                    load_or_create_secret(data_dir, "pairwise-salt"))
