"""Tables owned by identity: citizens' eID accounts and officials' console accounts. Persons
are referred to by ID number, through registry.service."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from civicstack.kit.authz import HasRoleAndScope, role_and_scope_checks
from civicstack.kit.db import Base
from civicstack.kit.i18n import Message


class AccountStatus(enum.StrEnum):
    PENDING_PHONE = "pending_phone"  # registered, phone not yet proven
    PENDING_APPROVAL = "pending_approval"  # phone proven, waiting for face match or an official
    ACTIVE = "active"
    LOCKED = "locked"
    CLOSED = "closed"  # for good: the holder died, or closed it themself (identity/closure.py)


class ClosureReason(enum.StrEnum):
    DECEASED = "deceased"
    OWN_REQUEST = "own_request"


class CitizenAccount(Base):
    __tablename__ = "citizen_account"
    __table_args__ = (
        CheckConstraint("level IN (1, 2)", name="level_known"),
        CheckConstraint("status IN ('pending_phone', 'pending_approval', 'active', 'locked', "
                        "'closed')", name="status_known"),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_when"),
        CheckConstraint("closure_reason IS NULL OR closure_reason IN ('deceased', 'own_request')",
                        name="closure_reason_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    personal_id_number: Mapped[str] = mapped_column(String(12), unique=True)
    phone: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Level 2: an official authorises it in person, then the citizen enrols an authenticator.
    # The TOTP secret is stored encrypted (nonce + AES-GCM ciphertext, base64) so a database
    # dump alone cannot mint codes.
    totp_secret: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Time-step of the last accepted code: a code from that step or earlier is a replay.
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    level2_authorised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                                  nullable=True)
    level2_authorised_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closure_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)


class PhoneChallenge(Base):
    """A one-time code sent to the account's phone; only its keyed hash is stored."""

    __tablename__ = "phone_challenge"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("citizen_account.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(30))
    code_digest: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CitizenSession(Base):
    """A signed-in browser. The cookie holds only this row's random id, so the citizen can see
    every device signed in and end any of them from another."""

    __tablename__ = "citizen_session"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("citizen_account.id"), index=True)
    user_agent: Mapped[str] = mapped_column(String(300))
    ip_address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # What this browser has proven: level 1 by password, level 2 after a TOTP code too.
    level: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    amr: Mapped[str] = mapped_column(String(50), default="pwd", server_default="pwd")
    # Time of the last authentication step (OIDC auth_time); moves on at step-up.
    authenticated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                              nullable=True)


class OfficialStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class OfficialAccount(HasRoleAndScope, Base):
    """An official's console account: a role and a scope (kit/authz.py), a password, and an
    authenticator app that every sign-in needs once enrolled (enrolment is forced at the
    first sign-in)."""

    __tablename__ = "official_account"
    __table_args__ = (
        *role_and_scope_checks(),
        CheckConstraint("status IN ('active', 'disabled')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    # A password handed over (at creation, or reset by an admin) opens only the page where the
    # official chooses their own: someone else has seen it.
    must_change_password: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(10))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Sealed as for citizens (identity/totp.py); enrolled once its first code was accepted.
    totp_secret: Mapped[str | None] = mapped_column(String(200), nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                              nullable=True)
    # Console sessions remember the generation they began in: disabling the account, changing
    # its role or resetting its second factor moves it on, which ends them all.
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class CitizenFacePhoto(Base):
    """The face photo given at registration, sealed (identity/photos.py). One per account; the
    digest lets the face pipeline spot the same file sent for two accounts without opening it."""

    __tablename__ = "citizen_face_photo"

    account_id: Mapped[int] = mapped_column(ForeignKey("citizen_account.id"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    captured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CitizenPasskey(Base):
    """A WebAuthn credential: a level-2 second factor beside (or instead of) the authenticator
    app. Only the public key is kept; the counter catches a cloned authenticator."""

    __tablename__ = "citizen_passkey"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("citizen_account.id"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer)
    backed_up: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)



class CitizenNotice(Base):
    """Something a citizen was told (by SMS too, where a phone is known), kept for the
    portal's list of notifications: the outbox forgets a message's text once delivered."""

    __tablename__ = "citizen_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    personal_id_number: Mapped[str] = mapped_column(String(12), index=True)
    body: Mapped[str] = mapped_column(Text)  # the SMS as sent: ASCII Vietnamese
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The portal's sentence (an English template marked for translation) and its values, shown
    # in the reader's language; None on notices kept before the portal translated them.
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_values: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)

    def portal_message(self) -> Message | None:
        if self.message is None:
            return None
        return Message(self.message, **(self.message_values or {}))
