"""services: re-routing runs asked for in the console; identity: the travel officer role

Revision ID: 0049
Revises: 0048
Create Date: 2026-12-11 09:00:00

A run keeps the abolished wards, the reason, who asked and how far it has got; a partial unique
index allows one unfinished run per set of wards, so asking twice starts nothing new.
Officials and operator keys may hold the travel officer role (airports' staffed lanes): only
the check constraint of the role column changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0049'
down_revision: str | None = '0048'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "state IN ('queued', 'running')"
OLD_ROLES = ('police', 'service_clerk', 'agency_approver', 'support_agent', 'programme_officer',
             'admin')
NEW_ROLES = (*OLD_ROLES[:-1], 'travel_officer', 'admin')
ROLE_TABLES = ('official_account', 'operator_api_key')


def _replace_role_check(roles: Sequence[str]) -> None:
    known = "role IN ({})".format(", ".join(f"'{role}'" for role in roles))
    for table in ROLE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_role_known'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_role_known'), known)


def upgrade() -> None:
    op.create_table(
        "service_reroute_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wards_key", sa.String(length=64), nullable=False),
        sa.Column("ward_codes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("moved", sa.Integer(), nullable=False),
        sa.Column("failure", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')",
                           name=op.f("ck_service_reroute_run_state_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_reroute_run")),
    )
    op.create_index("ix_service_reroute_run_one_active", "service_reroute_run", ["wards_key"],
                    unique=True, postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))
    _replace_role_check(NEW_ROLES)


def downgrade() -> None:
    # Officials and keys holding the new role would break the old constraint: refuse, say so.
    bind = op.get_bind()
    for table in ROLE_TABLES:
        rows = sa.table(table, sa.column('role', sa.String))
        held = bind.execute(sa.select(sa.func.count()).select_from(rows).where(
            rows.c.role == 'travel_officer')).scalar_one()
        if held:
            raise RuntimeError(f"{held} rows of {table} hold the travel officer role: "
                               "change their role first")
    _replace_role_check(OLD_ROLES)
    op.drop_index("ix_service_reroute_run_one_active", table_name="service_reroute_run")
    op.drop_table("service_reroute_run")
