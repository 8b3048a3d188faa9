"""Operator API keys: created by the CLI, scoped, stored only as a keyed hash, revocable.

Keys are 256-bit random tokens, so a fast keyed hash (HMAC-SHA256 with a server pepper) is the
right storage, not a slow password hash; lookup is by a public prefix, then a constant-time
compare of the digests.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from civicstack.kit import audit
from civicstack.kit.db import Base
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized

KEY_PREFIX = "csk"
KNOWN_SCOPES = frozenset({"registry:read", "registry:write", "audit:read", "identity:approve",
                          "identity:level2", "organisation:approve", "organisation:read"})


class OperatorApiKey(Base):
    __tablename__ = "operator_api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    lookup_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_digest: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(500))
    province_scope: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class IssuedKey:
    name: str
    token: str
    scopes: tuple[str, ...]
    province_scope: tuple[str, ...]


@dataclass(frozen=True)
class Principal:
    actor: audit.Actor
    scopes: frozenset[str]

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this key lacks the '{scope}' scope")


def _digest(pepper: str, secret: str) -> str:
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def create_key(
    session: Session, pepper: str, name: str, scopes: list[str],
    province_scope: list[str] | None = None,
) -> IssuedKey:
    unknown = set(scopes) - KNOWN_SCOPES
    if unknown or not scopes:
        raise Invalid("scopes", f"choose from {sorted(KNOWN_SCOPES)}; got {sorted(scopes)}")
    if session.execute(select(OperatorApiKey).where(OperatorApiKey.name == name)).first():
        raise Conflict(f"an API key named '{name}' already exists")
    lookup_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    provinces = tuple(sorted(province_scope or []))
    session.add(OperatorApiKey(
        name=name, lookup_id=lookup_id, secret_digest=_digest(pepper, secret),
        scopes=" ".join(sorted(scopes)), province_scope=",".join(provinces),
        created_at=datetime.now(UTC),
    ))
    audit.record(session, audit.Actor("cli", "operator"), "apikey.create",
                 subject_type="apikey", subject_id=name, purpose="operator key management",
                 detail={"scopes": sorted(scopes), "provinces": list(provinces)})
    return IssuedKey(name, f"{KEY_PREFIX}_{lookup_id}_{secret}", tuple(sorted(scopes)), provinces)


def revoke_key(session: Session, name: str) -> None:
    key = session.execute(
        select(OperatorApiKey).where(OperatorApiKey.name == name)
    ).scalar_one_or_none()
    if key is None:
        raise NotFound(f"no API key named '{name}'")
    if key.revoked_at is not None:
        raise Conflict(f"the API key '{name}' was already revoked on {key.revoked_at:%Y-%m-%d}")
    key.revoked_at = datetime.now(UTC)
    audit.record(session, audit.Actor("cli", "operator"), "apikey.revoke",
                 subject_type="apikey", subject_id=name, purpose="operator key management")


def authenticate(session: Session, pepper: str, token: str) -> Principal:
    """Turn a presented token into a principal, or refuse (401) without saying which part failed."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise Unauthorized("malformed API key")
    key = session.execute(
        select(OperatorApiKey).where(OperatorApiKey.lookup_id == parts[1])
    ).scalar_one_or_none()
    # Compare against a dummy digest when the key is unknown so timing does not reveal it.
    expected = key.secret_digest if key else _digest(pepper, "absent")
    valid = hmac.compare_digest(expected, _digest(pepper, parts[2]))
    if key is None or not valid or key.revoked_at is not None:
        raise Unauthorized("unknown, wrong or revoked API key")
    return _principal(key)


def principal_for_lookup(session: Session, lookup_id: str) -> Principal:
    """Re-check a key already proven at sign-in (a console session keeps only its public
    lookup id, never the secret), so a revoked key ends its sessions at the next request."""
    key = session.execute(
        select(OperatorApiKey).where(OperatorApiKey.lookup_id == lookup_id)
    ).scalar_one_or_none()
    if key is None or key.revoked_at is not None:
        raise Unauthorized("this key has been revoked; sign in again")
    return _principal(key)


def lookup_id_of(token: str) -> str:
    return token.split("_", 2)[1]


def _principal(key: OperatorApiKey) -> Principal:
    provinces = tuple(p for p in key.province_scope.split(",") if p)
    return Principal(audit.Actor("apikey", key.name, provinces), frozenset(key.scopes.split()))


def list_keys(session: Session) -> list[OperatorApiKey]:
    return list(session.execute(select(OperatorApiKey).order_by(OperatorApiKey.name)).scalars())
