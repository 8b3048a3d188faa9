"""notice messages: what a citizen was told, in the portal reader's language

Revision ID: 0051
Revises: 0050
Create Date: 2026-12-12 12:00:00

A notice keeps the SMS as sent (ASCII Vietnamese, every phone shows it) and now also the
portal's sentence (a template marked for translation) with its values, so the notifications
read in Vietnamese with its diacritics or in English. Older notices have none and show the
SMS text.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0051'
down_revision: str | None = '0050'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("citizen_notice") as batch:
        batch.add_column(sa.Column("message", sa.Text(), nullable=True))
        batch.add_column(sa.Column("message_values", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("citizen_notice") as batch:
        batch.drop_column("message_values")
        batch.drop_column("message")
