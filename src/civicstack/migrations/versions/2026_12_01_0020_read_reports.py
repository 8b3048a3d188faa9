"""identity: citizens' reports of uses of their data they do not recognise

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('identity_read_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('personal_id_number', sa.String(length=12), nullable=False),
    sa.Column('audit_seq', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('closed_by', sa.String(length=200), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=1000), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_read_report')),
    sa.UniqueConstraint('audit_seq', name=op.f('uq_identity_read_report_audit_seq'))
    )
    with op.batch_alter_table('identity_read_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_read_report_personal_id_number'), ['personal_id_number'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('identity_read_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_read_report_personal_id_number'))

    op.drop_table('identity_read_report')
