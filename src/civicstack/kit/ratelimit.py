"""Failed-attempt limits (sign-in, step-up, a wallet app's token and nonce requests): a sliding
window per key, counted in the database, so that every instance of the app sees one count.

Where each part is written, and why:
- a failure (`failed`) is a `rate_failure` row added in the caller's session. The services
  return a failed attempt's outcome rather than raise it, so the row commits with the attempt
  it counts (a wrong password's audit entry, say). A transaction of its own would take a second
  connection per attempt, and on SQLite would wait for the request's own write lock.
- the check (`check`) reads in the caller's session, before the attempt: the failures every
  instance has committed.
- a refusal is counted in the limiter's tally (kit/tally), because the request it refuses
  rolls back and because a flood of refusals must not become a flood of writes; every instance
  reads the tallies' shared counts.

Attempts in flight at the same moment are all checked before any of them fails, so the limit
holds for attempts made one after another and is passed by at most those made at once (one
process's in-memory count had the same gap).

Keys (an address, a username) are stored as an HMAC under the server's pepper: the table is no
list of who tried what, and an address's digest cannot be found by trying every address.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    DateTime,
    Index,
    Integer,
    String,
    bindparam,
    delete,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from civicstack.kit.db import Base, as_utc
from civicstack.kit.errors import RateLimited
from civicstack.kit.metrics import RATE_LIMIT_REFUSALS
from civicstack.kit.tally import Tally, counts_by_name

REFUSALS = "rate_limit."  # a limiter's refusals are tallied as REFUSALS + its name
KEPT = timedelta(days=1)  # failures are kept this long: no window may be longer


class RateFailure(Base):
    """One failed attempt counted against a limiter's key, by whichever instance saw it."""

    __tablename__ = "rate_failure"
    __table_args__ = (Index("ix_rate_failure_window", "limiter", "key_digest", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    limiter: Mapped[str] = mapped_column(String(60))
    key_digest: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# Built once: every sign-in checks a limit first, and building the statement and its cache key
# anew cost as much as the query's round trip (~150 µs of CPU).
RECENT_FAILURES = select(func.count(), func.min(RateFailure.at)).where(
    RateFailure.limiter == bindparam("limiter"), RateFailure.key_digest == bindparam("key_digest"),
    RateFailure.at >= bindparam("since"))


class FailureLimiter:
    def __init__(self, name: str, max_failures: int, window_seconds: float, refusals: Tally,
                 pepper: str, refusal: str = "too many failed attempts") -> None:
        if window_seconds > KEPT.total_seconds():
            raise ValueError(f"{name}: a window longer than {KEPT} outlives its failures")
        self.name, self.refusal = name, refusal
        self.max_failures, self.window = max_failures, timedelta(seconds=window_seconds)
        self.refusals = refusals  # what the security view counts
        self._pepper = pepper.encode()

    def check(self, session: Session, key: str) -> None:
        """Refuse before even trying when `key` failed too often lately."""
        now = datetime.now(UTC)
        failures, oldest = session.execute(RECENT_FAILURES, {
            "limiter": self.name, "key_digest": self._digest(key),
            "since": now - self.window}).one()
        if failures >= self.max_failures:
            self.refusals.add()
            RATE_LIMIT_REFUSALS.labels(self.name).inc()
            wait = int((self.window - (now - as_utc(oldest))).total_seconds()) + 1
            raise RateLimited(f"{self.refusal}; try again in {wait} seconds")

    def failed(self, session: Session, key: str) -> None:
        """Count a failure of `key`; it counts once the caller's transaction commits."""
        session.add(RateFailure(limiter=self.name, key_digest=self._digest(key),
                                at=datetime.now(UTC)))

    def held_back(self, session: Session) -> int:
        """How many keys (clients, accounts) are refused right now, on every instance."""
        refused = select(RateFailure.key_digest).where(
            RateFailure.limiter == self.name,
            RateFailure.at >= datetime.now(UTC) - self.window,
        ).group_by(RateFailure.key_digest).having(func.count() >= self.max_failures).subquery()
        return session.scalar(select(func.count()).select_from(refused)) or 0

    def _digest(self, key: str) -> str:
        return hmac.new(self._pepper, f"{self.name}:{key}".encode(), hashlib.sha256).hexdigest()


def refusals_by_limiter(session: Session, since: datetime) -> dict[str, int]:
    """Every limiter's refusals from `since` on, by every instance (as far as flushed)."""
    return {name.removeprefix(REFUSALS): count
            for name, count in counts_by_name(session, REFUSALS, since).items()}


def purge(session: Session, at: datetime) -> int:
    """Forget failures older than any window."""
    deleted = session.execute(delete(RateFailure).where(RateFailure.at < at - KEPT))
    return int(cast(CursorResult[Any], deleted).rowcount)
