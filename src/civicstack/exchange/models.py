"""The exchange's tables: members, the datasets they publish and their records, agreements and
requests for them, spent assertions, the message log, and data-quality reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from civicstack.kit.assertions import SpentJti
from civicstack.kit.db import Base

PENDING = text("leaf_index IS NULL")


class ExchangeMember(Base):
    """A ministry's, province's or connected system's endpoint, known by its public keys."""

    __tablename__ = "exchange_member"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # ministry, province, system
    jwks: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))  # active, suspended
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AgreementTerms:
    """Who may read which fields of whose dataset, why, on what legal basis, and for how long:
    the columns an agreement and a request for one share."""

    consumer_id: Mapped[int] = mapped_column(ForeignKey("exchange_member.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("exchange_member.id"), index=True)
    dataset: Mapped[str] = mapped_column(String(40))
    fields: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(300))
    legal_basis: Mapped[str] = mapped_column(String(300))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)


class SharingAgreement(AgreementTerms, Base):
    """What one member may read of a dataset the platform holds, why, on what legal basis,
    and for how long."""

    __tablename__ = "exchange_agreement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(120))


class SpentMemberAssertion(SpentJti, Base):
    """`jti` of members' assertions already accepted, until they expire (replay refusal)."""

    __tablename__ = "exchange_spent_assertion"
    __table_args__ = (UniqueConstraint("member_code", "jti"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_code: Mapped[str] = mapped_column(String(40))
    jti: Mapped[str] = mapped_column(String(200))


class ExchangeMessage(Base):
    """One request and its answer or refusal, by digest; `leaf_index` is its place in the
    message log's tree, given by the sealer."""

    __tablename__ = "exchange_message"
    __table_args__ = (Index("ix_exchange_message_pending", "seq", sqlite_where=PENDING,
                            postgresql_where=PENDING),
                      Index("uq_exchange_message_leaf_index", "leaf_index", "occurred_at",
                            unique=True))

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    member: Mapped[str] = mapped_column(String(40), index=True)
    dataset: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(12), index=True)
    purpose: Mapped[str] = mapped_column(String(300))
    agreement_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outcome: Mapped[str] = mapped_column(String(10))  # answered, refused
    reason: Mapped[str] = mapped_column(String(300))
    request_digest: Mapped[str] = mapped_column(String(64))
    response_digest: Mapped[str] = mapped_column(String(64))
    latency_ms: Mapped[int] = mapped_column(Integer)
    leaf_index: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                                   nullable=True)


class AgreementRequest(AgreementTerms, Base):
    """A consumer's request for an agreement, until its provider grants it (it becomes an
    agreement) or refuses it with a justification the consumer is shown."""

    __tablename__ = "exchange_agreement_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(10), index=True)  # pending, granted, refused
    justification: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requested_by: Mapped[str] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_by: Mapped[str] = mapped_column(String(120), default="")
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_agreement.id"),
                                                     nullable=True)


class PublishedDataset(Base):
    """A dataset a member publishes through the exchange: its fields, the ones every record
    must fill, and records held in the exchange's store (the register's own datasets are read
    live and have no row here)."""

    __tablename__ = "exchange_dataset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("exchange_member.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    fields: Mapped[list[str]] = mapped_column(JSON)
    required: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    uploaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PublishedRecord(Base):
    """One record of a published dataset about one person, as its provider last uploaded it.
    The ID number is kept as given, valid or not: finding the invalid ones is the quality
    check's work."""

    __tablename__ = "exchange_record"
    __table_args__ = (Index("ix_exchange_record_dataset_subject", "dataset_id", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("exchange_dataset.id"))
    subject_id: Mapped[str] = mapped_column(String(20))
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class QualityReport(Base):
    """One data-quality check of a published dataset against the register: the counts, and
    each mismatching record with its reason (QualityIssue)."""

    __tablename__ = "exchange_quality_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("exchange_dataset.id"), index=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checked_by: Mapped[str] = mapped_column(String(120))
    records: Mapped[int] = mapped_column(Integer)
    complete: Mapped[int] = mapped_column(Integer)  # every required field filled
    valid_ids: Mapped[int] = mapped_column(Integer)  # well-formed, of a living registered person
    names_matching: Mapped[int] = mapped_column(Integer)
    fresh: Mapped[int] = mapped_column(Integer)  # updated within FRESH_DAYS


class QualityIssue(Base):
    __tablename__ = "exchange_quality_issue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("exchange_quality_report.id"), index=True)
    subject_id: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(300))
    # The record as it was checked: a later upload replaces the records, not this report.
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
