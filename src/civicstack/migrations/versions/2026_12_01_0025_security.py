"""security: verifications of the logs' hash chains, and security alerts

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'security_alert',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('observed', sa.Integer(), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_security_alert')),
    )
    op.create_index('ix_security_alert_open', 'security_alert', ['kind', 'cleared_at'],
                    unique=False)
    op.create_table(
        'security_chain_check',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('log', sa.String(length=20), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('intact', sa.Boolean(), nullable=False),
        sa.Column('entries_checked', sa.BigInteger(), nullable=False),
        sa.Column('first_bad_seq', sa.BigInteger(), nullable=True),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_security_chain_check')),
    )
    op.create_index(op.f('ix_security_chain_check_log'), 'security_chain_check', ['log'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_security_chain_check_log'), table_name='security_chain_check')
    op.drop_table('security_chain_check')
    op.drop_index('ix_security_alert_open', table_name='security_alert')
    op.drop_table('security_alert')
