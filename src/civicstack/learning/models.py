"""The learning platform's tables: courses with their lessons and quiz questions, cohorts and
their members, enrolments with lesson progress and quiz attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from civicstack.kit.db import Base


class Course(Base):
    """A course of a ministry (national, `province_code` empty) or of a province. Its lessons
    and quiz can change only while it is a draft: a published course is frozen."""

    __tablename__ = "learning_course"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published')", name="status_known"),
        CheckConstraint("publisher_kind IN ('ministry', 'province')", name="publisher_known"),
        CheckConstraint("pass_mark BETWEEN 1 AND 100", name="pass_mark_percent"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    publisher_kind: Mapped[str] = mapped_column(String(10))
    publisher: Mapped[str] = mapped_column(String(200))  # "Bộ Công an", "UBND Thành phố Hà Nội"
    province_code: Mapped[str | None] = mapped_column(String(2), nullable=True, index=True)
    pass_mark: Mapped[int] = mapped_column(Integer)  # percent of questions answered right
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(120))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Lesson(Base):
    """One step of a course, in order: a text, a link to a video, or a file to read."""

    __tablename__ = "learning_lesson"
    __table_args__ = (
        UniqueConstraint("course_id", "position"),
        CheckConstraint("kind IN ('text', 'video', 'file')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("learning_course.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, ...
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # the text, or a note beside the video or file
    video_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    file_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    file_type: Mapped[str | None] = mapped_column(String(60), nullable=True)
    file_content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class Question(Base):
    """A question of a course's final quiz: its options and the indexes of the right ones."""

    __tablename__ = "learning_question"
    __table_args__ = (UniqueConstraint("course_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("learning_course.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    prompt: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON)
    correct: Mapped[list[int]] = mapped_column(JSON)  # sorted, at least one


class Cohort(Base):
    """A named group of learners in a province or ward (students, officials, citizens), its
    members drawn by a rule over the register or from an uploaded roster."""

    __tablename__ = "learning_cohort"
    __table_args__ = (
        CheckConstraint("kind IN ('students', 'officials', 'citizens')", name="kind_known"),
        CheckConstraint("source IN ('rule', 'roster')", name="source_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    province_code: Mapped[str] = mapped_column(String(2), index=True)
    ward_code: Mapped[str | None] = mapped_column(String(5), nullable=True)
    school: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source: Mapped[str] = mapped_column(String(10))
    rule: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # ages, for 'rule'
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(120))


class CohortMember(Base):
    __tablename__ = "learning_cohort_member"
    __table_args__ = (UniqueConstraint("cohort_id", "personal_id_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("learning_cohort.id"), index=True)
    personal_id_number: Mapped[str] = mapped_column(String(12), index=True)


class CohortCourse(Base):
    """A cohort enrolled in a course: its completion rate is measured against 100 %."""

    __tablename__ = "learning_cohort_course"
    __table_args__ = (UniqueConstraint("cohort_id", "course_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("learning_cohort.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("learning_course.id"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    enrolled_by: Mapped[str] = mapped_column(String(120))


class Enrolment(Base):
    """One learner in one course, once whatever the number of cohorts that enrolled them; the
    province is the first enrolling cohort's, for the rate per province."""

    __tablename__ = "learning_enrolment"
    __table_args__ = (UniqueConstraint("course_id", "personal_id_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("learning_course.id"), index=True)
    personal_id_number: Mapped[str] = mapped_column(String(12), index=True)
    province_code: Mapped[str] = mapped_column(String(2), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the passing score, %
    certificate_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class LessonDone(Base):
    __tablename__ = "learning_lesson_done"
    __table_args__ = (UniqueConstraint("enrolment_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("learning_enrolment.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("learning_lesson.id"))
    done_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class QuizAttempt(Base):
    """One submission of the quiz, scored on the server; kept to limit attempts per day."""

    __tablename__ = "learning_quiz_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("learning_enrolment.id"), index=True)
    answers: Mapped[dict[str, list[int]]] = mapped_column(JSON)  # question position -> chosen
    correct: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)  # percent, rounded down
    passed: Mapped[bool] = mapped_column(Boolean)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
