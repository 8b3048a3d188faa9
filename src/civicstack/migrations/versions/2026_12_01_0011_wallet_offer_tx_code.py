"""wallet: the transaction code (PIN) of an OpenID4VCI offer and its failed attempts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Offers live ten minutes: any left from before this revision are dead anyway, so the
    # server defaults only let the columns be added to a non-empty table.
    with op.batch_alter_table('wallet_credential_offer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tx_code_digest', sa.String(length=64), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('failed_attempts', sa.Integer(), nullable=False,
                                      server_default='0'))
    with op.batch_alter_table('wallet_credential_offer', schema=None) as batch_op:
        batch_op.alter_column('tx_code_digest', server_default=None)
        batch_op.alter_column('failed_attempts', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('wallet_credential_offer', schema=None) as batch_op:
        batch_op.drop_column('failed_attempts')
        batch_op.drop_column('tx_code_digest')
