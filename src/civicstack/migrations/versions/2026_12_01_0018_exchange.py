"""exchange: members, agreements, spent assertions, the chained message log and its head row

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('exchange_log_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_log_head'))
    )
    op.execute("INSERT INTO exchange_log_head (id, last_seq, last_hash) "
               "VALUES (1, 0, '" + "0" * 64 + "')")
    op.create_table('exchange_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('jwks', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_member')),
    sa.UniqueConstraint('code', name=op.f('uq_exchange_member_code'))
    )
    op.create_table('exchange_message',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('member', sa.String(length=40), nullable=False),
    sa.Column('dataset', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.String(length=12), nullable=False),
    sa.Column('purpose', sa.String(length=300), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('request_digest', sa.String(length=64), nullable=False),
    sa.Column('response_digest', sa.String(length=64), nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_exchange_message'))
    )
    with op.batch_alter_table('exchange_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_message_member'), ['member'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_message_subject_id'), ['subject_id'], unique=False)

    op.create_table('exchange_spent_assertion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_code', sa.String(length=40), nullable=False),
    sa.Column('jti', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_spent_assertion')),
    sa.UniqueConstraint('member_code', 'jti', name=op.f('uq_exchange_spent_assertion_member_code'))
    )
    with op.batch_alter_table('exchange_spent_assertion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_spent_assertion_expires_at'), ['expires_at'], unique=False)

    op.create_table('exchange_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consumer_id', sa.Integer(), nullable=False),
    sa.Column('dataset', sa.String(length=40), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('purpose', sa.String(length=300), nullable=False),
    sa.Column('legal_basis', sa.String(length=300), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['consumer_id'], ['exchange_member.id'], name=op.f('fk_exchange_agreement_consumer_id_exchange_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_agreement'))
    )
    with op.batch_alter_table('exchange_agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_agreement_consumer_id'), ['consumer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('exchange_agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_agreement_consumer_id'))

    op.drop_table('exchange_agreement')
    with op.batch_alter_table('exchange_spent_assertion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_spent_assertion_expires_at'))

    op.drop_table('exchange_spent_assertion')
    with op.batch_alter_table('exchange_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_message_subject_id'))
        batch_op.drop_index(batch_op.f('ix_exchange_message_member'))

    op.drop_table('exchange_message')
    op.drop_table('exchange_member')
    op.drop_table('exchange_log_head')
