"""services: payments recorded as pending under an idempotency key before the channel is asked

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 04:00:00

Payments made before this revision were settled in the submission's transaction, one per
dossier: each gets the key its dossier's first try has now, and its settlement time as the
time it was recorded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0030'
down_revision: str | None = '0029'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _replace_status_check(statuses: Sequence[str]) -> None:
    with op.batch_alter_table('service_payment', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_service_payment_status_known'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_service_payment_status_known'),
            "status IN ({})".format(", ".join(f"'{status}'" for status in statuses)))


def upgrade() -> None:
    _replace_status_check(('pending', 'settled', 'refunded', 'failed'))
    with op.batch_alter_table('service_payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('reference', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('settled_at', existing_type=sa.DateTime(timezone=True),
                              nullable=True)
    op.execute("UPDATE service_payment SET created_at = settled_at, idempotency_key = "
               "(SELECT 'dossier:' || receipt_code || ':fee:1' FROM service_dossier "
               "WHERE service_dossier.id = service_payment.dossier_id)")
    with op.batch_alter_table('service_payment', schema=None) as batch_op:
        batch_op.alter_column('idempotency_key', existing_type=sa.String(length=64),
                              nullable=False)
        batch_op.alter_column('created_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)
        batch_op.create_unique_constraint(op.f('uq_service_payment_idempotency_key'),
                                          ['idempotency_key'])
        batch_op.create_check_constraint(
            op.f('ck_service_payment_charge_has_reference'),
            "status IN ('pending', 'failed') OR reference IS NOT NULL")


def downgrade() -> None:
    # Pending and failed payments took no money (reconcile first, so none is pending with a
    # charge behind it); the older table has no room for them.
    op.execute("DELETE FROM service_payment WHERE status IN ('pending', 'failed')")
    op.execute("UPDATE service_payment SET settled_at = created_at WHERE settled_at IS NULL")
    with op.batch_alter_table('service_payment', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_service_payment_charge_has_reference'), type_='check')
        batch_op.drop_constraint(op.f('uq_service_payment_idempotency_key'), type_='unique')
        batch_op.alter_column('settled_at', existing_type=sa.DateTime(timezone=True),
                              nullable=False)
        batch_op.alter_column('reference', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column('created_at')
        batch_op.drop_column('idempotency_key')
    _replace_status_check(('settled', 'refunded'))
