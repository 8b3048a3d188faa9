"""audit chain head row: created once here, so concurrent first entries lock it instead of
racing to insert it

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    op.execute(f"INSERT INTO audit_chain_head (id, last_seq, last_hash) "  # noqa: S608
               f"SELECT 1, 0, '{GENESIS_HASH}' "
               f"WHERE NOT EXISTS (SELECT 1 FROM audit_chain_head)")


def downgrade() -> None:
    op.execute("DELETE FROM audit_chain_head WHERE last_seq = 0")
