"""shared rate limits: failed attempts and refusal counts in the database, where every instance
sees them; at most one open security alert per kind

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text('cleared_at IS NULL')


def upgrade() -> None:
    op.create_table(
        'rate_failure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('limiter', sa.String(length=60), nullable=False),
        sa.Column('key_digest', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_failure')),
    )
    op.create_index('ix_rate_failure_window', 'rate_failure', ['limiter', 'key_digest', 'at'],
                    unique=False)
    op.create_index(op.f('ix_rate_failure_at'), 'rate_failure', ['at'], unique=False)
    op.create_table(
        'tally_count',
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('second', sa.BigInteger(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('name', 'second', name=op.f('pk_tally_count')),
    )
    # Instances that disagreed may have left several open alerts of one kind: keep the first
    # open, close the others at the moment they were raised.
    op.execute(
        "UPDATE security_alert SET cleared_at = raised_at WHERE cleared_at IS NULL AND id NOT IN "
        "(SELECT min(id) FROM security_alert WHERE cleared_at IS NULL GROUP BY kind)")
    op.create_index('uq_security_alert_open_kind', 'security_alert', ['kind'], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index('uq_security_alert_open_kind', table_name='security_alert')
    op.drop_table('tally_count')
    op.drop_index(op.f('ix_rate_failure_at'), table_name='rate_failure')
    op.drop_index('ix_rate_failure_window', table_name='rate_failure')
    op.drop_table('rate_failure')
