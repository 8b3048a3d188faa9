"""wallet: a wallet app's copy follows its portal document

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('wallet_credential', schema=None) as batch_op:
        batch_op.add_column(sa.Column('copy_of_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_wallet_credential_copy_of_id'), ['copy_of_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_wallet_credential_copy_of_id_wallet_credential'), 'wallet_credential', ['copy_of_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('wallet_credential', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_wallet_credential_copy_of_id_wallet_credential'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_wallet_credential_copy_of_id'))
        batch_op.drop_column('copy_of_id')

