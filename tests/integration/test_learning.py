"""The learning platform's rules through its service, on both databases: who writes which
course, a published course frozen, cohorts from the register or a roster, enrolment once,
lesson progress, quiz scoring and attempts, the certificate in the wallet, completion rates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import as_utc, transaction
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound
from civicstack.kit.outbox import OutboxMessage
from civicstack.learning import demo, service
from civicstack.learning.models import Course, Enrolment, Lesson
from civicstack.registry import service as registry
from civicstack.registry.models import Person
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WALLET_SITE, WalletSite
from tests.support.learning import (
    HALF_RIGHT,
    HANOI,
    HUE,
    MINISTRY,
    RIGHT,
    enrolled_class,
    go_through_lessons,
    ministry_draft,
    province_draft,
    pupils,
    roster_of,
    write_course,
)
from tests.support.people import CLERK, make_person
from tests.support.uploads import HTML, PDF, PDF_OPENING_JAVASCRIPT, pdf, png_bomb
from tests.support.web import Site


@pytest.fixture
def session(site: Site) -> Iterator[Session]:
    """One transaction for the whole test (rolled back at the end), wallet catalogue loaded."""
    factory = site.services.session_factory
    opened = factory()
    opened.begin()
    wallet.seed_catalogue(opened)
    yield opened
    opened.rollback()
    opened.close()


@pytest.fixture
def wallet_site(site: Site) -> WalletSite:
    found: WalletSite = site.services[WALLET_SITE]
    return found


def citizen(person: Person) -> Actor:
    return Actor("citizen", person.personal_id_number)


def submit(session: Session, site: WalletSite, person: Person, course: Course,
           answers: dict[int, list[int]]) -> bool:
    return service.submit_quiz(session, site, citizen(person), person.personal_id_number,
                               course.code, answers).passed


# --- courses --------------------------------------------------------------------------------

def test_a_ministry_course_is_written_by_national_officials_only(session: Session) -> None:
    with pytest.raises(Forbidden):
        service.create_course(session, HANOI, ministry_draft())
    assert service.create_course(session, MINISTRY, ministry_draft()).province_code is None


def test_a_province_course_is_written_by_that_provinces_officials(session: Session) -> None:
    with pytest.raises(Forbidden):
        service.create_course(session, HUE, province_draft())
    ward_officer = Actor("official", "programme.badinh", Scope.ward("01", "00004"),
                         Role.PROGRAMME_OFFICER)
    with pytest.raises(Forbidden):
        service.create_course(session, ward_officer, province_draft())
    course = service.create_course(session, HANOI, province_draft())
    assert (course.province_code, course.status) == ("01", "draft")
    with pytest.raises(Forbidden):  # nor can Huế's officer add to it
        service.add_lesson(session, HUE, course.code, service.LessonDraft("text", "T", "B"))


def test_officials_without_learning_manage_are_refused(session: Session) -> None:
    police = Actor("official", "police.hanoi", Scope.province("01"), Role.POLICE)
    with pytest.raises(Forbidden):
        service.create_course(session, police, province_draft())
    with pytest.raises(Forbidden):
        service.cohorts_for(session, police)
    with pytest.raises(Forbidden):
        service.completion_rates(session, police)


@pytest.mark.parametrize(("draft", "field"), [
    (service.CourseDraft("a b", "T", "S", "ministry", "Bộ", None, 80), "code"),
    (service.CourseDraft("ATGT-1", " ", "S", "ministry", "Bộ", None, 80), "title"),
    (service.CourseDraft("ATGT-1", "T", "S", "school", "Bộ", None, 80), "publisher_kind"),
    (service.CourseDraft("ATGT-1", "T", "S", "ministry", "Bộ", None, 0), "pass_mark"),
    (service.CourseDraft("ATGT-1", "T", "S", "province", "UBND", "99", 80), "province_code"),
])
def test_a_course_with_bad_details_is_refused_by_field(session: Session,
                                                        draft: service.CourseDraft,
                                                        field: str) -> None:
    with pytest.raises(Invalid) as refused:
        service.create_course(session, MINISTRY, draft)
    assert refused.value.errors[0].field == field


def test_course_codes_are_unique(session: Session) -> None:
    service.create_course(session, MINISTRY, ministry_draft())
    with pytest.raises(Conflict):
        service.create_course(session, MINISTRY, ministry_draft("atgt-2026"))


@pytest.mark.parametrize("url", ["http://video.example.vn/a", "javascript:alert(1)",
                                 "https://", "https://video.example.vn/a b", "/local/video"])
def test_a_video_lesson_takes_only_an_https_link(session: Session, url: str) -> None:
    course = service.create_course(session, MINISTRY, ministry_draft())
    with pytest.raises(Invalid) as refused:
        service.add_lesson(session, MINISTRY, course.code,
                           service.LessonDraft("video", "Video", video_url=url))
    assert refused.value.errors[0].field == "video_url"


@pytest.mark.parametrize("url", [
    "https://www.youtube.com/results?search_query=%C4%91%E1%BB%99i+m%C5%A9+b%E1%BA%A3o+hi%E1%BB%83m",
    "https://www.google.com/search?q=video+an+toan+giao+thong",
    "https://coccoc.com/search?query=an+toan+giao+thong", "https://video.example.vn/search/",
    "https://video.example.vn/watch?search_query=mu"])
def test_a_video_lesson_is_the_video_itself_never_a_search_for_it(session: Session,
                                                                  url: str) -> None:
    course = service.create_course(session, MINISTRY, ministry_draft())
    with pytest.raises(Invalid) as refused:
        service.add_lesson(session, MINISTRY, course.code,
                           service.LessonDraft("video", "Video", video_url=url))
    assert (refused.value.errors[0].field, refused.value.errors[0].reason) == (
        "video_url", "give the address of the video itself, not of a search for it")


def test_the_demo_courses_send_no_learner_to_a_search_page(session: Session) -> None:
    assert demo.seed_courses(session) == 3
    addresses = session.scalars(select(Lesson.video_url).where(
        Lesson.video_url.is_not(None))).all()
    assert [url for url in addresses
            if urlsplit(url).path.rstrip("/") in ("/results", "/search")] == []


@pytest.mark.parametrize(("file_type", "content"), [
    ("text/html", b"<script>alert(1)</script>"),  # not a type learners may open
    ("application/pdf", b"<html>not a pdf</html>"),  # the content is not what it claims
    ("application/pdf", PDF + b"0" * service.MAX_FILE_BYTES),  # too large
    ("application/pdf", b""),
    ("application/pdf", PDF_OPENING_JAVASCRIPT),  # runs a script when a learner opens it
    ("application/pdf", pdf(before=HTML)),  # a web page too
    ("image/png", png_bomb()),  # 400 million pixels in 50 KB
])
def test_a_file_lesson_is_refused_unless_a_small_pdf_or_image(session: Session, file_type: str,
                                                               content: bytes) -> None:
    course = service.create_course(session, MINISTRY, ministry_draft())
    with pytest.raises(Invalid) as refused:
        service.add_lesson(session, MINISTRY, course.code, service.LessonDraft(
            "file", "Tài liệu", file_name="a.pdf", file_type=file_type, file_content=content))
    assert refused.value.errors[0].field == "file"


def test_a_file_lesson_keeps_a_pdf_under_its_base_name(session: Session) -> None:
    course = service.create_course(session, MINISTRY, ministry_draft())
    lesson = service.add_lesson(session, MINISTRY, course.code, service.LessonDraft(
        "file", "Tài liệu", file_name="C:\\docs\\luat.pdf", file_type="application/pdf",
        file_content=PDF))
    assert (lesson.position, lesson.file_name, lesson.file_content) == (1, "luat.pdf", PDF)


@pytest.mark.parametrize(("options", "correct", "field"), [
    (["Chỉ một"], [0], "options"),
    (["A", "B"], [], "correct"),
    (["A", "B"], [2], "correct"),
])
def test_a_question_needs_options_and_a_right_answer(session: Session, options: list[str],
                                                     correct: list[int], field: str) -> None:
    course = service.create_course(session, MINISTRY, ministry_draft())
    with pytest.raises(Invalid) as refused:
        service.add_question(session, MINISTRY, course.code, "Câu hỏi?", options, correct)
    assert refused.value.errors[0].field == field


def test_publishing_needs_a_lesson_and_a_quiz(session: Session) -> None:
    course = service.create_course(session, MINISTRY, ministry_draft())
    with pytest.raises(Conflict, match="lesson"):
        service.publish(session, MINISTRY, course.code)
    service.add_lesson(session, MINISTRY, course.code, service.LessonDraft("text", "T", "B"))
    with pytest.raises(Conflict, match="quiz"):
        service.publish(session, MINISTRY, course.code)


def test_a_published_course_is_frozen(session: Session) -> None:
    course = write_course(session, MINISTRY, ministry_draft())
    assert course.status == "published"
    with pytest.raises(Conflict, match="frozen"):
        service.add_lesson(session, MINISTRY, course.code, service.LessonDraft("text", "T", "B"))
    with pytest.raises(Conflict, match="frozen"):
        service.add_question(session, MINISTRY, course.code, "?", ["A", "B"], [0])
    with pytest.raises(Conflict, match="frozen"):
        service.publish(session, MINISTRY, course.code)


# --- cohorts and enrolment ------------------------------------------------------------------

def test_a_cohort_by_age_takes_the_living_residents_of_the_province_of_that_age(
        session: Session) -> None:
    today = date(2026, 12, 1)
    six = make_person(session, "Sáu Tuổi", date(2020, 12, 1))  # 6 today
    eighteen = make_person(session, "Mười Tám", date(2007, 12, 2))  # 18 until tomorrow
    make_person(session, "Năm Tuổi", date(2020, 12, 2))  # 6 tomorrow
    make_person(session, "Mười Chín", date(2007, 12, 1))  # 19 today
    make_person(session, "Ở Huế", date(2015, 1, 1), province_code="46",
                legacy_province_code="46")
    gone = make_person(session, "Đã Mất", date(2015, 1, 1))
    registry.record_death(session, CLERK, gone.personal_id_number, date(2026, 1, 1), "ốm")
    cohort = service.create_cohort_by_age(session, HANOI, service.CohortSpec(
        "Học sinh Hà Nội", "students", "01"), 6, 18, today)
    assert service.cohort_members(session, cohort) == sorted(
        [six.personal_id_number, eighteen.personal_id_number])
    assert cohort.rule == {"min_age": 6, "max_age": 18}
    listed = session.scalar(select(func.count(AuditEntry.seq)).where(
        AuditEntry.action == "registry.person.listed", AuditEntry.actor == str(HANOI)))
    assert listed == 2  # each member drawn from the register is an audited read


def test_a_cohort_outside_the_officials_scope_is_refused(session: Session) -> None:
    with pytest.raises(Forbidden):
        service.create_cohort_by_age(session, HANOI, service.CohortSpec(
            "Học sinh Huế", "students", "46"), 6, 18)
    with pytest.raises(Invalid) as refused:  # a ward of another province
        service.create_cohort_by_age(session, HANOI, service.CohortSpec(
            "Học sinh", "students", "01", ward_code="99999"), 6, 18)
    assert refused.value.errors[0].field == "ward_code"


def test_a_roster_reports_each_bad_row_and_keeps_the_good_ones(session: Session) -> None:
    good = pupils(session, 2)
    in_hue = make_person(session, "Ở Huế", date(2015, 1, 1), province_code="46",
                         legacy_province_code="46")
    roster = (roster_of(good) + "12345\n" + good[0].personal_id_number + "\n"
              + in_hue.personal_id_number + "\n" + "001099999999\n\n")
    report = service.create_cohort_from_roster(session, HANOI, service.CohortSpec(
        "Lớp 6A", "students", "01", school="Trường THCS Ba Đình"), roster)
    assert report.members == 2
    assert [(bad.line, bad.reason) for bad in report.bad_rows] == [
        (4, "not a 12-digit personal ID number"),
        (5, "listed twice"),
        (6, "no living person with this ID number within your scope"),
        (7, "no living person with this ID number within your scope")]
    assert service.cohort_members(session, report.cohort) == sorted(
        p.personal_id_number for p in good)


def test_a_roster_without_one_good_row_makes_no_cohort(session: Session) -> None:
    with pytest.raises(Invalid) as refused:
        service.create_cohort_from_roster(session, HANOI, service.CohortSpec(
            "Lớp trống", "students", "01"), "personal_id_number\nabc\n")
    assert refused.value.errors[0].field == "roster"
    assert service.cohorts_for(session, HANOI) == []


def test_enrolling_a_cohort_twice_enrols_each_member_once_and_keeps_progress(
        session: Session) -> None:
    course = write_course(session, MINISTRY, ministry_draft())
    first, second = pupils(session, 2)
    cohort = enrolled_class(session, course, [first, second])
    go_through_lessons(session, first, course)
    again = service.enrol_cohort(session, HANOI, cohort.id, course.code)
    assert (again.enrolled, again.already) == (0, 2)
    # a second cohort holding the same pupil adds no second enrolment either
    other = service.create_cohort_from_roster(session, HANOI, service.CohortSpec(
        "CLB An toàn", "students", "01"), roster_of([first]))
    assert service.enrol_cohort(session, HANOI, other.cohort.id, course.code).already == 1
    assert session.scalar(select(func.count(Enrolment.id))) == 2
    assert service.progress(session, first.personal_id_number, course.code).percent == 100


def test_the_same_learners_enrolled_at_the_same_moment_are_refused_not_an_error(
        session_factory: sessionmaker[Session], database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes one writer at a time: this race needs PostgreSQL")
    with transaction(session_factory) as session:
        code = write_course(session, MINISTRY, ministry_draft()).code
        people = pupils(session, 2)
        first, second = (service.create_cohort_from_roster(session, HANOI, service.CohortSpec(
            name, "students", "01"), roster_of(people)).cohort.id
            for name in ("Lớp 9A", "CLB An toàn"))
    racing, raced = session_factory(), []

    def another_official_enrols_them_first(flushing: Session, *_: object) -> None:
        if not raced and any(isinstance(row, Enrolment) for row in flushing.new):
            raced.append(True)
            with transaction(session_factory) as other:
                service.enrol_cohort(other, HANOI, second, code)

    event.listen(racing, "before_flush", another_official_enrols_them_first)
    with racing, pytest.raises(Conflict, match="same moment"):
        service.enrol_cohort(racing, HANOI, first, code)
    with transaction(session_factory) as session:
        assert session.scalar(select(func.count(Enrolment.id))) == 2


def test_only_a_published_course_takes_a_cohort_and_a_provinces_only_its_own(
        session: Session) -> None:
    draft = write_course(session, MINISTRY, ministry_draft(), publish=False)
    hue_course = write_course(session, HUE, province_draft("CQDP-46", "46"))
    cohort = service.create_cohort_from_roster(session, HANOI, service.CohortSpec(
        "Lớp 6A", "students", "01"), roster_of(pupils(session, 1))).cohort
    with pytest.raises(Conflict, match="published"):
        service.enrol_cohort(session, HANOI, cohort.id, draft.code)
    with pytest.raises(Conflict, match="province"):
        service.enrol_cohort(session, HANOI, cohort.id, hue_course.code)
    with pytest.raises(Forbidden):  # Huế's officer cannot reach Hà Nội's cohort
        service.enrol_cohort(session, HUE, cohort.id, hue_course.code)


# --- learning and the quiz ------------------------------------------------------------------

def test_a_learner_not_enrolled_is_told_the_course_is_not_theirs(session: Session) -> None:
    course = write_course(session, MINISTRY, ministry_draft())
    outsider = make_person(session, "Người Ngoài", date(2010, 1, 1))
    with pytest.raises(NotFound):
        service.progress(session, outsider.personal_id_number, course.code)
    with pytest.raises(NotFound):
        service.mark_lesson_done(session, citizen(outsider), outsider.personal_id_number,
                                 course.code, 1)


def test_a_lesson_is_done_once_confirmed_and_confirming_twice_changes_nothing(
        session: Session) -> None:
    course = write_course(session, MINISTRY, ministry_draft())
    (pupil,) = pupils(session, 1)
    enrolled_class(session, course, [pupil])
    pid = pupil.personal_id_number
    assert service.progress(session, pid, course.code).percent == 0
    service.mark_lesson_done(session, citizen(pupil), pid, course.code, 1)
    service.mark_lesson_done(session, citizen(pupil), pid, course.code, 1)
    assert service.progress(session, pid, course.code).percent == 50
    with pytest.raises(NotFound):
        service.mark_lesson_done(session, citizen(pupil), pid, course.code, 3)


def test_a_multi_answer_question_is_right_only_when_the_chosen_set_is_the_right_set(
        session: Session) -> None:
    course = write_course(session, MINISTRY, ministry_draft(), publish=False)
    questions = service.outline(session, course).questions
    assert service.score(questions, RIGHT) == 2
    assert service.score(questions, {1: [1], 2: [2, 0, 0]}) == 2  # order and repeats ignored
    assert service.score(questions, HALF_RIGHT) == 1  # one box too many
    assert service.score(questions, {1: [1], 2: [0]}) == 1  # one box too few
    assert service.score(questions, {}) == 0


@pytest.mark.parametrize(("correct", "total", "pass_mark", "passed"), [
    (2, 3, 67, False),  # 66.67 % is below 67 % even though it rounds to 67
    (2, 3, 66, True), (1, 2, 50, True), (0, 2, 1, False), (5, 5, 100, True), (4, 5, 100, False),
])
def test_the_pass_mark_is_compared_exactly(correct: int, total: int, pass_mark: int,
                                           passed: bool) -> None:
    assert service.passes(correct, total, pass_mark) is passed


def test_the_quiz_waits_until_every_lesson_is_done(session: Session,
                                                   wallet_site: WalletSite) -> None:
    course = write_course(session, MINISTRY, ministry_draft())
    (pupil,) = pupils(session, 1)
    enrolled_class(session, course, [pupil])
    service.mark_lesson_done(session, citizen(pupil), pupil.personal_id_number, course.code, 1)
    with pytest.raises(Conflict, match="every lesson"):
        submit(session, wallet_site, pupil, course, RIGHT)


def test_answers_naming_unknown_options_or_questions_are_refused(
        session: Session, wallet_site: WalletSite) -> None:
    course = write_course(session, MINISTRY, ministry_draft())
    (pupil,) = pupils(session, 1)
    enrolled_class(session, course, [pupil])
    go_through_lessons(session, pupil, course)
    with pytest.raises(Invalid) as refused:
        submit(session, wallet_site, pupil, course, {1: [7], 9: [0]})
    assert {e.field for e in refused.value.errors} == {"q1", "q9"}


def test_three_attempts_a_day_then_the_quiz_waits(session: Session,
                                                  wallet_site: WalletSite) -> None:
    course = write_course(session, MINISTRY, ministry_draft())  # pass mark 100 %
    (pupil,) = pupils(session, 1)
    enrolled_class(session, course, [pupil])
    go_through_lessons(session, pupil, course)
    for _ in range(service.ATTEMPTS_PER_DAY):
        assert not submit(session, wallet_site, pupil, course, HALF_RIGHT)
    with pytest.raises(Conflict, match="tomorrow"):
        submit(session, wallet_site, pupil, course, RIGHT)


def test_passing_completes_the_course_with_one_certificate_in_the_wallet(
        session: Session, wallet_site: WalletSite) -> None:
    course = write_course(session, MINISTRY, ministry_draft())
    (pupil,) = pupils(session, 1)
    enrolled_class(session, course, [pupil])
    go_through_lessons(session, pupil, course)
    assert submit(session, wallet_site, pupil, course, RIGHT)
    assert submit(session, wallet_site, pupil, course, RIGHT)  # passing again: no second one
    enrolment = service.progress(session, pupil.personal_id_number, course.code).enrolment
    assert enrolment.completed_at is not None
    assert enrolment.score == 100
    cards = [card for card in wallet.cards(session, wallet_site, pupil.personal_id_number)
             if card.document.code == "course_certificate"]
    assert len(cards) == 1
    assert cards[0].credential.public_id == enrolment.certificate_id
    claims = cards[0].claims
    assert (claims["full_name"], claims["course_title"], claims["publisher"], claims["score"]) \
        == (pupil.full_name, "An toàn giao thông", "Bộ Công an", 100)
    assert claims["completed_on"] == as_utc(enrolment.completed_at).astimezone(
        ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()  # the day in Vietnam
    sms = session.scalars(select(OutboxMessage).where(
        OutboxMessage.recipient == pupil.phone)).all()
    assert [message.body for message in sms if "ATGT-2026" in message.body]


def test_a_pass_below_100_is_the_score_on_the_certificate(session: Session,
                                                          wallet_site: WalletSite) -> None:
    course = write_course(session, HANOI, province_draft())  # pass mark 50 %
    (pupil,) = pupils(session, 1)
    enrolled_class(session, course, [pupil])
    go_through_lessons(session, pupil, course)
    assert submit(session, wallet_site, pupil, course, HALF_RIGHT)
    assert service.progress(session, pupil.personal_id_number, course.code).enrolment.score == 50


# --- completion rates -----------------------------------------------------------------------

def test_completion_rates_per_province_school_and_cohort_within_scope(
        session: Session, wallet_site: WalletSite) -> None:
    course = write_course(session, MINISTRY, ministry_draft())
    done, waiting = pupils(session, 2)
    enrolled_class(session, course, [done, waiting], school="Trường THCS Ba Đình")
    hue_pupils = pupils(session, 1, province_code="46")
    hue_cohort = service.create_cohort_from_roster(session, HUE, service.CohortSpec(
        "Lớp 6B", "students", "46", school="Trường THCS Huế"), roster_of(hue_pupils)).cohort
    service.enrol_cohort(session, HUE, hue_cohort.id, course.code)
    go_through_lessons(session, done, course)
    submit(session, wallet_site, done, course, RIGHT)

    national = service.completion_rates(session, MINISTRY, course.code)
    assert [(r.label, r.enrolled, r.completed) for r in national.by_province] == [
        ("Thành phố Hà Nội", 2, 1), ("Thành phố Huế", 1, 0)]
    assert {r.label: r.rate for r in national.by_school} == {
        "Trường THCS Ba Đình": 0.5, "Trường THCS Huế": 0.0}
    assert [(r.label, r.rate, r.meets_target) for r in national.by_cohort] == [
        ("Lớp 6A", 0.5, False), ("Lớp 6B", 0.0, False)]

    hanoi = service.completion_rates(session, HANOI)
    assert [r.label for r in hanoi.by_province] == ["Thành phố Hà Nội"]
    assert [r.label for r in hanoi.by_cohort] == ["Lớp 6A"]
    assert [(r.label, r.enrolled) for r in service.public_rates(session)] == [
        ("Thành phố Hà Nội", 2), ("Thành phố Huế", 1)]


def test_a_cohort_where_everyone_completed_meets_the_target(session: Session,
                                                            wallet_site: WalletSite) -> None:
    course = write_course(session, MINISTRY, ministry_draft())
    (pupil,) = pupils(session, 1)
    enrolled_class(session, course, [pupil])
    go_through_lessons(session, pupil, course)
    submit(session, wallet_site, pupil, course, RIGHT)
    (rate,) = service.completion_rates(session, HANOI, course.code).by_cohort
    assert (rate.rate, rate.meets_target) == (1.0, True)


def test_every_change_is_audited_in_the_same_transaction(site: Site) -> None:
    factory = site.services.session_factory
    with transaction(factory) as opened:
        write_course(opened, MINISTRY, ministry_draft())
    with transaction(factory) as opened:
        actions = opened.scalars(select(AuditEntry.action).where(
            AuditEntry.subject_id == "ATGT-2026").order_by(AuditEntry.seq)).all()
    assert actions == ["learning.course.create", "learning.lesson.add", "learning.lesson.add",
                       "learning.question.add", "learning.question.add",
                       "learning.course.publish"]
