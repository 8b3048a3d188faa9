"""identity: the face photo given at level-1 registration, sealed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'citizen_face_photo',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('content_type', sa.String(length=20), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('sealed', sa.LargeBinary(), nullable=False),
        sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['citizen_account.id'],
                                name=op.f('fk_citizen_face_photo_account_id_citizen_account')),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_citizen_face_photo')),
    )
    op.create_index(op.f('ix_citizen_face_photo_sha256'), 'citizen_face_photo', ['sha256'])


def downgrade() -> None:
    op.drop_index(op.f('ix_citizen_face_photo_sha256'), table_name='citizen_face_photo')
    op.drop_table('citizen_face_photo')
