"""The security domain's own records: verifications of the logs' hash chains, and alerts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from civicstack.kit.db import Base


class ChainCheck(Base):
    """One verification of one hash-chained log (the audit log, the exchange's message log)."""

    __tablename__ = "security_chain_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    log: Mapped[str] = mapped_column(String(20), index=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    intact: Mapped[bool] = mapped_column(Boolean)
    entries_checked: Mapped[int] = mapped_column(BigInteger)
    first_bad_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(String(300))
    duration_ms: Mapped[int] = mapped_column(Integer)


OPEN = text("cleared_at IS NULL")


class SecurityAlert(Base):
    """A signal past its threshold: raised once, cleared when the signal falls back. At most one
    alert of a kind is open, whichever instance raised it."""

    __tablename__ = "security_alert"
    __table_args__ = (Index("ix_security_alert_open", "kind", "cleared_at"),
                      Index("uq_security_alert_open_kind", "kind", unique=True,
                            sqlite_where=OPEN, postgresql_where=OPEN))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    observed: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(Integer)
