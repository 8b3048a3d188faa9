"""Monthly partitions of the logs' tables on PostgreSQL (audit_entry, exchange_message, by
occurred_at; migration 0036): made ahead of time by a worker job, listed, and detached and
dropped once archived. SQLite has no partitions; there these functions do nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from civicstack.kit.appservices import AppServices
from civicstack.kit.db import transaction

# An insert for a month with no partition fails (and the audited act with it), so the job keeps
# this many months ready; it runs daily, so a stopped worker leaves months of slack.
MONTHS_AHEAD = 3
PARTITION_NAME = re.compile(r"^(?P<table>[a-z_]+)_(?P<year>\d{4})_(?P<month>\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """YYYY-MM; ValueError otherwise."""
        found = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
        if not found or not 1 <= int(found[2]) <= 12:
            raise ValueError(f"{text!r} is not a month written YYYY-MM")
        return cls(int(found[1]), int(found[2]))

    @classmethod
    def of(cls, moment: datetime) -> Month:
        moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def following(self, months: int = 1) -> Month:
        years, month = divmod(self.month - 1 + months, 12)
        return Month(self.year + years, month + 1)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    def partition_of(self, table: str) -> str:
        return f"{table}_{self.year:04d}_{self.month:02d}"


def is_month_partition(name: str) -> bool:
    """Whether a table is one month of a partitioned log (not a table the models describe)."""
    return PARTITION_NAME.match(name) is not None


def is_partitioned(session: Session, table: str) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return False
    return bool(session.execute(text(
        "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:t))"),
        {"t": table}).scalar_one())


def months_of(session: Session, table: str) -> list[Month]:
    """The months `table` has partitions for, oldest first (none where not partitioned)."""
    if not is_partitioned(session, table):
        return []
    names = session.scalars(text(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = to_regclass(:t)"),
        {"t": table})
    found = (PARTITION_NAME.match(name) for name in names)
    return sorted(Month(int(match["year"]), int(match["month"]))
                  for match in found if match and match["table"] == table)


def ensure_months_ahead(session: Session, table: str, today: datetime,
                        months: int = MONTHS_AHEAD) -> list[Month]:
    """Make the partitions from this month to `months` ahead that do not exist; the new ones."""
    if not is_partitioned(session, table):
        return []
    existing = set(months_of(session, table))
    this_month = Month.of(today)
    made = [month for month in (this_month.following(n) for n in range(months + 1))
            if month not in existing]
    for month in made:
        session.execute(text(
            f'CREATE TABLE "{month.partition_of(table)}" PARTITION OF "{table}" FOR VALUES '
            f"FROM ('{month.start.isoformat()}') TO ('{month.following().start.isoformat()}')"))
    return made


def drop_month(session: Session, table: str, month: Month) -> None:
    """Detach and drop one month's partition (its rows archived first: kit/tlog/archive.py)."""
    partition = month.partition_of(table)
    session.execute(text(f'ALTER TABLE "{table}" DETACH PARTITION "{partition}"'))
    session.execute(text(f'DROP TABLE "{partition}"'))


def partition_job(table: str) -> Callable[[AppServices], object]:
    """The worker's job keeping `table`'s next months' partitions ready (installed by the
    table's owner)."""
    def run(services: AppServices) -> object:
        with transaction(services.session_factory) as session:
            made = ensure_months_ahead(session, table, datetime.now(UTC))
        return [month.partition_of(table) for month in made] or None
    return run
