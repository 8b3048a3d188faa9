"""Tables owned by the document wallet: issuing agencies, their document types, the credentials
they issued (with status list positions), holder keys, OpenID4VCI offers and nonces, and
OpenID4VP presentation requests. People are referred to by personal ID number, organisations
by tax code; both through other domains' services, never their tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from civicstack.kit.db import Base


class Issuer(Base):
    """An issuing agency (a ministry or one of its departments) with its own signing key."""

    __tablename__ = "wallet_issuer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DocumentType(Base):
    """A document an issuer puts in wallets, with a versioned claim schema."""

    __tablename__ = "wallet_document_type"
    __table_args__ = (
        CheckConstraint("subject_kind IN ('person', 'organisation')", name="subject_kind_known"),
        CheckConstraint("source IN ('register', 'agency')", name="source_known"),
        CheckConstraint("schema_version >= 1", name="schema_version_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("wallet_issuer.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    subject_kind: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(10))  # from the register or pushed by the agency
    schema_version: Mapped[int] = mapped_column(Integer)
    claims: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    validity_days: Mapped[int] = mapped_column(Integer)
    integrated_on: Mapped[date] = mapped_column(Date)  # the month it joined the wallet


class StatusList(Base):
    """One Token Status List of an issuer; the signed token is cached until a status changes."""

    __tablename__ = "wallet_status_list"
    __table_args__ = (UniqueConstraint("issuer_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("wallet_issuer.id"))
    number: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    token: Mapped[str | None] = mapped_column(Text, nullable=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                              nullable=True)


class Credential(Base):
    """An issued SD-JWT VC. The portal wallet's copy is sealed at rest; a copy fetched by a
    wallet app is not kept (`sealed_sd_jwt` empty), only its status position."""

    __tablename__ = "wallet_credential"
    __table_args__ = (
        UniqueConstraint("status_list_id", "status_index"),
        CheckConstraint("status IN ('valid', 'revoked', 'suspended')", name="status_known"),
        CheckConstraint("holder IN ('portal', 'wallet-app')", name="holder_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    document_type_id: Mapped[int] = mapped_column(ForeignKey("wallet_document_type.id"),
                                                  index=True)
    subject_id: Mapped[str] = mapped_column(String(14), index=True)  # ID number or tax code
    holder: Mapped[str] = mapped_column(String(12))
    schema_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    status_reason: Mapped[str] = mapped_column(String(300), default="")
    status_list_id: Mapped[int] = mapped_column(ForeignKey("wallet_status_list.id"))
    status_index: Mapped[int] = mapped_column(Integer)
    sealed_sd_jwt: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                               nullable=True)
    # A wallet app's copy of a portal document: revoking or suspending one reaches the other.
    copy_of_id: Mapped[int | None] = mapped_column(ForeignKey("wallet_credential.id"),
                                                   nullable=True, index=True)


class HolderKey(Base):
    """The portal wallet's key for one person or organisation, sealed at rest: credentials in
    the portal wallet are bound to it, and it signs their presentations."""

    __tablename__ = "wallet_holder_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(14), unique=True)
    sealed_jwk: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IssuerGrant(Base):
    """Who acts for an issuer: an operator API key that pushes its documents, or an official
    who changes their status (least privilege: a driving-licence system cannot issue diplomas,
    a health insurance office cannot revoke a driving licence)."""

    __tablename__ = "wallet_issuer_grant"
    __table_args__ = (UniqueConstraint("issuer_id", "grantee"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("wallet_issuer.id"))
    # Named as the audit log names the actor: 'apikey:<key name>' or 'official:<username>'.
    grantee: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CredentialOffer(Base):
    """OpenID4VCI: a pre-authorized code for one document of one person, then the access token
    a wallet app got for it. Both stored as digests, both single-use."""

    __tablename__ = "wallet_credential_offer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    # The 6-digit transaction code, hashed together with the pre-authorized code (which is
    # stored only as a digest): a leaked table does not give up the PIN to a brute force.
    tx_code_digest: Mapped[str] = mapped_column(String(64))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    document_type_id: Mapped[int] = mapped_column(ForeignKey("wallet_document_type.id"))
    subject_id: Mapped[str] = mapped_column(String(14))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    redeemed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    access_token_digest: Mapped[str | None] = mapped_column(String(64), nullable=True,
                                                            unique=True)
    access_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                               nullable=True)
    credential_issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                                  nullable=True)


class Nonce(Base):
    """A one-use nonce we handed out (OpenID4VCI c_nonce, in-person verifier replay guard)."""

    __tablename__ = "wallet_nonce"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    value_digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PresentationRequest(Base):
    """OpenID4VP: a relying party asks for named claims of one document type; the holder
    approves (or declines) and the verified answer waits here for the relying party."""

    __tablename__ = "wallet_presentation_request"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'verified', 'refused', 'declined')",
                        name="state_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    verifier_name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(300))
    nonce: Mapped[str] = mapped_column(String(64))
    document_type_code: Mapped[str] = mapped_column(String(40))
    requested_claims: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    refusal_reason: Mapped[str] = mapped_column(String(300), default="")
    subject_id: Mapped[str | None] = mapped_column(String(14), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SeenPresentation(Base):
    """Presentations a verifier here already accepted, by key-binding digest: a replayed QR
    code or vp_token is refused until its key binding would have expired anyway."""

    __tablename__ = "wallet_seen_presentation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sd_hash: Mapped[str] = mapped_column(String(64), unique=True)
    audience: Mapped[str] = mapped_column(String(200))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    forget_after: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class MemberAuthorisation(Base):
    """Which membership of which organisation an authorisation credential attests, so that the
    credential is revoked when that membership ends or the organisation is suspended (the
    claims themselves are sealed)."""

    __tablename__ = "wallet_member_authorisation"

    credential_id: Mapped[int] = mapped_column(ForeignKey("wallet_credential.id"),
                                               primary_key=True)
    tax_code: Mapped[str] = mapped_column(String(14), index=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)  # organisation_member.id
