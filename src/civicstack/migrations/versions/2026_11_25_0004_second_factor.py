"""identity: second factor by TOTP (eID level 2) and the level of each session

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('citizen_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('level2_authorised_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('level2_authorised_by', sa.String(length=100), nullable=True))

    # Server defaults so sessions that exist before this revision read as password-only, level 1.
    with op.batch_alter_table('citizen_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('amr', sa.String(length=50), server_default='pwd', nullable=False))
        batch_op.add_column(sa.Column('authenticated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('citizen_session', schema=None) as batch_op:
        batch_op.drop_column('authenticated_at')
        batch_op.drop_column('amr')
        batch_op.drop_column('level')

    with op.batch_alter_table('citizen_account', schema=None) as batch_op:
        batch_op.drop_column('level2_authorised_by')
        batch_op.drop_column('level2_authorised_at')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
