"""The citizen's public services in the portal: a province's catalogue, a procedure's page, the
dossier form prefilled from the register and the wallet, uploads, submission and its receipt,
my dossiers, withdrawal, supplements, an interlinked group under one receipt and the result's
PDF. Through the real app, on both databases."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from httpx import Response
from sqlalchemy import select

from civicstack.kit import calendar
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from civicstack.services import service
from civicstack.services.models import Attachment, Dossier, DossierGroup, Payment
from civicstack.services.payments import LocalTreasury
from civicstack.services.site import PAYMENTS
from civicstack.wallet.site import WALLET_SITE
from tests.integration.test_identity_web import citizen_sign_in
from tests.support.eid import make_active_account
from tests.support.people import make_person
from tests.support.services import (
    ADMIN,
    APPROVER_HANOI,
    CLERK_HANOI,
    citizen,
    parent_with_id_card,
    publish_everywhere,
)
from tests.support.uploads import PDF, PDF_OPENING_JAVASCRIPT, png, png_bomb
from tests.support.web import CSRF_PATTERN, Site

CHILD = {"child_full_name": "Nguyễn Gia Bảo", "child_date_of_birth": "2026-11-20",
         "child_sex": "M"}
NOTICE = {"document_birth_notice": ("giay-chung-sinh.pdf", PDF, "application/pdf")}
RECEIPT = re.compile(r"/dossiers/([0-9]{2}[0-9]{6}-[0-9A-F]{6})$")


@pytest.fixture
def mai(site: Site, tmp_path: Path) -> Person:
    """Trần Thị Mai of Hà Nội, her ID card in her wallet, signed in to the portal; the
    catalogue published in every province."""
    factory = site.services.session_factory
    with transaction(factory) as session:
        publish_everywhere(session)
        person = parent_with_id_card(session, site.services[WALLET_SITE])
    make_active_account(factory, site.services.pepper, person, tmp_path / "mailbox")
    assert citizen_sign_in(site, person) == 303
    return person


def csrf_of(site: Site, path: str) -> str:
    found = CSRF_PATTERN.search(site.client.get(path).text)
    assert found, f"no form on {path}"
    return found.group(1)


def start(site: Site, path: str = "/services/DVC-HT-01") -> str:
    """Press "Start" on a procedure's (or group's) page; returns the receipt code."""
    response = site.client.post(f"{path}/start", follow_redirects=False,
                                data={"csrf_token": csrf_of(site, path)})
    assert response.status_code == 303, response.text
    found = RECEIPT.search(response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def send_form(site: Site, receipt: str, values: dict[str, str], action: str = "submit",
              files: dict[str, tuple[str, bytes, str]] | None = None) -> Response:
    return site.client.post(f"/dossiers/{receipt}", follow_redirects=False, files=files or {},
                            data={**values, "action": action,
                                  "csrf_token": csrf_of(site, f"/dossiers/{receipt}")})


def dossier(site: Site, receipt: str) -> Dossier:
    with transaction(site.services.session_factory) as session:
        found = session.scalars(select(Dossier).where(Dossier.receipt_code == receipt)).one()
        session.expunge(found)
        return found


def submitted_birth(site: Site) -> str:
    receipt = start(site)
    assert send_form(site, receipt, CHILD, files=NOTICE).status_code == 303
    return receipt


def someone_elses_draft(site: Site) -> str:
    with transaction(site.services.session_factory) as session:
        other = make_person(session, "Lê Văn Hùng", date(1985, 1, 1), phone="0912000333")
        draft = service.start_draft(session, citizen(other), other.personal_id_number,
                                    "DVC-TP-01")
        draft.result_pdf = PDF
        return draft.receipt_code


def error_next_to(html: str, name: str) -> str:
    found = re.search(rf'id="{name}-error"[^>]*>([^<]+)<', html)
    assert found, f"no error next to {name}"
    return found.group(1)


# --- the catalogue and a procedure ----------------------------------------------------------

def test_the_catalogue_lists_a_provinces_procedures_by_agency_with_its_own_fees(
        site: Site) -> None:
    with transaction(site.services.session_factory) as session:
        publish_everywhere(session)
    hanoi = site.client.get("/services?province=01")
    assert hanoi.status_code == 200
    temporary = re.search(r'data-procedure="DVC-CT-03".*?class="online-fee">([^<]+)<',
                          hanoi.text, re.S)
    assert temporary
    assert temporary.group(1) == "10.000 đ"
    birth = re.search(r'data-procedure="DVC-HT-01".*?class="online-fee">([^<]+)<',
                      hanoi.text, re.S)
    assert birth
    assert birth.group(1) == "Miễn phí"
    assert "Ủy ban nhân dân cấp xã" in hanoi.text
    assert "Công an cấp tỉnh" in hanoi.text
    assert hanoi.text.count('class="badge services-once"') == 2  # the two interlinked groups
    assert "1 ngày làm việc" in hanoi.text
    assert "Một phần trực tuyến" in hanoi.text
    assert 'data-procedure="DVC-XD-01"' in hanoi.text
    assert 'data-procedure="DVC-XD-01"' not in site.client.get("/services?province=02").text
    danang = site.client.get("/services?province=48&lang=en").text
    temporary = re.search(r'data-procedure="DVC-CT-03".*?class="online-fee">([^<]+)<',
                          danang, re.S)
    assert temporary
    assert temporary.group(1) == "7.000 đ"


def test_the_catalogue_finds_procedures_by_any_word_of_either_name_without_diacritics(
        site: Site) -> None:
    with transaction(site.services.session_factory) as session:
        publish_everywhere(session)
    for query in ("khai sinh", "KHAI SINH", "Khai sinh", "birth"):
        page = site.client.get("/services", params={"province": "01", "q": query}).text
        listed = set(re.findall(r'data-procedure="([^"]+)"', page))
        assert "DVC-HT-01" in listed, query
        assert "DVC-CT-03" not in listed, query
    english = site.client.get("/services?province=01&q=birth&lang=en").text
    assert re.search(r'id="search-result">\d+ procedures? match', english)
    nothing = site.client.get("/services?province=01&q=zzzz&lang=vi").text
    assert "data-procedure" not in nothing
    assert "0 thủ tục khớp" in nothing


def test_without_a_province_the_catalogue_asks_for_one(site: Site) -> None:
    page = site.client.get("/services?lang=en").text
    assert "Choose your province" in page
    assert "data-procedure" not in page


def test_a_signed_in_citizen_sees_her_own_provinces_catalogue(site: Site, mai: Person) -> None:
    page = site.client.get("/services").text
    assert re.search(r'<option value="01" selected>', page)
    assert 'data-procedure="DVC-HT-01"' in page
    assert '<a href="/dossiers">Hồ sơ của tôi</a>' in page  # in the portal's header


def test_the_procedure_page_says_wallet_documents_come_from_the_wallet_or_another_way(
        site: Site, mai: Person) -> None:
    page = site.client.get("/services/DVC-HT-01?lang=en").text
    assert "Luật Hộ tịch 2014" in page
    assert "Ward People&#39;s Committee" in page
    id_card = re.search(r'data-document="id_card">(.*?)</li>', page, re.S)
    assert id_card
    assert "From your wallet; without it" in id_card.group(1)
    notice = re.search(r'data-document="birth_notice">(.*?)</li>', page, re.S)
    assert notice
    assert "Upload a PDF, JPEG or PNG" in notice.group(1)
    name = re.search(r'data-field="applicant_name">(.*?)</li>', page, re.S)
    assert name
    assert "From the population register" in name.group(1)
    child = re.search(r'data-field="child_full_name">(.*?)</li>', page, re.S)
    assert child
    assert "You type it" in child.group(1)


def test_an_unknown_procedure_is_not_found(site: Site) -> None:
    assert site.client.get("/services/DVC-XX-99").status_code == 404


# --- the dossier form -----------------------------------------------------------------------

def test_starting_opens_a_form_prefilled_from_the_register_and_the_wallet(
        site: Site, mai: Person) -> None:
    receipt = start(site)
    page = site.client.get(f"/dossiers/{receipt}?lang=en").text
    assert "Trần Thị Mai" in page
    assert mai.personal_id_number in page
    assert "Hà Nội" in page
    assert 'name="applicant_name"' not in page  # shown, never typed
    assert re.search(r'id="child_date_of_birth" name="child_date_of_birth" type="date"', page)
    id_card = re.search(r'data-document="id_card">(.*?)</li>', page, re.S)
    assert id_card
    assert "From your wallet" in id_card.group(1)
    assert "✓" in id_card.group(1)
    assert 'name="document_birth_notice" type="file"' in page
    assert 'name="document_id_card"' not in page
    assert dossier(site, receipt).state == "draft"


def test_a_submitted_birth_registration_shows_its_receipt_and_due_date(
        site: Site, mai: Person) -> None:
    receipt = start(site)
    response = send_form(site, receipt, CHILD, files=NOTICE)
    assert response.status_code == 303
    assert response.headers["location"] == f"/dossiers/{receipt}?submitted=1"
    page = site.client.get(response.headers["location"]).text
    due = calendar.add_working_days(date.today(), 1).strftime("%d/%m/%Y")
    assert re.search(rf'class="due-on">{due}<', page)
    assert receipt in page
    assert "Miễn phí" in page
    assert "SMS" in page
    assert "giay-chung-sinh.pdf" not in page  # the receipt, not the form
    submitted = dossier(site, receipt)
    assert submitted.state == "submitted"
    assert submitted.data["child_full_name"] == "Nguyễn Gia Bảo"


RESIDENCE = {"new_ward_code": "00004", "new_address_line": "5 Lý Thường Kiệt"}
RESIDENCE_PROOF = {"document_residence_proof": ("hop-dong.png", png(), "image/png")}
GOOD_CARD = {"method": "card", "account": "4111 1111 1111 1111"}
DECLINED_CARD = {"method": "card", "account": "4000 0000 0000 0002"}


def pay(site: Site, receipt: str, source: dict[str, str]) -> Response:
    token = csrf_of(site, f"/dossiers/{receipt}/payment")
    return site.client.post(f"/dossiers/{receipt}/payment", follow_redirects=False,
                            data={**source, "csrf_token": token})


def charges(site: Site) -> list[int]:
    """The amounts the treasury took and kept."""
    return [c.amount for c in site.services[PAYMENTS].statement() if not c.refunded]


def residence_ready_to_pay(site: Site) -> str:
    """A temporary residence registration (10.000 đ online in Hà Nội) filled and submitted:
    on the payment step, still a draft."""
    receipt = start(site, "/services/DVC-CT-03")
    assert re.search(r'id="fee">10.000 đ<', site.client.get(f"/dossiers/{receipt}").text)
    response = send_form(site, receipt, RESIDENCE, files=RESIDENCE_PROOF)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/dossiers/{receipt}/payment"
    return receipt


def test_a_fee_is_paid_at_a_payment_step_and_the_dossier_submitted_only_then(
        site: Site, mai: Person) -> None:
    """Issue 19: the fee was charged the moment "Submit" was pressed."""
    receipt = residence_ready_to_pay(site)
    assert (dossier(site, receipt).state, charges(site)) == ("draft", [])
    page = site.client.get(f"/dossiers/{receipt}/payment?lang=en").text
    assert re.search(r'id="amount">10.000 đ<', page)
    assert "Temporary residence registration" in page
    assert 'name="method" value="e_wallet"' in page

    paid = pay(site, receipt, GOOD_CARD)

    assert paid.status_code == 303, paid.text
    assert paid.headers["location"] == f"/dossiers/{receipt}/payment/receipt"
    submitted = dossier(site, receipt)
    assert submitted.state == "submitted"
    assert charges(site) == [10_000]
    receipt_page = site.client.get(paid.headers["location"] + "?lang=en").text
    assert f'<dd class="receipt-number">{submitted.payment_reference}</dd>' in receipt_page
    assert "Bank card" in receipt_page
    assert re.search(r'id="total">10.000 đ<', receipt_page)
    assert str(submitted.payment_reference) in site.client.get(f"/dossiers/{receipt}").text


def test_a_declined_payment_leaves_the_draft_unsubmitted_and_another_card_may_be_tried(
        site: Site, mai: Person) -> None:
    receipt = residence_ready_to_pay(site)

    declined = pay(site, receipt, DECLINED_CARD)

    assert declined.status_code == 409
    assert "Thanh toán bị từ chối" in declined.text
    assert 'id="pay"' in declined.text  # the form again, to retry
    assert (dossier(site, receipt).state, charges(site)) == ("draft", [])
    retried = pay(site, receipt, GOOD_CARD)
    assert retried.status_code == 303, retried.text
    assert (dossier(site, receipt).state, charges(site)) == ("submitted", [10_000])
    with transaction(site.services.session_factory) as session:
        assert list(session.scalars(select(Payment.status).order_by(Payment.id))) == [
            "failed", "settled"]


def test_a_second_click_on_pay_takes_nothing_more_and_shows_the_receipt(
        site: Site, mai: Person) -> None:
    receipt = residence_ready_to_pay(site)
    token = csrf_of(site, f"/dossiers/{receipt}/payment")
    first = pay(site, receipt, GOOD_CARD)
    again = site.client.post(f"/dossiers/{receipt}/payment", follow_redirects=False,
                             data={**GOOD_CARD, "csrf_token": token})
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == f"/dossiers/{receipt}/payment/receipt"
    assert charges(site) == [10_000]


@pytest.mark.parametrize(("source", "field"), [
    ({"method": "cash", "account": "4111111111111111"}, "method"),
    ({"method": "card", "account": "4111"}, "account"),
    ({"method": "bank", "account": "12345678901x"}, "account"),
])
def test_a_wrong_method_or_number_is_refused_next_to_it_and_nothing_charged(
        site: Site, mai: Person, source: dict[str, str], field: str) -> None:
    receipt = residence_ready_to_pay(site)
    response = pay(site, receipt, source)
    assert response.status_code == 422
    assert f'href="#{field}"' in response.text
    assert (dossier(site, receipt).state, charges(site)) == ("draft", [])


def test_an_incomplete_form_with_a_fee_is_refused_before_the_payment_step(
        site: Site, mai: Person) -> None:
    receipt = start(site, "/services/DVC-CT-03")
    response = send_form(site, receipt, {**RESIDENCE, "new_address_line": ""},
                         files=RESIDENCE_PROOF)
    assert response.status_code == 422
    assert error_next_to(response.text, "new_address_line") == "Bắt buộc."
    assert charges(site) == []


def test_a_free_procedure_skips_the_payment_step(site: Site, mai: Person) -> None:
    receipt = start(site)
    assert site.client.get(f"/dossiers/{receipt}/payment",
                           follow_redirects=False).headers["location"] == f"/dossiers/{receipt}"
    response = send_form(site, receipt, CHILD, files=NOTICE)
    assert response.headers["location"] == f"/dossiers/{receipt}?submitted=1"
    assert dossier(site, receipt).state == "submitted"


def test_a_missing_child_name_is_refused_next_to_its_field_and_the_draft_kept(
        site: Site, mai: Person) -> None:
    receipt = start(site)
    response = send_form(site, receipt, {**CHILD, "child_full_name": ""}, files=NOTICE)
    assert response.status_code == 422
    assert error_next_to(response.text, "child_full_name") == "Bắt buộc."
    kept = dossier(site, receipt)
    assert kept.state == "draft"
    assert kept.data["child_sex"] == "M"
    assert "giay-chung-sinh.pdf" in response.text  # the upload stays with the draft


def test_a_malformed_optional_id_number_is_refused_at_submission_next_to_its_field(
        site: Site, mai: Person) -> None:
    """The approval reads the other parent from the register by this number: a value that
    cannot be one would block it after the citizen could no longer correct it."""
    receipt = start(site)
    response = send_form(site, receipt, {**CHILD, "other_parent_pid": "' OR 1=1--"},
                         files=NOTICE)
    assert response.status_code == 422
    assert error_next_to(response.text, "other_parent_pid") == \
        "phải là số định danh cá nhân gồm 12 chữ số"
    assert dossier(site, receipt).state == "draft"
    fixed = send_form(site, receipt, {**CHILD, "other_parent_pid": ""})
    assert fixed.status_code == 303
    assert dossier(site, receipt).state == "submitted"


def test_a_control_character_is_refused_next_to_its_field_and_typing_is_kept_composed(
        site: Site, mai: Person) -> None:
    receipt = start(site)
    refused = send_form(site, receipt, {"child_full_name": "Nguyễn\x00 Gia Bảo"},
                        action="save")
    assert refused.status_code == 422
    assert error_next_to(refused.text, "child_full_name") == \
        "chứa ký tự điều khiển: chỉ nhập văn bản thông thường"
    assert "child_full_name" not in dossier(site, receipt).data
    typed_apart = unicodedata.normalize("NFD", "Nguyễn Gia Bảo")
    assert send_form(site, receipt, {"child_full_name": typed_apart}, action="save")\
        .status_code == 303
    assert dossier(site, receipt).data["child_full_name"] == "Nguyễn Gia Bảo"


def test_saving_a_draft_keeps_what_was_typed_without_checking_it(
        site: Site, mai: Person) -> None:
    receipt = start(site)
    response = send_form(site, receipt, {"child_full_name": "Nguyễn Gia Bảo"}, action="save")
    assert response.headers["location"] == f"/dossiers/{receipt}?saved=1"
    page = site.client.get(response.headers["location"]).text
    assert 'value="Nguyễn Gia Bảo"' in page
    assert dossier(site, receipt).state == "draft"


def test_saving_a_draft_again_with_its_file_keeps_one_copy(site: Site, mai: Person) -> None:
    receipt = start(site)
    for _ in range(2):
        assert send_form(site, receipt, CHILD, action="save", files=NOTICE).status_code == 303
    with transaction(site.services.session_factory) as session:
        kept = session.scalars(select(Attachment.filename).join(Dossier).where(
            Dossier.receipt_code == receipt)).all()
    assert kept == ["giay-chung-sinh.pdf"]


@pytest.mark.parametrize(("document", "upload", "reason"), [
    ("birth_notice", ("virus.pdf", b"MZ\x90\x00", "application/pdf"), "tệp phải là PDF"),
    ("birth_notice", ("anh.gif", b"GIF89a", "image/gif"), "tệp phải là PDF"),
    ("birth_notice", ("lon.pdf", b"%PDF-" + b"x" * (5 * 1024 * 1024), "application/pdf"),
     "lớn hơn 5 MB"),
    ("birth_notice", ("mo-ra.pdf", PDF_OPENING_JAVASCRIPT, "application/pdf"),
     "tự chạy khi mở"),
    ("birth_notice", ("bom.png", png_bomb(), "image/png"), "quá nhiều điểm ảnh"),
])
def test_a_wrong_upload_is_refused_next_to_its_document(
        site: Site, mai: Person, document: str, upload: tuple[str, bytes, str],
        reason: str) -> None:
    receipt = start(site)
    response = send_form(site, receipt, CHILD, files={f"document_{document}": upload})
    assert response.status_code == 422
    assert reason in error_next_to(response.text, f"document_{document}")
    with transaction(site.services.session_factory) as session:
        assert session.scalars(select(Attachment)).all() == []
    assert dossier(site, receipt).state == "draft"


# --- who may see what -----------------------------------------------------------------------

def test_someone_elses_dossier_is_not_found(site: Site, mai: Person) -> None:
    receipt = someone_elses_draft(site)
    assert site.client.get(f"/dossiers/{receipt}").status_code == 404
    token = csrf_of(site, "/services/DVC-HT-01")
    response = site.client.post(f"/dossiers/{receipt}", data={
        **CHILD, "action": "submit", "csrf_token": token})
    assert response.status_code == 404
    assert dossier(site, receipt).state == "draft"
    assert site.client.get(f"/dossiers/{receipt}/result.pdf").status_code == 404


def test_someone_elses_payment_and_receipt_are_refused_as_missing(site: Site,
                                                                   mai: Person) -> None:
    """The payment page, paying and the payment's receipt answer with the services' refusal,
    saying no more than for a dossier that does not exist; nothing is charged."""
    receipt = someone_elses_draft(site)
    token = csrf_of(site, "/services/DVC-HT-01")
    answers = [site.client.get(f"/dossiers/{receipt}/payment?lang=en"),
               site.client.post(f"/dossiers/{receipt}/payment?lang=en", data={
                   **GOOD_CARD, "csrf_token": token}, follow_redirects=False),
               site.client.get(f"/dossiers/{receipt}/payment/receipt?lang=en")]
    for answer in answers:
        assert answer.status_code == 404, answer.request.url
        assert '<p class="error" role="alert">no such dossier</p>' in answer.text
        assert '<a href="/dossiers">My dossiers</a>' in answer.text  # the services' page
        assert "Lê Văn Hùng" not in answer.text
    assert (dossier(site, receipt).state, charges(site)) == ("draft", [])


@pytest.mark.parametrize("action", ["records/birth_notice", "supplement", "withdraw"])
def test_someone_elses_dossier_is_refused_as_missing_and_left_as_it_was(
        site: Site, mai: Person, action: str) -> None:
    receipt = someone_elses_draft(site)
    token = csrf_of(site, "/services/DVC-HT-01")
    answer = site.client.post(f"/dossiers/{receipt}/{action}?lang=en", data={
        "reason": "no longer needed", "csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 404
    assert '<p class="error" role="alert">no such dossier</p>' in answer.text
    assert dossier(site, receipt).state == "draft"


@pytest.mark.parametrize("path", ["/dossiers", "/dossiers/01261201-ABCDEF",
                                  "/dossiers/01261201-ABCDEF/result.pdf"])
def test_pages_of_dossiers_send_a_stranger_to_sign_in(site: Site, path: str) -> None:
    response = site.client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/login?next=")


def test_forms_without_their_csrf_token_are_refused(site: Site, mai: Person) -> None:
    receipt = start(site)
    assert site.client.post("/services/DVC-HT-01/start").status_code == 403
    assert site.client.post(f"/dossiers/{receipt}", data={
        **CHILD, "action": "submit"}).status_code == 403
    assert site.client.post(f"/dossiers/{receipt}/withdraw", data={
        "reason": "no longer needed"}).status_code == 403
    assert dossier(site, receipt).state == "draft"


# --- after submission -----------------------------------------------------------------------

def test_my_dossiers_lists_each_with_its_state_and_due_date(site: Site, mai: Person) -> None:
    submitted = submitted_birth(site)
    draft = start(site, "/services/DVC-TP-01")
    page = site.client.get("/dossiers").text
    row = re.search(rf'data-receipt="{submitted}">(.*?)</li>', page, re.S)
    assert row
    assert "Đăng ký khai sinh" in row.group(1)
    assert "Đã nộp" in row.group(1)
    due = calendar.add_working_days(date.today(), 1).strftime("%d/%m/%Y")
    assert due in row.group(1)
    other = re.search(rf'data-receipt="{draft}">(.*?)</li>', page, re.S)
    assert other
    assert "Đang soạn" in other.group(1)


def test_a_citizen_withdraws_a_dossier_with_a_reason(site: Site, mai: Person) -> None:
    receipt = submitted_birth(site)
    token = csrf_of(site, f"/dossiers/{receipt}")
    short = site.client.post(f"/dossiers/{receipt}/withdraw",
                             data={"reason": "no", "csrf_token": token})
    assert short.status_code == 422
    assert "ít nhất 5 ký tự" in error_next_to(short.text, "reason")
    response = site.client.post(f"/dossiers/{receipt}/withdraw", follow_redirects=False,
                                data={"reason": "nộp nhầm thủ tục", "csrf_token": token})
    assert response.status_code == 303
    page = site.client.get(f"/dossiers/{receipt}?lang=en").text
    assert "nộp nhầm thủ tục" in page
    assert 'data-action="withdraw"' in page
    assert dossier(site, receipt).state == "withdrawn"
    assert 'action="/dossiers/' + receipt + '/withdraw"' not in page


def test_a_requested_supplement_is_sent_from_the_dossier_page(site: Site, mai: Person) -> None:
    receipt = submitted_birth(site)
    with transaction(site.services.session_factory) as session:
        service.transition(session, CLERK_HANOI, receipt, "receive")
        service.transition(session, CLERK_HANOI, receipt, "request_supplement",
                           "giấy chứng sinh bị mờ, xin gửi lại bản rõ")
    page = site.client.get(f"/dossiers/{receipt}").text
    assert "giấy chứng sinh bị mờ" in page
    assert "Yêu cầu bổ sung" in page
    token = csrf_of(site, f"/dossiers/{receipt}")
    wrong = site.client.post(f"/dossiers/{receipt}/supplement", data={"csrf_token": token},
                             files={"document_birth_notice": ("a.gif", b"GIF89a", "image/gif")})
    assert wrong.status_code == 422
    assert dossier(site, receipt).state == "supplement_requested"
    response = site.client.post(f"/dossiers/{receipt}/supplement", follow_redirects=False,
                                data={"csrf_token": token},
                                files={"document_birth_notice": ("ro.pdf", PDF,
                                                                 "application/pdf")})
    assert response.status_code == 303
    assert dossier(site, receipt).state == "supplemented"
    page = site.client.get(f"/dossiers/{receipt}").text
    assert 'data-action="supplement"' in page
    assert "Đã bổ sung" in page
    with transaction(site.services.session_factory) as session:
        assert len(session.scalars(select(Attachment)).all()) == 2


def test_the_result_pdf_is_served_to_its_applicant_only(site: Site, mai: Person) -> None:
    receipt = submitted_birth(site)
    not_yet = site.client.get(f"/dossiers/{receipt}/result.pdf", follow_redirects=False)
    assert (not_yet.status_code, not_yet.headers["location"]) == (303, f"/dossiers/{receipt}")
    with transaction(site.services.session_factory) as session:
        service.transition(session, CLERK_HANOI, receipt, "receive")
        service.transition(session, CLERK_HANOI, receipt, "start")
        approved = service.transition(session, APPROVER_HANOI, receipt, "approve",
                                      "đủ điều kiện đăng ký")
        approved.result_pdf = PDF  # what the console's flow stores once it has signed it
    page = site.client.get(f"/dossiers/{receipt}").text
    assert f'href="/dossiers/{receipt}/result.pdf"' in page
    assert "đủ điều kiện" in page
    response = site.client.get(f"/dossiers/{receipt}/result.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content == PDF
    assert site.client.get(f"/dossiers/{someone_elses_draft(site)}/result.pdf"
                           ).status_code == 404


# --- every page of one's own dossier leads somewhere ---------------------------------------

def test_a_free_dossiers_payment_page_and_receipt_send_it_to_its_own_page(
        site: Site, mai: Person) -> None:
    """Issue: a free dossier once submitted was sent from its payment page to a payment
    receipt that answered 404, "this dossier has no payment yet": a dead end."""
    receipt = submitted_birth(site)
    for page in ("payment", "payment/receipt"):
        response = site.client.get(f"/dossiers/{receipt}/{page}", follow_redirects=False)
        assert response.status_code == 303, page
        assert response.headers["location"] == f"/dossiers/{receipt}", page


def test_an_unpaid_drafts_receipt_sends_it_to_its_payment_step(site: Site, mai: Person) -> None:
    receipt = residence_ready_to_pay(site)
    response = site.client.get(f"/dossiers/{receipt}/payment/receipt", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/dossiers/{receipt}/payment"


# The steps, each with who takes it, that bring a submitted dossier to a state; the admin
# decides both procedures, which two agencies decide.
TO_STATE = {
    "submitted": [],
    "in_processing": [(CLERK_HANOI, "receive"), (CLERK_HANOI, "start")],
    "supplement_requested": [(CLERK_HANOI, "receive"), (CLERK_HANOI, "request_supplement")],
    "approved": [(CLERK_HANOI, "receive"), (CLERK_HANOI, "start"),
                 (ADMIN, "approve")],
    "refused": [(CLERK_HANOI, "receive"), (ADMIN, "refuse")],
    "withdrawn": [(None, "withdraw")],  # None: the applicant herself
}
DOSSIER_PAGES = ["", "/payment", "/payment/receipt", "/result.pdf"]


def bring_to(site: Site, mai: Person, receipt: str, state: str) -> None:
    with transaction(site.services.session_factory) as session:
        for actor, action in TO_STATE[state]:
            service.transition(session, actor or citizen(mai), receipt, action,
                               "lý do của bước này")


def assert_every_page_leads_to_the_dossier(site: Site, receipt: str) -> None:
    for page in DOSSIER_PAGES:
        response = site.client.get(f"/dossiers/{receipt}{page}")
        assert response.status_code == 200, (page, response.status_code)
        assert response.url.path.startswith(f"/dossiers/{receipt}"), (page, response.url)


@pytest.mark.parametrize("state", list(TO_STATE))
def test_every_page_of_ones_own_dossier_answers_in_each_state(
        site: Site, mai: Person, state: str) -> None:
    """The dossier's page, its payment step and receipt and its result, bookmarked or typed,
    each show a page of the dossier (or send to one) whatever its state: none is a dead end."""
    free, paid = submitted_birth(site), residence_ready_to_pay(site)
    assert pay(site, paid, GOOD_CARD).status_code == 303
    for receipt in (free, paid):
        bring_to(site, mai, receipt, state)
        assert dossier(site, receipt).state == state
        assert_every_page_leads_to_the_dossier(site, receipt)


def test_every_page_of_ones_own_draft_answers(site: Site, mai: Person) -> None:
    for receipt in (start(site), residence_ready_to_pay(site)):
        assert_every_page_leads_to_the_dossier(site, receipt)


# --- an interlinked group -------------------------------------------------------------------

GROUP_VALUES = {**CHILD, "new_ward_code": "00004", "new_address_line": "5 Lý Thường Kiệt"}
GROUP_FILES = {**NOTICE, "document_residence_proof": ("so-do.pdf", PDF, "application/pdf")}


def test_a_group_is_filled_once_and_submits_three_dossiers_under_one_receipt(
        site: Site, mai: Person) -> None:
    receipt = start(site, "/services/groups/birth-bundle")
    form = site.client.get(f"/dossiers/{receipt}").text
    assert form.count('name="child_full_name"') == 1  # asked by two procedures, typed once
    assert 'name="document_residence_proof"' in form
    response = send_form(site, receipt, GROUP_VALUES, files=GROUP_FILES)
    assert response.headers["location"] == f"/dossiers/{receipt}/payment"
    assert pay(site, receipt, GOOD_CARD).status_code == 303
    page = site.client.get(f"/dossiers/{receipt}").text
    with transaction(site.services.session_factory) as session:
        group = session.scalars(select(DossierGroup)).one()
        members = session.scalars(select(Dossier).where(Dossier.group_id == group.id)).all()
        assert group.receipt_code == receipt
        assert {d.state for d in members} == {"submitted"}
        assert len(members) == 3
        assert sum(d.fee for d in members) == 10_000  # the residence registration's fee
        assert all(d.receipt_code in page for d in members)
    assert receipt in page
    assert "10.000 đ" in page


def test_a_group_with_one_refusal_submits_none_of_its_dossiers(
        site: Site, mai: Person, tmp_path: Path) -> None:
    receipt = start(site, "/services/groups/birth-bundle")
    missing = send_form(site, receipt, {**GROUP_VALUES, "new_address_line": ""},
                        files=GROUP_FILES)
    assert missing.status_code == 422
    assert error_next_to(missing.text, "new_address_line") == "Bắt buộc."
    # the birth registration is free and would pass; the residence's fee is declined
    site.services[PAYMENTS] = LocalTreasury(tmp_path / "strict", limit=5_000)
    assert send_form(site, receipt, GROUP_VALUES).status_code == 303
    declined = pay(site, receipt, GOOD_CARD)
    assert declined.status_code == 409
    with transaction(site.services.session_factory) as session:
        assert set(session.scalars(select(Dossier.state))) == {"draft"}
        assert session.scalars(select(Dossier.payment_reference)).all() == [None] * 3


def test_a_group_member_draft_opens_the_groups_form(site: Site, mai: Person) -> None:
    receipt = start(site, "/services/groups/birth-bundle")
    with transaction(site.services.session_factory) as session:
        member = session.scalars(select(Dossier.receipt_code)).first()
    response = site.client.get(f"/dossiers/{member}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/dossiers/{receipt}"


def test_a_group_members_payment_step_and_receipt_are_the_groups(
        site: Site, mai: Person) -> None:
    """A group is paid for and submitted as one: its residence registration's own payment
    step, typed, once offered to pay for and submit that dossier alone."""
    receipt = start(site, "/services/groups/birth-bundle")
    assert send_form(site, receipt, GROUP_VALUES, files=GROUP_FILES).status_code == 303
    token = csrf_of(site, f"/dossiers/{receipt}/payment")
    with transaction(site.services.session_factory) as session:
        members = list(session.scalars(select(Dossier.receipt_code)))
    for member in members:
        answers = [site.client.get(f"/dossiers/{member}/{page}", follow_redirects=False)
                   for page in ("payment", "payment/receipt")]
        answers.append(site.client.post(f"/dossiers/{member}/payment", follow_redirects=False,
                                        data={**GOOD_CARD, "csrf_token": token}))
        for answer in answers:
            assert answer.status_code == 303, (member, answer.request.url)
            assert answer.headers["location"] == f"/dossiers/{receipt}/payment"
    with transaction(site.services.session_factory) as session:
        assert set(session.scalars(select(Dossier.state))) == {"draft"}
    assert charges(site) == []


def test_the_childs_sex_is_a_choice_and_male_typed_is_refused_at_submission_next_to_it(
        site: Site, mai: Person) -> None:
    """Issue 19: "male" once passed submission and made the approval fail."""
    receipt = start(site)
    form = site.client.get(f"/dossiers/{receipt}?lang=en").text
    assert re.search(r'<select id="child_sex" name="child_sex"', form)
    assert '<option value="F">Female</option>' in form
    assert re.search(r'id="child_date_of_birth" name="child_date_of_birth" type="date"', form)
    response = send_form(site, receipt, {**CHILD, "child_sex": "male"}, files=NOTICE)
    assert response.status_code == 422
    assert error_next_to(response.text, "child_sex")
    assert dossier(site, receipt).state == "draft"
