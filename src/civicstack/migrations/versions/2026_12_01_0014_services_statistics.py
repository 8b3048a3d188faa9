"""services statistics: dossiers by period within a province or a procedure

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_service_dossier_province_submitted', 'service_dossier',
                    ['province_code', 'submitted_at'], unique=False)
    op.create_index('ix_service_dossier_procedure_submitted', 'service_dossier',
                    ['procedure_id', 'submitted_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_service_dossier_procedure_submitted', table_name='service_dossier')
    op.drop_index('ix_service_dossier_province_submitted', table_name='service_dossier')
