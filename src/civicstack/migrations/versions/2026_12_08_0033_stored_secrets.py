"""kit: secrets and signing keys in the database, sealed under the root key, so that instances
need no shared data directory

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-08 01:00:00

The files an older version kept in DATA_DIR/secrets and DATA_DIR/keys are adopted at first use
(or by `civicstack keys import-files`), not here: a migration is not given the root key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0033'
down_revision: str | None = '0032'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'stored_secret',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('algorithm', sa.String(length=10), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
        sa.Column('sealed_material', sa.LargeBinary(), nullable=False),
        sa.Column('root_key_id', sa.String(length=200), nullable=False),
        sa.CheckConstraint("purpose IN ('secret', 'signing key')",
                           name=op.f('ck_stored_secret_purpose_known')),
        sa.CheckConstraint('version >= 1', name=op.f('ck_stored_secret_version_positive')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_secret')),
        sa.UniqueConstraint('purpose', 'name', 'algorithm', 'version',
                            name='uq_stored_secret_identity'),
    )


def downgrade() -> None:
    op.drop_table('stored_secret')
