"""audit and exchange logs partitioned by month on PostgreSQL

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-09 09:00:00

PostgreSQL: audit_entry and exchange_message become tables partitioned by range of
occurred_at, one partition a month (so a month can be archived to files and dropped:
`civicstack audit archive`). Their rows move into partitions made for every month they cover
and the next three; a worker job keeps making partitions ahead (kit/partitions.py).

A unique index on a partitioned table must include the partition key, so the primary key
becomes (seq, occurred_at) and the leaf index's uniqueness (leaf_index, occurred_at). seq still
comes from one sequence, so it stays unique; leaf_index is unique across months because only
the sealer sets it (the trigger allows nothing else), one at a time under an advisory lock,
each new one the tree's next size; and a duplicate could not pass verification (the tree's
entry would "appear twice"). SQLite keeps its tables as they are, but its leaf index's unique
index takes occurred_at as well, so that both databases have the schema the models describe.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0038'
down_revision: str | None = '0037'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONTHS_AHEAD = 3
PENDING = "WHERE leaf_index IS NULL"
# Each table's non-unique indexes other than the pending one: (name, column).
INDEXES = {
    'audit_entry': (('ix_audit_entry_action', 'action'),
                    ('ix_audit_entry_subject_id', 'subject_id')),
    'exchange_message': (('ix_exchange_message_member', 'member'),
                         ('ix_exchange_message_subject_id', 'subject_id')),
}
# The append-only trigger audit_entry has had since 0035 (exchange_message has none).
TRIGGERS = {'audit_entry': "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON "
                           "audit_entry FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"}


def _months(first: datetime, last: datetime) -> list[tuple[int, int]]:
    year, month, months = first.year, first.month, []
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _partition(table: str, year: int, month: int) -> str:
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return (f"CREATE TABLE {table}_{year:04d}_{month:02d} PARTITION OF {table} FOR VALUES "
            f"FROM ('{year:04d}-{month:02d}-01 00:00:00+00') "
            f"TO ('{following[0]:04d}-{following[1]:02d}-01 00:00:00+00')")


def _months_to_cover(table: str) -> list[tuple[int, int]]:
    oldest = op.get_bind().execute(sa.text(f"SELECT min(occurred_at) FROM {table}")).scalar()  # noqa: S608
    now = datetime.now(UTC)
    first = min(oldest.astimezone(UTC), now) if oldest else now
    ahead_year, ahead_month = divmod(now.month - 1 + MONTHS_AHEAD, 12)
    return _months(first, now.replace(year=now.year + ahead_year, month=ahead_month + 1, day=1))


def _indexes(table: str, leaf_index_columns: str) -> None:
    op.execute(f"CREATE UNIQUE INDEX uq_{table}_leaf_index ON {table} ({leaf_index_columns})")
    op.execute(f"CREATE INDEX ix_{table}_pending ON {table} (seq) {PENDING}")
    for name, column in INDEXES[table]:
        op.execute(f"CREATE INDEX {name} ON {table} ({column})")


def _rebuild(table: str, partitioned: bool) -> None:
    """Move `table`'s rows into a new table of the same columns, partitioned by month or not;
    its sequence, indexes and trigger carried over."""
    op.execute(f"ALTER TABLE {table} RENAME TO {table}_before")
    op.execute(f"CREATE TABLE {table} (LIKE {table}_before INCLUDING DEFAULTS)"
               + (" PARTITION BY RANGE (occurred_at)" if partitioned else ""))
    if partitioned:
        for year, month in _months_to_cover(f"{table}_before"):
            op.execute(_partition(table, year, month))
    op.execute(f"INSERT INTO {table} SELECT * FROM {table}_before")  # noqa: S608
    op.execute(f"ALTER SEQUENCE {table}_seq_seq OWNED BY {table}.seq")
    op.execute(f"DROP TABLE {table}_before")
    if partitioned:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (seq, occurred_at)")
        _indexes(table, "leaf_index, occurred_at")
    else:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (seq)")
        _indexes(table, "leaf_index")
    if table in TRIGGERS:
        op.execute(TRIGGERS[table])


def _sqlite_leaf_index(table: str, columns: list[str]) -> None:
    # Not in batch mode: a copied table would lose audit_entry's triggers.
    op.drop_index(f'uq_{table}_leaf_index', table_name=table)
    op.create_index(f'uq_{table}_leaf_index', table, columns, unique=True)


def upgrade() -> None:
    for table in INDEXES:
        if op.get_bind().dialect.name == "sqlite":
            _sqlite_leaf_index(table, ['leaf_index', 'occurred_at'])
        else:
            _rebuild(table, partitioned=True)


def downgrade() -> None:
    for table in INDEXES:
        if op.get_bind().dialect.name == "sqlite":
            _sqlite_leaf_index(table, ['leaf_index'])
        else:
            _rebuild(table, partitioned=False)
