"""Where the wallet lives: its public addresses, each issuer's signing keys, the sealing key
for documents at rest. Built once by the app (and by the CLI) from settings."""

from __future__ import annotations

from functools import cached_property
from threading import Lock
from typing import Any

from joserfc.jwk import ECKey
from jwcrypto.jwk import JWK
from starlette.requests import Request

from civicstack.config import Settings
from civicstack.kit.appservices import ServiceKey, services_of
from civicstack.kit.keys import KeyRing
from civicstack.kit.sealing import Sealer, sealer
from civicstack.kit.secrets import SecretStore

ISSUER_ALGORITHMS = ("ES256",)
IN_PERSON_AUDIENCE = "urn:civicstack:in-person"
STATUS_LIST_TTL_S = 300  # how long a verifier may cache a list before asking again
STATUS_LIST_LIFETIME_S = 86_400  # an offline verifier's cached list is refused after a day
KEY_BINDING_MAX_AGE_S = 300  # a QR code or vp_token older than five minutes is refused


class WalletSite:
    def __init__(self, base_url: str, secrets: SecretStore, seal_secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.secrets = secrets
        self._seal_secret = seal_secret
        self._rings: dict[str, KeyRing] = {}
        self._signers: dict[str, JWK] = {}
        self._lock = Lock()

    def issuer_url(self, slug: str) -> str:
        return f"{self.base_url}/wallet/issuers/{slug}"

    def status_list_uri(self, slug: str, number: int) -> str:
        return f"{self.issuer_url(slug)}/status/{number}"

    def ring(self, slug: str) -> KeyRing:
        with self._lock:
            if slug not in self._rings:
                self._rings[slug] = KeyRing(self.secrets, issuer_ring(slug), ISSUER_ALGORITHMS)
            return self._rings[slug]

    def signing_key(self, slug: str) -> ECKey:
        key = self.ring(slug).signing_key("ES256")
        assert isinstance(key, ECKey)  # the ring holds ES256 keys only
        return key

    def jwcrypto_signer(self, slug: str) -> tuple[JWK, str]:
        """The active key as the SD-JWT library wants it, converted once per key."""
        key = self.signing_key(slug)
        kid = str(key.kid)
        with self._lock:
            if kid not in self._signers:
                self._signers[kid] = JWK(**key.as_dict(private=True))
            return self._signers[kid], kid

    def jwks(self, slug: str) -> dict[str, Any]:
        return self.ring(slug).public_jwks()

    @cached_property
    def documents(self) -> Sealer:
        """Seals the portal wallet's SD-JWTs and holder keys at rest."""
        return sealer(self._seal_secret, b"civicstack wallet documents v1")


WALLET_SITE = ServiceKey[WalletSite]("wallet")
SEALING_KEY = "wallet-key"


def wallet_site(settings: Settings, secrets: SecretStore) -> WalletSite:
    """The app's and the CLI's wallet, over the same keys and sealing secret."""
    return WalletSite(settings.issuer, secrets, secrets.secret(SEALING_KEY))


def issuer_ring(slug: str) -> str:
    """The issuer's signing keys (a ring of kit/keys.py), under the wallet's own name."""
    return f"issuers/{slug}"


def site_of(request: Request) -> WalletSite:
    """The app's wallet, for the routes (made once per app)."""
    return services_of(request.app)[WALLET_SITE]
