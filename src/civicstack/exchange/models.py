"""The exchange's tables: members, agreements, spent assertions and the message log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from civicstack.kit.assertions import SpentJti
from civicstack.kit.audit import ChainHead
from civicstack.kit.db import Base


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


class SharingAgreement(Base):
    """What one member may read of a dataset the platform holds, why, on what legal basis,
    and for how long."""

    __tablename__ = "exchange_agreement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("exchange_member.id"), index=True)
    dataset: Mapped[str] = mapped_column(String(40))
    fields: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(300))
    legal_basis: Mapped[str] = mapped_column(String(300))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(120))


class SpentMemberAssertion(SpentJti, Base):
    """`jti` of members' assertions already accepted, until they expire (replay refusal)."""

    __tablename__ = "exchange_spent_assertion"
    __table_args__ = (UniqueConstraint("member_code", "jti"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_code: Mapped[str] = mapped_column(String(40))
    jti: Mapped[str] = mapped_column(String(200))


class ExchangeLogHead(ChainHead, Base):
    """The last link of the message log; made by migration 0018."""

    __tablename__ = "exchange_log_head"


class ExchangeMessage(Base):
    """One request and its answer or refusal, by digest, chained to the one before."""

    __tablename__ = "exchange_message"

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
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
