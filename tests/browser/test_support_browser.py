"""Citizen support in Chromium: a citizen opens a request from her phone in the portal, a
support agent answers it in the console, and she reads the answer in the request's thread."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from tests.browser.conftest import Server, console_sign_in
from tests.support.eid import PASSWORD, make_active_account

pytestmark = pytest.mark.browser
POLICE = Actor("official", "police-national", NATIONAL, Role.POLICE)
PHONE, DESK = {"width": 390, "height": 844}, {"width": 1280, "height": 800}
ANSWER = "Bạn hãy đặt lại mật khẩu tại mục Quên mật khẩu; mã sẽ được gửi qua SMS."


def a_citizen_with_an_eid_account(server: Server, mailbox: Path) -> Person:
    factory = services_of(server.app).session_factory
    with transaction(factory) as session:
        person = session.scalars(select(Person).where(
            Person.status == "alive", Person.phone.is_not(None))
            .order_by(Person.id).limit(1)).one()
        session.expunge(person)
    make_active_account(factory, services_of(server.app).pepper, person, mailbox, POLICE)
    return person


def test_a_citizen_opens_a_request_an_agent_answers_and_she_reads_the_answer(
        server: Server, browser: Browser, shots: Path, tmp_path: Path) -> None:
    person = a_citizen_with_an_eid_account(server, tmp_path / "mailbox")
    citizen = browser.new_page(viewport=PHONE, locale="vi-VN")
    citizen.goto(f"{server.base}/account/login?next=/support")
    citizen.fill("#personal_id_number", person.personal_id_number)
    citizen.fill("#password", PASSWORD)
    citizen.click("button[type=submit]")
    expect(citizen).to_have_url(f"{server.base}/support")
    citizen.select_option("#topic", "account")
    citizen.fill("#subject", "Không đăng nhập được trên điện thoại")
    citizen.fill("#text", "Ứng dụng báo sai mật khẩu dù tôi nhập đúng.")
    citizen.click("#new-ticket button[type=submit]")
    expect(citizen.locator("#ticket-state")).to_have_text("Chờ cán bộ xử lý")
    ticket_url = citizen.url
    assert citizen.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    citizen.screenshot(path=shots / "portal-support-request-mobile.png", full_page=True)

    agent = browser.new_page(viewport=DESK, locale="vi-VN")
    console_sign_in(agent, server, server.official(Role.SUPPORT_AGENT), "/console/support")
    queue = agent.locator("#support-queue")
    expect(queue).to_contain_text("Không đăng nhập được trên điện thoại")
    queue.get_by_role("link", name="Không đăng nhập được trên điện thoại", exact=False).click()
    expect(agent.locator("#thread")).to_contain_text("Ứng dụng báo sai mật khẩu")
    agent.fill("#text", ANSWER)
    agent.click("#ticket-actions form[action$='/answer'] button")
    expect(agent.locator("#ticket-state")).to_contain_text("Đã trả lời")
    agent.screenshot(path=shots / "console-support-ticket.png", full_page=True)
    agent.close()

    citizen.goto(ticket_url)
    expect(citizen.locator("#ticket-state")).to_have_text("Đã trả lời")
    expect(citizen.locator("#thread .support-official")).to_contain_text(ANSWER)
    citizen.click("text=English")
    expect(citizen.locator("#ticket-state")).to_have_text("Answered")
