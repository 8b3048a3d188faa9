"""The tamper-evident message log: each message's hash covers its fields and the hash before
it, so changing, removing or reordering any message breaks every link after it
(`civicstack exchange verify-log`). Appends queue on the head row like the audit log's."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicstack.exchange.models import ExchangeLogHead, ExchangeMessage
from civicstack.kit.audit import GENESIS_HASH, locked_head
from civicstack.kit.db import as_utc

CHAINED = ("seq", "occurred_at", "member", "dataset", "subject_id", "purpose", "agreement_id",
           "outcome", "reason", "request_digest", "response_digest", "latency_ms")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _link(prev_hash: str, message: ExchangeMessage) -> str:
    fields: dict[str, Any] = {name: getattr(message, name) for name in CHAINED}
    fields["occurred_at"] = as_utc(message.occurred_at).isoformat()
    canonical = json.dumps({"prev": prev_hash, **fields}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return digest(canonical.encode())


def append(session: Session, **fields: Any) -> ExchangeMessage:
    """Chain one message in the caller's transaction; concurrent appends queue on the head."""
    head = locked_head(session, ExchangeLogHead)
    message = ExchangeMessage(seq=head.last_seq + 1, occurred_at=datetime.now(UTC),
                              prev_hash=head.last_hash, **fields)
    message.entry_hash = _link(head.last_hash, message)
    session.add(message)
    head.last_seq, head.last_hash = message.seq, message.entry_hash
    session.flush()
    return message


@dataclass(frozen=True)
class LogReport:
    messages_checked: int
    ok: bool
    first_bad_seq: int | None = None


def verify(session: Session) -> LogReport:
    """Walk the log in order and recompute every link; the head must name the last one."""
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    for message in session.scalars(select(ExchangeMessage).order_by(ExchangeMessage.seq)):
        if message.seq != expected_seq or message.prev_hash != expected_prev or \
                _link(message.prev_hash, message) != message.entry_hash:
            return LogReport(checked, False, expected_seq)
        expected_prev, expected_seq, checked = message.entry_hash, expected_seq + 1, checked + 1
    head = session.get(ExchangeLogHead, 1)
    if head is None or (head.last_seq, head.last_hash) != (checked, expected_prev):
        return LogReport(checked, False, checked + 1)  # the newest messages were cut off
    return LogReport(checked, True)
