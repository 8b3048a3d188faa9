"""identity: two more roles for officials and operator keys, support agents and programme officers

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 14:00:00

Only the check constraint of the role column changes; no existing official or key changes role.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = ('police', 'service_clerk', 'agency_approver', 'admin')
NEW_ROLES = ('police', 'service_clerk', 'agency_approver', 'support_agent', 'programme_officer',
             'admin')
TABLES = ('official_account', 'operator_api_key')


def _role_check(roles: Sequence[str]) -> str:
    return "role IN ({})".format(", ".join(f"'{role}'" for role in roles))


def _replace_role_check(roles: Sequence[str]) -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_role_known'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_role_known'), _role_check(roles))


def upgrade() -> None:
    _replace_role_check(NEW_ROLES)


def downgrade() -> None:
    # Officials and keys holding a new role would break the old constraint: refuse, say which.
    bind = op.get_bind()
    for table in TABLES:
        rows = sa.table(table, sa.column('role', sa.String))
        held = bind.execute(sa.select(sa.func.count()).select_from(rows).where(
            rows.c.role.in_(['support_agent', 'programme_officer']))).scalar_one()
        if held:
            raise RuntimeError(f"{held} rows of {table} hold a role this revision lacks: "
                               "change their role first")
    _replace_role_check(OLD_ROLES)
