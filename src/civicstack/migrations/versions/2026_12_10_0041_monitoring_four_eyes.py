"""monitoring: progress updates kept as history, and the product handed in

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-10 09:00:00

A second progress update of the same day used to overwrite the first (one row per task and
day); each update is now a row of its own. A task is handed in with its product, a file or a
link, kept in monitoring_product (one row per hand-in).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0041'
down_revision: str | None = '0040'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('monitoring_progress_update', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_monitoring_progress_update_task_id'),
                                 type_='unique')
    op.create_table('monitoring_product',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('media_type', sa.String(length=100), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('handed_in_by', sa.String(length=200), nullable=False),
    sa.Column('handed_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(link IS NULL) != (content IS NULL)', name=op.f('ck_monitoring_product_file_or_link')),
    sa.ForeignKeyConstraint(['task_id'], ['monitoring_task.id'], name=op.f('fk_monitoring_product_task_id_monitoring_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_product'))
    )
    with op.batch_alter_table('monitoring_product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_product_task_id'), ['task_id'], unique=False)


def downgrade() -> None:
    """Back to one update a day: the day's latest update is kept and takes the earlier
    ones' files; the earlier texts go."""
    with op.batch_alter_table('monitoring_product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_product_task_id'))
    op.drop_table('monitoring_product')
    op.execute("UPDATE monitoring_evidence SET update_id = (SELECT max(latest.id) FROM "
               "monitoring_progress_update latest JOIN monitoring_progress_update posted ON "
               "latest.task_id = posted.task_id AND latest.day = posted.day WHERE posted.id = "
               "monitoring_evidence.update_id)")
    op.execute("DELETE FROM monitoring_progress_update WHERE EXISTS (SELECT 1 FROM "
               "monitoring_progress_update later WHERE later.task_id = "
               "monitoring_progress_update.task_id AND later.day = "
               "monitoring_progress_update.day AND later.id > monitoring_progress_update.id)")
    with op.batch_alter_table('monitoring_progress_update', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_monitoring_progress_update_task_id'),
                                          ['task_id', 'day'])
