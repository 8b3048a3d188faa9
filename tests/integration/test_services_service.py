"""Dossiers from draft to decision through the services' rules: the catalogue per province,
prefill from the register and the wallet, uploads only of what is not integrated, payment,
working-day due dates, the state machine's refusals, interlinked groups and re-routing."""

from __future__ import annotations

import hashlib
import io
import json
import time
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicstack.kit import calendar
from civicstack.kit.audit import AuditEntry
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound
from civicstack.kit.outbox import OutboxMessage
from civicstack.registry.models import Person
from civicstack.services import catalogue, service
from civicstack.services.models import Dossier, Payment
from civicstack.services.payments import LocalTreasury
from civicstack.wallet.site import WalletSite
from tests.support.people import make_person
from tests.support.services import (
    ADMIN,
    APPROVER_HANOI,
    APPROVER_HCMC,
    CLERK_HANOI,
    POLICE_HANOI,
    birth_bundle_charging_for_the_card,
    citizen,
    parent_with_id_card,
    publish_everywhere,
    treasury,
)
from tests.support.uploads import (
    HTML,
    PDF,
    PDF_OPENING_JAVASCRIPT,
    jpeg_with_html,
    pdf,
    pdf_with_compressed_javascript,
    png,
    png_bomb,
)
from tests.support.wallet import wallet_site

CHILD = {"child_full_name": "Nguyễn Gia Bảo", "child_date_of_birth": "2026-11-20",
         "child_sex": "M"}


@pytest.fixture
def site(session: Session, tmp_path: Path) -> WalletSite:
    publish_everywhere(session)
    return wallet_site(session)


@pytest.fixture
def mai(session: Session, site: WalletSite) -> Person:
    return parent_with_id_card(session, site)


def birth_draft(session: Session, mai: Person, with_notice: bool = True) -> Dossier:
    actor = citizen(mai)
    draft = service.start_draft(session, actor, mai.personal_id_number, "DVC-HT-01")
    service.save_draft(session, actor, draft, CHILD)
    if with_notice:
        service.add_attachment(session, actor, draft, "birth_notice", "giay-chung-sinh.pdf",
                               "application/pdf", PDF)
    return draft


def test_the_seed_has_25_fully_online_procedures_published_per_province(
        session: Session, site: WalletSite) -> None:
    full = [p for p in catalogue.PROCEDURES if p.online_level == "full"]
    assert len(full) == 25
    hanoi = {p.procedure.code: p for p in service.catalogue_for(session, "01")}
    assert len(hanoi) == 27
    assert hanoi["DVC-CT-03"].online_fee == 10_000  # Hà Nội's own fee
    assert "DVC-XD-01" not in {p.procedure.code for p in service.catalogue_for(session, "02")}
    with pytest.raises(Conflict):
        service.published(session, "DVC-XD-01", "02")


def test_the_form_is_prefilled_from_the_register_and_the_wallet(
        session: Session, site: WalletSite, mai: Person) -> None:
    found = service.procedure(session, "DVC-HT-01")
    filled = service.prefill(session, site, citizen(mai), mai.personal_id_number, found)
    assert filled.values["applicant_name"] == "Trần Thị Mai"
    assert filled.values["applicant_pid"] == mai.personal_id_number
    assert "Hà Nội" in filled.values["applicant_address"]
    assert set(filled.wallet_documents) == {"id_card"}  # never uploaded
    read = session.scalars(select(AuditEntry.purpose).where(
        AuditEntry.subject_id == mai.personal_id_number,
        AuditEntry.action == "registry.person.read")).all()
    assert service.PURPOSE_PREFILL in read


def test_a_submitted_birth_registration_is_paid_dated_in_working_days_and_notified(
        session: Session, site: WalletSite, mai: Person, tmp_path: Path) -> None:
    draft = birth_draft(session, mai)
    submitted = service.submit(session, site, citizen(mai), draft, treasury(tmp_path))
    assert submitted.state == "submitted"
    assert submitted.fee == 0
    assert submitted.payment_reference is None
    assert submitted.due_on == calendar.add_working_days(date.today(), 1)
    assert submitted.data["applicant_name"] == "Trần Thị Mai"
    assert [e.action for e in service.history(session, submitted)] == ["create", "submit"]
    sms = session.scalars(select(OutboxMessage.body).where(
        OutboxMessage.recipient == "0912000111")).all()
    assert any(submitted.receipt_code in body for body in sms)


def test_a_fee_is_paid_through_the_treasury_ledger(session: Session, site: WalletSite,
                                                   mai: Person, tmp_path: Path) -> None:
    actor = citizen(mai)
    draft = service.start_draft(session, actor, mai.personal_id_number, "DVC-TP-01")
    service.save_draft(session, actor, draft, {"purpose": "xin việc"})
    submitted = service.submit(session, site, actor, draft, treasury(tmp_path))
    assert submitted.fee == 100_000  # online fee, half the counter's
    payment = session.scalars(select(Payment)).one()
    ledger = [json.loads(line) for line in
              (tmp_path / "treasury" / "ledger.jsonl").read_text().splitlines()]
    assert ledger[0]["reference"] == payment.reference == submitted.payment_reference
    assert ledger[0]["amount"] == 100_000


def test_missing_data_and_documents_are_refused_all_at_once(
        session: Session, site: WalletSite, tmp_path: Path) -> None:
    lan = make_person(session, "Lê Thị Lan", date(1990, 1, 1), phone="0912000222")
    draft = service.start_draft(session, citizen(lan), lan.personal_id_number, "DVC-HT-01")
    with pytest.raises(Invalid) as refused:
        service.submit(session, site, citizen(lan), draft, treasury(tmp_path))
    reasons = {e.field: e.reason for e in refused.value.errors}
    assert reasons["child_full_name"] == "Required."
    assert reasons["birth_notice"] == "Required."
    assert reasons["id_card"] == service.NO_WALLET_DOCUMENT
    assert draft.state == "draft"


@pytest.mark.parametrize(("document", "name", "media_type", "content", "reason"), [
    ("birth_notice", "a.exe", "application/pdf", b"MZ\x90\x00", "must be a PDF, JPEG or PNG"),
    ("birth_notice", "a.gif", "image/gif", b"GIF89a", "must be a PDF, JPEG or PNG"),
    ("birth_notice", "big.pdf", "application/pdf", b"%PDF-" + b"x" * (5 * 1024 * 1024),
     "larger than 5 MB"),
    ("passport", "p.pdf", "application/pdf", PDF, "does not ask for this document"),
])
def test_an_attachment_of_the_wrong_kind_or_size_is_refused(
        session: Session, site: WalletSite, mai: Person, document: str, name: str,
        media_type: str, content: bytes, reason: str) -> None:
    draft = birth_draft(session, mai, with_notice=False)
    with pytest.raises(Invalid, match=reason):
        service.add_attachment(session, citizen(mai), draft, document, name, media_type,
                               content)


@pytest.mark.parametrize(("name", "media_type", "content", "reason"), [
    ("bom.png", "image/png", png_bomb(), "too many pixels"),
    ("mo-ra.pdf", "application/pdf", PDF_OPENING_JAVASCRIPT, "runs when it is opened"),
    ("nen.pdf", "application/pdf", pdf_with_compressed_javascript(), "runs when it is opened"),
    ("trang-web.pdf", "application/pdf", pdf(before=HTML), "besides the document"),
    ("trang-web.pdf", "application/pdf", pdf(after=HTML), "besides the document"),
], ids=["png-bomb", "open-action-script", "compressed-script", "html-before", "html-after"])
def test_a_hostile_attachment_is_refused_and_a_bomb_never_decoded(
        session: Session, site: WalletSite, mai: Person, name: str, media_type: str,
        content: bytes, reason: str) -> None:
    draft = birth_draft(session, mai, with_notice=False)
    started = time.monotonic()
    with pytest.raises(Invalid, match=reason):
        service.add_attachment(session, citizen(mai), draft, "birth_notice", name, media_type,
                               content)
    assert time.monotonic() - started < 2  # 400 million pixels would take far longer
    assert service.attachments(session, draft) == []


def test_an_image_with_a_web_page_inside_is_kept_as_the_image_alone(
        session: Session, site: WalletSite, mai: Person) -> None:
    draft = birth_draft(session, mai, with_notice=False)
    kept = service.add_attachment(session, citizen(mai), draft, "birth_notice", "anh.jpg",
                                  "image/jpeg", jpeg_with_html())
    assert b"<script" not in kept.content
    assert Image.open(io.BytesIO(kept.content)).size == (64, 48)
    assert (kept.size, kept.sha256) == (len(kept.content),
                                        hashlib.sha256(kept.content).hexdigest())


def test_a_draft_keeps_one_file_per_document_the_last_one_sent(
        session: Session, site: WalletSite, mai: Person) -> None:
    draft = birth_draft(session, mai)
    service.add_attachment(session, citizen(mai), draft, "birth_notice", "ban-ro.png",
                           "image/png", png())
    assert [(a.document_code, a.filename) for a in service.attachments(session, draft)] == [
        ("birth_notice", "ban-ro.png")]


def test_officials_move_the_dossier_and_illegal_moves_are_refused(
        session: Session, site: WalletSite, mai: Person, tmp_path: Path) -> None:
    code = service.submit(session, site, citizen(mai), birth_draft(session, mai),
                          treasury(tmp_path)).receipt_code
    with pytest.raises(Conflict, match="a submitted dossier cannot take the action 'approve'"):
        service.transition(session, APPROVER_HANOI, code, "approve", "all in order")
    with pytest.raises(NotFound):
        service.transition(session, APPROVER_HCMC, code, "receive")  # another province
    service.transition(session, CLERK_HANOI, code, "receive")
    service.transition(session, CLERK_HANOI, code, "start")
    with pytest.raises(Forbidden):
        service.transition(session, CLERK_HANOI, code, "approve", "clerks do not decide")
    with pytest.raises(Forbidden, match="does not decide"):
        service.transition(session, POLICE_HANOI, code, "approve", "police: not civil status")
    with pytest.raises(Invalid, match="reason"):
        service.transition(session, APPROVER_HANOI, code, "request_supplement", "")
    service.transition(session, APPROVER_HANOI, code, "request_supplement",
                       "ảnh giấy chứng sinh bị mờ")
    with pytest.raises(NotFound):
        service.transition(session, citizen(parent_with_id_card(
            session, site, "Đỗ Văn Nam", date(1980, 1, 1))), code, "supplement")
    service.transition(session, citizen(mai), code, "supplement")
    service.transition(session, CLERK_HANOI, code, "start")
    approved = service.transition(session, APPROVER_HANOI, code, "approve", "hợp lệ")
    assert approved.state == "approved"
    assert [e.action for e in service.history(session, approved)] == [
        "create", "submit", "receive", "start", "request_supplement", "supplement", "start",
        "approve"]
    sms = session.scalars(select(OutboxMessage.body).where(
        OutboxMessage.body.contains(code))).all()
    assert len(sms) == 7  # one for every change since submission
    with pytest.raises(Conflict):
        service.transition(session, citizen(mai), code, "withdraw", "đổi ý")
    with pytest.raises(Forbidden):
        service.transition(session, ADMIN, code, "deliver")


def test_an_inbox_shows_an_agency_what_it_decides_within_its_scope(
        session: Session, site: WalletSite, mai: Person, tmp_path: Path) -> None:
    birth = service.submit(session, site, citizen(mai), birth_draft(session, mai),
                           treasury(tmp_path))
    actor = citizen(mai)
    residence = service.start_draft(session, actor, mai.personal_id_number, "DVC-CT-04")
    service.submit(session, site, actor, residence, treasury(tmp_path))
    assert {d.receipt_code for d in service.inbox(session, CLERK_HANOI)} == {
        birth.receipt_code, residence.receipt_code}
    assert [d.receipt_code for d in service.inbox(session, APPROVER_HANOI)] == [
        birth.receipt_code]
    assert [d.receipt_code for d in service.inbox(session, POLICE_HANOI)] == [
        residence.receipt_code]
    assert service.inbox(session, APPROVER_HCMC) == []


def test_an_interlinked_group_opens_one_dossier_per_agency_under_one_receipt(
        session: Session, site: WalletSite, mai: Person) -> None:
    drafts = service.start_group(session, citizen(mai), mai.personal_id_number, "birth-bundle")
    assert [service.agency_of(session, service.procedure(session, code)).code
            for code in ("DVC-HT-01", "DVC-CT-01", "DVC-BH-01")] == [
        "ubnd-xa", "cong-an-xa", "bhxh-tinh"]
    assert len(drafts) == 3
    assert len({d.group_id for d in drafts}) == 1


def test_open_dossiers_of_an_abolished_ward_are_rerouted_with_their_history(
        session: Session, site: WalletSite, mai: Person, tmp_path: Path) -> None:
    submitted = service.submit(session, site, citizen(mai), birth_draft(session, mai),
                               treasury(tmp_path))
    old_ward = submitted.ward_code
    moved = service.reroute_after_merger(session, ADMIN, {old_ward: ("79", "26734")},
                                         "sáp nhập đơn vị hành chính")
    assert moved == 1
    assert (submitted.province_code, submitted.ward_code) == ("79", "26734")
    last = service.history(session, submitted)[-1]
    assert last.action == "reroute"
    assert last.detail["from_unit"] == ["01", old_ward]
    assert submitted.state == "submitted"  # nothing else changed
    with pytest.raises(Forbidden):
        service.reroute_after_merger(session, CLERK_HANOI, {}, "not their permission")


@pytest.mark.parametrize("member", [0, 1])  # the free birth registration, the paid residence
def test_a_groups_dossier_is_not_submitted_without_the_rest_of_its_group(
        session: Session, site: WalletSite, mai: Person, tmp_path: Path, member: int) -> None:
    """Interlinked procedures are submitted all or none: one member's own receipt, typed
    into its payment step, once paid for and submitted that dossier alone."""
    drafts = birth_bundle_charging_for_the_card(session, mai)
    payments = treasury(tmp_path)
    with pytest.raises(Conflict, match="together"):
        service.submit_group(session, site, citizen(mai), [drafts[member]], payments)
    assert {d.state for d in drafts} == {"draft"}
    assert payments.statement() == []


def test_a_group_whose_later_fee_is_declined_refunds_the_fees_already_taken(
        session: Session, site: WalletSite, mai: Person, tmp_path: Path) -> None:
    drafts = birth_bundle_charging_for_the_card(session, mai)
    strict = LocalTreasury(tmp_path / "strict", limit=15_000)
    with pytest.raises(service.PaymentRefused):
        service.submit_group(session, site, citizen(mai), drafts, strict)
    ledger = [json.loads(line) for line in
              (tmp_path / "strict" / "ledger.jsonl").read_text().splitlines()]
    assert [entry["amount"] for entry in ledger] == [10_000, -10_000]
    assert ledger[1]["refunds"] == ledger[0]["reference"]
    assert {d.state for d in drafts} == {"draft"}
    # No payment stands; each try's key is spent, so the next try is charged under a new one.
    assert sorted((p.status, p.amount) for p in session.scalars(select(Payment))) == [
        ("failed", 20_000), ("refunded", 10_000)]
