"""The whole journey of issue 6 in Chromium: a parent signs in and submits a birth registration
with her data prefilled; a service-centre clerk receives it; the ward's approver approves and
signs; the parent downloads the signed result and finds her child's new birth certificate in
her wallet; the public statistics count the dossier as submitted online and delivered."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from civicstack.kit.authz import Role
from tests.browser.conftest import Server, console_sign_in
from tests.browser.test_services_browser import PHONE, a_parent_with_an_id_card_in_her_wallet
from tests.support.eid import PASSWORD
from tests.support.uploads import PDF

pytestmark = pytest.mark.browser
DESK = {"width": 1280, "height": 800}


def submit_birth_registration(page: Page, server: Server, pid: str) -> str:
    page.goto(f"{server.base}/account/login?next=/services/DVC-HT-01")
    page.fill("#personal_id_number", pid)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_role("button", name="Bắt đầu").click()
    expect(page.locator(".services-prefilled")).to_contain_text(pid)
    page.fill("#child_full_name", "Lê Minh Khang")
    page.fill("#child_date_of_birth", "2026-11-25")
    page.select_option("#child_sex", "M")
    page.set_input_files("#document_birth_notice", files=[{
        "name": "giay-chung-sinh.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_role("button", name="Nộp hồ sơ").click()
    expect(page.locator(".services-submitted h1")).to_be_visible()
    return page.url.split("?")[0].rstrip("/").rsplit("/", 1)[1]


def act(page: Page, server: Server, receipt: str, action: str, reason: str = "") -> None:
    page.goto(f"{server.base}/console/dossiers/{receipt}")
    if reason:
        page.fill(f"#reason-{action}", reason)
    page.click(f"#dossier-actions form[action$='/{action}'] button")


def test_a_birth_is_registered_online_signed_and_delivered_into_the_wallet(
        server: Server, browser: Browser, shots: Path, tmp_path: Path) -> None:
    parent = a_parent_with_an_id_card_in_her_wallet(server, tmp_path / "mailbox")
    citizen = browser.new_page(viewport=PHONE, locale="vi-VN")
    receipt = submit_birth_registration(citizen, server, parent.personal_id_number)

    clerk = browser.new_page(viewport=DESK, locale="vi-VN")
    console_sign_in(clerk, server, server.official(Role.SERVICE_CLERK), "/console/dossiers")
    expect(clerk.locator("#dossier-inbox")).to_contain_text(receipt)
    act(clerk, server, receipt, "receive")
    act(clerk, server, receipt, "start")
    expect(clerk.locator("#dossier-state")).to_have_text("Đang xử lý")
    clerk.close()

    approver = browser.new_page(viewport=DESK, locale="vi-VN")
    console_sign_in(approver, server, server.official(Role.AGENCY_APPROVER),
                    f"/console/dossiers/{receipt}")
    act(approver, server, receipt, "approve", "Hồ sơ hợp lệ, đủ giấy tờ")
    expect(approver.locator("#dossier-state")).to_have_text("Đã trả kết quả")
    approver.close()

    citizen.goto(f"{server.base}/dossiers/{receipt}")
    expect(citizen.locator("#state")).to_contain_text("Đã trả kết quả")
    signed = citizen.request.get(f"{server.base}/dossiers/{receipt}/result.pdf")
    assert signed.headers["content-type"] == "application/pdf"
    assert b"/ByteRange" in signed.body()  # a PAdES signature covers the document
    citizen.screenshot(path=shots / "portal-dossier-delivered-mobile.png", full_page=True)

    citizen.goto(f"{server.base}/wallet")
    expect(citizen.locator("#children-documents")).to_contain_text("Lê Minh Khang")
    expect(citizen.locator("#children-documents")).to_contain_text("Giấy khai sinh")
    citizen.screenshot(path=shots / "portal-wallet-child-mobile.png", full_page=True)

    citizen.goto(f"{server.base}/services/statistics")
    procedure = citizen.locator('#table-procedures tr[data-key="DVC-HT-01"] td')
    expect(procedure.first).to_have_text("1")  # submitted online
    expect(procedure.nth(1)).to_have_text("0")  # none at a counter
    expect(citizen.locator('#table-states tr[data-state="result_delivered"] td')).to_have_text(
        "1")
