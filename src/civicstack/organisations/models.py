"""Tables owned by organisations. Citizens are referred to by eID account id (identity.service)
and wards by code (registry.service): no foreign key crosses into another domain's tables."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from civicstack.kit.db import Base


class OrganisationStatus(enum.StrEnum):
    PENDING = "pending"  # registered by its representative, waiting for an official's check
    ACTIVE = "active"
    SUSPENDED = "suspended"  # by an official, with a reason; nothing changes until reinstated
    REJECTED = "rejected"  # the check failed; the tax code may be registered again


class MemberRole(enum.StrEnum):
    REPRESENTATIVE = "representative"  # the legal representative: one live row per organisation
    AUTHORISED = "authorised"  # a citizen the representative lets act for the organisation


class MemberPermission(enum.StrEnum):
    """What an authorised member may do for the organisation; the representative may do all."""

    DOCUMENTS_VIEW = "documents:view"  # see the organisation's wallet
    SERVICES_FILE = "services:file"  # file public services on the organisation's behalf


class Organisation(Base):
    __tablename__ = "organisation"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'active', 'suspended', 'rejected')",
                        name="status_known"),
        CheckConstraint("length(tax_code) IN (10, 14)", name="tax_code_length"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tax_code: Mapped[str] = mapped_column(String(14), unique=True)  # "0314409058" or "…-001"
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True,
                                                  index=True)  # a branch's parent
    name: Mapped[str] = mapped_column(String(300))
    english_name: Mapped[str] = mapped_column(String(300), default="")
    short_name: Mapped[str] = mapped_column(String(100), default="")
    head_office_ward_code: Mapped[str] = mapped_column(String(5))
    # Kept with the ward so officials' queues filter by province in the database.
    head_office_province_code: Mapped[str] = mapped_column(String(2), index=True)
    address_line: Mapped[str] = mapped_column(String(300))
    representative_account_id: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    status_reason: Mapped[str] = mapped_column(String(500), default="")  # shown to the members
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The representative's eID account closed (death, or their own request): nobody can act
    # as representative until an official records the successor (change_representative).
    succession_needed_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                                     nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it once)


LIVE = text("revoked_at IS NULL")
LIVE_REPRESENTATIVE = text("revoked_at IS NULL AND role = 'representative'")


class OrganisationMember(Base):
    """Who may act for an organisation, and since when; a revoked row stays as history."""

    __tablename__ = "organisation_member"
    __table_args__ = (
        CheckConstraint("role IN ('representative', 'authorised')", name="role_known"),
        # At most one live membership per citizen and organisation, one live representative.
        Index("uq_organisation_member_live", "organisation_id", "account_id", unique=True,
              sqlite_where=LIVE, postgresql_where=LIVE),
        Index("uq_organisation_member_one_representative", "organisation_id", unique=True,
              sqlite_where=LIVE_REPRESENTATIVE, postgresql_where=LIVE_REPRESENTATIVE),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    role: Mapped[str] = mapped_column(String(20))
    # Space-separated MemberPermission values granted to an authorised member; empty for the
    # representative, who holds every permission by law.
    permissions: Mapped[str] = mapped_column(String(200), default="", server_default="")
    granted_by: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
