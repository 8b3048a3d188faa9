"""citizen notices: what a citizen was told, kept for the portal's notifications

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-10 09:00:00

The outbox replaces a message's text once it is delivered and purges it later, so it cannot be
the citizen's list of notifications; identity keeps each notice it sends (dossier steps, the
account's approval) in a table of its own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0043'
down_revision: str | None = '0042'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "citizen_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("personal_id_number", sa.String(length=12), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_notice")),
    )
    op.create_index(op.f("ix_citizen_notice_personal_id_number"), "citizen_notice",
                    ["personal_id_number"])


def downgrade() -> None:
    op.drop_index(op.f("ix_citizen_notice_personal_id_number"), table_name="citizen_notice")
    op.drop_table("citizen_notice")
