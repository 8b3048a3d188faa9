"""Issue 9's proof for task monitoring, in Chromium: the official responsible for an overdue
NQ57 task signs in to the console, posts the day's progress with an evidence file by keyboard
and mouse, and the leaders' board shows it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from civicstack.kit import calendar
from civicstack.kit.appservices import services_of
from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from civicstack.monitoring import service
from tests.browser.conftest import Server, console_sign_in
from tests.support.monitoring import MANAGER, make_task, seed_programme
from tests.support.uploads import PDF

pytestmark = pytest.mark.browser
DESK = {"width": 1280, "height": 800}


def test_an_official_posts_a_daily_update_and_the_board_shows_it(
        server: Server, browser: Browser, shots: Path) -> None:
    officer = server.official(Role.PROGRAMME_OFFICER)  # national: reports, and sees the board
    with transaction(services_of(server.app).session_factory) as session:
        seed_programme(session)
        service.add_member(session, MANAGER, "UBND-HN", officer.username,
                           "thanh.nd@hanoi.gov.vn")
        task = make_task(session, "NQ57-HN-07", responsible=officer.username,
                         deadline=calendar.today() - timedelta(days=14))
        task_page = f"/console/monitoring/tasks/{task.id}"

    page = browser.new_page(viewport=DESK, locale="vi-VN")
    console_sign_in(page, server, officer, task_page)
    expect(page.locator("#task-overdue")).to_be_visible()
    page.locator("#percent").fill("")
    page.locator("#percent").focus()
    page.keyboard.type("45")
    page.keyboard.press("Tab")
    page.keyboard.type("Đã số hoá 45 % hồ sơ hộ tịch của 126 phường, xã")
    page.set_input_files("#evidence", files=[{
        "name": "bien-ban-kiem-tra.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_role("button", name="Gửi cập nhật").click()

    expect(page.locator("#task-percent")).to_have_text("45%")
    expect(page.locator("#task-state")).to_have_text("Đang thực hiện")
    expect(page.locator("#task-updates")).to_contain_text("bien-ban-kiem-tra.pdf")
    page.screenshot(path=shots / "console-monitoring-task.png", full_page=True)

    page.goto(f"{server.base}/console/monitoring")
    expect(page.locator("#overdue-count")).to_contain_text("1 nhiệm vụ quá hạn")
    expect(page.locator("#overdue-tasks")).to_contain_text("NQ57-HN-07")
    expect(page.locator("#overdue-tasks")).to_contain_text("45%")
    expect(page.locator("#latest-updates")).to_contain_text("Đã số hoá 45 %")
    expect(page.locator("svg[data-chart=progress]")).to_contain_text("45%")
    page.screenshot(path=shots / "console-monitoring-board.png", full_page=True)
    page.close()
