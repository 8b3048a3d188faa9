"""face enrolment photo: the photo a face template was made from, sealed, for look-alike review

Revision ID: 0047
Revises: 0043
Create Date: 2026-12-10 12:00:00

An official deciding whether two enrolled faces are one person needs to see both faces; the
template alone is 128 numbers. The photo is kept, re-encoded and sealed, for as long as its
template (docs/biometrics.md). Templates enrolled before this revision have no photo.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0047'
down_revision: str | None = '0043'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "face_enrolment_photo",
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["template_id"], ["face_template.id"],
                                name=op.f("fk_face_enrolment_photo_template_id_face_template")),
        sa.PrimaryKeyConstraint("template_id", name=op.f("pk_face_enrolment_photo")),
    )


def downgrade() -> None:
    op.drop_table("face_enrolment_photo")
