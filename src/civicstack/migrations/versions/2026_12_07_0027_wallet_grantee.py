"""wallet: an issuer's grant names its holder as the audit log does, so an official can hold
one too (status changes need the grant of the document's issuer)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('wallet_issuer_grant', schema=None) as batch_op:
        batch_op.alter_column('apikey_name', new_column_name='grantee',
                              existing_type=sa.String(length=100), type_=sa.String(length=160),
                              existing_nullable=False)
    op.execute("UPDATE wallet_issuer_grant SET grantee = 'apikey:' || grantee")


def downgrade() -> None:
    # Officials' grants had no place before: they go, and operator keys keep theirs.
    op.execute("DELETE FROM wallet_issuer_grant WHERE grantee NOT LIKE 'apikey:%'")
    op.execute("UPDATE wallet_issuer_grant SET grantee = substr(grantee, 8)")  # after 'apikey:'
    with op.batch_alter_table('wallet_issuer_grant', schema=None) as batch_op:
        batch_op.alter_column('grantee', new_column_name='apikey_name',
                              existing_type=sa.String(length=160), type_=sa.String(length=100),
                              existing_nullable=False)
