"""Builders for learning tests: courses written and published through the service, officials
of the programme, and a cohort of learners enrolled in a course."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role, Scope
from civicstack.learning import service
from civicstack.learning.models import Cohort, Course
from civicstack.registry.models import Person
from tests.support.people import make_person

MINISTRY = Actor("official", "programme.bocongan", NATIONAL, Role.PROGRAMME_OFFICER)
HANOI = Actor("official", "programme.hanoi", Scope.province("01"), Role.PROGRAMME_OFFICER)
HUE = Actor("official", "programme.hue", Scope.province("46"), Role.PROGRAMME_OFFICER)
# The two questions of every test course: one single answer (B), one multi-answer (A and C).
RIGHT = {1: [1], 2: [0, 2]}
HALF_RIGHT = {1: [1], 2: [0, 1, 2]}


def ministry_draft(code: str = "ATGT-2026") -> service.CourseDraft:
    return service.CourseDraft(code, "An toàn giao thông", "Luật giao thông cho học sinh.",
                               "ministry", "Bộ Công an", None, 100)


def province_draft(code: str = "CQDP-01", province_code: str = "01") -> service.CourseDraft:
    return service.CourseDraft(code, "Chính quyền địa phương hai cấp", "Tổ chức mới.",
                               "province", "UBND Thành phố Hà Nội", province_code, 50)


def write_course(session: Session, actor: Actor, draft: service.CourseDraft,
                 publish: bool = True) -> Course:
    """A course of two lessons (a text and a video link) and a two-question quiz."""
    course = service.create_course(session, actor, draft)
    service.add_lesson(session, actor, course.code, service.LessonDraft(
        "text", "Đèn tín hiệu", "Đèn đỏ: dừng lại.\nĐèn xanh: được đi."))
    service.add_lesson(session, actor, course.code, service.LessonDraft(
        "video", "Đội mũ bảo hiểm", "Xem video.", video_url="https://video.example.vn/mu"))
    service.add_question(session, actor, course.code, "Đèn đỏ nghĩa là gì?",
                         ["Được đi", "Dừng lại", "Đi chậm"], [1])
    service.add_question(session, actor, course.code, "Chọn các hành vi an toàn",
                         ["Đội mũ bảo hiểm", "Vượt đèn đỏ", "Đi bên phải"], [0, 2])
    return service.publish(session, actor, course.code) if publish else course


def pupils(session: Session, count: int = 2, province_code: str = "01") -> list[Person]:
    """Children of school age (about 10) living in the province."""
    return [make_person(session, f"Học Sinh Số {i}", date(2016, 3, 1 + i),
                        province_code=province_code, legacy_province_code=province_code)
            for i in range(count)]


def roster_of(people: list[Person]) -> str:
    return "personal_id_number\n" + "".join(f"{p.personal_id_number}\n" for p in people)


def enrolled_class(session: Session, course: Course, people: list[Person],
                   school: str = "Trường THCS Ba Đình") -> Cohort:
    """A roster cohort of these people in Hà Nội, enrolled in the course."""
    report = service.create_cohort_from_roster(session, HANOI, service.CohortSpec(
        "Lớp 6A", "students", "01", school=school), roster_of(people))
    service.enrol_cohort(session, HANOI, report.cohort.id, course.code)
    return report.cohort


def go_through_lessons(session: Session, person: Person, course: Course) -> None:
    learner = Actor("citizen", person.personal_id_number)
    for position in (1, 2):
        service.mark_lesson_done(session, learner, person.personal_id_number, course.code,
                                 position)
