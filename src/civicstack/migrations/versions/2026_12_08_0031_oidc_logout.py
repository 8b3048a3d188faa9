"""oidc: back-channel and front-channel logout (OpenID Connect Back-Channel Logout 1.0,
Front-Channel Logout 1.0): each relying party's logout URIs, the sessions each party holds, and
the queue of logout tokens owed to them

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-08 02:00:00

Existing relying parties register no logout URI: they are told nothing until an official
registers one. Sign-ins made before this revision were not recorded, so their parties are not
told of the end of those sessions (their tokens are still revoked, by the session's `sid`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0031'
down_revision: str | None = '0030'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('oidc_client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backchannel_logout_uri', sa.String(length=500),
                                      nullable=True))
        batch_op.add_column(sa.Column('backchannel_logout_session_required', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('frontchannel_logout_uri', sa.String(length=500),
                                      nullable=True))
        batch_op.add_column(sa.Column('frontchannel_logout_session_required', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    # The default served the existing rows only: every new client says what it needs.
    with op.batch_alter_table('oidc_client', schema=None) as batch_op:
        batch_op.alter_column('backchannel_logout_session_required', server_default=None)
        batch_op.alter_column('frontchannel_logout_session_required', server_default=None)
    op.create_table(
        'oidc_rp_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('sid', sa.String(length=64), nullable=False),
        sa.Column('signed_in_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['oidc_client.client_id'],
                                name=op.f('fk_oidc_rp_session_client_id_oidc_client')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_rp_session')),
        sa.UniqueConstraint('client_id', 'sid', name=op.f('uq_oidc_rp_session_client_id')),
    )
    op.create_index(op.f('ix_oidc_rp_session_account_id'), 'oidc_rp_session', ['account_id'],
                    unique=False)
    op.create_index(op.f('ix_oidc_rp_session_sid'), 'oidc_rp_session', ['sid'], unique=False)
    op.create_table(
        'oidc_logout_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('sid', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=300), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('abandoned_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['client_id'], ['oidc_client.client_id'],
                                name=op.f('fk_oidc_logout_delivery_client_id_oidc_client')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_logout_delivery')),
    )
    op.create_index(op.f('ix_oidc_logout_delivery_next_attempt_at'), 'oidc_logout_delivery',
                    ['next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_oidc_logout_delivery_next_attempt_at'),
                  table_name='oidc_logout_delivery')
    op.drop_table('oidc_logout_delivery')
    op.drop_index(op.f('ix_oidc_rp_session_sid'), table_name='oidc_rp_session')
    op.drop_index(op.f('ix_oidc_rp_session_account_id'), table_name='oidc_rp_session')
    op.drop_table('oidc_rp_session')
    with op.batch_alter_table('oidc_client', schema=None) as batch_op:
        batch_op.drop_column('frontchannel_logout_session_required')
        batch_op.drop_column('frontchannel_logout_uri')
        batch_op.drop_column('backchannel_logout_session_required')
        batch_op.drop_column('backchannel_logout_uri')
