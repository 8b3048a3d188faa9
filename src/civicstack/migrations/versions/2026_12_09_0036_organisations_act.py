"""organisations act through their people: what each authorised member may do, the
organisation a dossier is filed for, and the organisation a relying party's sign-in acts for

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-09 02:00:00

Members authorised before this revision hold no permission until their representative
authorises them again with one: an authorisation that did nothing keeps doing nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0036'
down_revision: str | None = '0035'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organisation_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('permissions', sa.String(length=200), server_default='',
                                      nullable=False))
    with op.batch_alter_table('service_dossier', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_tax_code', sa.String(length=14),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_service_dossier_organisation_tax_code'),
                              ['organisation_tax_code'], unique=False)
    for table in ('oidc_authorization_code', 'oidc_token'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('organisation_tax_code', sa.String(length=14),
                                          nullable=True))


def downgrade() -> None:
    for table in ('oidc_token', 'oidc_authorization_code'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('organisation_tax_code')
    with op.batch_alter_table('service_dossier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_dossier_organisation_tax_code'))
        batch_op.drop_column('organisation_tax_code')
    with op.batch_alter_table('organisation_member', schema=None) as batch_op:
        batch_op.drop_column('permissions')
