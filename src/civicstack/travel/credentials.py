"""Credentials of travel's machine clients: an airline's system and each touchpoint device.

The same tokens as operator API keys (kit/apikeys.py: new_token, split_token, secret_matches):
a 256-bit random secret shown once, stored only as an HMAC-SHA256 under the server's pepper,
found by a public lookup id and compared in constant time. Operator keys carry a role and a
scope of the public administration; these carry who they are (one airline, one device), so
they live here.
"""

from __future__ import annotations

from civicstack.kit import apikeys
from civicstack.kit.errors import Unauthorized
from civicstack.travel.models import HasCredential

AIRLINE_PREFIX = "csa"
TOUCHPOINT_PREFIX = "cst"


def issue(holder: HasCredential, pepper: str, prefix: str) -> str:
    """Give the holder a new credential (replacing any old one); the token is shown once."""
    issued = apikeys.new_token(pepper, prefix)
    holder.lookup_id, holder.secret_digest = issued.lookup_id, issued.secret_digest
    holder.revoked_at = None
    return issued.token


def lookup_id_of(token: str, prefix: str) -> str:
    parts = apikeys.split_token(token, prefix)
    if parts is None:
        raise Unauthorized("malformed credential")
    return parts[0]


def check(holder: HasCredential | None, pepper: str, token: str) -> None:
    """Refuse (401) a wrong, unknown or revoked credential without saying which."""
    secret = token.split("_", 2)[-1]
    valid = apikeys.secret_matches(pepper, holder.secret_digest if holder else None, secret)
    if holder is None or not valid or holder.revoked_at is not None:
        raise Unauthorized("unknown, wrong or revoked credential")
