"""The outbox: messages leave only after their transaction commits, each handed over once per
successful claim, retried with growing waits, and marked failed for an operator at the end."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.db import as_utc, transaction
from civicstack.kit.metrics import REGISTRY
from civicstack.kit.outbox import (
    DELIVERED_BODY,
    FileMailbox,
    OutboxMessage,
    OutboxStatus,
    RetryPolicy,
    Undeliverable,
    dispatch_pending,
    enqueue,
    failed_messages,
    publish_counts,
    purge_delivered,
    retry_failed,
)
from tests.support.eid import RETRY


class BrokenGateway:
    """A real channel whose far end is down: it refuses every message."""

    def deliver(self, recipient: str, subject: str, body: str) -> str:
        raise ConnectionError(f"gateway unreachable for {recipient}")


class RefusingGateway:
    """A gateway that answers that the number does not exist."""

    def deliver(self, recipient: str, subject: str, body: str) -> str:
        raise Undeliverable(f"no such subscriber {recipient}")


def queue(factory: sessionmaker[Session], *recipients: str) -> None:
    with transaction(factory) as session:
        for recipient in recipients:
            enqueue(session, "sms", recipient, "CivicStack", f"code for {recipient}")


def the_message(factory: sessionmaker[Session]) -> OutboxMessage:
    with transaction(factory) as session:
        return session.execute(select(OutboxMessage)).scalar_one()


def make_due(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        session.execute(update(OutboxMessage).values(
            next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))


def test_messages_of_a_rolled_back_transaction_never_leave(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    def queue_then_fail() -> None:
        with transaction(session_factory) as session:
            enqueue(session, "sms", "0912345678", "CivicStack", "code 123456")
            raise RuntimeError("the registration failed after the code was queued")

    with pytest.raises(RuntimeError):
        queue_then_fail()
    mailbox = FileMailbox(tmp_path)
    assert dispatch_pending(session_factory, {"sms": mailbox}, RETRY) == 0
    assert mailbox.read("0912345678") == ""


def test_each_message_is_delivered_once_its_body_blanked_and_the_providers_id_kept(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    queue(session_factory, "0912345678", "0987654321")
    mailbox = FileMailbox(tmp_path)

    assert dispatch_pending(session_factory, {"sms": mailbox}, RETRY) == 2
    assert dispatch_pending(session_factory, {"sms": mailbox}, RETRY) == 0
    assert mailbox.read("0912345678").count("code for 0912345678") == 1
    with transaction(session_factory) as session:
        messages = session.execute(select(OutboxMessage)).scalars().all()
    assert {m.body for m in messages} == {DELIVERED_BODY}
    assert {m.status for m in messages} == {OutboxStatus.DELIVERED}
    for message in messages:  # the id the mailbox wrote beside the message
        assert message.provider_message_id
        assert f"[{message.provider_message_id}]" in mailbox.read(message.recipient)


def test_a_failing_gateway_is_retried_only_when_due_with_a_growing_wait(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    queue(session_factory, "0912345678")

    before = datetime.now(UTC)
    assert dispatch_pending(session_factory, {"sms": BrokenGateway()}, RETRY) == 0
    first = the_message(session_factory)
    assert (first.attempts, first.status, first.delivered_at) == (1, "pending", None)
    assert "gateway unreachable" in first.last_error
    assert first.next_attempt_at is not None
    assert as_utc(first.next_attempt_at) >= before + RETRY.first_wait
    # Not due yet: even a working channel does not send it before its time.
    assert dispatch_pending(session_factory, {"sms": FileMailbox(tmp_path)}, RETRY) == 0

    make_due(session_factory)
    retried_at = datetime.now(UTC)
    assert dispatch_pending(session_factory, {"sms": BrokenGateway()}, RETRY) == 0
    second = the_message(session_factory)
    assert second.next_attempt_at is not None
    assert as_utc(second.next_attempt_at) >= retried_at + 2 * RETRY.first_wait  # twice as long

    make_due(session_factory)
    assert dispatch_pending(session_factory, {"sms": FileMailbox(tmp_path)}, RETRY) == 1
    assert the_message(session_factory).status == OutboxStatus.DELIVERED


def metric(name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def test_after_the_last_attempt_a_message_is_failed_listed_counted_and_can_be_sent_again(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    queue(session_factory, "0912345678")
    for _ in range(RETRY.max_attempts):
        make_due(session_factory)
        dispatch_pending(session_factory, {"sms": BrokenGateway()}, RETRY)

    failed = the_message(session_factory)
    assert (failed.status, failed.attempts, failed.next_attempt_at) == (
        "failed", RETRY.max_attempts, None)
    assert dispatch_pending(session_factory, {"sms": FileMailbox(tmp_path)}, RETRY) == 0
    with transaction(session_factory) as session:
        assert [m.recipient for m in failed_messages(session)] == ["0912345678"]
        assert publish_counts(session) == {("sms", "failed"): 1}
    assert metric("civicstack_outbox_messages", kind="sms", status="failed") == 1

    with transaction(session_factory) as session:
        assert retry_failed(session, failed.id)
        assert not retry_failed(session, failed.id)  # pending now, not failed
    assert dispatch_pending(session_factory, {"sms": FileMailbox(tmp_path)}, RETRY) == 1


def test_a_message_the_provider_refuses_for_good_fails_at_once(
        session_factory: sessionmaker[Session]) -> None:
    queue(session_factory, "0900000000")

    assert dispatch_pending(session_factory, {"sms": RefusingGateway()}, RETRY) == 0
    message = the_message(session_factory)
    assert (message.status, message.attempts) == ("failed", 1)
    assert "no such subscriber" in message.last_error


def test_delivered_messages_are_purged_after_their_retention_in_batches(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    queue(session_factory, *(f"09000000{n:02d}" for n in range(5)))
    dispatch_pending(session_factory, {"sms": FileMailbox(tmp_path)}, RETRY)
    queue(session_factory, "0911111111")  # still pending: never purged
    with transaction(session_factory) as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id <= 3).values(
            delivered_at=datetime.now(UTC) - timedelta(days=8)))

    assert purge_delivered(session_factory, timedelta(days=7)) == 3
    with transaction(session_factory) as session:
        left = session.execute(select(OutboxMessage.status)).scalars().all()
    assert sorted(left) == ["delivered", "delivered", "pending"]


class CountingChannel:
    """Records every hand-over, slowly enough for two dispatchers to overlap."""

    def __init__(self) -> None:
        self.handed: list[str] = []
        self.lock = threading.Lock()

    def deliver(self, recipient: str, subject: str, body: str) -> str:
        threading.Event().wait(0.005)
        with self.lock:
            self.handed.append(recipient)
        return recipient


def test_dispatchers_running_at_once_hand_each_message_over_once(
        database_url: str, session_factory: sessionmaker[Session]) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes one writer at a time: this race needs PostgreSQL")
    recipients = [f"09{n:08d}" for n in range(60)]
    queue(session_factory, *recipients)
    channel = CountingChannel()
    counts: list[int] = []

    def dispatcher() -> None:
        counts.append(dispatch_pending(session_factory, {"sms": channel},
                                       RetryPolicy(3, timedelta(seconds=30))))

    threads = [threading.Thread(target=dispatcher) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(channel.handed) == recipients
    assert sum(counts) == len(recipients)
    assert all(counts), "each dispatcher took a share"
