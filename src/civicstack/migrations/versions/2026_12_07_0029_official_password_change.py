"""officials: a password handed over must be changed at the next sign-in

Until this revision no official could change the password they were handed, so every existing
account still holds one that someone else has seen: each is asked for a new one at its next
sign-in.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0029'
down_revision: str | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('official_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(),
                                      server_default=sa.true(), nullable=False))
    # The default served the existing rows only: every new account says what it needs.
    with op.batch_alter_table('official_account', schema=None) as batch_op:
        batch_op.alter_column('must_change_password', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('official_account', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
