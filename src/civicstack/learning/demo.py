"""Demo courses and learners for `make demo`: the ministries' traffic-safety and cyber-safety
courses and Hà Nội's two-tier local government course, cohorts of the demo population (pupils
of Hà Nội and Hồ Chí Minh City by age, a school's class and a list of officials by roster),
their enrolment, and some progress: deterministic from the ID number, so a re-run adds nothing
twice. Not real data."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.errors import DomainError
from civicstack.learning import repository, service
from civicstack.learning.models import Cohort, Course
from civicstack.registry import service as registry
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WalletSite

OFFICER = Actor("cli", "demo-programmes", NATIONAL, Role.PROGRAMME_OFFICER)


@dataclass(frozen=True)
class DemoQuestion:
    prompt: str
    options: tuple[str, ...]
    correct: tuple[int, ...]


@dataclass(frozen=True)
class DemoCourse:
    draft: service.CourseDraft
    lessons: tuple[tuple[str, str], ...]  # title, text
    questions: tuple[DemoQuestion, ...]


COURSES = (
    DemoCourse(
        service.CourseDraft("ATGT-2026", "An toàn giao thông",
                            "Kiến thức và kỹ năng tham gia giao thông an toàn cho học sinh.",
                            "ministry", "Bộ Giáo dục và Đào tạo", None, 75),
        (("Tín hiệu đèn giao thông", "Đèn đỏ: dừng lại trước vạch dừng.\nĐèn vàng: giảm tốc "
          "độ, dừng lại trừ khi đã đi quá vạch.\nĐèn xanh: được đi."),
         ("Đội mũ bảo hiểm đúng cách", "Luôn đội mũ bảo hiểm đạt chuẩn khi đi xe máy, xe đạp "
          "điện; cài quai mũ chắc chắn dưới cằm.")),
        (DemoQuestion("Khi đèn tín hiệu màu đỏ, người đi xe phải làm gì?",
                      ("Đi nhanh qua ngã tư", "Dừng lại trước vạch dừng", "Bấm còi rồi đi"),
                      (1,)),
         DemoQuestion("Những việc nào giúp đi xe máy an toàn?",
                      ("Đội mũ bảo hiểm cài quai", "Vừa đi vừa dùng điện thoại",
                       "Đi đúng làn đường"), (0, 2)),
         DemoQuestion("Học sinh dưới 16 tuổi có được lái xe máy trên 50 cm³ không?",
                      ("Có", "Không"), (1,)))),
    DemoCourse(
        service.CourseDraft("ATKGM-2026", "An toàn không gian mạng",
                            "Nhận biết lừa đảo trực tuyến và bảo vệ dữ liệu cá nhân.",
                            "ministry", "Bộ Công an", None, 75),
        (("Mật khẩu và xác thực hai lớp", "Dùng mật khẩu dài, không dùng lại; bật xác thực "
          "hai lớp cho tài khoản định danh điện tử và mạng xã hội."),
         ("Nhận biết lừa đảo", "Cơ quan nhà nước không bao giờ yêu cầu cung cấp mật khẩu hay "
          "mã OTP qua điện thoại hoặc tin nhắn.")),
        (DemoQuestion("Ai đó gọi điện xưng là công an và hỏi mã OTP của bạn. Bạn làm gì?",
                      ("Đọc mã OTP", "Từ chối và báo cho cơ quan công an"), (1,)),
         DemoQuestion("Những thói quen nào an toàn?",
                      ("Bật xác thực hai lớp", "Dùng một mật khẩu cho mọi tài khoản",
                       "Cập nhật phần mềm thường xuyên"), (0, 2)))),
    DemoCourse(
        service.CourseDraft("CQDP-HN-2026", "Chính quyền địa phương hai cấp",
                            "Tổ chức và hoạt động của chính quyền cấp tỉnh và cấp xã từ ngày "
                            "1/7/2025; thủ tục hành chính trên môi trường số.",
                            "province", "UBND Thành phố Hà Nội", "01", 60),
        (("Mô hình hai cấp", "Từ ngày 1/7/2025 chính quyền địa phương gồm cấp tỉnh và cấp xã; "
          "không còn cấp huyện."),
         ("Giải quyết thủ tục hành chính", "Hồ sơ được tiếp nhận trực tuyến và tại Trung tâm "
          "phục vụ hành chính công cấp xã, không phụ thuộc địa giới.")),
        (DemoQuestion("Chính quyền địa phương gồm những cấp nào?",
                      ("Tỉnh, huyện, xã", "Tỉnh và xã", "Chỉ cấp tỉnh"), (1,)),
         DemoQuestion("Người dân nộp hồ sơ ở đâu?",
                      ("Cổng dịch vụ công", "Trung tâm phục vụ hành chính công cấp xã",
                       "Chỉ tại nơi thường trú"), (0, 1)))),
)


def seed_courses(session: Session) -> int:
    """The three demo courses, written and published; returns how many were new."""
    added = 0
    for demo in COURSES:
        if repository.course_by_code(session, demo.draft.code) is not None:
            continue
        code = service.create_course(session, OFFICER, demo.draft).code
        for title, text in demo.lessons:
            service.add_lesson(session, OFFICER, code, service.LessonDraft("text", title, text))
        for question in demo.questions:
            service.add_question(session, OFFICER, code, question.prompt,
                                 list(question.options), list(question.correct))
        service.publish(session, OFFICER, code)
        added += 1
    return added


@dataclass(frozen=True)
class DemoCohort:
    spec: service.CohortSpec
    ages: tuple[int, int]
    roster_size: int | None  # None: everyone of these ages; else the first ones, as a roster
    courses: tuple[str, ...]


COHORTS = (
    DemoCohort(service.CohortSpec("Học sinh Thành phố Hà Nội", "students", "01"), (6, 18),
               None, ("ATGT-2026", "ATKGM-2026")),
    DemoCohort(service.CohortSpec("Học sinh Thành phố Hồ Chí Minh", "students", "79"), (6, 18),
               None, ("ATGT-2026", "ATKGM-2026")),
    DemoCohort(service.CohortSpec("Học sinh THPT Chu Văn An", "students", "01",
                                  school="Trường THPT Chu Văn An"),
               (15, 18), 30, ("ATGT-2026", "ATKGM-2026")),
    DemoCohort(service.CohortSpec("Cán bộ, công chức cấp xã Hà Nội", "officials", "01"),
               (25, 60), 25, ("CQDP-HN-2026",)),
)


def seed_cohorts(session: Session) -> int:
    """The demo cohorts, each enrolled in its courses; returns how many were new."""
    known = {cohort.name for cohort in service.cohorts_for(session, OFFICER)}
    added = 0
    for demo in COHORTS:
        if demo.spec.name in known:
            continue
        try:
            cohort = _cohort(session, demo)
        except DomainError:  # nobody of these ages in this demo population
            continue
        for code in demo.courses:
            service.enrol_cohort(session, OFFICER, cohort.id, code)
        added += 1
    return added


def _cohort(session: Session, demo: DemoCohort) -> Cohort:
    if demo.roster_size is None:
        return service.create_cohort_by_age(session, OFFICER, demo.spec, *demo.ages)
    people = registry.living_residents_aged(
        session, OFFICER, "draw a demo roster for a learning cohort", demo.spec.province_code,
        None, *demo.ages, date.today())[:demo.roster_size]
    return service.create_cohort_from_roster(session, OFFICER, demo.spec,
                                             "\n".join(people)).cohort


def seed_progress(session: Session, site: WalletSite) -> int:
    """About four in ten learners complete their course (passing the quiz, so the certificate
    is issued), three in ten are part-way; returns how many completed now."""
    completed = 0
    for code in (demo.draft.code for demo in COURSES):
        course = service.course(session, code)
        for number in repository.enrolled_learners(session, course.id):
            share = zlib.crc32(f"{code}:{number}".encode()) % 10
            if share < 7:
                completed += _learn(session, site, course, number, share < 4)
    return completed


def _learn(session: Session, site: WalletSite, course: Course, number: str,
           to_the_end: bool) -> int:
    learner = Actor("citizen", number)
    found = service.progress(session, number, course.code)
    if found.enrolment.completed_at is not None:
        return 0
    lessons = found.lessons if to_the_end else found.lessons[:1]
    for lesson in lessons:
        service.mark_lesson_done(session, learner, number, course.code, lesson.position)
    if not to_the_end:
        return 0
    right = {question.position: list(question.correct) for question in found.questions}
    return int(service.submit_quiz(session, site, learner, number, course.code, right).passed)


def seed_learning(session: Session, site: WalletSite) -> tuple[int, int, int]:
    """Courses, cohorts, progress: (courses added, cohorts added, learners completed)."""
    wallet.seed_catalogue(session)  # the certificate's document type and issuer
    return seed_courses(session), seed_cohorts(session), seed_progress(session, site)
