"""wallet: issuers, document types, credentials, status lists, offers, presentation requests

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('wallet_holder_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.String(length=14), nullable=False),
    sa.Column('sealed_jwk', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_holder_key')),
    sa.UniqueConstraint('subject_id', name=op.f('uq_wallet_holder_key_subject_id'))
    )
    op.create_table('wallet_issuer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_issuer')),
    sa.UniqueConstraint('slug', name=op.f('uq_wallet_issuer_slug'))
    )
    op.create_table('wallet_nonce',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('value_digest', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_nonce')),
    sa.UniqueConstraint('value_digest', name=op.f('uq_wallet_nonce_value_digest'))
    )
    with op.batch_alter_table('wallet_nonce', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_nonce_expires_at'), ['expires_at'], unique=False)

    op.create_table('wallet_presentation_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('verifier_name', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=300), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('document_type_code', sa.String(length=40), nullable=False),
    sa.Column('requested_claims', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('refusal_reason', sa.String(length=300), nullable=False),
    sa.Column('subject_id', sa.String(length=14), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'verified', 'refused', 'declined')", name=op.f('ck_wallet_presentation_request_state_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_presentation_request')),
    sa.UniqueConstraint('public_id', name=op.f('uq_wallet_presentation_request_public_id'))
    )
    with op.batch_alter_table('wallet_presentation_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_presentation_request_client_id'), ['client_id'], unique=False)

    op.create_table('wallet_seen_presentation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sd_hash', sa.String(length=64), nullable=False),
    sa.Column('audience', sa.String(length=200), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('forget_after', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_seen_presentation')),
    sa.UniqueConstraint('sd_hash', name=op.f('uq_wallet_seen_presentation_sd_hash'))
    )
    with op.batch_alter_table('wallet_seen_presentation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_seen_presentation_forget_after'), ['forget_after'], unique=False)

    op.create_table('wallet_document_type',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('subject_kind', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('schema_version', sa.Integer(), nullable=False),
    sa.Column('claims', sa.JSON(), nullable=False),
    sa.Column('validity_days', sa.Integer(), nullable=False),
    sa.Column('integrated_on', sa.Date(), nullable=False),
    sa.CheckConstraint("source IN ('register', 'agency')", name=op.f('ck_wallet_document_type_source_known')),
    sa.CheckConstraint("subject_kind IN ('person', 'organisation')", name=op.f('ck_wallet_document_type_subject_kind_known')),
    sa.CheckConstraint('schema_version >= 1', name=op.f('ck_wallet_document_type_schema_version_positive')),
    sa.ForeignKeyConstraint(['issuer_id'], ['wallet_issuer.id'], name=op.f('fk_wallet_document_type_issuer_id_wallet_issuer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_document_type')),
    sa.UniqueConstraint('code', name=op.f('uq_wallet_document_type_code'))
    )
    with op.batch_alter_table('wallet_document_type', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_document_type_issuer_id'), ['issuer_id'], unique=False)

    op.create_table('wallet_issuer_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('apikey_name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['wallet_issuer.id'], name=op.f('fk_wallet_issuer_grant_issuer_id_wallet_issuer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_issuer_grant')),
    sa.UniqueConstraint('issuer_id', 'apikey_name', name=op.f('uq_wallet_issuer_grant_issuer_id'))
    )
    op.create_table('wallet_status_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('token', sa.Text(), nullable=True),
    sa.Column('token_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['issuer_id'], ['wallet_issuer.id'], name=op.f('fk_wallet_status_list_issuer_id_wallet_issuer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_status_list')),
    sa.UniqueConstraint('issuer_id', 'number', name=op.f('uq_wallet_status_list_issuer_id'))
    )
    op.create_table('wallet_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('document_type_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.String(length=14), nullable=False),
    sa.Column('holder', sa.String(length=12), nullable=False),
    sa.Column('schema_version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('status_reason', sa.String(length=300), nullable=False),
    sa.Column('status_list_id', sa.Integer(), nullable=False),
    sa.Column('status_index', sa.Integer(), nullable=False),
    sa.Column('sealed_sd_jwt', sa.LargeBinary(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("holder IN ('portal', 'wallet-app')", name=op.f('ck_wallet_credential_holder_known')),
    sa.CheckConstraint("status IN ('valid', 'revoked', 'suspended')", name=op.f('ck_wallet_credential_status_known')),
    sa.ForeignKeyConstraint(['document_type_id'], ['wallet_document_type.id'], name=op.f('fk_wallet_credential_document_type_id_wallet_document_type')),
    sa.ForeignKeyConstraint(['status_list_id'], ['wallet_status_list.id'], name=op.f('fk_wallet_credential_status_list_id_wallet_status_list')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_credential')),
    sa.UniqueConstraint('public_id', name=op.f('uq_wallet_credential_public_id')),
    sa.UniqueConstraint('status_list_id', 'status_index', name=op.f('uq_wallet_credential_status_list_id'))
    )
    with op.batch_alter_table('wallet_credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_credential_document_type_id'), ['document_type_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wallet_credential_issued_at'), ['issued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_wallet_credential_subject_id'), ['subject_id'], unique=False)

    op.create_table('wallet_credential_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_digest', sa.String(length=64), nullable=False),
    sa.Column('document_type_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.String(length=14), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('access_token_digest', sa.String(length=64), nullable=True),
    sa.Column('access_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('credential_issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['document_type_id'], ['wallet_document_type.id'], name=op.f('fk_wallet_credential_offer_document_type_id_wallet_document_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_credential_offer')),
    sa.UniqueConstraint('access_token_digest', name=op.f('uq_wallet_credential_offer_access_token_digest')),
    sa.UniqueConstraint('code_digest', name=op.f('uq_wallet_credential_offer_code_digest'))
    )


def downgrade() -> None:
    op.drop_table('wallet_credential_offer')
    with op.batch_alter_table('wallet_credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_credential_subject_id'))
        batch_op.drop_index(batch_op.f('ix_wallet_credential_issued_at'))
        batch_op.drop_index(batch_op.f('ix_wallet_credential_document_type_id'))

    op.drop_table('wallet_credential')
    op.drop_table('wallet_status_list')
    op.drop_table('wallet_issuer_grant')
    with op.batch_alter_table('wallet_document_type', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_document_type_issuer_id'))

    op.drop_table('wallet_document_type')
    with op.batch_alter_table('wallet_seen_presentation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_seen_presentation_forget_after'))

    op.drop_table('wallet_seen_presentation')
    with op.batch_alter_table('wallet_presentation_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_presentation_request_client_id'))

    op.drop_table('wallet_presentation_request')
    with op.batch_alter_table('wallet_nonce', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_nonce_expires_at'))

    op.drop_table('wallet_nonce')
    op.drop_table('wallet_issuer')
    op.drop_table('wallet_holder_key')
