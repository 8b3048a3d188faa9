"""payment method: how the citizen paid a fee at the payment step, for the receipt

Revision ID: 0050
Revises: 0049
Create Date: 2026-12-10 12:00:00

The payment step asks for a card, a bank account or an e-wallet before the dossier is
submitted; the receipt names the method. Payments made before it have none ("").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0050'
down_revision: str | None = '0049'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service_payment") as batch:
        batch.add_column(sa.Column("method", sa.String(length=10), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("service_payment") as batch:
        batch.drop_column("method")
