"""exchange: providers (the population register's system member, seeded here), published
datasets and their records, agreement requests, data-quality reports

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 11:10:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('exchange_dataset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('required', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['exchange_member.id'], name=op.f('fk_exchange_dataset_provider_id_exchange_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_dataset')),
    sa.UniqueConstraint('code', name=op.f('uq_exchange_dataset_code'))
    )
    with op.batch_alter_table('exchange_dataset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_dataset_provider_id'), ['provider_id'], unique=False)

    op.create_table('exchange_agreement_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consumer_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('dataset', sa.String(length=40), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('purpose', sa.String(length=300), nullable=False),
    sa.Column('legal_basis', sa.String(length=300), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by', sa.String(length=120), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=120), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['exchange_agreement.id'], name=op.f('fk_exchange_agreement_request_agreement_id_exchange_agreement')),
    sa.ForeignKeyConstraint(['consumer_id'], ['exchange_member.id'], name=op.f('fk_exchange_agreement_request_consumer_id_exchange_member')),
    sa.ForeignKeyConstraint(['provider_id'], ['exchange_member.id'], name=op.f('fk_exchange_agreement_request_provider_id_exchange_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_agreement_request'))
    )
    with op.batch_alter_table('exchange_agreement_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_agreement_request_consumer_id'), ['consumer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_agreement_request_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_agreement_request_status'), ['status'], unique=False)

    op.create_table('exchange_quality_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checked_by', sa.String(length=120), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('complete', sa.Integer(), nullable=False),
    sa.Column('valid_ids', sa.Integer(), nullable=False),
    sa.Column('names_matching', sa.Integer(), nullable=False),
    sa.Column('fresh', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['exchange_dataset.id'], name=op.f('fk_exchange_quality_report_dataset_id_exchange_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_quality_report'))
    )
    with op.batch_alter_table('exchange_quality_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_quality_report_dataset_id'), ['dataset_id'], unique=False)

    op.create_table('exchange_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.String(length=20), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['exchange_dataset.id'], name=op.f('fk_exchange_record_dataset_id_exchange_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_record'))
    )
    with op.batch_alter_table('exchange_record', schema=None) as batch_op:
        batch_op.create_index('ix_exchange_record_dataset_subject', ['dataset_id', 'subject_id'], unique=False)

    op.create_table('exchange_quality_issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['exchange_quality_report.id'], name=op.f('fk_exchange_quality_issue_report_id_exchange_quality_report')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_quality_issue'))
    )
    with op.batch_alter_table('exchange_quality_issue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_quality_issue_report_id'), ['report_id'], unique=False)

    # The register's datasets are provided by the national population register's system; it
    # never calls the exchange, so it has no keys. Agreements made before 0019 are all for
    # the register's datasets.
    member = sa.table('exchange_member', sa.column('code', sa.String), sa.column('name', sa.String),
                      sa.column('kind', sa.String), sa.column('jwks', sa.JSON),
                      sa.column('status', sa.String),
                      sa.column('created_at', sa.DateTime(timezone=True)))
    op.bulk_insert(member, [{'code': 'c06-population', 'name': 'National population register (C06)',
                             'kind': 'system', 'jwks': {'keys': []}, 'status': 'active',
                             'created_at': datetime.now(UTC)}])
    with op.batch_alter_table('exchange_agreement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_id', sa.Integer(), nullable=True))
    op.execute("UPDATE exchange_agreement SET provider_id = "
               "(SELECT id FROM exchange_member WHERE code = 'c06-population')")
    with op.batch_alter_table('exchange_agreement', schema=None) as batch_op:
        batch_op.alter_column('provider_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_exchange_agreement_provider_id'), ['provider_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_exchange_agreement_provider_id_exchange_member'), 'exchange_member', ['provider_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('exchange_agreement', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_exchange_agreement_provider_id_exchange_member'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_exchange_agreement_provider_id'))
        batch_op.drop_column('provider_id')

    with op.batch_alter_table('exchange_quality_issue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_quality_issue_report_id'))

    op.drop_table('exchange_quality_issue')
    with op.batch_alter_table('exchange_record', schema=None) as batch_op:
        batch_op.drop_index('ix_exchange_record_dataset_subject')

    op.drop_table('exchange_record')
    with op.batch_alter_table('exchange_quality_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_quality_report_dataset_id'))

    op.drop_table('exchange_quality_report')
    with op.batch_alter_table('exchange_agreement_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_agreement_request_status'))
        batch_op.drop_index(batch_op.f('ix_exchange_agreement_request_provider_id'))
        batch_op.drop_index(batch_op.f('ix_exchange_agreement_request_consumer_id'))

    op.drop_table('exchange_agreement_request')
    with op.batch_alter_table('exchange_dataset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_dataset_provider_id'))

    op.drop_table('exchange_dataset')
    op.execute("DELETE FROM exchange_member WHERE code = 'c06-population'")
