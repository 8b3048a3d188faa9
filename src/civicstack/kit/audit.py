"""The audit log: who did or read what, when, and why, as a verifiable transparency log.

`record` inserts the entry in the caller's transaction, so the act and its audit commit
together, and takes no lock another writer waits on. The sealer (kit/tlog) then gives each
committed entry its place in an RFC 9162 Merkle tree, signs checkpoints with a key outside the
database and hands them to a witness outside it; database triggers (see the migrations) refuse
UPDATE and DELETE of an entry, except the sealer's one setting of its place.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    DateTime,
    Index,
    Integer,
    String,
    func,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from civicstack.kit import audit_purposes, authz
from civicstack.kit.authz import NATIONAL, Permission, Role, Scope
from civicstack.kit.db import Base, as_utc
from civicstack.kit.tlog.log import EntryLog

PENDING = text("leaf_index IS NULL")


class AuditEntry(Base):
    __tablename__ = "audit_entry"
    # The sealer finds pending entries by the partial index, proofs by leaf_index. On
    # PostgreSQL the table is partitioned by month of occurred_at (migration 0036), and a unique
    # index there must hold the partition key: the sealer alone keeps leaf_index unique.
    __table_args__ = (Index("ix_audit_entry_pending", "seq", sqlite_where=PENDING,
                            postgresql_where=PENDING),
                      Index("uq_audit_entry_leaf_index", "leaf_index", "occurred_at",
                            unique=True))

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    subject_type: Mapped[str] = mapped_column(String(50))
    subject_id: Mapped[str] = mapped_column(String(100), index=True)
    purpose: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    leaf_index: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), nullable=True)


@dataclass(frozen=True)
class Actor:
    """Who is acting: an operator key, an official, a citizen, the CLI or the system itself.

    Officials and operator keys carry a role and a scope (kit/authz.py); everyone else has no
    role, so holds no official permission. The audit log records `kind:name`.
    """

    kind: str
    name: str
    scope: Scope = NATIONAL
    role: Role | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"

    def require(self, permission: Permission) -> None:
        """Refuse (403) unless the actor's role grants `permission`."""
        authz.require(self.role, permission)

    def may(self, permission: Permission) -> bool:
        return authz.allows(self.role, permission)

    def may_see(self, province_code: str | None, ward_code: str | None = None) -> bool:
        """Whether a person living in this province and ward is within the actor's scope."""
        return self.scope.covers(province_code, ward_code)


SYSTEM = Actor("system", "civicstack")


def _utc_iso(moment: datetime) -> str:
    # SQLite hands datetimes back naive and PostgreSQL in the session zone; hash one form.
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def canonical_bytes(entry: AuditEntry) -> bytes:
    """What the entry's leaf hashes, and what its proof carries: every field, as compact JSON."""
    return json.dumps(
        [entry.seq, _utc_iso(entry.occurred_at), entry.actor, entry.action, entry.subject_type,
         entry.subject_id, entry.purpose, entry.detail],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    ).encode()


AUDIT_LOG = EntryLog("audit", AuditEntry.seq, AuditEntry.leaf_index, canonical_bytes,
                     AuditEntry.occurred_at)


def record(
    session: Session, actor: Actor, action: str, *, subject_type: str, subject_id: str,
    purpose: str, detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction, so the audit and the act commit together;
    the sealer gives it its place in the tree once committed."""
    entry = AuditEntry(
        occurred_at=datetime.now(UTC), actor=str(actor), action=action,
        subject_type=subject_type, subject_id=subject_id,
        purpose=audit_purposes.as_stored(purpose),
        detail=json.loads(json.dumps(detail or {}, default=str)),
    )
    session.add(entry)
    session.flush()
    return entry


def entry(session: Session, seq: int) -> AuditEntry | None:
    return session.get(AuditEntry, seq)


def entries_for_subject(
    session: Session, subject_type: str, subject_id: str, limit: int = 200, offset: int = 0,
    without_actions: Collection[str] = (),
) -> list[AuditEntry]:
    """Newest first; `offset` skips that many, and `without_actions` leaves those out."""
    query = select(AuditEntry).where(AuditEntry.subject_type == subject_type,
                                     AuditEntry.subject_id == subject_id)
    if without_actions:
        query = query.where(AuditEntry.action.not_in(without_actions))
    return list(session.execute(
        query.order_by(AuditEntry.seq.desc()).offset(offset).limit(limit)).scalars())


def _of_actions(actions: Collection[str], since: datetime) -> ColumnElement[bool]:
    return AuditEntry.action.in_(actions) & (AuditEntry.occurred_at >= since)


def count_actions(session: Session, actions: Collection[str], since: datetime) -> int:
    return session.execute(select(func.count()).select_from(AuditEntry)
                           .where(_of_actions(actions, since))).scalar_one()


def latest_of_actions(session: Session, actions: Collection[str], since: datetime,
                      limit: int) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(_of_actions(actions, since))
                                .order_by(AuditEntry.seq.desc()).limit(limit)))


def moments_of_actions(session: Session, actions: Collection[str],
                       since: datetime) -> list[datetime]:
    return [as_utc(at) for at in session.scalars(
        select(AuditEntry.occurred_at).where(_of_actions(actions, since)))]
