"""The append-only, hash-chained audit log: who did or read what, when, and why.

Each entry's hash covers its own fields and the previous entry's hash, so editing, deleting
or inserting an entry anywhere breaks the chain from that point on. A one-row head table is
locked while appending, which keeps the chain linear under concurrent writers; database
triggers (see the migration) refuse UPDATE and DELETE on entries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    DateTime,
    Integer,
    String,
    func,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Mapped, Session, mapped_column

from civicstack.kit import authz
from civicstack.kit.authz import NATIONAL, Permission, Role, Scope
from civicstack.kit.db import Base, as_utc

GENESIS_HASH = "0" * 64


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    subject_type: Mapped[str] = mapped_column(String(50))
    subject_id: Mapped[str] = mapped_column(String(100), index=True)
    purpose: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class ChainHead:
    """The last link of a hash-chained log (this audit log, the exchange's message log): one
    row, made by a migration, locked by every append (locked_head)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


Head = TypeVar("Head", bound=ChainHead)


def locked_head(session: Session, model: type[Head]) -> Head:
    """The head row, locked until the caller's transaction ends, so concurrent appends queue.
    A no-op UPDATE takes the lock before the head is read: a row lock on PostgreSQL, and on
    SQLite, which ignores SELECT ... FOR UPDATE, the database's write lock, so the head read
    next is the latest."""
    session.execute(update(model).where(model.id == 1).values(last_seq=model.last_seq))
    return session.execute(select(model).where(model.id == 1)
                           .execution_options(populate_existing=True)).scalar_one()


class AuditChainHead(ChainHead, Base):
    __tablename__ = "audit_chain_head"


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


def compute_entry_hash(
    prev_hash: str, seq: int, occurred_at: datetime, actor: str, action: str,
    subject_type: str, subject_id: str, purpose: str, detail: dict[str, Any],
) -> str:
    canonical = json.dumps(
        [prev_hash, seq, _utc_iso(occurred_at), actor, action, subject_type, subject_id,
         purpose, detail],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class Linked(Protocol):
    """A row of a hash-chained log: its place, the hash of the row before it, its own hash."""

    seq: int
    prev_hash: str
    entry_hash: str


Row = TypeVar("Row", bound=Linked)


def append_link(session: Session, head_model: type[ChainHead], row: Row,
                link: Callable[[Row], str]) -> Row:
    """Chain `row` after the head in the caller's transaction (concurrent appends queue on
    the head row): `link` hashes the row, its seq and prev_hash included."""
    head = locked_head(session, head_model)
    row.seq, row.prev_hash = head.last_seq + 1, head.last_hash
    row.entry_hash = link(row)
    session.add(row)
    head.last_seq, head.last_hash = row.seq, row.entry_hash
    session.flush()
    return row


@dataclass(frozen=True)
class ChainReport:
    entries_checked: int
    ok: bool
    first_bad_seq: int | None = None
    reason: str = ""


def verify_links(session: Session, seq: InstrumentedAttribute[int],
                 head_model: type[ChainHead], link: Callable[[Any], str],
                 batch_size: int = 5000) -> ChainReport:
    """Walk a chained log (the model of `seq`) in order, a batch at a time, recompute every
    link and report the first break; the head must name the last link."""
    model = seq.class_
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    while batch := session.execute(
            select(model).where(seq >= expected_seq).order_by(seq).limit(batch_size)
    ).scalars().all():
        for row in batch:
            problem = _link_problem(row, expected_seq, expected_prev, link)
            if problem:
                return ChainReport(checked, False, row.seq, problem)
            expected_prev, expected_seq, checked = row.entry_hash, row.seq + 1, checked + 1
        session.expunge_all()
    return _check_head(session, head_model, checked, expected_seq - 1, expected_prev)


def _link_problem(row: Any, expected_seq: int, expected_prev: str,
                  link: Callable[[Any], str]) -> str:
    if row.seq != expected_seq:
        return f"entry {expected_seq} is missing"
    if row.prev_hash != expected_prev:
        return "previous-hash link does not match the entry before it"
    if link(row) != row.entry_hash:
        return "entry content does not match its hash (modified)"
    return ""


def _check_head(session: Session, head_model: type[ChainHead], checked: int, last_seq: int,
                last_hash: str) -> ChainReport:
    head = session.get(head_model, 1)
    if head is None:  # made by a migration: without it, the log's end cannot be checked
        return ChainReport(checked, False, last_seq + 1, "chain head is missing")
    if head.last_seq != last_seq or head.last_hash != last_hash:
        return ChainReport(checked, False, last_seq + 1,
                           f"log ends at entry {last_seq} but the head records {head.last_seq} "
                           "(entries removed from the end)")
    return ChainReport(checked, True)


def _entry_hash(entry: AuditEntry) -> str:
    return compute_entry_hash(
        entry.prev_hash, entry.seq, entry.occurred_at, entry.actor, entry.action,
        entry.subject_type, entry.subject_id, entry.purpose, entry.detail,
    )


def record(
    session: Session, actor: Actor, action: str, *, subject_type: str, subject_id: str,
    purpose: str, detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction, so the audit and the act commit together;
    concurrent appends queue on the head row (made by migration 0017)."""
    return append_link(session, AuditChainHead, AuditEntry(
        occurred_at=datetime.now(UTC), actor=str(actor), action=action,
        subject_type=subject_type, subject_id=subject_id, purpose=purpose,
        detail=json.loads(json.dumps(detail or {}, default=str)),
    ), _entry_hash)


def verify_chain(session: Session, batch_size: int = 5000) -> ChainReport:
    """Walk the whole audit log in order and recompute every link; report the first break."""
    return verify_links(session, AuditEntry.seq, AuditChainHead, _entry_hash, batch_size)


def entry(session: Session, seq: int) -> AuditEntry | None:
    return session.get(AuditEntry, seq)


def entries_for_subject(
    session: Session, subject_type: str, subject_id: str, limit: int = 200,
) -> list[AuditEntry]:
    return list(session.execute(
        select(AuditEntry)
        .where(AuditEntry.subject_type == subject_type, AuditEntry.subject_id == subject_id)
        .order_by(AuditEntry.seq.desc()).limit(limit)
    ).scalars())


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
