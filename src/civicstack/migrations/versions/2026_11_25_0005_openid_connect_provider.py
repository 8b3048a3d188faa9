"""oidc: relying parties, pushed requests, codes, tokens, consents, used client assertions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('oidc_client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('auth_method', sa.String(length=30), nullable=False),
    sa.Column('secret_digest', sa.String(length=64), nullable=True),
    sa.Column('jwks', sa.JSON(), nullable=True),
    sa.Column('redirect_uris', sa.JSON(), nullable=False),
    sa.Column('post_logout_redirect_uris', sa.JSON(), nullable=False),
    sa.Column('scopes', sa.String(length=500), nullable=False),
    sa.Column('acr_values', sa.String(length=500), nullable=False),
    sa.Column('sector_identifier', sa.String(length=200), nullable=False),
    sa.Column('id_token_alg', sa.String(length=10), nullable=False),
    sa.Column('created_at', MOMENT, nullable=False),
    sa.Column('disabled_at', MOMENT, nullable=True),
    sa.CheckConstraint("auth_method IN ('client_secret_basic', 'private_key_jwt')", name=op.f('ck_oidc_client_auth_method_known')),
    sa.CheckConstraint("id_token_alg IN ('ES256', 'RS256')", name=op.f('ck_oidc_client_id_token_alg_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_client')),
    sa.UniqueConstraint('client_id', name=op.f('uq_oidc_client_client_id'))
    )
    op.create_table('oidc_pushed_authorization',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handle_digest', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('expires_at', MOMENT, nullable=False),
    sa.Column('used_at', MOMENT, nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['oidc_client.client_id'], name=op.f('fk_oidc_pushed_authorization_client_id_oidc_client')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_pushed_authorization')),
    sa.UniqueConstraint('handle_digest', name=op.f('uq_oidc_pushed_authorization_handle_digest'))
    )
    op.create_table('oidc_authorization_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_digest', sa.String(length=64), nullable=False),
    sa.Column('family', sa.String(length=32), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('redirect_uri', sa.String(length=500), nullable=False),
    sa.Column('scope', sa.String(length=500), nullable=False),
    sa.Column('nonce', sa.String(length=200), nullable=True),
    sa.Column('code_challenge', sa.String(length=128), nullable=False),
    sa.Column('acr', sa.String(length=50), nullable=False),
    sa.Column('amr', sa.String(length=50), nullable=False),
    sa.Column('auth_time', MOMENT, nullable=False),
    sa.Column('browser_session', sa.String(length=64), nullable=False),
    sa.Column('expires_at', MOMENT, nullable=False),
    sa.Column('used_at', MOMENT, nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['oidc_client.client_id'], name=op.f('fk_oidc_authorization_code_client_id_oidc_client')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_authorization_code')),
    sa.UniqueConstraint('code_digest', name=op.f('uq_oidc_authorization_code_code_digest'))
    )
    op.create_index(op.f('ix_oidc_authorization_code_account_id'), 'oidc_authorization_code', ['account_id'])
    op.create_table('oidc_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('family', sa.String(length=32), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=500), nullable=False),
    sa.Column('acr', sa.String(length=50), nullable=False),
    sa.Column('amr', sa.String(length=50), nullable=False),
    sa.Column('auth_time', MOMENT, nullable=False),
    sa.Column('browser_session', sa.String(length=64), nullable=False),
    sa.Column('issued_at', MOMENT, nullable=False),
    sa.Column('expires_at', MOMENT, nullable=False),
    sa.Column('rotated_at', MOMENT, nullable=True),
    sa.Column('revoked_at', MOMENT, nullable=True),
    sa.CheckConstraint("kind IN ('access', 'refresh')", name=op.f('ck_oidc_token_kind_known')),
    sa.ForeignKeyConstraint(['client_id'], ['oidc_client.client_id'], name=op.f('fk_oidc_token_client_id_oidc_client')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_token')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_oidc_token_token_digest'))
    )
    op.create_index(op.f('ix_oidc_token_account_id'), 'oidc_token', ['account_id'])
    op.create_index(op.f('ix_oidc_token_family'), 'oidc_token', ['family'])
    op.create_table('oidc_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=500), nullable=False),
    sa.Column('granted_at', MOMENT, nullable=False),
    sa.Column('withdrawn_at', MOMENT, nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['oidc_client.client_id'], name=op.f('fk_oidc_consent_client_id_oidc_client')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_consent'))
    )
    op.create_index(op.f('ix_oidc_consent_account_id'), 'oidc_consent', ['account_id'])
    op.create_table('oidc_used_assertion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('jti', sa.String(length=200), nullable=False),
    sa.Column('expires_at', MOMENT, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_used_assertion')),
    sa.UniqueConstraint('client_id', 'jti', name=op.f('uq_oidc_used_assertion_client_id'))
    )
    op.create_index(op.f('ix_oidc_used_assertion_expires_at'), 'oidc_used_assertion', ['expires_at'])


def downgrade() -> None:
    for table in ('oidc_used_assertion', 'oidc_consent', 'oidc_token', 'oidc_authorization_code',
                  'oidc_pushed_authorization', 'oidc_client'):
        op.drop_table(table)
