"""Protocol vocabulary shared by the provider's modules: errors in OAuth's own shape, levels of
assurance, scopes and lifetimes."""

from __future__ import annotations

import hashlib
import secrets
from base64 import urlsafe_b64encode
from datetime import UTC, datetime, timedelta

CODE_LIFETIME = timedelta(seconds=60)
PUSHED_REQUEST_LIFETIME = timedelta(seconds=90)
ACCESS_TOKEN_LIFETIME = timedelta(minutes=10)
ID_TOKEN_LIFETIME = timedelta(minutes=10)
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
# However often it is rotated, a refresh token lives no longer than this after the sign-in it
# came from: then the citizen signs in again (ASVS 10.4.8, an absolute lifetime).
SIGN_IN_REFRESH_LIMIT = timedelta(days=90)
ASSERTION_LONGEST_LIFE = timedelta(hours=1)  # Authlib's default; each jti is usable once
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# acr values we answer with; each maps to the eID level that satisfies it. "2-bio" needs the
# face check of the biometrics issue, so no session reaches it yet: asking for it is refused.
ACR_LEVELS = {
    "urn:civicstack:loa:1": 1,
    "urn:civicstack:loa:2": 2,
    "urn:civicstack:loa:2-bio": 3,
}
ACR_OF_LEVEL = {level: acr for acr, level in ACR_LEVELS.items()}

# scope -> the userinfo claims it releases (openid alone releases only `sub`)
SCOPE_CLAIMS = {
    "openid": ("sub",),
    "profile": ("name", "family_name", "given_name", "gender", "birthdate"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
    "national_id": ("personal_id_number",),
    # Acting for an organisation chosen at consent: {tax_code, name, role, permissions}.
    "organisation": ("organisation",),
}
ORGANISATION_SCOPE = "organisation"
SUPPORTED_SCOPES = (*SCOPE_CLAIMS, "offline_access")


class OAuthError(Exception):
    """An error answered in OAuth's shape ({"error", "error_description"}), which every client
    library parses; RFC 9457 bodies would not be understood here."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class UnsafeRedirect(Exception):
    """The request cannot be trusted to redirect anywhere (unknown client, unregistered
    redirect URI, bad request_uri): the browser is shown an error page instead."""


def now() -> datetime:
    return datetime.now(UTC)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """Codes and tokens carry 256 random bits, so a plain SHA-256 is the right store: nothing
    to brute-force, and lookups stay a single indexed equality."""
    return hashlib.sha256(secret.encode()).hexdigest()


def b64url_sha256(text: str) -> str:
    return urlsafe_b64encode(hashlib.sha256(text.encode("ascii")).digest()).rstrip(b"=").decode()


def left_half_hash(token: str) -> str:
    """at_hash of OpenID Connect Core 3.1.3.6 for SHA-256 algorithms."""
    whole = hashlib.sha256(token.encode("ascii")).digest()
    return urlsafe_b64encode(whole[:16]).rstrip(b"=").decode()
