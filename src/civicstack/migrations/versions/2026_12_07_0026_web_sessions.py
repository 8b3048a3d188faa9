"""web sessions: browser sessions kept on the server, the cookie carrying only an opaque id

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'web_session',
        sa.Column('id_digest', sa.String(length=64), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id_digest', name=op.f('pk_web_session')),
    )
    op.create_index(op.f('ix_web_session_last_seen_at'), 'web_session', ['last_seen_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_web_session_last_seen_at'), table_name='web_session')
    op.drop_table('web_session')
