"""Signed JWT assertions a system presents to prove who it is (RFC 7523, the private_key_jwt
client authentication): who it claims to be, then the signature against that caller's
registered public keys and the claims iss = sub = the caller, aud, exp and jti.

Shared by single sign-on's relying parties (oidc/clients.py) and the data exchange's members
(exchange/); each keeps its own record of spent `jti` values, since each owns its callers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact
from sqlalchemy import DateTime, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from civicstack.kit.errors import Invalid

ALGORITHMS = ["ES256", "RS256", "PS256"]


class AssertionRefused(Exception):
    """Why the assertion is not accepted, in words for the caller's developers."""


def claimed_issuer(assertion: str) -> str:
    """Who the assertion says it is from, read before verification only to find the keys to
    verify it with."""
    try:
        claims = json.loads(extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError):
        raise AssertionRefused("the client assertion is not a signed JWT") from None
    return str(claims.get("iss", "")) if isinstance(claims, dict) else ""


def verified_claims(assertion: str, jwks: dict[str, Any], caller: str,
                    audiences: list[str], longest_life: timedelta,
                    moment: datetime) -> dict[str, Any]:
    keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    try:
        token = jwt.decode(assertion, keys, algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": caller}, sub={"essential": True, "value": caller},
            aud={"essential": True, "values": audiences},
            exp={"essential": True}, jti={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError):
        raise AssertionRefused("the client assertion failed verification") from None
    if expiry(token.claims) > moment + longest_life:
        raise AssertionRefused(
            f"client assertions may live at most {int(longest_life.total_seconds())} s")
    return dict(token.claims)


def expiry(claims: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(claims["exp"]), UTC)


def check_public_jwks(jwks: dict[str, Any] | None) -> None:
    """A caller registers public keys only: at least one, none with a private part."""
    try:
        keys = KeySet.import_key_set(jwks or {"keys": []})  # type: ignore[arg-type]
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise Invalid("jwks", f"not a usable JWK set: {exc}") from None
    if not list(keys) or any(key.is_private for key in keys):
        raise Invalid("jwks", "give the client's public keys (at least one, no private parts)")


def jwks_from_text(text: str) -> dict[str, Any]:
    """A JWK set pasted into a form, parsed (check_public_jwks then checks its keys)."""
    try:
        found = json.loads(text)
    except ValueError:
        raise Invalid("jwks", "the public keys must be a JSON Web Key Set") from None
    if not isinstance(found, dict):
        raise Invalid("jwks", "the public keys must be a JSON Web Key Set")
    return found


class SpentJti:
    """A table of `jti` values already accepted, each kept until its assertion expires; the
    owning domain adds a unique index over (caller, jti)."""

    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


Spent = TypeVar("Spent", bound=SpentJti)


def spend_once(session: Session, spent: Spent, moment: datetime) -> bool:
    """Record an assertion as used; False when it already was. The unique index settles
    concurrent replays; the expired records are forgotten first."""
    table = type(spent)
    session.execute(delete(table).where(table.expires_at < moment))
    try:
        with session.begin_nested():
            session.add(spent)
    except IntegrityError:
        return False
    return True
