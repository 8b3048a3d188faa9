"""The officials' dossier console in Chromium: the inbox with an overdue dossier, a birth
registration with its documents and history, the approver's decision and the signed result."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from civicstack.kit.appservices import services_of
from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from civicstack.registry.models import Sex
from civicstack.services import service
from civicstack.services.site import PAYMENTS
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WALLET_SITE
from tests.browser.conftest import Server, console_sign_in
from tests.support.people import make_person
from tests.support.services import CLERK_HANOI, citizen, publish_everywhere
from tests.support.uploads import PDF, png
from tests.support.wallet import give_id_card

pytestmark = pytest.mark.browser
DESK = {"width": 1280, "height": 800}


def birth_registrations(server: Server) -> tuple[str, str]:
    """Two birth registrations of a Hà Nội mother: one received and started, one overdue."""
    site, payments = services_of(server.app)[WALLET_SITE], services_of(server.app)[PAYMENTS]
    with transaction(services_of(server.app).session_factory) as session:
        publish_everywhere(session)
        mother = make_person(session, "Trần Thị Mai", date(1994, 3, 8), sex=Sex.FEMALE,
                             province_code="01", phone="0912000111")
        give_id_card(session, mother)
        wallet.issue_from_register(session, site, mother.personal_id_number, "id_card")
        codes = []
        for name in ("Nguyễn Gia Bảo", "Nguyễn Minh Anh"):
            actor = citizen(mother)
            draft = service.start_draft(session, actor, mother.personal_id_number, "DVC-HT-01")
            service.save_draft(session, actor, draft, {
                "child_full_name": name, "child_sex": "M" if name.endswith("Bảo") else "F",
                "child_date_of_birth": (date.today() - timedelta(days=2)).isoformat()})
            service.add_attachment(session, actor, draft, "birth_notice",
                                   "giay-chung-sinh.pdf", "application/pdf", PDF)
            service.submit(session, site, actor, draft, payments)
            codes.append(draft.receipt_code)
        service.transition(session, CLERK_HANOI, codes[0], "receive")
        service.transition(session, CLERK_HANOI, codes[0], "start")
        late = service.dossier_for(session, CLERK_HANOI, codes[1])
        late.due_on = date.today() - timedelta(days=2)  # as if it had waited too long
    return codes[0], codes[1]


def test_an_approver_decides_a_birth_registration_from_the_inbox(
        server: Server, browser: Browser, shots: Path) -> None:
    started, late = birth_registrations(server)
    page = browser.new_page(viewport=DESK, locale="vi-VN")
    console_sign_in(page, server, server.official(Role.AGENCY_APPROVER), "/console/dossiers")
    expect(page.locator("#overdue-count")).to_contain_text("quá hạn")
    expect(page.locator("#dossier-inbox")).to_contain_text(late)
    page.screenshot(path=shots / "console-services-inbox.png")

    page.click(f"text={started}")
    expect(page.locator("#dossier-actions")).to_be_visible()
    expect(page.locator("#dossier-data")).to_contain_text("Nguyễn Gia Bảo")
    page.screenshot(path=shots / "console-services-dossier.png", full_page=True)

    page.fill("#reason-approve", "Hồ sơ hợp lệ, đủ giấy tờ")
    page.click("#dossier-actions form[action$='/approve'] button")
    expect(page.locator("#dossier-state")).to_have_text("Đã trả kết quả")
    expect(page.locator("#result-pdf")).to_be_visible()
    page.screenshot(path=shots / "console-services-approved.png", full_page=True)
    response = page.request.get(f"{server.base}/console/dossiers/{started}/result.pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")


def test_a_clerk_serves_a_walk_in_with_an_empty_wallet_and_finds_the_dossier_by_name(
        server: Server, browser: Browser, shots: Path, tmp_path: Path) -> None:
    """Issue 21: a diploma recognition for a citizen whose wallet is empty: the clerk checks
    the paper diploma, scans it, types its number from the paper, submits, and the inbox finds
    the dossier by the applicant's name typed without diacritics."""
    with transaction(services_of(server.app).session_factory) as session:
        publish_everywhere(session)
        walk_in = make_person(session, "Lò Thị Sinh", date(1975, 6, 1), province_code="01")
        number = walk_in.personal_id_number
    scan = tmp_path / "bang-tot-nghiep.png"
    scan.write_bytes(png())
    page = browser.new_page(viewport=DESK, locale="vi-VN")
    console_sign_in(page, server, server.official(Role.SERVICE_CLERK), "/console/dossiers/new")
    page.fill("#pid", number)
    page.select_option("#procedure", "DVC-GD-01")
    page.click("main button[type=submit]")
    page.click("#counter-checks button")  # nothing chosen: refused next to the document
    expect(page.locator("#check-diploma-error")).to_be_visible()
    page.check("#check-diploma-paper")
    page.set_input_files("#check-diploma-scan", str(scan))
    page.click("#counter-checks button")
    expect(page.locator("#dossier-documents")).to_contain_text("đối chiếu với bản giấy gốc")
    page.fill("#assist-diploma_number", "B-123456")
    page.click("#assist-form button[name=submit]")
    expect(page.locator("#dossier-state")).to_have_text("Đã nộp")
    page.screenshot(path=shots / "console-services-counter.png", full_page=True)

    page.goto(f"{server.base}/console/dossiers?lang=vi")
    page.fill("#q", "lo thi sinh")
    page.click("form[role=search] button[type=submit]")
    expect(page.locator("#dossier-inbox .applicant-name")).to_have_text(["Lò Thị Sinh"])
    expect(page.locator("#queue-new")).to_contain_text("Mới")
    page.screenshot(path=shots / "console-services-inbox-search.png", full_page=True)
