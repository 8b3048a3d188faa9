"""monitoring: agencies and their officials, programmes, tasks under the six clear principles,
their events, daily progress updates with evidence files, reminders

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('monitoring_agency',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=True),
    sa.CheckConstraint("kind != 'province' OR province_code IS NOT NULL", name=op.f('ck_monitoring_agency_province_has_code')),
    sa.CheckConstraint("kind IN ('ministry', 'province', 'other')", name=op.f('ck_monitoring_agency_kind_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_agency')),
    sa.UniqueConstraint('code', name=op.f('uq_monitoring_agency_code'))
    )
    op.create_table('monitoring_programme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('legal_reference', sa.String(length=200), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_programme')),
    sa.UniqueConstraint('code', name=op.f('uq_monitoring_programme_code'))
    )
    op.create_table('monitoring_agency_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=50), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['monitoring_agency.id'], name=op.f('fk_monitoring_agency_member_agency_id_monitoring_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_agency_member')),
    sa.UniqueConstraint('agency_id', 'username', name=op.f('uq_monitoring_agency_member_agency_id'))
    )
    with op.batch_alter_table('monitoring_agency_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_agency_member_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_agency_member_username'), ['username'], unique=False)

    op.create_table('monitoring_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('work', sa.Text(), nullable=False),
    sa.Column('responsible_official', sa.String(length=50), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('lead_agency_id', sa.Integer(), nullable=False),
    sa.Column('coordinating_agencies', sa.JSON(), nullable=False),
    sa.Column('deliverable', sa.String(length=300), nullable=False),
    sa.Column('accepting_official', sa.String(length=50), nullable=True),
    sa.Column('accepting_agency_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=True),
    sa.Column('accepted_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('open', 'in_progress', 'submitted', 'accepted', 'returned')", name=op.f('ck_monitoring_task_state_known')),
    sa.CheckConstraint('(accepting_official IS NULL) != (accepting_agency_id IS NULL)', name=op.f('ck_monitoring_task_one_accepting_authority')),
    sa.CheckConstraint('percent BETWEEN 0 AND 100', name=op.f('ck_monitoring_task_percent_range')),
    sa.ForeignKeyConstraint(['accepting_agency_id'], ['monitoring_agency.id'], name=op.f('fk_monitoring_task_accepting_agency_id_monitoring_agency')),
    sa.ForeignKeyConstraint(['lead_agency_id'], ['monitoring_agency.id'], name=op.f('fk_monitoring_task_lead_agency_id_monitoring_agency')),
    sa.ForeignKeyConstraint(['programme_id'], ['monitoring_programme.id'], name=op.f('fk_monitoring_task_programme_id_monitoring_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_task')),
    sa.UniqueConstraint('programme_id', 'code', name=op.f('uq_monitoring_task_programme_id'))
    )
    with op.batch_alter_table('monitoring_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_task_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_task_lead_agency_id'), ['lead_agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_task_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_task_responsible_official'), ['responsible_official'], unique=False)

    op.create_table('monitoring_progress_update',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('posted_by', sa.String(length=200), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('percent BETWEEN 0 AND 100', name=op.f('ck_monitoring_progress_update_percent_range')),
    sa.ForeignKeyConstraint(['task_id'], ['monitoring_task.id'], name=op.f('fk_monitoring_progress_update_task_id_monitoring_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_progress_update')),
    sa.UniqueConstraint('task_id', 'day', name=op.f('uq_monitoring_progress_update_task_id'))
    )
    with op.batch_alter_table('monitoring_progress_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_progress_update_task_id'), ['task_id'], unique=False)

    op.create_table('monitoring_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('sent_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['monitoring_task.id'], name=op.f('fk_monitoring_reminder_task_id_monitoring_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_reminder')),
    sa.UniqueConstraint('task_id', 'day', name=op.f('uq_monitoring_reminder_task_id'))
    )
    with op.batch_alter_table('monitoring_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_reminder_task_id'), ['task_id'], unique=False)

    op.create_table('monitoring_task_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('from_state', sa.String(length=12), nullable=False),
    sa.Column('to_state', sa.String(length=12), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['monitoring_task.id'], name=op.f('fk_monitoring_task_event_task_id_monitoring_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_task_event'))
    )
    with op.batch_alter_table('monitoring_task_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_task_event_task_id'), ['task_id'], unique=False)

    op.create_table('monitoring_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['update_id'], ['monitoring_progress_update.id'], name=op.f('fk_monitoring_evidence_update_id_monitoring_progress_update')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_evidence'))
    )
    with op.batch_alter_table('monitoring_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_evidence_update_id'), ['update_id'], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    with op.batch_alter_table('monitoring_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_evidence_update_id'))

    op.drop_table('monitoring_evidence')
    with op.batch_alter_table('monitoring_task_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_task_event_task_id'))

    op.drop_table('monitoring_task_event')
    with op.batch_alter_table('monitoring_reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_reminder_task_id'))

    op.drop_table('monitoring_reminder')
    with op.batch_alter_table('monitoring_progress_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_progress_update_task_id'))

    op.drop_table('monitoring_progress_update')
    with op.batch_alter_table('monitoring_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_task_responsible_official'))
        batch_op.drop_index(batch_op.f('ix_monitoring_task_programme_id'))
        batch_op.drop_index(batch_op.f('ix_monitoring_task_lead_agency_id'))
        batch_op.drop_index(batch_op.f('ix_monitoring_task_deadline'))

    op.drop_table('monitoring_task')
    with op.batch_alter_table('monitoring_agency_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_agency_member_username'))
        batch_op.drop_index(batch_op.f('ix_monitoring_agency_member_agency_id'))

    op.drop_table('monitoring_agency_member')
    op.drop_table('monitoring_programme')
    op.drop_table('monitoring_agency')
    # ### end Alembic commands ###
