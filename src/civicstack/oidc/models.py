"""Tables owned by the OpenID Connect provider. Accounts are referred to by id, through
identity.service; secrets (client secrets, codes, tokens) are stored only as digests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from civicstack.kit.assertions import SpentJti
from civicstack.kit.db import Base


class OidcClient(Base):
    """A relying party: an agency, bank or airline that signs citizens in through us."""

    __tablename__ = "oidc_client"
    __table_args__ = (
        CheckConstraint("auth_method IN ('client_secret_basic', 'private_key_jwt')",
                        name="auth_method_known"),
        CheckConstraint("id_token_alg IN ('ES256', 'RS256')", name="id_token_alg_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    auth_method: Mapped[str] = mapped_column(String(30))
    secret_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    scopes: Mapped[str] = mapped_column(String(500))  # space-separated, what it may ask for
    acr_values: Mapped[str] = mapped_column(String(500))
    sector_identifier: Mapped[str] = mapped_column(String(200))
    id_token_alg: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # OpenID Connect Back-Channel and Front-Channel Logout 1.0: where the party hears that a
    # citizen's session ended, and whether it needs the session's `sid` (and `iss`) to act.
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(500), nullable=True)
    backchannel_logout_session_required: Mapped[bool] = mapped_column(Boolean, default=False)
    frontchannel_logout_uri: Mapped[str | None] = mapped_column(String(500), nullable=True)
    frontchannel_logout_session_required: Mapped[bool] = mapped_column(Boolean, default=False)


class PushedAuthorization(Base):
    """RFC 9126: the parameters a client posted ahead, referred to by a one-use request_uri."""

    __tablename__ = "oidc_pushed_authorization"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle_digest: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_client.client_id"))
    parameters: Mapped[dict[str, str]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuthorizationCode(Base):
    __tablename__ = "oidc_authorization_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(32))  # the tokens it is exchanged for share it
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_client.client_id"))
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(500))
    nonce: Mapped[str | None] = mapped_column(String(200), nullable=True)
    code_challenge: Mapped[str] = mapped_column(String(128))
    acr: Mapped[str] = mapped_column(String(50))
    amr: Mapped[str] = mapped_column(String(50))
    auth_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    browser_session: Mapped[str] = mapped_column(String(64))  # `sid`: a digest, never the id
    # The organisation the citizen chose to act for at consent (the `organisation` scope).
    organisation_tax_code: Mapped[str | None] = mapped_column(String(14), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IssuedToken(Base):
    """An access or refresh token. Tokens from one code share a family, so a replayed code or
    a reused refresh token revokes all of them at once."""

    __tablename__ = "oidc_token"
    __table_args__ = (CheckConstraint("kind IN ('access', 'refresh')", name="kind_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    family: Mapped[str] = mapped_column(String(32), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_client.client_id"))
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    scope: Mapped[str] = mapped_column(String(500))
    acr: Mapped[str] = mapped_column(String(50))
    amr: Mapped[str] = mapped_column(String(50))
    auth_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    browser_session: Mapped[str] = mapped_column(String(64))
    organisation_tax_code: Mapped[str | None] = mapped_column(String(14), nullable=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Consent(Base):
    """What a citizen let one relying party see; withdrawing it revokes the party's tokens."""

    __tablename__ = "oidc_consent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_client.client_id"))
    scope: Mapped[str] = mapped_column(String(500))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UsedAssertion(SpentJti, Base):
    """`jti` of client assertions already accepted, until they expire (replay refusal)."""

    __tablename__ = "oidc_used_assertion"
    # one jti per client: the unique index makes concurrent replays lose at insert time
    __table_args__ = (UniqueConstraint("client_id", "jti"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    jti: Mapped[str] = mapped_column(String(200))



class RelyingPartySession(Base):
    """A relying party signed a citizen in through one of their sessions (`sid`): recorded
    when the code is issued, removed when that session ends and the party is told."""

    __tablename__ = "oidc_rp_session"
    __table_args__ = (UniqueConstraint("client_id", "sid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_client.client_id"))
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    sid: Mapped[str] = mapped_column(String(64), index=True)
    signed_in_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LogoutDelivery(Base):
    """A logout token owed to a relying party's back-channel logout URI. The token itself is
    signed at each attempt (a fresh jti and a short life), so a retry never carries one that
    has expired or that the party has already seen."""

    __tablename__ = "oidc_logout_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_client.client_id"))
    account_id: Mapped[int] = mapped_column(Integer)
    sid: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True)
    abandoned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True)
