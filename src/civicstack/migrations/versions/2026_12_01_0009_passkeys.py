"""identity: passkeys (WebAuthn) as a level-2 second factor

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'citizen_passkey',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('credential_id', sa.LargeBinary(length=1023), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('sign_count', sa.Integer(), nullable=False),
        sa.Column('backed_up', sa.Boolean(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['citizen_account.id'],
                                name=op.f('fk_citizen_passkey_account_id_citizen_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_citizen_passkey')),
        sa.UniqueConstraint('credential_id', name=op.f('uq_citizen_passkey_credential_id')),
    )
    op.create_index(op.f('ix_citizen_passkey_account_id'), 'citizen_passkey', ['account_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_citizen_passkey_account_id'), table_name='citizen_passkey')
    op.drop_table('citizen_passkey')
