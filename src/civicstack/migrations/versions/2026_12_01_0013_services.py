"""services: procedure catalogue, offerings, dossiers, events, attachments, payments

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('service_agency',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('ministry', sa.String(length=200), nullable=False),
    sa.Column('deciding_role', sa.String(length=20), nullable=False),
    sa.CheckConstraint("level IN ('ministry', 'province', 'ward')", name=op.f('ck_service_agency_level_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_agency')),
    sa.UniqueConstraint('code', name=op.f('uq_service_agency_code'))
    )
    op.create_table('service_dossier_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_code', sa.String(length=24), nullable=False),
    sa.Column('group_code', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_dossier_group')),
    sa.UniqueConstraint('receipt_code', name=op.f('uq_service_dossier_group_receipt_code'))
    )
    op.create_table('service_procedure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('name_en', sa.String(length=300), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('online_level', sa.String(length=10), nullable=False),
    sa.Column('legal_basis', sa.String(length=500), nullable=False),
    sa.Column('fee', sa.Integer(), nullable=False),
    sa.Column('online_fee', sa.Integer(), nullable=False),
    sa.Column('processing_days', sa.Integer(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('result_document_type', sa.String(length=40), nullable=True),
    sa.Column('register_effect', sa.String(length=20), nullable=True),
    sa.Column('group_code', sa.String(length=40), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("online_level IN ('full', 'partial')", name=op.f('ck_service_procedure_online_level_known')),
    sa.CheckConstraint('fee >= 0 AND online_fee >= 0', name=op.f('ck_service_procedure_fees_not_negative')),
    sa.CheckConstraint('processing_days >= 0', name=op.f('ck_service_procedure_processing_days_not_negative')),
    sa.ForeignKeyConstraint(['agency_id'], ['service_agency.id'], name=op.f('fk_service_procedure_agency_id_service_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_procedure')),
    sa.UniqueConstraint('code', name=op.f('uq_service_procedure_code'))
    )
    with op.batch_alter_table('service_procedure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_procedure_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_procedure_group_code'), ['group_code'], unique=False)

    op.create_table('service_dossier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_code', sa.String(length=24), nullable=False),
    sa.Column('procedure_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('applicant_pid', sa.String(length=12), nullable=False),
    sa.Column('submitted_by', sa.String(length=120), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=False),
    sa.Column('ward_code', sa.String(length=5), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('fee', sa.Integer(), nullable=False),
    sa.Column('payment_reference', sa.String(length=64), nullable=True),
    sa.Column('assigned_to', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.String(length=500), nullable=False),
    sa.Column('result_pdf', sa.LargeBinary(), nullable=True),
    sa.Column('result_credential_id', sa.String(length=32), nullable=True),
    sa.Column('result_person_pid', sa.String(length=12), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("channel IN ('online', 'assisted')", name=op.f('ck_service_dossier_channel_known')),
    sa.CheckConstraint("state IN ('draft', 'submitted', 'received', 'in_processing', 'supplement_requested', 'supplemented', 'approved', 'refused', 'result_delivered', 'withdrawn')", name=op.f('ck_service_dossier_state_known')),
    sa.ForeignKeyConstraint(['group_id'], ['service_dossier_group.id'], name=op.f('fk_service_dossier_group_id_service_dossier_group')),
    sa.ForeignKeyConstraint(['procedure_id'], ['service_procedure.id'], name=op.f('fk_service_dossier_procedure_id_service_procedure')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_dossier')),
    sa.UniqueConstraint('receipt_code', name=op.f('uq_service_dossier_receipt_code'))
    )
    with op.batch_alter_table('service_dossier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_dossier_applicant_pid'), ['applicant_pid'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_dossier_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_dossier_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_dossier_procedure_id'), ['procedure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_dossier_province_code'), ['province_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_dossier_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_dossier_submitted_at'), ['submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_dossier_ward_code'), ['ward_code'], unique=False)

    op.create_table('service_offering',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('procedure_id', sa.Integer(), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=False),
    sa.Column('fee', sa.Integer(), nullable=True),
    sa.Column('online_fee', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['procedure_id'], ['service_procedure.id'], name=op.f('fk_service_offering_procedure_id_service_procedure')),
    sa.ForeignKeyConstraint(['province_code'], ['admin_province.code'], name=op.f('fk_service_offering_province_code_admin_province')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_offering')),
    sa.UniqueConstraint('procedure_id', 'province_code', name=op.f('uq_service_offering_procedure_id'))
    )
    with op.batch_alter_table('service_offering', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_offering_province_code'), ['province_code'], unique=False)

    op.create_table('service_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('document_code', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['service_dossier.id'], name=op.f('fk_service_attachment_dossier_id_service_dossier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_attachment'))
    )
    with op.batch_alter_table('service_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_attachment_dossier_id'), ['dossier_id'], unique=False)

    op.create_table('service_dossier_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=True),
    sa.Column('to_state', sa.String(length=24), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['service_dossier.id'], name=op.f('fk_service_dossier_event_dossier_id_service_dossier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_dossier_event')),
    sa.UniqueConstraint('dossier_id', 'seq', name=op.f('uq_service_dossier_event_dossier_id'))
    )
    with op.batch_alter_table('service_dossier_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_dossier_event_dossier_id'), ['dossier_id'], unique=False)

    op.create_table('service_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint("status IN ('settled', 'refunded')", name=op.f('ck_service_payment_status_known')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_service_payment_amount_positive')),
    sa.ForeignKeyConstraint(['dossier_id'], ['service_dossier.id'], name=op.f('fk_service_payment_dossier_id_service_dossier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_payment')),
    sa.UniqueConstraint('reference', name=op.f('uq_service_payment_reference'))
    )
    with op.batch_alter_table('service_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_payment_dossier_id'), ['dossier_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('service_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_payment_dossier_id'))

    op.drop_table('service_payment')
    with op.batch_alter_table('service_dossier_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_dossier_event_dossier_id'))

    op.drop_table('service_dossier_event')
    with op.batch_alter_table('service_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_attachment_dossier_id'))

    op.drop_table('service_attachment')
    with op.batch_alter_table('service_offering', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_offering_province_code'))

    op.drop_table('service_offering')
    with op.batch_alter_table('service_dossier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_dossier_ward_code'))
        batch_op.drop_index(batch_op.f('ix_service_dossier_submitted_at'))
        batch_op.drop_index(batch_op.f('ix_service_dossier_state'))
        batch_op.drop_index(batch_op.f('ix_service_dossier_province_code'))
        batch_op.drop_index(batch_op.f('ix_service_dossier_procedure_id'))
        batch_op.drop_index(batch_op.f('ix_service_dossier_group_id'))
        batch_op.drop_index(batch_op.f('ix_service_dossier_due_on'))
        batch_op.drop_index(batch_op.f('ix_service_dossier_applicant_pid'))

    op.drop_table('service_dossier')
    with op.batch_alter_table('service_procedure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_procedure_group_code'))
        batch_op.drop_index(batch_op.f('ix_service_procedure_agency_id'))

    op.drop_table('service_procedure')
    op.drop_table('service_dossier_group')
    op.drop_table('service_agency')
