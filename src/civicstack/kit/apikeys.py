"""Operator API keys: created by the CLI with a role and a scope (kit/authz.py, the same model
as official accounts), stored only as a keyed hash, revocable.

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
from civicstack.kit.authz import NATIONAL, HasRoleAndScope, Role, Scope, role_and_scope_checks
from civicstack.kit.db import Base
from civicstack.kit.errors import Conflict, NotFound, Unauthorized

KEY_PREFIX = "csk"
KEY_ADMIN = audit.Actor("cli", "operator", role=Role.ADMIN)  # keys are made at the shell


class OperatorApiKey(HasRoleAndScope, Base):
    __tablename__ = "operator_api_key"
    __table_args__ = role_and_scope_checks()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    lookup_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class IssuedKey:
    name: str
    token: str
    role: Role
    scope: Scope


def _digest(pepper: str, secret: str) -> str:
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


# --- tokens: shared with other machine credentials (travel's airlines and devices) ----------

@dataclass(frozen=True)
class NewToken:
    lookup_id: str
    secret_digest: str  # the only part kept
    token: str  # `prefix_lookupid_secret`, shown once


def new_token(pepper: str, prefix: str) -> NewToken:
    lookup_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    return NewToken(lookup_id, _digest(pepper, secret), f"{prefix}_{lookup_id}_{secret}")


def split_token(token: str, prefix: str) -> tuple[str, str] | None:
    """(lookup id, secret) of a well-formed token with this prefix; None otherwise."""
    parts = token.split("_", 2)
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == prefix else None


def secret_matches(pepper: str, expected_digest: str | None, secret: str) -> bool:
    """Constant time, and as slow for an unknown holder (a dummy digest) as for a known one."""
    expected = expected_digest or _digest(pepper, "absent")
    return hmac.compare_digest(expected, _digest(pepper, secret)) and expected_digest is not None


def create_key(session: Session, pepper: str, name: str, role: Role,
               scope: Scope = NATIONAL) -> IssuedKey:
    """A key acting as `role` within `scope`. Check the scope's codes against the register
    first (registry.service.scope_for): this module cannot see the register."""
    if session.execute(select(OperatorApiKey).where(OperatorApiKey.name == name)).first():
        raise Conflict(f"an API key named '{name}' already exists")
    issued = new_token(pepper, KEY_PREFIX)
    key = OperatorApiKey(name=name, lookup_id=issued.lookup_id,
                         secret_digest=issued.secret_digest, created_at=datetime.now(UTC))
    key.set_role_and_scope(role, scope)
    session.add(key)
    audit.record(session, KEY_ADMIN, "apikey.create", subject_type="apikey", subject_id=name,
                 purpose="operator key management",
                 detail={"role": role.value, "scope": str(scope)})
    return IssuedKey(name, issued.token, role, scope)


def revoke_key(session: Session, name: str) -> None:
    key = session.execute(
        select(OperatorApiKey).where(OperatorApiKey.name == name)
    ).scalar_one_or_none()
    if key is None:
        raise NotFound(f"no API key named '{name}'")
    if key.revoked_at is not None:
        raise Conflict(f"the API key '{name}' was already revoked on {key.revoked_at:%Y-%m-%d}")
    key.revoked_at = datetime.now(UTC)
    audit.record(session, KEY_ADMIN, "apikey.revoke", subject_type="apikey", subject_id=name,
                 purpose="operator key management")


def authenticate(session: Session, pepper: str, token: str) -> audit.Actor:
    """Turn a presented token into the actor it stands for, or refuse (401) without saying
    which part failed."""
    parts = split_token(token, KEY_PREFIX)
    if parts is None:
        raise Unauthorized("malformed API key")
    lookup_id, secret = parts
    key = session.execute(
        select(OperatorApiKey).where(OperatorApiKey.lookup_id == lookup_id)
    ).scalar_one_or_none()
    valid = secret_matches(pepper, key.secret_digest if key else None, secret)
    if key is None or not valid or key.revoked_at is not None:
        raise Unauthorized("unknown, wrong or revoked API key")
    return audit.Actor("apikey", key.name, key.scope, key.role)


def list_keys(session: Session) -> list[OperatorApiKey]:
    return list(session.execute(select(OperatorApiKey).order_by(OperatorApiKey.name)).scalars())
