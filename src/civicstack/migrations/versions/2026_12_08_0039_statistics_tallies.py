"""services: statistics tallies by day, month and year of submission, kept as dossiers change

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-08 01:00:00

The tallies are counted from the dossiers already there, with the rules of
services/statistics.py at this revision: a dossier counts once submitted, on its day in
Vietnam (UTC+7, no summer time since 1975); decided means approved, refused or delivered with
a decision time, on time when decided on or before the due date's UTC day; open dossiers are
tallied by due date.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0039'
down_revision: str | None = '0038'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECIDED = "state IN ('approved', 'refused', 'result_delivered') AND decided_at IS NOT NULL"
OPEN = ("state IN ('submitted', 'received', 'in_processing', 'supplement_requested', "
        "'supplemented') AND due_on IS NOT NULL")
PERIODS = {  # span: the start of the period a dossier was submitted in, per database
    'postgresql': {
        'day': "CAST(timezone('Asia/Ho_Chi_Minh', submitted_at) AS DATE)",
        'month': "CAST(date_trunc('month', timezone('Asia/Ho_Chi_Minh', submitted_at)) AS DATE)",
        'year': "CAST(date_trunc('year', timezone('Asia/Ho_Chi_Minh', submitted_at)) AS DATE)"},
    'sqlite': {
        'day': "date(submitted_at, '+7 hours')",
        'month': "date(submitted_at, '+7 hours', 'start of month')",
        'year': "date(submitted_at, '+7 hours', 'start of year')"},
}
UTC_DAY = {'postgresql': "CAST(timezone('UTC', decided_at) AS DATE)",
           'sqlite': "date(decided_at)"}


def _tally(name: str, key: sa.Column[Any], *measures: str) -> None:
    op.create_table(
        name,
        sa.Column('span', sa.String(length=5), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('province_code', sa.String(length=2), nullable=False),
        *([sa.Column('procedure_id', sa.Integer(), autoincrement=False, nullable=False)]
          if name == 'service_tally_channel' else []),
        key,
        *(sa.Column(measure, sa.Integer(), nullable=False) for measure in measures),
        sa.CheckConstraint("span IN ('day', 'month', 'year')", name=op.f(f'ck_{name}_span_known')),
        sa.PrimaryKeyConstraint(
            'span', 'period_start', 'province_code',
            *(['procedure_id'] if name == 'service_tally_channel' else []), key.name,
            name=op.f(f'pk_{name}')),
    )


def _count(tally: str, keys: str, measures: dict[str, str], where: str = "TRUE") -> None:
    """One tally's rows for each span, counted from the submitted dossiers. Every piece of the
    SQL is a constant of this file: nothing from outside is spliced in."""
    dialect = op.get_bind().dialect.name
    columns = ", ".join(measures)
    counts = ", ".join(measures.values()).replace("UTC_DAY", UTC_DAY[dialect])
    for span, period in PERIODS[dialect].items():
        op.execute(
            f"INSERT INTO {tally} (span, period_start, province_code, {keys}, {columns}) "  # noqa: S608
            f"SELECT '{span}', {period}, province_code, {keys}, {counts} FROM service_dossier "
            f"WHERE submitted_at IS NOT NULL AND {where} GROUP BY {period}, province_code, {keys}")


def _back_fill() -> None:
    _count('service_tally_channel', 'procedure_id, channel', {
        'dossiers': "count(*)",
        'with_personal_id': "sum(CASE WHEN applicant_pid IS NOT NULL AND applicant_pid != '' "
                            "THEN 1 ELSE 0 END)"})
    _count('service_tally_state', 'state', {
        'dossiers': "count(*)",
        'decided': f"sum(CASE WHEN {DECIDED} THEN 1 ELSE 0 END)",
        'decided_on_time': f"sum(CASE WHEN {DECIDED} AND UTC_DAY <= due_on THEN 1 ELSE 0 END)"})
    _count('service_tally_due', 'due_on', {'dossiers': "count(*)"}, OPEN)


def upgrade() -> None:
    _tally('service_tally_channel', sa.Column('channel', sa.String(length=10), nullable=False),
           'dossiers', 'with_personal_id')
    _tally('service_tally_state', sa.Column('state', sa.String(length=24), nullable=False),
           'dossiers', 'decided', 'decided_on_time')
    _tally('service_tally_due', sa.Column('due_on', sa.Date(), nullable=False), 'dossiers')
    _back_fill()


def downgrade() -> None:
    op.drop_table('service_tally_due')
    op.drop_table('service_tally_state')
    op.drop_table('service_tally_channel')
