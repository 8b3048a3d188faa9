"""organisations: organisation eID accounts and the citizens who act for them

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)
LIVE = sa.text('revoked_at IS NULL')
LIVE_REPRESENTATIVE = sa.text("revoked_at IS NULL AND role = 'representative'")


def upgrade() -> None:
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tax_code', sa.String(length=14), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('english_name', sa.String(length=300), nullable=False),
    sa.Column('short_name', sa.String(length=100), nullable=False),
    sa.Column('head_office_ward_code', sa.String(length=5), nullable=False),
    sa.Column('head_office_province_code', sa.String(length=2), nullable=False),
    sa.Column('address_line', sa.String(length=300), nullable=False),
    sa.Column('representative_account_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', MOMENT, nullable=False),
    sa.Column('activated_at', MOMENT, nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'active', 'suspended', 'rejected')", name=op.f('ck_organisation_status_known')),
    sa.CheckConstraint('length(tax_code) IN (10, 14)', name=op.f('ck_organisation_tax_code_length')),
    sa.ForeignKeyConstraint(['parent_id'], ['organisation.id'], name=op.f('fk_organisation_parent_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('tax_code', name=op.f('uq_organisation_tax_code'))
    )
    op.create_index(op.f('ix_organisation_parent_id'), 'organisation', ['parent_id'])
    op.create_index(op.f('ix_organisation_head_office_province_code'), 'organisation', ['head_office_province_code'])
    op.create_index(op.f('ix_organisation_representative_account_id'), 'organisation', ['representative_account_id'])
    op.create_index(op.f('ix_organisation_status'), 'organisation', ['status'])

    op.create_table('organisation_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('granted_by', sa.String(length=200), nullable=False),
    sa.Column('granted_at', MOMENT, nullable=False),
    sa.Column('revoked_at', MOMENT, nullable=True),
    sa.Column('revoked_by', sa.String(length=200), nullable=True),
    sa.CheckConstraint("role IN ('representative', 'authorised')", name=op.f('ck_organisation_member_role_known')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_organisation_member_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_member'))
    )
    op.create_index(op.f('ix_organisation_member_organisation_id'), 'organisation_member', ['organisation_id'])
    op.create_index(op.f('ix_organisation_member_account_id'), 'organisation_member', ['account_id'])
    op.create_index('uq_organisation_member_live', 'organisation_member', ['organisation_id', 'account_id'], unique=True,
                    sqlite_where=LIVE, postgresql_where=LIVE)
    op.create_index('uq_organisation_member_one_representative', 'organisation_member', ['organisation_id'], unique=True,
                    sqlite_where=LIVE_REPRESENTATIVE, postgresql_where=LIVE_REPRESENTATIVE)


def downgrade() -> None:
    op.drop_table('organisation_member')
    op.drop_table('organisation')
