"""Messages to people (SMS, email) leave through an outbox, never from inside a transaction.

A service enqueues a message in the same transaction as the change that caused it, so a
rolled-back registration never sends a code. A dispatcher (the worker's `outbox_dispatch` job,
or a page that wants its code sent at once) then hands pending messages to the
`DeliveryChannel` configured for their kind (kit/delivery.py): the demo's `FileMailbox` (one
text file per recipient), an SMS gateway, an SMTP server. A message that fails waits longer
before each retry and, after the last attempt, is marked failed for an operator to see
(`civicstack outbox list --failed`, the `civicstack_outbox_messages` gauge). Delivered bodies
are blanked, so one-time codes do not stay at rest in the database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from sqlalchemy import DateTime, Index, Integer, String, Text, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from civicstack.config import Settings
from civicstack.kit.db import Base, delete_in_batches, transaction
from civicstack.kit.metrics import OUTBOX_MESSAGES
from civicstack.kit.private_files import private_file, private_folder

DELIVERED_BODY = "[delivered]"
LONGEST_WAIT = timedelta(hours=6)  # back-off stops doubling here: a gateway down for a day


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt spent, or refused for good: an operator decides


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    # The dispatcher's question: what is pending and due, oldest first.
    __table_args__ = (Index("ix_outbox_message_status_next_attempt_at", "status",
                            "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), index=True)  # the kind: "sms", "email"
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True,
                                                          index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING.value)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)


class DeliveryChannel(Protocol):
    def deliver(self, recipient: str, subject: str, body: str) -> str:
        """Hand the message over and return the provider's id for it. Raise `Undeliverable`
        when the provider refuses it for good; any other exception is retried later."""


class Undeliverable(Exception):
    """The provider refused this message for good (no such mailbox, a malformed number):
    retrying cannot help."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    first_wait: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(settings.outbox_max_attempts, timedelta(seconds=settings.outbox_retry_s))

    def next_attempt(self, attempts: int, moment: datetime) -> datetime | None:
        """When to try again after `attempts` failures; None once they are all spent."""
        if attempts >= self.max_attempts:
            return None
        wait: timedelta = min(self.first_wait * 2 ** (attempts - 1), LONGEST_WAIT)
        return moment + wait


@dataclass(frozen=True)
class FileMailbox:
    """Appends each message to `<folder>/<recipient>.txt`: a real, inspectable delivery, the
    demo's SMS gateway and mail server."""

    folder: Path

    def deliver(self, recipient: str, subject: str, body: str) -> str:
        safe_name = "".join(c for c in recipient if c.isalnum() or c in "+-_.@") or "unknown"
        path = private_folder(self.folder) / f"{safe_name}.txt"  # codes: the owner's alone
        message_id = uuid.uuid4().hex
        with private_file(path).open("a", encoding="utf-8") as mailbox:
            mailbox.write(f"=== {datetime.now(UTC).isoformat(timespec='seconds')} {subject} "
                          f"[{message_id}]\n{body}\n")
        return message_id

    def read(self, recipient: str) -> str:
        path = self.folder / f"{recipient}.txt"
        return path.read_text(encoding="utf-8") if path.exists() else ""


def enqueue(session: Session, channel: str, recipient: str, subject: str,
            body: str) -> OutboxMessage:
    message = OutboxMessage(channel=channel, recipient=recipient, subject=subject, body=body,
                            created_at=datetime.now(UTC), attempts=0, last_error="",
                            status=OutboxStatus.PENDING.value)
    session.add(message)
    session.flush()
    return message


def dispatch_pending(factory: sessionmaker[Session], channels: dict[str, DeliveryChannel],
                     policy: RetryPolicy, limit: int = 100) -> int:
    """Deliver up to `limit` pending messages that are due, each in its own transaction;
    returns how many were delivered. Each row is claimed with FOR UPDATE SKIP LOCKED on
    PostgreSQL, so dispatchers on several machines share the work and never hand one message
    over twice; SQLite serves one process."""
    delivered, last_id = 0, 0
    for _ in range(limit):
        with transaction(factory) as session:
            moment = datetime.now(UTC)
            message = session.execute(
                select(OutboxMessage).where(
                    OutboxMessage.status == OutboxStatus.PENDING.value,
                    or_(OutboxMessage.next_attempt_at.is_(None),
                        OutboxMessage.next_attempt_at <= moment),
                    OutboxMessage.channel.in_(channels),
                    OutboxMessage.id > last_id)  # one try per run
                .order_by(OutboxMessage.id).limit(1).with_for_update(skip_locked=True)
            ).scalar_one_or_none()
            if message is None:
                break
            last_id = message.id
            delivered += _attempt(message, channels[message.channel], policy, moment)
    return delivered


def _attempt(message: OutboxMessage, channel: DeliveryChannel, policy: RetryPolicy,
             moment: datetime) -> int:
    message.attempts += 1
    try:
        message.provider_message_id = channel.deliver(message.recipient, message.subject,
                                                      message.body)[:200]
    except Undeliverable as exc:
        _give_up(message, exc)
        return 0
    except Exception as exc:  # any gateway failure: try again later, up to the policy's last
        message.next_attempt_at = policy.next_attempt(message.attempts, moment)
        if message.next_attempt_at is None:
            _give_up(message, exc)
        else:
            message.last_error = _described(exc)
        return 0
    message.status = OutboxStatus.DELIVERED.value
    message.delivered_at = moment
    message.next_attempt_at = None
    message.body = DELIVERED_BODY
    return 1


def _give_up(message: OutboxMessage, exc: Exception) -> None:
    message.status = OutboxStatus.FAILED.value
    message.next_attempt_at = None
    message.last_error = _described(exc)


def _described(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def failed_messages(session: Session, limit: int = 100) -> list[OutboxMessage]:
    return list(session.execute(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED.value)
        .order_by(OutboxMessage.id.desc()).limit(limit)).scalars())


def retry_failed(session: Session, message_id: int) -> bool:
    """An operator sends a failed message again (the gateway fixed): a fresh set of attempts.
    False when no failed message has this id."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.status != OutboxStatus.FAILED.value:
        return False
    message.status, message.attempts = OutboxStatus.PENDING.value, 0
    message.next_attempt_at = None
    return True


def publish_counts(session: Session) -> dict[tuple[str, str], int]:
    """Messages by kind and status into the `civicstack_outbox_messages` gauge, which every
    instance then serves: failed ones are there for an alert rule, not only in the CLI."""
    counts = {(kind, status): int(count) for kind, status, count in session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count())
        .group_by(OutboxMessage.channel, OutboxMessage.status))}
    OUTBOX_MESSAGES.clear()
    for (kind, status), count in counts.items():
        OUTBOX_MESSAGES.labels(kind, status).set(count)
    return counts


def purge_delivered(factory: sessionmaker[Session], retention: timedelta) -> int:
    """Delete messages delivered longer than `retention` ago, a batch per transaction; failed
    ones stay until an operator has seen them."""
    return delete_in_batches(factory, OutboxMessage.id,
                             OutboxMessage.status == OutboxStatus.DELIVERED.value,
                             OutboxMessage.delivered_at < datetime.now(UTC) - retention)
