"""The tamper-evident message log: each message's hash covers its fields and the hash before
it, so changing, removing or reordering any message breaks every link after it
(`civicstack exchange verify-log`). Appends queue on the head row like the audit log's."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from civicstack.exchange.models import ExchangeLogHead, ExchangeMessage
from civicstack.kit.audit import ChainReport, append_link, verify_links
from civicstack.kit.db import as_utc

CHAINED = ("seq", "occurred_at", "member", "dataset", "subject_id", "purpose", "agreement_id",
           "outcome", "reason", "request_digest", "response_digest", "latency_ms")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _link(message: ExchangeMessage) -> str:
    fields: dict[str, Any] = {name: getattr(message, name) for name in CHAINED}
    fields["occurred_at"] = as_utc(message.occurred_at).isoformat()
    canonical = json.dumps({"prev": message.prev_hash, **fields}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return digest(canonical.encode())


def append(session: Session, **fields: Any) -> ExchangeMessage:
    """Chain one message in the caller's transaction; concurrent appends queue on the head."""
    return append_link(session, ExchangeLogHead,
                       ExchangeMessage(occurred_at=datetime.now(UTC), **fields), _link)


def verify(session: Session) -> ChainReport:
    """Walk the log in order and recompute every link; the head must name the last one."""
    return verify_links(session, ExchangeMessage.seq, ExchangeLogHead, _link)
