"""biometrics: face consent, sealed templates, de-duplication cases, registration match queue, liveness challenges

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('face_consent',
    sa.Column('personal_id_number', sa.String(length=12), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('personal_id_number', name=op.f('pk_face_consent'))
    )
    op.create_table('face_duplicate_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('personal_id_number', sa.String(length=12), nullable=False),
    sa.Column('resembles', sa.String(length=12), nullable=False),
    sa.Column('distance', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_face_duplicate_case'))
    )
    with op.batch_alter_table('face_duplicate_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_face_duplicate_case_personal_id_number'), ['personal_id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_face_duplicate_case_status'), ['status'], unique=False)

    op.create_table('face_liveness_challenge',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('steps', sa.String(length=60), nullable=False),
    sa.Column('issued_to', sa.String(length=120), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_face_liveness_challenge'))
    )
    op.create_table('face_registration_match',
    sa.Column('personal_id_number', sa.String(length=12), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('personal_id_number', name=op.f('pk_face_registration_match'))
    )
    op.create_table('face_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('personal_id_number', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.Column('sharpness', sa.Float(), nullable=False),
    sa.Column('face_pixels', sa.Integer(), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enrolled_by', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_face_template')),
    sa.UniqueConstraint('personal_id_number', name=op.f('uq_face_template_personal_id_number'))
    )


def downgrade() -> None:
    op.drop_table('face_template')
    op.drop_table('face_registration_match')
    op.drop_table('face_liveness_challenge')
    with op.batch_alter_table('face_duplicate_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_face_duplicate_case_status'))
        batch_op.drop_index(batch_op.f('ix_face_duplicate_case_personal_id_number'))

    op.drop_table('face_duplicate_case')
    op.drop_table('face_consent')
