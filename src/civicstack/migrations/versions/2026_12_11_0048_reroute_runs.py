"""services: re-routing runs, asked for in the console and carried out by the worker

Revision ID: 0048
Revises: 0043
Create Date: 2026-12-11 09:00:00

A run keeps the abolished wards, the reason, who asked and how far it has got; a partial unique
index allows one unfinished run per set of wards, so asking twice starts nothing new.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0048'
down_revision: str | None = '0043'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "state IN ('queued', 'running')"


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


def downgrade() -> None:
    op.drop_index("ix_service_reroute_run_one_active", table_name="service_reroute_run")
    op.drop_table("service_reroute_run")
