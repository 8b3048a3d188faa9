"""Messages to people (SMS, email) leave through an outbox, never from inside a transaction.

A service enqueues a message in the same transaction as the change that caused it, so a
rolled-back registration never sends a code. A dispatcher then hands pending messages to a
`DeliveryChannel`: the demo and tests use `FileMailbox` (one text file per recipient), a
deployment plugs in its SMS gateway. Delivered bodies are blanked, so one-time codes do not
stay at rest in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from civicstack.kit.db import Base, transaction
from civicstack.kit.private_files import private_file, private_folder

DELIVERED_BODY = "[delivered]"


class OutboxMessage(Base):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), index=True)
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True,
                                                          index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")


class DeliveryChannel(Protocol):
    def deliver(self, recipient: str, subject: str, body: str) -> None:
        """Hand the message over or raise; raising leaves it pending for the next attempt."""


@dataclass(frozen=True)
class FileMailbox:
    """Appends each message to `<folder>/<recipient>.txt`: a real, inspectable delivery."""

    folder: Path

    def deliver(self, recipient: str, subject: str, body: str) -> None:
        safe_name = "".join(c for c in recipient if c.isalnum() or c in "+-_.@") or "unknown"
        path = private_folder(self.folder) / f"{safe_name}.txt"  # codes: the owner's alone
        with private_file(path).open("a", encoding="utf-8") as mailbox:
            mailbox.write(f"=== {datetime.now(UTC).isoformat(timespec='seconds')} {subject}\n"
                          f"{body}\n")

    def read(self, recipient: str) -> str:
        path = self.folder / f"{recipient}.txt"
        return path.read_text(encoding="utf-8") if path.exists() else ""


def enqueue(session: Session, channel: str, recipient: str, subject: str,
            body: str) -> OutboxMessage:
    message = OutboxMessage(channel=channel, recipient=recipient, subject=subject, body=body,
                            created_at=datetime.now(UTC), attempts=0, last_error="")
    session.add(message)
    session.flush()
    return message


def dispatch_pending(factory: sessionmaker[Session], channels: dict[str, DeliveryChannel],
                     limit: int = 100) -> int:
    """Deliver up to `limit` pending messages, each in its own transaction; returns how many
    were delivered. Rows are locked (SKIP LOCKED on PostgreSQL) so two dispatchers never send
    the same message twice."""
    delivered, last_id = 0, 0
    for _ in range(limit):
        with transaction(factory) as session:
            message = session.execute(
                select(OutboxMessage).where(OutboxMessage.delivered_at.is_(None),
                                            OutboxMessage.channel.in_(channels),
                                            OutboxMessage.id > last_id)  # one try per run
                .order_by(OutboxMessage.id).limit(1).with_for_update(skip_locked=True)
            ).scalar_one_or_none()
            if message is None:
                break
            last_id = message.id
            delivered += _attempt(message, channels[message.channel])
    return delivered


def _attempt(message: OutboxMessage, channel: DeliveryChannel) -> int:
    message.attempts += 1
    try:
        channel.deliver(message.recipient, message.subject, message.body)
    except Exception as exc:  # any gateway failure: keep the message for the next run
        message.last_error = f"{type(exc).__name__}: {exc}"[:500]
        return 0
    message.delivered_at = datetime.now(UTC)
    message.body = DELIVERED_BODY
    return 1
