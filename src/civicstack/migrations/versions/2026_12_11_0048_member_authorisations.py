"""member authorisations: the organisation membership each authorisation credential attests

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-11 09:00:00

A member authorised to act for an organisation holds a signed credential saying so; the wallet
keeps which membership it attests, to revoke it when the authorisation is withdrawn or the
organisation suspended.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0048'
down_revision: str | None = '0047'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "wallet_member_authorisation"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("tax_code", sa.String(length=14), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["credential_id"], ["wallet_credential.id"],
                                name=op.f(f"fk_{TABLE}_credential_id_wallet_credential")),
        sa.PrimaryKeyConstraint("credential_id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(op.f(f"ix_{TABLE}_tax_code"), TABLE, ["tax_code"])
    op.create_index(op.f(f"ix_{TABLE}_member_id"), TABLE, ["member_id"])


def downgrade() -> None:
    op.drop_index(op.f(f"ix_{TABLE}_member_id"), table_name=TABLE)
    op.drop_index(op.f(f"ix_{TABLE}_tax_code"), table_name=TABLE)
    op.drop_table(TABLE)
