"""The outbox: messages leave only after their transaction commits, each exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.db import transaction
from civicstack.kit.outbox import (
    DELIVERED_BODY,
    FileMailbox,
    OutboxMessage,
    dispatch_pending,
    enqueue,
)


class BrokenGateway:
    """A real channel whose far end is down: it refuses every message."""

    def deliver(self, recipient: str, subject: str, body: str) -> None:
        raise ConnectionError(f"gateway unreachable for {recipient}")


def test_messages_of_a_rolled_back_transaction_never_leave(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    def queue_then_fail() -> None:
        with transaction(session_factory) as session:
            enqueue(session, "sms", "0912345678", "CivicStack", "code 123456")
            raise RuntimeError("the registration failed after the code was queued")

    with pytest.raises(RuntimeError):
        queue_then_fail()
    mailbox = FileMailbox(tmp_path)
    assert dispatch_pending(session_factory, {"sms": mailbox}) == 0
    assert mailbox.read("0912345678") == ""


def test_each_message_is_delivered_once_and_its_body_blanked(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    with transaction(session_factory) as session:
        enqueue(session, "sms", "0912345678", "CivicStack", "code 111111")
        enqueue(session, "sms", "0987654321", "CivicStack", "code 222222")
    mailbox = FileMailbox(tmp_path)

    assert dispatch_pending(session_factory, {"sms": mailbox}) == 2
    assert dispatch_pending(session_factory, {"sms": mailbox}) == 0
    assert mailbox.read("0912345678").count("code 111111") == 1
    with transaction(session_factory) as session:
        bodies = set(session.execute(select(OutboxMessage.body)).scalars())
    assert bodies == {DELIVERED_BODY}


def test_a_failing_gateway_keeps_messages_pending_with_the_error(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    with transaction(session_factory) as session:
        enqueue(session, "sms", "0912345678", "CivicStack", "code 333333")

    assert dispatch_pending(session_factory, {"sms": BrokenGateway()}) == 0
    with transaction(session_factory) as session:
        message = session.execute(select(OutboxMessage)).scalar_one()
        assert (message.attempts, message.delivered_at) == (1, None)
        assert "gateway unreachable" in message.last_error
    assert dispatch_pending(session_factory, {"sms": FileMailbox(tmp_path)}) == 1
