"""Credentials of travel's machine clients: an airline's system and each touchpoint device.

The same habit as operator API keys (kit/apikeys.py): a 256-bit random secret shown once,
stored only as an HMAC-SHA256 under the server's pepper, found by a public lookup id and
compared in constant time. Operator keys carry a role and a scope of the public
administration; these carry who they are (one airline, one device), so they live here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from civicstack.kit.errors import Unauthorized
from civicstack.travel.models import HasCredential

AIRLINE_PREFIX = "csa"
TOUCHPOINT_PREFIX = "cst"


def _digest(pepper: str, secret: str) -> str:
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def issue(holder: HasCredential, pepper: str, prefix: str) -> str:
    """Give the holder a new credential (replacing any old one); the token is shown once."""
    lookup_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    holder.lookup_id, holder.secret_digest = lookup_id, _digest(pepper, secret)
    holder.revoked_at = None
    return f"{prefix}_{lookup_id}_{secret}"


def lookup_id_of(token: str, prefix: str) -> str:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != prefix:
        raise Unauthorized("malformed credential")
    return parts[1]


def check(holder: HasCredential | None, pepper: str, token: str) -> None:
    """Refuse (401) a wrong, unknown or revoked credential without saying which."""
    secret = token.split("_", 2)[-1]
    # Compare against a dummy digest when the holder is unknown so timing does not reveal it.
    expected = holder.secret_digest if holder and holder.secret_digest else _digest(pepper, "-")
    valid = hmac.compare_digest(expected, _digest(pepper, secret))
    if holder is None or not valid or holder.revoked_at is not None:
        raise Unauthorized("unknown, wrong or revoked credential")
