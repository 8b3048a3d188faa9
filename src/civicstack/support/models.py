"""Tables owned by support. Persons are referred to by ID number (registry.service), eID
accounts through identity.service, audit entries by their sequence number."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from civicstack.kit.db import Base


class SupportQueue(Base):
    """A team: the officials who hold `permission` and work within the queue's place (a
    national queue reaches everyone holding the permission, each within their own scope)."""

    __tablename__ = "support_queue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    permission: Mapped[str] = mapped_column(String(40))
    province_code: Mapped[str | None] = mapped_column(String(2), nullable=True)
    ward_code: Mapped[str | None] = mapped_column(String(5), nullable=True)
    # Where escalations of this queue's late tickets are sent (the queue lead's mailbox).
    lead_contact: Mapped[str] = mapped_column(String(200))


class SupportRoutingRule(Base):
    """Topic (or any) and place (ward, province or anywhere) -> queue; the most specific
    matching rule wins."""

    __tablename__ = "support_routing_rule"
    __table_args__ = (UniqueConstraint("topic", "province_code", "ward_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str | None] = mapped_column(String(20), nullable=True)
    province_code: Mapped[str | None] = mapped_column(String(2), nullable=True)
    ward_code: Mapped[str | None] = mapped_column(String(5), nullable=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("support_queue.id"), index=True)


class SupportTicket(Base):
    __tablename__ = "support_ticket"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'assigned', 'answered', 'closed')",
                        name="state_known"),
        CheckConstraint("channel IN ('portal', 'hotline')", name="channel_known"),
        CheckConstraint("escalation_level BETWEEN 0 AND 2", name="escalation_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    personal_id_number: Mapped[str] = mapped_column(String(12), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    province_code: Mapped[str] = mapped_column(String(2), index=True)
    ward_code: Mapped[str | None] = mapped_column(String(5), nullable=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("support_queue.id"), index=True)
    state: Mapped[str] = mapped_column(String(10), index=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    assignee: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reference: Mapped[str] = mapped_column(String(100), default="")
    # A report of a data use: the audit entry reported; one ticket per entry.
    audit_seq: Mapped[int | None] = mapped_column(BigInteger, unique=True, nullable=True)
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    first_response_due: Mapped[date] = mapped_column(Date)
    resolution_due: Mapped[date] = mapped_column(Date)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                               nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SupportMessage(Base):
    """The thread: the citizen's and officials' messages; internal notes stay among officials."""

    __tablename__ = "support_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("support_ticket.id"), index=True)
    author: Mapped[str] = mapped_column(String(200))
    from_citizen: Mapped[bool] = mapped_column(Boolean)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SupportEscalation(Base):
    """One escalation per breach: a target (first response or resolution) missed on a due
    date. The unique key is what makes the job safe to run again."""

    __tablename__ = "support_escalation"
    __table_args__ = (UniqueConstraint("ticket_id", "target", "due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("support_ticket.id"), index=True)
    target: Mapped[str] = mapped_column(String(20))  # first_response, resolution
    due_on: Mapped[date] = mapped_column(Date)
    level: Mapped[int] = mapped_column(Integer)
    escalated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VerificationRequest(Base):
    """An agency asks a citizen to confirm a piece of their data; the citizen confirms or
    disputes it (a dispute opens a ticket) before it expires."""

    __tablename__ = "support_verification_request"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'confirmed', 'disputed')", name="state_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    personal_id_number: Mapped[str] = mapped_column(String(12), index=True)
    field: Mapped[str] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(300))
    agency: Mapped[str] = mapped_column(String(200))
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(10))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    comment: Mapped[str] = mapped_column(String(1000), default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("support_ticket.id"),
                                                  nullable=True)


class CleanupCandidate(Base):
    """An eID account a scan proposes to lock, and an official's decision on it. One row per
    account and reason: a rejected proposal is not made again."""

    __tablename__ = "support_cleanup_candidate"
    __table_args__ = (
        UniqueConstraint("personal_id_number", "reason"),
        CheckConstraint("reason IN ('inactive', 'duplicate', 'deceased')", name="reason_known"),
        CheckConstraint("state IN ('proposed', 'approved', 'rejected')", name="state_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    personal_id_number: Mapped[str] = mapped_column(String(12), index=True)
    reason: Mapped[str] = mapped_column(String(10))
    evidence: Mapped[str] = mapped_column(String(300))
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(10), index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decision_note: Mapped[str] = mapped_column(String(500), default="")
