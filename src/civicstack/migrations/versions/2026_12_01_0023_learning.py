"""learning: courses with lessons and quiz questions, cohorts and their members, the cohorts' and
learners' enrolments, lessons done and quiz attempts

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('learning_cohort',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=False),
    sa.Column('ward_code', sa.String(length=5), nullable=True),
    sa.Column('school', sa.String(length=200), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('rule', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.CheckConstraint("kind IN ('students', 'officials', 'citizens')", name=op.f('ck_learning_cohort_kind_known')),
    sa.CheckConstraint("source IN ('rule', 'roster')", name=op.f('ck_learning_cohort_source_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_cohort'))
    )
    with op.batch_alter_table('learning_cohort', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_cohort_province_code'), ['province_code'], unique=False)

    op.create_table('learning_course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('publisher_kind', sa.String(length=10), nullable=False),
    sa.Column('publisher', sa.String(length=200), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=True),
    sa.Column('pass_mark', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("publisher_kind IN ('ministry', 'province')", name=op.f('ck_learning_course_publisher_known')),
    sa.CheckConstraint("status IN ('draft', 'published')", name=op.f('ck_learning_course_status_known')),
    sa.CheckConstraint('pass_mark BETWEEN 1 AND 100', name=op.f('ck_learning_course_pass_mark_percent')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_course')),
    sa.UniqueConstraint('code', name=op.f('uq_learning_course_code'))
    )
    with op.batch_alter_table('learning_course', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_course_province_code'), ['province_code'], unique=False)

    op.create_table('learning_cohort_course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enrolled_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['learning_cohort.id'], name=op.f('fk_learning_cohort_course_cohort_id_learning_cohort')),
    sa.ForeignKeyConstraint(['course_id'], ['learning_course.id'], name=op.f('fk_learning_cohort_course_course_id_learning_course')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_cohort_course')),
    sa.UniqueConstraint('cohort_id', 'course_id', name=op.f('uq_learning_cohort_course_cohort_id'))
    )
    with op.batch_alter_table('learning_cohort_course', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_cohort_course_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_learning_cohort_course_course_id'), ['course_id'], unique=False)

    op.create_table('learning_cohort_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('personal_id_number', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['learning_cohort.id'], name=op.f('fk_learning_cohort_member_cohort_id_learning_cohort')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_cohort_member')),
    sa.UniqueConstraint('cohort_id', 'personal_id_number', name=op.f('uq_learning_cohort_member_cohort_id'))
    )
    with op.batch_alter_table('learning_cohort_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_cohort_member_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_learning_cohort_member_personal_id_number'), ['personal_id_number'], unique=False)

    op.create_table('learning_enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('personal_id_number', sa.String(length=12), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('certificate_id', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['course_id'], ['learning_course.id'], name=op.f('fk_learning_enrolment_course_id_learning_course')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_enrolment')),
    sa.UniqueConstraint('course_id', 'personal_id_number', name=op.f('uq_learning_enrolment_course_id'))
    )
    with op.batch_alter_table('learning_enrolment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_enrolment_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_learning_enrolment_personal_id_number'), ['personal_id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_learning_enrolment_province_code'), ['province_code'], unique=False)

    op.create_table('learning_lesson',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('video_url', sa.String(length=500), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('file_type', sa.String(length=60), nullable=True),
    sa.Column('file_content', sa.LargeBinary(), nullable=True),
    sa.CheckConstraint("kind IN ('text', 'video', 'file')", name=op.f('ck_learning_lesson_kind_known')),
    sa.ForeignKeyConstraint(['course_id'], ['learning_course.id'], name=op.f('fk_learning_lesson_course_id_learning_course')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_lesson')),
    sa.UniqueConstraint('course_id', 'position', name=op.f('uq_learning_lesson_course_id'))
    )
    with op.batch_alter_table('learning_lesson', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_lesson_course_id'), ['course_id'], unique=False)

    op.create_table('learning_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('correct', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['learning_course.id'], name=op.f('fk_learning_question_course_id_learning_course')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_question')),
    sa.UniqueConstraint('course_id', 'position', name=op.f('uq_learning_question_course_id'))
    )
    with op.batch_alter_table('learning_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_question_course_id'), ['course_id'], unique=False)

    op.create_table('learning_lesson_done',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['learning_enrolment.id'], name=op.f('fk_learning_lesson_done_enrolment_id_learning_enrolment')),
    sa.ForeignKeyConstraint(['lesson_id'], ['learning_lesson.id'], name=op.f('fk_learning_lesson_done_lesson_id_learning_lesson')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_lesson_done')),
    sa.UniqueConstraint('enrolment_id', 'lesson_id', name=op.f('uq_learning_lesson_done_enrolment_id'))
    )
    with op.batch_alter_table('learning_lesson_done', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_lesson_done_enrolment_id'), ['enrolment_id'], unique=False)

    op.create_table('learning_quiz_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('correct', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['learning_enrolment.id'], name=op.f('fk_learning_quiz_attempt_enrolment_id_learning_enrolment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_quiz_attempt'))
    )
    with op.batch_alter_table('learning_quiz_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_quiz_attempt_enrolment_id'), ['enrolment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('learning_quiz_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_quiz_attempt_enrolment_id'))

    op.drop_table('learning_quiz_attempt')
    with op.batch_alter_table('learning_lesson_done', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_lesson_done_enrolment_id'))

    op.drop_table('learning_lesson_done')
    with op.batch_alter_table('learning_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_question_course_id'))

    op.drop_table('learning_question')
    with op.batch_alter_table('learning_lesson', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_lesson_course_id'))

    op.drop_table('learning_lesson')
    with op.batch_alter_table('learning_enrolment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_enrolment_province_code'))
        batch_op.drop_index(batch_op.f('ix_learning_enrolment_personal_id_number'))
        batch_op.drop_index(batch_op.f('ix_learning_enrolment_course_id'))

    op.drop_table('learning_enrolment')
    with op.batch_alter_table('learning_cohort_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_cohort_member_personal_id_number'))
        batch_op.drop_index(batch_op.f('ix_learning_cohort_member_cohort_id'))

    op.drop_table('learning_cohort_member')
    with op.batch_alter_table('learning_cohort_course', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_cohort_course_course_id'))
        batch_op.drop_index(batch_op.f('ix_learning_cohort_course_cohort_id'))

    op.drop_table('learning_cohort_course')
    with op.batch_alter_table('learning_course', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_course_province_code'))

    op.drop_table('learning_course')
    with op.batch_alter_table('learning_cohort', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_cohort_province_code'))

    op.drop_table('learning_cohort')
