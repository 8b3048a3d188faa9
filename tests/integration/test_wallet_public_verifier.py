"""The public verifier page: a bank checks a citizen's QR code without signing in, sees only
what the citizen chose to show with the issuer and the status, in Vietnamese or English; a
replayed, revoked or damaged code is refused in words; the check is audited like an
official's; a run of refusals from one address is stopped. Through the real app, on both
databases."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from civicstack.wallet import qr, service
from civicstack.wallet.public_verifier_web import PUBLIC_VERIFY, REFUSALS_ALLOWED
from tests.integration.test_wallet_web import PRESENTATION, citizen, csrf_in, id_card, qr_page
from tests.support.wallet import grant
from tests.support.web import Site

__all__ = ["citizen"]  # the fixture, imported for the tests below
POLICE = Actor("official", "police-national", NATIONAL, Role.POLICE)


def qr_text_of(site: Site, public_id: str, disclose: tuple[str, ...]) -> str:
    """The text under the QR code the citizen's wallet page shows (`VN1:...`)."""
    status, html = qr_page(site, public_id, disclose)
    assert status == 200, html
    found = PRESENTATION.search(html)
    assert found, "no presentation on the QR page"
    return found.group(1)


def bank(site: Site, language: str = "vi") -> TestClient:
    """Someone at a bank's desk: a browser of their own, signed in nowhere."""
    return TestClient(site.app, headers={"Accept-Language": language})


def check(browser: TestClient, scanned: str) -> tuple[int, str]:
    form = browser.get(PUBLIC_VERIFY)
    response = browser.post(PUBLIC_VERIFY, data={"presentation": scanned,
                                                 "csrf_token": csrf_in(form.text)})
    return response.status_code, response.text


def audited(site: Site, action: str) -> list[AuditEntry]:
    with transaction(site.services.session_factory) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_bank_checks_a_qr_code_without_signing_in_and_sees_only_what_was_chosen(
        site: Site, citizen: Person) -> None:
    scanned = qr_text_of(site, id_card(site), ("personal_id_number", "full_name"))
    desk = bank(site)
    form = desk.get(PUBLIC_VERIFY)
    assert form.status_code == 200
    assert "camera=(self)" in form.headers["permissions-policy"]
    assert 'src="/static/js/qr-scan.js"' in form.text
    assert "Quét bằng camera" in form.text

    status, page = check(desk, scanned)
    assert status == 200
    assert 'class="panel wallet-verified"' in page
    assert citizen.full_name in page
    assert citizen.personal_id_number in page
    assert "Bộ Công an" in page  # the issuer
    assert "còn hiệu lực" in page  # the status, checked now
    assert "17/05/1990" not in page  # the date of birth was not chosen
    [read] = audited(site, "wallet.presentation.verify")
    assert read.actor == "verifier:public"
    assert read.subject_id == citizen.personal_id_number
    assert read.detail == {"document": "id_card", "claims": ["full_name", "personal_id_number"]}
    history = site.client.get("/account").text  # the citizen's own account page
    assert "Mã QR ví giấy tờ của bạn đã được kiểm tra" in history
    assert "Trang kiểm tra giấy tờ công khai" in history  # not "an official"


def test_a_bank_sees_the_page_in_english(site: Site, citizen: Person) -> None:
    scanned = qr_text_of(site, id_card(site), ("full_name",))
    status, page = check(bank(site, "en"), scanned)
    assert status == 200
    assert "Verified electronic document" in page
    assert "Ministry of Public Security" in page
    [read] = audited(site, "wallet.presentation.verify")
    assert read.subject_id == "unknown"  # the ID number was not disclosed, nor audited


def test_a_qr_code_is_refused_when_replayed_revoked_or_damaged(
        site: Site, citizen: Person) -> None:
    public_id = id_card(site)
    desk = bank(site)
    scanned = qr_text_of(site, public_id, ("full_name",))
    assert check(desk, scanned)[0] == 200
    status, page = check(desk, scanned)
    assert (status, "mã QR này đã được xuất trình tại đây" in page) == (422, True)

    damaged = scanned[:-12] + ("A" if scanned[-12] != "A" else "B") + scanned[-11:]
    status, page = check(desk, damaged)
    assert status == 422
    assert 'class="panel wallet-refused"' in page
    assert citizen.full_name not in page

    fresh = qr_text_of(site, public_id, ("full_name",))
    with transaction(site.services.session_factory) as session:
        grant(session, POLICE, "bo-cong-an")
        service.change_status(session, POLICE, public_id, "revoked", "card reported stolen")
    status, page = check(desk, fresh)
    assert (status, "giấy tờ đã bị thu hồi" in page) == (422, True)
    assert citizen.full_name not in page
    assert len(audited(site, "wallet.presentation.refuse")) == 3


def test_text_that_is_no_qr_code_is_refused_in_the_pages_language(site: Site) -> None:
    status, page = check(bank(site), "VN1:not base45!")
    assert (status, "nội dung mã QR không đúng định dạng" in page) == (422, True)
    status, page = check(bank(site, "en"), "VN1:" + qr.base45_encode(b"not zlib"))
    assert (status, "the QR code's content is damaged" in page) == (422, True)


def test_a_run_of_refusals_from_one_address_is_stopped(site: Site, citizen: Person) -> None:
    scanned = qr_text_of(site, id_card(site), ("full_name",))
    desk = bank(site)
    for _ in range(REFUSALS_ALLOWED):
        assert check(desk, "VN1:forged")[0] == 422
    status, page = check(desk, scanned)
    assert status == 429
    assert "Có quá nhiều lần kiểm tra bị từ chối" in page
    assert citizen.full_name not in page
    assert audited(site, "wallet.presentation.verify") == []


def test_only_the_verifier_pages_may_use_the_camera(site: Site) -> None:
    """Every other page keeps the camera off; the public page is linked from every footer."""
    other = site.client.get("/wallet/documents")
    assert "camera=()" in other.headers["permissions-policy"]
    assert f'href="{PUBLIC_VERIFY}"' in other.text
    console = site.client.get("/console/wallet/verify", follow_redirects=False)
    assert "camera=()" in console.headers["permissions-policy"]  # sign-in first: no camera
    assert "camera=(self)" in site.client.get(PUBLIC_VERIFY).headers["permissions-policy"]
