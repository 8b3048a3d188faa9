"""The learning platform through the real app, on both databases: programme officers write,
publish and enrol in the console (refusals included); a learner signed in with their eID goes
through the lessons, passes the quiz and finds the certificate in the wallet; the public
figures."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.learning import service
from civicstack.learning.models import Course
from civicstack.registry.models import Person
from civicstack.wallet.service import seed_catalogue
from tests.integration.test_identity_web import citizen_sign_in
from tests.support.eid import make_active_account
from tests.support.learning import (
    MINISTRY,
    enrolled_class,
    ministry_draft,
    pupils,
    roster_of,
    write_course,
)
from tests.support.people import make_person
from tests.support.uploads import PDF
from tests.support.web import CSRF_PATTERN, Site

PROGRAMME_HANOI = (Role.PROGRAMME_OFFICER, Scope.province("01"))
COURSE_FORM = {"code": "CQDP-01", "title": "Chính quyền địa phương hai cấp",
               "summary": "Tổ chức chính quyền mới.", "publisher_kind": "province",
               "publisher": "UBND Thành phố Hà Nội", "province_code": "01", "pass_mark": "50"}


def csrf_of(site: Site, path: str) -> str:
    found = CSRF_PATTERN.search(site.client.get(path).text)
    assert found, f"no form on {path}"
    return found.group(1)


def post(site: Site, path: str, data: dict[str, str], page: str,
         files: dict[str, tuple[str, bytes, str]] | None = None) -> tuple[int, str]:
    response = site.client.post(path, data={**data, "csrf_token": csrf_of(site, page)},
                                files=files or {}, follow_redirects=False)
    return response.status_code, response.text


@pytest.fixture
def student(site: Site, tmp_path: Path) -> Person:
    """Lê Minh Khang, 16, of Hà Nội, enrolled with his class in the ministry's traffic-safety
    course and signed in to the portal with his eID."""
    factory = site.services.session_factory
    with transaction(factory) as session:
        seed_catalogue(session)
        course = write_course(session, MINISTRY, ministry_draft())
        person = make_person(session, "Lê Minh Khang", date(2010, 4, 2))
        enrolled_class(session, course, [person])
    make_active_account(factory, site.services.pepper, person, tmp_path / "mailbox")
    assert citizen_sign_in(site, person) == 303
    return person


# --- the console ----------------------------------------------------------------------------

def test_a_programme_officer_writes_a_course_with_each_kind_of_lesson_and_publishes_it(
        site: Site) -> None:
    site.sign_in_as(*PROGRAMME_HANOI)
    assert post(site, "/console/learning/courses", COURSE_FORM, "/console/learning")[0] == 303
    page = "/console/learning/courses/CQDP-01"
    for lesson, files in (
            ({"kind": "text", "title": "Cấp tỉnh và cấp xã", "body": "Hai cấp."}, None),
            ({"kind": "video", "title": "Video", "video_url": "https://video.example.vn/a"},
             None),
            ({"kind": "file", "title": "Nghị định"},
             {"file": ("nghi-dinh.pdf", PDF, "application/pdf")})):
        assert post(site, f"{page}/lessons", lesson, page, files)[0] == 303
    assert post(site, f"{page}/questions", {
        "prompt": "Có mấy cấp chính quyền địa phương?", "option_0": "Hai", "option_1": "",
        "option_2": "Ba", "correct": "0"}, page)[0] == 303
    assert post(site, f"{page}/publish", {}, page)[0] == 303
    shown = site.client.get(page).text
    assert "nghi-dinh.pdf" in shown
    assert "https://video.example.vn/a" in shown
    assert 'id="course-state">Đã công bố' in shown
    assert 'action="/console/learning/courses/CQDP-01/lessons"' not in shown  # frozen


def test_course_and_lesson_errors_are_shown_next_to_their_fields(site: Site) -> None:
    site.sign_in_as(*PROGRAMME_HANOI)
    status, html = post(site, "/console/learning/courses", {**COURSE_FORM, "code": "a b"},
                        "/console/learning")
    assert status == 422
    assert 'id="code-error"' in html
    post(site, "/console/learning/courses", COURSE_FORM, "/console/learning")
    page = "/console/learning/courses/CQDP-01"
    status, html = post(site, f"{page}/lessons", {
        "kind": "video", "title": "Video", "video_url": "http://video.example.vn/a"}, page)
    assert status == 422
    assert 'id="video_url-error"' in html
    assert 'value="http://video.example.vn/a"' in html  # what was typed is kept
    status, html = post(site, f"{page}/lessons", {"kind": "file", "title": "Trang"}, page,
                        {"file": ("trang.html", b"<script>x</script>", "text/html")})
    assert status == 422
    assert 'id="file-error"' in html
    status, html = post(site, f"{page}/questions", {"prompt": "Một phương án?",
                                                    "option_0": "Duy nhất", "correct": "0"}, page)
    assert status == 422
    assert "nhập từ hai đến tám phương án" in html
    assert 'value="Duy nhất"' in html


def test_a_province_officer_cannot_write_a_ministrys_course(site: Site) -> None:
    site.sign_in_as(*PROGRAMME_HANOI)
    status, html = post(site, "/console/learning/courses",
                        {**COURSE_FORM, "publisher_kind": "ministry"}, "/console/learning")
    assert status == 403
    assert "Bộ" in html or "ministry" in html


def test_officials_without_learning_manage_are_refused_and_strangers_sent_to_sign_in(
        site: Site) -> None:
    assert site.client.get("/console/learning", follow_redirects=False).status_code == 303
    site.sign_in_as(Role.POLICE, Scope.province("01"))
    for path in ("/console/learning", "/console/learning/cohorts",
                 "/console/learning/dashboard"):
        assert site.client.get(path).status_code == 403, path
    assert 'href="/console/learning"' not in site.client.get("/console/dossiers").text


def test_a_provinces_course_is_not_shown_to_another_provinces_officials(site: Site) -> None:
    site.sign_in_as(*PROGRAMME_HANOI)
    post(site, "/console/learning/courses", COURSE_FORM, "/console/learning")
    site.sign_in_as(Role.PROGRAMME_OFFICER, Scope.province("46"))
    assert site.client.get("/console/learning/courses/CQDP-01").status_code == 403
    assert "CQDP-01" not in site.client.get("/console/learning").text
    site.sign_in_as(Role.ADMIN)
    assert site.client.get("/console/learning/courses/CQDP-01").status_code == 200


def test_a_console_form_without_its_csrf_token_is_refused(site: Site) -> None:
    site.sign_in_as(*PROGRAMME_HANOI)
    response = site.client.post("/console/learning/courses", data=COURSE_FORM)
    assert response.status_code == 403


def test_a_roster_upload_reports_each_bad_row_and_the_cohort_is_enrolled_once(
        site: Site) -> None:
    with transaction(site.services.session_factory) as session:
        write_course(session, MINISTRY, ministry_draft())
        good = pupils(session, 2)
    site.sign_in_as(*PROGRAMME_HANOI)
    roster = roster_of(good) + "12345\n"
    status, html = post(site, "/console/learning/cohorts/roster", {
        "name": "Lớp 6A", "kind": "students", "province_code": "01", "ward_code": "",
        "school": "Trường THCS Ba Đình"}, "/console/learning/cohorts",
        {"roster": ("lop6a.csv", roster.encode(), "text/csv")})
    assert status == 201, re.findall(r'class="error"[^>]*>([^<]*)', html)
    assert "2 thành viên" in html
    assert re.search(r"<td>4</td><td>12345</td><td>[^<]*12 chữ số", html)
    cohort_page = re.search(r'action="(/console/learning/cohorts/\d+)/enrol"', html)
    assert cohort_page
    path = cohort_page.group(1)
    for enrolled, already in ((2, 0), (0, 2)):  # enrolling again enrols nobody twice
        response = site.client.post(f"{path}/enrol", follow_redirects=False, data={
            "course": "ATGT-2026", "csrf_token": csrf_of(site, path)})
        assert response.headers["location"] == f"{path}?enrolled={enrolled}&already={already}"
    assert 'id="enrol-report"' in site.client.get(f"{path}?enrolled=0&already=2").text


def test_a_roster_that_names_nobody_makes_no_cohort(site: Site) -> None:
    site.sign_in_as(*PROGRAMME_HANOI)
    status, html = post(site, "/console/learning/cohorts/roster", {
        "name": "Lớp trống", "kind": "students", "province_code": "01", "ward_code": "",
        "school": ""}, "/console/learning/cohorts",
        {"roster": ("trong.csv", b"abc\n", "text/csv")})
    assert status == 422
    assert 'id="roster-error"' in html
    assert html.count('value="Lớp trống"') == 1  # kept in the roster form, not the other one


def test_a_cohort_of_another_province_is_refused(site: Site) -> None:
    site.sign_in_as(*PROGRAMME_HANOI)
    status, _ = post(site, "/console/learning/cohorts/by-age", {
        "name": "Học sinh Huế", "kind": "students", "province_code": "46", "ward_code": "",
        "school": "", "min_age": "6", "max_age": "18"}, "/console/learning/cohorts")
    assert status == 403


def test_the_dashboard_draws_each_rate_against_the_100_percent_target(site: Site) -> None:
    with transaction(site.services.session_factory) as session:
        course = write_course(session, MINISTRY, ministry_draft())
        enrolled_class(session, course, pupils(session, 2))
    site.sign_in_as(*PROGRAMME_HANOI)
    html = site.client.get("/console/learning/dashboard?course=ATGT-2026").text
    for chart in ("province", "school", "cohort"):
        assert f'data-chart="{chart}"' in html
    assert 'data-target="1.0"' in html
    assert "Mục tiêu 100 %" in html
    # The page is in Vietnamese: a decimal comma.
    assert re.search(r'<th scope="row">Lớp 6A</th><td>2</td><td>0</td>\s*<td>0,0%', html)
    public = site.client.get("/learning/statistics").text
    assert 'data-chart="provinces"' in public
    assert "Lớp 6A" not in public  # the public page counts provinces, not cohorts


# --- the learner ----------------------------------------------------------------------------

def lesson_done(site: Site, position: int) -> str:
    page = f"/learning/courses/ATGT-2026/lessons/{position}"
    response = site.client.post(f"{page}/done", follow_redirects=False,
                                data={"csrf_token": csrf_of(site, page)})
    assert response.status_code == 303
    return str(response.headers["location"])


def answer(site: Site, answers: dict[str, list[str]]) -> int:
    page = "/learning/courses/ATGT-2026/quiz"
    return site.client.post(page, follow_redirects=False,
                            data={**answers, "csrf_token": csrf_of(site, page)}).status_code


def test_a_learner_goes_through_the_lessons_passes_the_quiz_and_finds_the_certificate(
        site: Site, student: Person) -> None:
    assert 'data-course="ATGT-2026"' in site.client.get("/learning").text
    course_page = site.client.get("/learning/courses/ATGT-2026").text
    assert "Bài kiểm tra mở khi" in course_page  # the quiz waits for the lessons
    assert lesson_done(site, 1) == "/learning/courses/ATGT-2026/lessons/2"
    video = site.client.get("/learning/courses/ATGT-2026/lessons/2").text
    assert 'href="https://video.example.vn/mu" rel="noopener noreferrer"' in video
    assert "<iframe" not in video
    assert lesson_done(site, 2) == "/learning/courses/ATGT-2026"
    assert answer(site, {"q1": ["1"], "q2": ["0", "2"]}) == 303
    done = site.client.get("/learning/courses/ATGT-2026").text
    assert 'id="completed"' in done
    wallet_page = site.client.get("/wallet").text
    assert "Chứng nhận hoàn thành khóa học" in wallet_page
    assert "Nền tảng Bình dân học vụ số" in wallet_page


def test_a_failed_attempt_is_shown_with_its_score_and_no_certificate(
        site: Site, student: Person) -> None:
    lesson_done(site, 1)
    lesson_done(site, 2)
    assert answer(site, {"q1": ["0"], "q2": ["0"]}) == 303
    page = site.client.get("/learning/courses/ATGT-2026").text
    assert re.search(r'id="last-attempt">[^<]*0[^<]*2', page)
    assert "Chứng nhận hoàn thành khóa học" not in site.client.get("/wallet").text


def test_an_answer_naming_no_option_is_shown_by_its_question(site: Site,
                                                             student: Person) -> None:
    lesson_done(site, 1)
    lesson_done(site, 2)
    assert answer(site, {"q1": ["9"]}) == 422


def test_the_quiz_before_the_lessons_is_refused(site: Site, student: Person) -> None:
    quiz = site.client.get("/learning/courses/ATGT-2026/quiz", follow_redirects=False)
    assert quiz.headers["location"] == "/learning/courses/ATGT-2026"
    page = "/learning/courses/ATGT-2026/lessons/1"  # a form of the portal, for its token
    response = site.client.post("/learning/courses/ATGT-2026/quiz", follow_redirects=False,
                                data={"q1": ["1"], "csrf_token": csrf_of(site, page)})
    assert response.status_code == 409


def test_a_course_the_citizen_is_not_enrolled_in_is_not_found(site: Site,
                                                             student: Person) -> None:
    with transaction(site.services.session_factory) as session:
        write_course(session, MINISTRY, ministry_draft("ATKGM-2026"))
    assert site.client.get("/learning/courses/ATKGM-2026").status_code == 404
    assert site.client.get("/learning/courses/ATKGM-2026/lessons/1").status_code == 404


def test_learning_pages_ask_for_sign_in_first(site: Site) -> None:
    response = site.client.get("/learning/courses/ATGT-2026", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/login?next=")


def test_a_lesson_file_is_downloaded_by_enrolled_learners_only(site: Site,
                                                              tmp_path: Path) -> None:
    factory = site.services.session_factory
    with transaction(factory) as session:
        draft = service.create_course(session, MINISTRY, ministry_draft("TL-2026"))
        service.add_lesson(session, MINISTRY, draft.code, service.LessonDraft(
            "file", "Tài liệu", file_name="luat.pdf", file_type="application/pdf",
            file_content=PDF))
        service.add_question(session, MINISTRY, draft.code, "?", ["A", "B"], [0])
        published: Course = service.publish(session, MINISTRY, draft.code)
        reader = make_person(session, "Phạm Thu Hà", date(2009, 1, 5))
        enrolled_class(session, published, [reader])
    make_active_account(factory, site.services.pepper, reader, tmp_path / "mailbox")
    assert citizen_sign_in(site, reader) == 303
    response = site.client.get("/learning/courses/TL-2026/lessons/1/file")
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
