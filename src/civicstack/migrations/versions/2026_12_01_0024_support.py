"""support: tickets and their threads, queues and routing rules (the national and the
auditors' queues seeded here), escalations, verification requests, clean-up candidates; the
citizens' reports of data uses (identity_read_report, 0020) become data_read tickets

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 14:00:41.349652
"""

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from civicstack.kit.calendar import add_working_days
from civicstack.kit.db import as_utc

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('support_cleanup_candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('personal_id_number', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=10), nullable=False),
    sa.Column('evidence', sa.String(length=300), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('reviewed_by', sa.String(length=200), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=False),
    sa.CheckConstraint("reason IN ('inactive', 'duplicate', 'deceased')", name=op.f('ck_support_cleanup_candidate_reason_known')),
    sa.CheckConstraint("state IN ('proposed', 'approved', 'rejected')", name=op.f('ck_support_cleanup_candidate_state_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_cleanup_candidate')),
    sa.UniqueConstraint('personal_id_number', 'reason', name=op.f('uq_support_cleanup_candidate_personal_id_number'))
    )
    with op.batch_alter_table('support_cleanup_candidate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_cleanup_candidate_personal_id_number'), ['personal_id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_cleanup_candidate_state'), ['state'], unique=False)

    op.create_table('support_queue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('permission', sa.String(length=40), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=True),
    sa.Column('ward_code', sa.String(length=5), nullable=True),
    sa.Column('lead_contact', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_queue')),
    sa.UniqueConstraint('code', name=op.f('uq_support_queue_code'))
    )
    op.create_table('support_routing_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=20), nullable=True),
    sa.Column('province_code', sa.String(length=2), nullable=True),
    sa.Column('ward_code', sa.String(length=5), nullable=True),
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['queue_id'], ['support_queue.id'], name=op.f('fk_support_routing_rule_queue_id_support_queue')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_routing_rule')),
    sa.UniqueConstraint('topic', 'province_code', 'ward_code', name=op.f('uq_support_routing_rule_topic'))
    )
    with op.batch_alter_table('support_routing_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_routing_rule_queue_id'), ['queue_id'], unique=False)

    op.create_table('support_ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('personal_id_number', sa.String(length=12), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=False),
    sa.Column('ward_code', sa.String(length=5), nullable=True),
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('assignee', sa.String(length=200), nullable=True),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('audit_seq', sa.BigInteger(), nullable=True),
    sa.Column('opened_by', sa.String(length=200), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_response_due', sa.Date(), nullable=False),
    sa.Column('resolution_due', sa.Date(), nullable=False),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('portal', 'hotline')", name=op.f('ck_support_ticket_channel_known')),
    sa.CheckConstraint("state IN ('open', 'assigned', 'answered', 'closed')", name=op.f('ck_support_ticket_state_known')),
    sa.CheckConstraint('escalation_level BETWEEN 0 AND 2', name=op.f('ck_support_ticket_escalation_known')),
    sa.ForeignKeyConstraint(['queue_id'], ['support_queue.id'], name=op.f('fk_support_ticket_queue_id_support_queue')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_ticket')),
    sa.UniqueConstraint('audit_seq', name=op.f('uq_support_ticket_audit_seq'))
    )
    with op.batch_alter_table('support_ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_ticket_opened_at'), ['opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_ticket_personal_id_number'), ['personal_id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_ticket_province_code'), ['province_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_ticket_queue_id'), ['queue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_ticket_state'), ['state'], unique=False)

    op.create_table('support_escalation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=20), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['support_ticket.id'], name=op.f('fk_support_escalation_ticket_id_support_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_escalation')),
    sa.UniqueConstraint('ticket_id', 'target', 'due_on', name=op.f('uq_support_escalation_ticket_id'))
    )
    with op.batch_alter_table('support_escalation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_escalation_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('support_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('from_citizen', sa.Boolean(), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['support_ticket.id'], name=op.f('fk_support_message_ticket_id_support_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_message'))
    )
    with op.batch_alter_table('support_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_message_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('support_verification_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('personal_id_number', sa.String(length=12), nullable=False),
    sa.Column('field', sa.String(length=30), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=False),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.String(length=1000), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'confirmed', 'disputed')", name=op.f('ck_support_verification_request_state_known')),
    sa.ForeignKeyConstraint(['ticket_id'], ['support_ticket.id'], name=op.f('fk_support_verification_request_ticket_id_support_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_verification_request'))
    )
    with op.batch_alter_table('support_verification_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_verification_request_personal_id_number'), ['personal_id_number'], unique=False)

    _seed_queues()
    _reports_into_tickets()
    with op.batch_alter_table('identity_read_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_read_report_personal_id_number'))

    op.drop_table('identity_read_report')


def downgrade() -> None:
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

    _tickets_into_reports()
    with op.batch_alter_table('support_verification_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_verification_request_personal_id_number'))

    op.drop_table('support_verification_request')
    with op.batch_alter_table('support_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_message_ticket_id'))

    op.drop_table('support_message')
    with op.batch_alter_table('support_escalation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_escalation_ticket_id'))

    op.drop_table('support_escalation')
    with op.batch_alter_table('support_ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_ticket_state'))
        batch_op.drop_index(batch_op.f('ix_support_ticket_queue_id'))
        batch_op.drop_index(batch_op.f('ix_support_ticket_province_code'))
        batch_op.drop_index(batch_op.f('ix_support_ticket_personal_id_number'))
        batch_op.drop_index(batch_op.f('ix_support_ticket_opened_at'))

    op.drop_table('support_ticket')
    with op.batch_alter_table('support_routing_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_routing_rule_queue_id'))

    op.drop_table('support_routing_rule')
    op.drop_table('support_queue')
    with op.batch_alter_table('support_cleanup_candidate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_cleanup_candidate_state'))
        batch_op.drop_index(batch_op.f('ix_support_cleanup_candidate_personal_id_number'))

    op.drop_table('support_cleanup_candidate')


QUEUE = sa.table('support_queue', sa.column('id', sa.Integer), sa.column('code', sa.String),
                 sa.column('name', sa.String), sa.column('permission', sa.String),
                 sa.column('lead_contact', sa.String))
RULE = sa.table('support_routing_rule', sa.column('topic', sa.String),
                sa.column('queue_id', sa.Integer))
REPORT = sa.table('identity_read_report', sa.column('id', sa.Integer),
                  sa.column('personal_id_number', sa.String), sa.column('audit_seq', sa.BigInteger),
                  sa.column('note', sa.String), sa.column('reported_at', sa.DateTime(timezone=True)),
                  sa.column('status', sa.String), sa.column('closed_by', sa.String),
                  sa.column('closed_at', sa.DateTime(timezone=True)), sa.column('outcome', sa.String))
MOMENT = sa.DateTime(timezone=True)
TICKET = sa.table('support_ticket', *(sa.column(name, sa.String) for name in (
    'topic', 'subject', 'personal_id_number', 'channel', 'province_code', 'ward_code', 'state',
    'reference', 'opened_by', 'assignee')), *(sa.column(name, sa.Integer) for name in (
        'id', 'queue_id', 'escalation_level')), sa.column('audit_seq', sa.BigInteger),
    *(sa.column(name, MOMENT) for name in ('opened_at', 'first_response_at', 'closed_at')),
    *(sa.column(name, sa.Date) for name in ('first_response_due', 'resolution_due')))
MESSAGE = sa.table('support_message', sa.column('ticket_id', sa.Integer),
                   sa.column('author', sa.String), sa.column('from_citizen', sa.Boolean),
                   sa.column('internal', sa.Boolean), sa.column('body', sa.Text),
                   sa.column('written_at', MOMENT))
PERSON = sa.table('person', sa.column('personal_id_number', sa.String),
                  sa.column('permanent_province_code', sa.String),
                  sa.column('permanent_ward_code', sa.String))
ENTRY = sa.table('audit_entry', sa.column('seq', sa.BigInteger), sa.column('actor', sa.String),
                 sa.column('action', sa.String))


def _seed_queues() -> None:
    """The fallback national queue, and the auditors' queue that reports of data uses go to."""
    op.bulk_insert(QUEUE, [
        {'code': 'national', 'name': 'Tổng đài hỗ trợ quốc gia',
         'permission': 'support:handle', 'lead_contact': 'support-lead@civicstack.example'},
        {'code': 'auditors', 'name': 'Kiểm toán việc sử dụng dữ liệu',
         'permission': 'audit:read', 'lead_contact': 'audit-lead@civicstack.example'}])
    op.bulk_insert(RULE, [{'topic': 'data_read', 'queue_id': _auditors_queue()}])


def _auditors_queue() -> int:
    return int(op.get_bind().execute(sa.select(QUEUE.c.id).where(
        QUEUE.c.code == 'auditors')).scalar_one())


def _reports_into_tickets() -> None:
    """Each report becomes a data_read ticket of the auditors' queue: the citizen's note opens
    its thread and a closed report's finding answers it."""
    bind, auditors = op.get_bind(), _auditors_queue()
    rows = bind.execute(
        sa.select(REPORT, PERSON.c.permanent_province_code, PERSON.c.permanent_ward_code,
                  ENTRY.c.actor, ENTRY.c.action)
        .join(PERSON, PERSON.c.personal_id_number == REPORT.c.personal_id_number)
        .outerjoin(ENTRY, ENTRY.c.seq == REPORT.c.audit_seq).order_by(REPORT.c.id)
    ).mappings().all()
    for row in rows:
        reported_at: datetime = as_utc(row['reported_at'])
        closed = row['status'] == 'closed'
        ticket_id = bind.execute(sa.insert(TICKET).values(
            topic='data_read', subject='A use of my data I do not recognise',
            personal_id_number=row['personal_id_number'], channel='portal',
            province_code=row['permanent_province_code'], ward_code=row['permanent_ward_code'],
            queue_id=auditors, state='closed' if closed else 'open', escalation_level=0,
            reference=f"audit:{row['audit_seq']}", audit_seq=row['audit_seq'],
            opened_by=f"citizen:{row['personal_id_number']}", opened_at=reported_at,
            first_response_due=_working_days_after(reported_at, 2),
            resolution_due=_working_days_after(reported_at, 10),
            first_response_at=row['closed_at'], closed_at=row['closed_at'],
            assignee=row['closed_by']).returning(TICKET.c.id)).scalar_one()
        entry = f"Entry {row['audit_seq']}" + (
            f": {row['action']} by {row['actor']}." if row['action'] else ".")
        note = entry + (f"\n{row['note']}" if row['note'] else "")
        messages = [{'ticket_id': ticket_id, 'author': f"citizen:{row['personal_id_number']}",
                     'from_citizen': True, 'internal': False, 'body': note,
                     'written_at': reported_at}]
        if closed:
            messages.append({'ticket_id': ticket_id, 'author': row['closed_by'],
                             'from_citizen': False, 'internal': False, 'body': row['outcome'],
                             'written_at': row['closed_at']})
        op.bulk_insert(MESSAGE, messages)


def _working_days_after(moment: datetime, days: int) -> date:
    """The data_read targets of support/sla.py as they stood at this revision."""
    return add_working_days(moment.astimezone(ZoneInfo('Asia/Ho_Chi_Minh')).date(), days)


def _tickets_into_reports() -> None:
    """Back to one report per reported entry; the auditors' last answer is the outcome."""
    bind = op.get_bind()
    tickets = bind.execute(sa.select(TICKET).where(TICKET.c.audit_seq.is_not(None))
                           .order_by(TICKET.c.id)).mappings().all()
    for ticket in tickets:
        thread = bind.execute(sa.select(MESSAGE).where(
            MESSAGE.c.ticket_id == ticket['id'], MESSAGE.c.internal.is_(False))
            .order_by(MESSAGE.c.written_at)).mappings().all()
        answers = [m for m in thread if not m['from_citizen']]
        closed = ticket['state'] == 'closed' and bool(answers)
        op.bulk_insert(REPORT, [{
            'id': ticket['id'], 'personal_id_number': ticket['personal_id_number'],
            'audit_seq': ticket['audit_seq'], 'note': thread[0]['body'][:1000] if thread else '',
            'reported_at': ticket['opened_at'], 'status': 'closed' if closed else 'open',
            'closed_by': answers[-1]['author'] if closed else None,
            'closed_at': ticket['closed_at'] if closed else None,
            'outcome': answers[-1]['body'][:1000] if closed else ''}])
