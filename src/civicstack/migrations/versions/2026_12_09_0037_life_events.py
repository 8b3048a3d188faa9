"""life events: eID accounts can be closed for good (the holder died, or asked), and an
organisation whose representative's account closed is flagged for succession

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-09 02:00:00

No existing account is closed by this revision: accounts of people the register already records
as deceased are closed by support's consistency job (`life_events_check`), which announces
their deaths again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0037'
down_revision: str | None = '0036'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "'pending_phone', 'pending_approval', 'active', 'locked'"


def upgrade() -> None:
    with op.batch_alter_table('citizen_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closure_reason', sa.String(length=20), nullable=True))
        batch_op.drop_constraint(op.f('ck_citizen_account_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_citizen_account_status_known'),
                                         f"status IN ({OLD_STATUSES}, 'closed')")
        batch_op.create_check_constraint(op.f('ck_citizen_account_closed_when'),
                                         "(status = 'closed') = (closed_at IS NOT NULL)")
        batch_op.create_check_constraint(
            op.f('ck_citizen_account_closure_reason_known'),
            "closure_reason IS NULL OR closure_reason IN ('deceased', 'own_request')")
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('succession_needed_since', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    bind = op.get_bind()
    accounts = sa.table('citizen_account', sa.column('status', sa.String))
    closed = bind.execute(sa.select(sa.func.count()).select_from(accounts).where(
        accounts.c.status == 'closed')).scalar_one()
    if closed:
        raise RuntimeError(f"{closed} eID accounts are closed; the old schema cannot hold them")
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('succession_needed_since')
    with op.batch_alter_table('citizen_account', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_citizen_account_closure_reason_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_citizen_account_closed_when'), type_='check')
        batch_op.drop_constraint(op.f('ck_citizen_account_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_citizen_account_status_known'),
                                         f"status IN ({OLD_STATUSES})")
        batch_op.drop_column('closure_reason')
        batch_op.drop_column('closed_at')
