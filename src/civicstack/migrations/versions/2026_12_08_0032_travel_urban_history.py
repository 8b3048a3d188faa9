"""travel: one current urban pass per person, operator and kind; daily counts kept by the purge

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-08 04:00:00

A person who took a second pass of one operator before this revision has their face twice in
that operator's gates' gallery: every pass but the newest is ended now, and its face copy
deleted, so the gallery holds each person once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0032'
down_revision: str | None = '0031'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT = sa.text("ended_at IS NULL")
PASSES = sa.table('travel_urban_pass', sa.column('id'), sa.column('personal_id_number'),
                  sa.column('operator'), sa.column('kind'), sa.column('created_at'),
                  sa.column('ended_at'))
TOKENS = sa.table('travel_face_token', sa.column('pass_id'))


def _replaced() -> sa.Exists:
    """A newer pass of the same person, operator and kind exists."""
    newer = PASSES.alias('newer')
    return sa.exists().where(newer.c.personal_id_number == PASSES.c.personal_id_number,
                             newer.c.operator == PASSES.c.operator,
                             newer.c.kind == PASSES.c.kind, newer.c.id > PASSES.c.id)


def upgrade() -> None:
    with op.batch_alter_table('travel_urban_pass', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.delete(TOKENS).where(TOKENS.c.pass_id.in_(
        sa.select(PASSES.c.id).where(_replaced()))))
    op.execute(sa.update(PASSES).where(_replaced()).values(ended_at=PASSES.c.created_at))
    op.create_index('uq_travel_urban_pass_current', 'travel_urban_pass',
                    ['personal_id_number', 'operator', 'kind'], unique=True,
                    sqlite_where=CURRENT, postgresql_where=CURRENT)
    op.create_table(
        'travel_urban_daily_count',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('operator', sa.String(length=100), nullable=False),
        sa.Column('trips', sa.Integer(), nullable=False),
        sa.Column('completed', sa.Integer(), nullable=False),
        sa.Column('fees', sa.Integer(), nullable=False),
        sa.CheckConstraint('completed <= trips AND fees >= 0',
                           name=op.f('ck_travel_urban_daily_count_counts_consistent')),
        sa.ForeignKeyConstraint(['site_id'], ['travel_urban_site.id'],
                                name=op.f('fk_travel_urban_daily_count_site_id_travel_urban_site')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_urban_daily_count')),
        sa.UniqueConstraint('day', 'site_id', name='uq_travel_urban_daily_count_day_site'),
    )
    op.create_index(op.f('ix_travel_urban_daily_count_day'), 'travel_urban_daily_count',
                    ['day'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_travel_urban_daily_count_day'),
                  table_name='travel_urban_daily_count')
    op.drop_table('travel_urban_daily_count')
    op.drop_index('uq_travel_urban_pass_current', table_name='travel_urban_pass')
    with op.batch_alter_table('travel_urban_pass', schema=None) as batch_op:
        batch_op.drop_column('ended_at')
