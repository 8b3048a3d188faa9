"""The exchange's message log, a verifiable log of its own (kit/tlog, origin NAME/exchange):
each message is a leaf of its Merkle tree, sealed into signed, witnessed checkpoints, so
changing, removing or reordering a message is detected (`civicstack exchange verify-log`)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from civicstack.exchange.models import ExchangeMessage
from civicstack.kit.db import as_utc
from civicstack.kit.tlog.log import EntryLog

LOGGED = ("seq", "occurred_at", "member", "dataset", "subject_id", "purpose", "agreement_id",
          "outcome", "reason", "request_digest", "response_digest", "latency_ms")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_bytes(message: ExchangeMessage) -> bytes:
    fields: dict[str, Any] = {name: getattr(message, name) for name in LOGGED}
    fields["occurred_at"] = as_utc(message.occurred_at).isoformat()
    return json.dumps(fields, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


MESSAGE_LOG = EntryLog("exchange", ExchangeMessage.seq, ExchangeMessage.leaf_index,
                       canonical_bytes, ExchangeMessage.occurred_at)


def append(session: Session, **fields: Any) -> ExchangeMessage:
    """Log one message in the caller's transaction; the sealer places it in the tree."""
    message = ExchangeMessage(occurred_at=datetime.now(UTC), **fields)
    session.add(message)
    session.flush()
    return message
