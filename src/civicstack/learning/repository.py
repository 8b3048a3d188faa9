"""Every query the learning platform runs against its own tables."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from civicstack.kit.authz import Scope
from civicstack.learning.models import (
    Cohort,
    CohortCourse,
    CohortMember,
    Course,
    Enrolment,
    Lesson,
    LessonDone,
    Question,
    QuizAttempt,
)


def course_by_code(session: Session, code: str, *, lock: bool = False) -> Course | None:
    query = select(Course).where(Course.code == code)
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def courses_in_scope(session: Session, scope: Scope) -> list[Course]:
    """Ministries' courses for everyone; a province's courses for officials reaching it."""
    query = select(Course)
    if scope.province_code:
        query = query.where((Course.province_code.is_(None))
                            | (Course.province_code == scope.province_code))
    return list(session.execute(query.order_by(Course.title, Course.id)).scalars())


def lessons(session: Session, course_id: int) -> list[Lesson]:
    return list(session.execute(select(Lesson).where(Lesson.course_id == course_id)
                                .order_by(Lesson.position)).scalars())


def questions(session: Session, course_id: int) -> list[Question]:
    return list(session.execute(select(Question).where(Question.course_id == course_id)
                                .order_by(Question.position)).scalars())


def next_position(session: Session, model: type[Lesson] | type[Question], course_id: int) -> int:
    highest = session.execute(select(func.max(model.position))
                              .where(model.course_id == course_id)).scalar_one()
    return int(highest or 0) + 1


def cohort(session: Session, cohort_id: int) -> Cohort | None:
    return session.get(Cohort, cohort_id)


def cohorts_in_scope(session: Session, scope: Scope) -> list[Cohort]:
    query = select(Cohort)
    if scope.ward_code:
        query = query.where(Cohort.ward_code == scope.ward_code)
    elif scope.province_code:
        query = query.where(Cohort.province_code == scope.province_code)
    return list(session.execute(query.order_by(Cohort.name, Cohort.id)).scalars())


def cohort_members(session: Session, cohort_id: int) -> list[str]:
    return list(session.execute(
        select(CohortMember.personal_id_number).where(CohortMember.cohort_id == cohort_id)
        .order_by(CohortMember.personal_id_number)).scalars())


def cohort_course(session: Session, cohort_id: int, course_id: int) -> CohortCourse | None:
    return session.execute(select(CohortCourse).where(
        CohortCourse.cohort_id == cohort_id, CohortCourse.course_id == course_id)
    ).scalar_one_or_none()


def enrolment(session: Session, course_id: int, personal_id_number: str, *,
              lock: bool = False) -> Enrolment | None:
    query = select(Enrolment).where(Enrolment.course_id == course_id,
                                    Enrolment.personal_id_number == personal_id_number)
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def enrolled_numbers(session: Session, course_id: int, numbers: Collection[str]) -> set[str]:
    if not numbers:
        return set()
    return set(session.execute(select(Enrolment.personal_id_number).where(
        Enrolment.course_id == course_id,
        Enrolment.personal_id_number.in_(list(numbers)))).scalars())


def enrolled_learners(session: Session, course_id: int) -> list[str]:
    return list(session.execute(select(Enrolment.personal_id_number)
                                .where(Enrolment.course_id == course_id)
                                .order_by(Enrolment.personal_id_number)).scalars())


def enrolments_of(session: Session, personal_id_number: str) -> list[tuple[Enrolment, Course]]:
    rows = session.execute(
        select(Enrolment, Course).join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.personal_id_number == personal_id_number)
        .order_by(Enrolment.enrolled_at, Enrolment.id)).all()
    return [(row[0], row[1]) for row in rows]


def lessons_done(session: Session, enrolment_id: int) -> set[int]:
    return set(session.execute(select(LessonDone.lesson_id)
                               .where(LessonDone.enrolment_id == enrolment_id)).scalars())


def attempts_since(session: Session, enrolment_id: int, since: datetime) -> int:
    return int(session.execute(select(func.count(QuizAttempt.id)).where(
        QuizAttempt.enrolment_id == enrolment_id, QuizAttempt.submitted_at >= since)
    ).scalar_one())


def latest_attempt(session: Session, enrolment_id: int) -> QuizAttempt | None:
    return session.execute(select(QuizAttempt).where(QuizAttempt.enrolment_id == enrolment_id)
                           .order_by(QuizAttempt.id.desc()).limit(1)).scalar_one_or_none()


# --- completion rates -----------------------------------------------------------------------

@dataclass(frozen=True)
class Tally:
    key: str  # a province code, a school's name, a cohort's id
    enrolled: int
    completed: int


def tally_by_province(session: Session, course_id: int | None,
                      province_code: str | None) -> list[Tally]:
    """Enrolments and completions per learner's province (each enrolment once)."""
    query = select(Enrolment.province_code, func.count(Enrolment.id),
                   func.count(Enrolment.completed_at)).group_by(Enrolment.province_code)
    if course_id is not None:
        query = query.where(Enrolment.course_id == course_id)
    if province_code:
        query = query.where(Enrolment.province_code == province_code)
    return [Tally(str(row[0]), int(row[1]), int(row[2]))
            for row in session.execute(query.order_by(Enrolment.province_code)).all()]


def _membership_tallies(session: Session, key: InstrumentedAttribute[Any],
                        course_id: int | None, scope: Scope) -> list[tuple[Any, int, int]]:
    """Members of cohorts times the courses their cohort is enrolled in, grouped by `key`:
    how many are enrolled, how many have completed."""
    query = (select(key, func.count(Enrolment.id), func.count(Enrolment.completed_at))
             .select_from(CohortCourse)
             .join(Cohort, Cohort.id == CohortCourse.cohort_id)
             .join(CohortMember, CohortMember.cohort_id == Cohort.id)
             .join(Enrolment, (Enrolment.course_id == CohortCourse.course_id)
                   & (Enrolment.personal_id_number == CohortMember.personal_id_number))
             .group_by(key))
    if course_id is not None:
        query = query.where(CohortCourse.course_id == course_id)
    if scope.ward_code:
        query = query.where(Cohort.ward_code == scope.ward_code)
    elif scope.province_code:
        query = query.where(Cohort.province_code == scope.province_code)
    return [(row[0], int(row[1]), int(row[2])) for row in session.execute(query).all()]


def tally_by_cohort(session: Session, course_id: int | None, scope: Scope) -> list[Tally]:
    return [Tally(str(key), enrolled, completed) for key, enrolled, completed
            in _membership_tallies(session, Cohort.id, course_id, scope)]


def tally_by_school(session: Session, course_id: int | None, scope: Scope) -> list[Tally]:
    return [Tally(str(key), enrolled, completed) for key, enrolled, completed
            in _membership_tallies(session, Cohort.school, course_id, scope) if key]
