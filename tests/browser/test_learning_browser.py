"""Digital Education for All in Chromium: a student enrolled with her class signs in with her
eID on a phone, opens the course, goes through the lessons, fails the quiz once, passes it, and
finds the completion certificate in her wallet."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from civicstack.kit.appservices import services_of
from civicstack.kit.db import transaction
from civicstack.registry.models import Person, Sex
from civicstack.wallet import service as wallet
from tests.browser.conftest import Server
from tests.support.eid import PASSWORD, make_active_account
from tests.support.learning import MINISTRY, enrolled_class, ministry_draft, write_course
from tests.support.people import make_person

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
COURSE = "/learning/courses/ATGT-2026"


def an_enrolled_student(server: Server, mailbox: Path) -> Person:
    """Trần Ngọc Lan, 15, of Hà Nội, in class 9A enrolled in the traffic-safety course, with an
    active eID account."""
    factory = services_of(server.app).session_factory
    with transaction(factory) as session:
        wallet.seed_catalogue(session)
        course = write_course(session, MINISTRY, ministry_draft())
        student = make_person(session, "Trần Ngọc Lan", date(2011, 2, 14), sex=Sex.FEMALE,
                              phone="0912000915")
        enrolled_class(session, course, [student], school="Trường THCS Ba Đình")
        session.expunge(student)
    make_active_account(factory, services_of(server.app).pepper, student, mailbox)
    return student


def answer(page: Page, server: Server, choices: list[str]) -> None:
    """From the course page, take the quiz ticking these options, and submit it."""
    page.goto(f"{server.base}{COURSE}")
    page.get_by_role("link", name="Làm bài kiểm tra").click()
    for label in choices:
        page.get_by_label(label).check()
    page.get_by_role("button", name="Nộp bài").click()


def test_a_student_completes_a_course_and_finds_the_certificate_in_her_wallet(
        server: Server, browser: Browser, shots: Path, tmp_path: Path) -> None:
    student = an_enrolled_student(server, tmp_path / "mailbox")
    page = browser.new_page(viewport=PHONE, locale="vi-VN")
    page.goto(f"{server.base}/account/login?next=/learning")
    page.fill("#personal_id_number", student.personal_id_number)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.base}/learning")
    page.get_by_role("link", name="An toàn giao thông").click()
    expect(page.locator("#lessons")).to_contain_text("Đèn tín hiệu")

    page.get_by_role("link", name="Đèn tín hiệu").click()
    expect(page.locator(".learning-text")).to_contain_text("Đèn đỏ: dừng lại.")
    page.get_by_role("button", name="Tôi đã học xong bài này: bài tiếp theo").click()
    expect(page.locator("h1")).to_have_text("Đội mũ bảo hiểm")
    video = page.get_by_role("link", name="Xem video (mở trang web khác)")
    expect(video).to_have_attribute("href", "https://video.example.vn/mu")
    expect(video).to_have_attribute("rel", "noopener noreferrer")
    page.get_by_role("button", name="Tôi đã học xong bài này").click()
    expect(page).to_have_url(f"{server.base}{COURSE}")
    expect(page.locator("#lessons .learning-done")).to_have_count(2)

    # one box too many on the multi-answer question: that question counts as wrong
    answer(page, server, ["Dừng lại", "Đội mũ bảo hiểm", "Vượt đèn đỏ", "Đi bên phải"])
    expect(page.locator("#last-attempt")).to_contain_text("đúng 1 trên 2 câu")
    answer(page, server, ["Dừng lại", "Đội mũ bảo hiểm", "Đi bên phải"])
    expect(page.locator("#completed")).to_contain_text("100 %")
    page.screenshot(path=shots / "portal-learning-completed-mobile.png", full_page=True)

    page.locator("#result a[href='/wallet']").click()
    expect(page.locator("main")).to_contain_text("Chứng nhận hoàn thành khóa học")
    expect(page.locator("main")).to_contain_text("Nền tảng Bình dân học vụ số")
    page.screenshot(path=shots / "portal-wallet-certificate-mobile.png", full_page=True)
    page.close()
