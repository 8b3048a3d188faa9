"""Counts of refusals that every instance shares: counted in the process as they happen, added
to the database's per-second counts (`tally_count`) by the worker every few seconds.

A refused request must not cost a database write of its own (a flood of refusals would become
a flood of writes), nor depend on the request's transaction (a refusal usually rolls it back).
So `Tally.add` only counts in memory, and `flush` adds what is pending to one row per name and
second with an atomic upsert, which instances running side by side may do at the same moment.
What a process counted in the last few seconds before it died is lost; every other count is
read alike by every instance.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from threading import Lock
from typing import Any, cast

from sqlalchemy import BigInteger, CursorResult, Integer, String, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from civicstack.kit.db import Base, transaction

KEPT = timedelta(days=1)  # counts older than this are purged: the security page shows a day


class TallyCount(Base):
    """How many times `name` was counted during one second, by every instance together."""

    __tablename__ = "tally_count"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    second: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # Unix time, UTC
    count: Mapped[int] = mapped_column(Integer)


class Tally:
    """One name's counts that this process made and has not yet flushed."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pending: Counter[int] = Counter()
        self._lock = Lock()

    def add(self) -> None:
        with self._lock:
            self._pending[int(time.time())] += 1

    def _take(self) -> Counter[int]:
        with self._lock:
            pending, self._pending = self._pending, Counter()
        return pending

    def _give_back(self, pending: Counter[int]) -> None:
        with self._lock:
            self._pending.update(pending)


def tally_of(tallies: dict[str, Tally], name: str) -> Tally:
    """The running app's tally called `name` (AppServices.tallies), made at first use."""
    return tallies.setdefault(name, Tally(name))


def flush(tallies: Iterable[Tally], factory: sessionmaker[Session]) -> int:
    """Add the pending counts to the shared ones in a transaction of their own; how many were
    added. Counts that could not be written stay pending for the next flush."""
    taken = [(tally, tally._take()) for tally in tallies]
    # In one order in every process, so that two flushes lock shared rows without a deadlock.
    rows: list[dict[str, object]] = [
        {"name": tally.name, "second": second, "count": count}
        for tally, pending in sorted(taken, key=lambda taking: taking[0].name)
        for second, count in sorted(pending.items())]
    if not rows:
        return 0
    try:
        with transaction(factory) as session:
            _add_counts(session, rows)
    except BaseException:
        for tally, pending in taken:
            tally._give_back(pending)
        raise
    return sum(pending.total() for _, pending in taken)


def _add_counts(session: Session, rows: list[dict[str, object]]) -> None:
    # Both dialects spell the upsert alike; a second instance adding to the same second waits
    # for the first one's row and adds to it.
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(TallyCount).values(rows)
    session.execute(statement.on_conflict_do_update(
        index_elements=[TallyCount.name, TallyCount.second],
        set_={"count": TallyCount.count + statement.excluded.count}))


def count_since(session: Session, names: Iterable[str], moment: datetime) -> int:
    """How many times any of `names` was counted from `moment` on, by every instance (as far
    as flushed)."""
    return session.scalar(select(func.coalesce(func.sum(TallyCount.count), 0)).where(
        TallyCount.name.in_(list(names)), TallyCount.second >= int(moment.timestamp()))) or 0


def counts_by_name(session: Session, prefix: str, moment: datetime) -> dict[str, int]:
    """Every name that starts with `prefix` and was counted from `moment` on, with its count."""
    found = session.execute(select(TallyCount.name, func.sum(TallyCount.count)).where(
        TallyCount.name.startswith(prefix, autoescape=True),
        TallyCount.second >= int(moment.timestamp())).group_by(TallyCount.name))
    return {name: int(count) for name, count in found}


def purge(session: Session, at: datetime) -> int:
    """Forget the counts older than anything reads (the security page's day)."""
    deleted = session.execute(delete(TallyCount).where(
        TallyCount.second < int((at - KEPT).timestamp())))
    return int(cast(CursorResult[Any], deleted).rowcount)
