"""kit: the outbox's retries: a status (pending, delivered, failed), when to try next, and the
provider's id for each delivered message

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-08 04:00:00

Messages delivered before this revision become `delivered`; the others stay `pending`, due at
once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0034'
down_revision: str | None = '0033'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=10), nullable=False,
                                      server_default='pending'))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('provider_message_id', sa.String(length=200),
                                      nullable=True))
    op.execute("UPDATE outbox_message SET status = 'delivered' WHERE delivered_at IS NOT NULL")
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=10), server_default=None)
        batch_op.create_index('ix_outbox_message_status_next_attempt_at',
                              ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    # The older dispatcher retries whatever is undelivered, failed messages included.
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_status_next_attempt_at')
        batch_op.drop_column('provider_message_id')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('status')
