"""The officials' dossier pages through the real app: the inbox with overdue dossiers, a
dossier's data, documents and history, the actions each role may take, approval with its
signed PDF, refusals shown (never a 500), audited downloads, and the assisted channel."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import func, select, update

from civicstack.identity.models import CitizenNotice
from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.errors import Invalid
from civicstack.kit.outbox import OutboxMessage
from civicstack.registry.models import LifeStatus, Person, Sex
from civicstack.services import service
from civicstack.services.models import Dossier
from civicstack.services.site import PAYMENTS, RESULT_SIGNER
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WALLET_SITE
from tests.integration.test_identity_web import citizen_sign_in
from tests.support.eid import make_active_account
from tests.support.people import make_person
from tests.support.services import CLERK_HANOI, citizen, publish_everywhere
from tests.support.uploads import PDF
from tests.support.wallet import give_id_card
from tests.support.web import Site

HANOI = Scope.province("01")
CHILD = {"child_full_name": "Nguyễn Gia Bảo",
         "child_date_of_birth": (date.today() - timedelta(days=2)).isoformat(),
         "child_sex": "M"}


@pytest.fixture
def mother(site: Site) -> Person:
    """Trần Thị Mai of Hà Nội, with her ID card in her wallet; the catalogue published."""
    with transaction(site.services.session_factory) as session:
        publish_everywhere(session)
        person = make_person(session, "Trần Thị Mai", date(1994, 3, 8), sex=Sex.FEMALE,
                             province_code="01", phone="0912000111")
        give_id_card(session, person)
        wallet.issue_from_register(session, site.services[WALLET_SITE], person.personal_id_number,
                                   "id_card")
        return person


def submitted_birth(site: Site, mother: Person, *, started: bool = False) -> str:
    """The mother's birth registration, submitted online; with `started`, received and
    started by the one-stop clerk."""
    with transaction(site.services.session_factory) as session:
        actor = citizen(mother)
        draft = service.start_draft(session, actor, mother.personal_id_number, "DVC-HT-01")
        service.save_draft(session, actor, draft, CHILD)
        service.add_attachment(session, actor, draft, "birth_notice", "giay-chung-sinh.pdf",
                               "application/pdf", PDF)
        service.submit(session, site.services[WALLET_SITE], actor, draft, site.services[PAYMENTS])
        if started:
            service.transition(session, CLERK_HANOI, draft.receipt_code, "receive")
            service.transition(session, CLERK_HANOI, draft.receipt_code, "start")
        return draft.receipt_code


def dossier(site: Site, receipt_code: str) -> Dossier:
    with transaction(site.services.session_factory) as session:
        found = session.scalars(select(Dossier).where(
            Dossier.receipt_code == receipt_code)).one()
        session.expunge(found)
        return found


def act(site: Site, receipt_code: str, action: str, reason: str = "") -> tuple[int, str]:
    page = f"/console/dossiers/{receipt_code}"
    response = site.client.post(f"{page}/actions/{action}", follow_redirects=False, data={
        "reason": reason, "csrf_token": site.csrf(page)})
    return response.status_code, response.text


def buttons(html: str) -> set[str]:
    return set(re.findall(r'/actions/([a-z_]+)"', html))


def test_the_inbox_shows_due_dates_and_counts_overdue_dossiers(site: Site, mother: Person
                                                              ) -> None:
    late = submitted_birth(site, mother)
    on_time = submitted_birth(site, mother)
    with transaction(site.services.session_factory) as session:  # as if days had passed
        found = service.dossier_for(session, CLERK_HANOI, late)
        found.due_on = date.today() - timedelta(days=3)
    site.sign_in_as(Role.SERVICE_CLERK, HANOI)
    page = site.client.get("/console/dossiers?lang=vi")
    assert page.status_code == 200
    assert "1 hồ sơ quá hạn" in page.text
    rows = page.text.split("<tr>")
    assert "quá hạn" in next(r for r in rows if late in r)
    assert "quá hạn" not in next(r for r in rows if on_time in r)
    assert "Hồ sơ dịch vụ công" in page.text  # the console's navigation
    assert late not in site.client.get("/console/dossiers?state=received").text


def test_a_birth_goes_from_the_clerk_to_the_approver_and_ends_in_a_signed_result(
        site: Site, mother: Person, tmp_path: Path) -> None:
    code = submitted_birth(site, mother)
    site.sign_in_as(Role.SERVICE_CLERK, HANOI)
    page = site.client.get(f"/console/dossiers/{code}?lang=vi").text
    assert "Họ tên trẻ" in page
    assert "Nguyễn Gia Bảo" in page
    assert "giay-chung-sinh.pdf" in page
    assert "từ ví" in page  # the ID card came from the wallet, not an upload
    assert buttons(page) == {"receive"}  # clerks receive and start; they do not decide
    assert act(site, code, "receive")[0] == 303
    assert act(site, code, "start")[0] == 303

    site.sign_in_as(Role.AGENCY_APPROVER, HANOI)
    page = site.client.get(f"/console/dossiers/{code}").text
    assert buttons(page) == {"request_supplement", "approve", "refuse"}
    assert act(site, code, "approve", "hồ sơ hợp lệ, đủ giấy tờ")[0] == 303
    page = site.client.get(f"/console/dossiers/{code}?lang=vi").text
    assert "Đã trả kết quả" in page
    assert f"/console/dossiers/{code}/result.pdf" in page
    assert buttons(page) == set()

    pdf = site.client.get(f"/console/dossiers/{code}/result.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    root = asn1_x509.Certificate.load(site.services[RESULT_SIGNER].root_certificate()
                                      .public_bytes(serialization.Encoding.DER))
    status = validate_pdf_signature(PdfFileReader(io.BytesIO(pdf.content)).embedded_signatures[0],
                                    ValidationContext(trust_roots=[root], allow_fetching=False))
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.signing_cert.subject.native["common_name"] == "Ủy ban nhân dân cấp xã"

    # The mother sees her newborn's birth certificate in her own wallet.
    make_active_account(site.services.session_factory, site.services.pepper, mother,
                        tmp_path / "mailbox")
    site.client.post("/console/logout", data={"csrf_token": site.csrf("/console/dossiers")})
    assert citizen_sign_in(site, mother) == 303
    wallet_page = site.client.get("/wallet?lang=vi").text
    assert "Giấy tờ của con dưới 14 tuổi" in wallet_page
    assert "Giấy khai sinh" in wallet_page
    assert "Nguyễn Gia Bảo" in wallet_page


def test_refusals_are_shown_on_the_page_and_change_nothing(site: Site, mother: Person) -> None:
    code = submitted_birth(site, mother, started=True)
    site.sign_in_as(Role.AGENCY_APPROVER, Scope.province("79"))
    assert site.client.get(f"/console/dossiers/{code}").status_code == 404  # outside scope
    assert act(site, code, "approve", "hợp lệ")[0] == 404

    site.sign_in_as(Role.POLICE, HANOI)
    page = site.client.get(f"/console/dossiers/{code}").text
    assert "approve" not in buttons(page)  # the police do not decide civil status
    status, html = act(site, code, "approve", "hợp lệ")
    assert status == 403
    assert "không có thẩm quyền giải quyết thủ tục này" in html

    site.sign_in_as(Role.AGENCY_APPROVER, HANOI)
    status, html = act(site, code, "approve", "")
    assert status == 422
    assert 'id="reason-approve-error"' in html
    assert act(site, code, "receive")[0] == 409  # already received: illegal
    assert act(site, code, "teleport", "whatever it is")[0] == 422
    assert dossier(site, code).state == "in_processing"


def test_an_approval_refused_midway_leaves_no_person_and_no_decision(
        site: Site, mother: Person) -> None:
    code = submitted_birth(site, mother, started=True)
    with transaction(site.services.session_factory) as session:
        # The register changes under the dossier by a path that tells no one (an import, say):
        # the birth is then refused midway, after the dossier's own checks passed. A death
        # recorded through the register's service would end the dossier itself (life events).
        session.execute(update(Person).where(
            Person.personal_id_number == mother.personal_id_number).values(
            status=LifeStatus.DECEASED.value, date_of_death=date.today()))
        people = session.scalar(select(func.count()).select_from(Person))
    site.sign_in_as(Role.AGENCY_APPROVER, HANOI)
    status, html = act(site, code, "approve", "hồ sơ hợp lệ")
    assert status == 409
    assert 'id="dossier-refusal"' in html
    found = dossier(site, code)
    assert found.state == "in_processing"
    assert found.result_pdf is None
    with transaction(site.services.session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Person)) == people
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "services.dossier.approve")) == 0


def test_an_attachment_is_downloaded_as_stored_and_the_download_is_audited(
        site: Site, mother: Person) -> None:
    code = submitted_birth(site, mother)
    site.sign_in_as(Role.SERVICE_CLERK, HANOI)
    page = site.client.get(f"/console/dossiers/{code}").text
    link = re.search(rf'/console/dossiers/{code}/attachments/(\d+)', page)
    assert link
    response = site.client.get(link.group(0))
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    with transaction(site.services.session_factory) as session:
        read = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "services.attachment.read")).one()
    assert read.subject_id == mother.personal_id_number
    assert read.detail["dossier"] == code
    assert site.client.get(f"/console/dossiers/{code}/attachments/999999").status_code == 404
    assert site.client.get(f"/console/dossiers/{code}/result.pdf").status_code == 404


def test_a_clerk_files_a_dossier_for_a_citizen_at_the_counter(site: Site,
                                                              mother: Person) -> None:
    site.sign_in_as(Role.SERVICE_CLERK, HANOI)
    token = site.csrf("/console/dossiers/new")
    refused = site.client.post("/console/dossiers/new", data={
        "pid": "001999999999", "procedure": "DVC-HT-01", "csrf_token": token})
    assert refused.status_code == 404
    opened = site.client.post("/console/dossiers/new", follow_redirects=False, data={
        "pid": mother.personal_id_number, "procedure": "DVC-HT-01", "csrf_token": token})
    assert opened.status_code == 303
    page = opened.headers["location"]
    code = page.rsplit("/", 1)[1]
    incomplete = site.client.post(f"{page}/assist", data={
        "child_full_name": CHILD["child_full_name"], "submit": "1",
        "csrf_token": site.csrf(page)})
    assert incomplete.status_code == 422  # no birth date, no birth notice
    assert 'id="assist-child_date_of_birth-error"' in incomplete.text
    done = site.client.post(f"{page}/assist", follow_redirects=False, data={
        "child_date_of_birth": CHILD["child_date_of_birth"], "child_sex": "M", "submit": "1",
        "csrf_token": site.csrf(page)},
        files={"file_birth_notice": ("giay-chung-sinh.pdf", PDF, "application/pdf")})
    assert done.status_code == 303
    filed = dossier(site, code)
    assert (filed.state, filed.channel) == ("submitted", "assisted")
    assert filed.data["child_full_name"] == CHILD["child_full_name"]  # saved the first time


def test_the_console_pages_ask_an_official_to_sign_in(site: Site) -> None:
    for path in ("/console/dossiers", "/console/dossiers/new", "/console/dossiers/X/result.pdf"):
        response = site.client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/login?next=")


def test_a_supplement_request_names_a_field_the_citizen_corrects_and_the_birth_then_approves(
        site: Site, mother: Person, tmp_path: Path) -> None:
    """Issue 19: a field typed wrong is corrected through a supplement, not a dead end."""
    code = submitted_birth(site, mother, started=True)
    site.sign_in_as(Role.AGENCY_APPROVER, HANOI)
    page = f"/console/dossiers/{code}"
    assert 'name="fields" value="child_full_name"' in site.client.get(page).text
    asked = site.client.post(f"{page}/actions/request_supplement", follow_redirects=False,
                             data={"reason": "tên trẻ ghi sai, xin sửa lại",
                                   "fields": ["child_full_name"], "csrf_token": site.csrf(page)})
    assert asked.status_code == 303

    make_active_account(site.services.session_factory, site.services.pepper, mother,
                        tmp_path / "mailbox")
    assert citizen_sign_in(site, mother) == 303
    mine = f"/dossiers/{code}"
    form = site.client.get(mine).text
    assert re.search(r'id="child_full_name"[^>]*value="Nguyễn Gia Bảo"', form)
    assert 'id="child_sex"' not in form  # only the fields named are open again
    empty = site.client.post(f"{mine}/supplement", data={
        "child_full_name": " ", "csrf_token": site.csrf(mine)})
    assert empty.status_code == 422
    assert 'id="child_full_name-error"' in empty.text
    assert dossier(site, code).state == "supplement_requested"
    sent = site.client.post(f"{mine}/supplement", follow_redirects=False, data={
        "child_full_name": "Nguyễn Gia Huy", "csrf_token": site.csrf(mine)})
    assert sent.status_code == 303
    assert dossier(site, code).data["child_full_name"] == "Nguyễn Gia Huy"

    site.sign_in_as(Role.SERVICE_CLERK, HANOI)
    assert act(site, code, "start")[0] == 303
    site.sign_in_as(Role.AGENCY_APPROVER, HANOI)
    assert act(site, code, "approve", "hồ sơ hợp lệ sau khi bổ sung")[0] == 303
    decided = dossier(site, code)
    assert decided.state == "result_delivered"
    with transaction(site.services.session_factory) as session:
        child = session.scalars(select(Person).where(
            Person.personal_id_number == decided.result_person_pid)).one()
        assert child.full_name == "Nguyễn Gia Huy"


def test_only_fields_the_applicant_typed_can_be_named_for_correction(
        site: Site, mother: Person) -> None:
    code = submitted_birth(site, mother, started=True)
    with transaction(site.services.session_factory) as session, pytest.raises(Invalid):
        service.request_supplement(session, CLERK_HANOI, code, "sửa số định danh",
                                   ["applicant_pid"])
    assert dossier(site, code).state == "in_processing"


def listed_notices(site: Site, language: str) -> list[str]:
    page = site.client.get(f"/account/notifications?lang={language}").text
    return [html.unescape(notice) for notice in
            re.findall(r"<li><time>[^<]*</time> ([^<]+)</li>", page)]


def due_of(site: Site, code: str) -> str:
    due_on = dossier(site, code).due_on
    assert due_on is not None
    return due_on.strftime("%d/%m/%Y")


def test_each_step_of_a_birth_queues_an_sms_and_the_citizen_reads_them_newest_first(
        site: Site, mother: Person, tmp_path: Path) -> None:
    """Issue 19: the dossier page promises an SMS at each step; the portal lists them."""
    code = submitted_birth(site, mother, started=True)
    site.sign_in_as(Role.AGENCY_APPROVER, HANOI)
    assert act(site, code, "approve", "hồ sơ hợp lệ, đủ giấy tờ")[0] == 303
    with transaction(site.services.session_factory) as session:
        sent = session.scalars(select(OutboxMessage.body).where(
            OutboxMessage.recipient == mother.phone).order_by(OutboxMessage.id)).all()
    steps = [body for body in sent if code in body]
    for action, body in zip(["submit", "receive", "start", "approve", "deliver"], steps,
                            strict=True):
        assert body.startswith(service.NOTICES[action].sms.split("{due}")[0].format(code=code))

    make_active_account(site.services.session_factory, site.services.pepper, mother,
                        tmp_path / "mailbox")
    assert citizen_sign_in(site, mother) == 303
    # Listed in the reader's language (the SMS is ASCII Vietnamese: every phone shows it).
    vietnamese = listed_notices(site, "vi")
    assert [notice for notice in vietnamese if code in notice] == [
        f"Hồ sơ {code} đã có kết quả; giấy tờ đã có trong ví.",
        f"Hồ sơ {code} đã được phê duyệt; kết quả đang được ký số.",
        f"Hồ sơ {code} đang được xử lý.",
        f"Hồ sơ {code} đã được tiếp nhận.",
        f"Hồ sơ {code} đã được nộp. Hạn trả kết quả: {due_of(site, code)}."]
    # the account's approval came last, with no English left on the Vietnamese page
    assert vietnamese[0] == ("Tài khoản định danh điện tử của bạn đã được phê duyệt; bạn có "
                             "thể đăng nhập.")
    english = listed_notices(site, "en")
    assert english[0] == "Your eID account is approved; you can sign in."
    assert english[1] == f"Dossier {code} has its result; the document is in your wallet."
    assert not any("Hồ sơ" in notice or "Ho so" in notice for notice in english)
    assert not any("Ma xac minh" in body for body in vietnamese)  # codes are never listed back
    assert "/account/notifications" in site.client.get("/account").text


def test_a_notice_kept_before_translation_shows_its_sms_text_escaped(
        site: Site, mother: Person, tmp_path: Path) -> None:
    """Notices stored before the portal's sentence (migration 0051) show the SMS as sent, as
    text: a body is data, never markup."""
    make_active_account(site.services.session_factory, site.services.pepper, mother,
                        tmp_path / "mailbox")
    with transaction(site.services.session_factory) as session:
        session.add(CitizenNotice(personal_id_number=mother.personal_id_number,
                                  body="Ho so <b>X</b> da duoc rut.",
                                  created_at=datetime.now(UTC) + timedelta(minutes=1)))
    assert citizen_sign_in(site, mother) == 303
    page = site.client.get("/account/notifications?lang=en").text
    assert "Ho so &lt;b&gt;X&lt;/b&gt; da duoc rut." in page
    assert listed_notices(site, "vi")[0] == "Ho so <b>X</b> da duoc rut."


def test_approving_a_dossier_whose_data_panel_is_empty_is_refused_with_a_clear_message(
        site: Site, mother: Person) -> None:
    code = submitted_birth(site, mother, started=True)
    with transaction(site.services.session_factory) as session:
        # A dossier whose form lost its values (an import, a faulty migration): nothing shown.
        session.execute(update(Dossier).where(Dossier.receipt_code == code).values(data={}))
    site.sign_in_as(Role.AGENCY_APPROVER, HANOI)
    assert "Nothing entered yet." in site.client.get(f"/console/dossiers/{code}?lang=en").text
    status, html = act(site, code, "approve", "hồ sơ hợp lệ")
    assert status == 409
    assert "This dossier holds no data to decide on" in html  # the page chosen in English
    assert dossier(site, code).state == "in_processing"


def test_the_reason_boxes_have_visible_labels_not_placeholders(site: Site,
                                                               mother: Person) -> None:
    code = submitted_birth(site, mother, started=True)
    site.sign_in_as(Role.AGENCY_APPROVER, HANOI)
    page = site.client.get(f"/console/dossiers/{code}?lang=vi").text
    boxes = re.findall(r'<label for="reason-([a-z_]+)"([^>]*)>([^<]+)</label>', page)
    assert len(boxes) == 3
    for action, attributes, text in boxes:
        assert "visually-hidden" not in attributes, action
        assert text.startswith("Lý do: "), text
    assert "placeholder=" not in page.split('id="dossier-actions"')[1].split("</section>")[0]
