"""What approval sets in motion: the register changes (birth, death, residence), the result
lands in the wallet (the child's for a birth), the result PDF is signed PAdES in the agency's
name, the dossier is delivered; and a refused step leaves nothing behind."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import make_session_factory
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound
from civicstack.kit.keyprovider import WrongRootKey, decode_root_key, new_root_key
from civicstack.kit.secrets import SecretStore
from civicstack.registry import pid
from civicstack.registry import service as registry
from civicstack.registry.models import Person, Sex
from civicstack.services import catalogue, flows, service
from civicstack.services.models import Dossier
from civicstack.services.signing import StoredAgencySigner
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WalletSite
from tests.support.keys import secret_store
from tests.support.people import make_person
from tests.support.services import (
    APPROVER_HANOI,
    APPROVER_HCMC,
    CLERK_HANOI,
    POLICE_HANOI,
    citizen,
    publish_everywhere,
    treasury,
)
from tests.support.uploads import PDF
from tests.support.wallet import give_id_card, wallet_site

CLERK = CLERK_HANOI
CHILD_BORN = date.today() - timedelta(days=3)


@pytest.fixture
def site(session: Session, signer: StoredAgencySigner) -> WalletSite:
    publish_everywhere(session)
    return wallet_site(session)


@pytest.fixture
def signer(session_factory: sessionmaker[Session]) -> StoredAgencySigner:
    # The agencies' key pairs are made before the test's session writes (as the app makes them
    # before any approval): on SQLite their own transaction would wait for its lock.
    signer = StoredAgencySigner(secret_store(session_factory))
    for agency in catalogue.AGENCIES:
        signer.agency_certificate(agency.code, agency.name)
    return signer


def person_with_id_card(session: Session, site: WalletSite, name: str, born: date,
                        sex: Sex) -> Person:
    person = make_person(session, name, born, sex=sex, province_code="01", phone="0912000111")
    give_id_card(session, person)
    wallet.issue_from_register(session, site, person.personal_id_number, "id_card")
    return person


@pytest.fixture
def mai(session: Session, site: WalletSite) -> Person:
    return person_with_id_card(session, site, "Trần Thị Mai", date(1994, 3, 8), Sex.FEMALE)


@pytest.fixture
def hung(session: Session, site: WalletSite) -> Person:
    return person_with_id_card(session, site, "Nguyễn Văn Hùng", date(1991, 7, 2), Sex.MALE)


def in_processing(session: Session, site: WalletSite, tmp_path: Path, applicant: Person,
                  code: str, values: dict[str, str],
                  uploads: tuple[str, ...] = ()) -> Dossier:
    """A dossier submitted by the citizen, received and started by the one-stop clerk."""
    actor = citizen(applicant)
    draft = service.start_draft(session, actor, applicant.personal_id_number, code)
    service.save_draft(session, actor, draft, values)
    for document in uploads:
        service.add_attachment(session, actor, draft, document, f"{document}.pdf",
                               "application/pdf", PDF)
    service.submit(session, site, actor, draft, treasury(tmp_path))
    service.transition(session, CLERK, draft.receipt_code, "receive")
    return service.transition(session, CLERK, draft.receipt_code, "start")


def birth(session: Session, site: WalletSite, tmp_path: Path, mother: Person,
          father: Person | None = None) -> Dossier:
    values = {"child_full_name": "Nguyễn Gia Bảo", "child_date_of_birth": CHILD_BORN.isoformat(),
              "child_sex": "M"}
    if father:
        values["other_parent_pid"] = father.personal_id_number
    return in_processing(session, site, tmp_path, mother, "DVC-HT-01", values, ("birth_notice",))


def validated(signer: StoredAgencySigner, pdf: bytes) -> tuple[bool, bool, str]:
    """(intact, trusted, signer's common name) of the PDF's one signature, checked by pyHanko
    against the demo root alone."""
    root = asn1_x509.Certificate.load(
        signer.root_certificate().public_bytes(serialization.Encoding.DER))
    embedded = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert len(embedded) == 1
    status = validate_pdf_signature(embedded[0], ValidationContext(trust_roots=[root],
                                                                   allow_fetching=False))
    return status.intact and status.valid, status.trusted, \
        status.signing_cert.subject.native["common_name"]


def test_an_approved_birth_creates_the_child_issues_its_certificate_and_signs_the_result(
        session: Session, site: WalletSite, signer: StoredAgencySigner, tmp_path: Path,
        mai: Person, hung: Person) -> None:
    dossier = birth(session, site, tmp_path, mai, hung)
    flows.approve(session, site, signer, APPROVER_HANOI, dossier.receipt_code,
                  "hồ sơ hợp lệ, đủ giấy tờ")

    assert dossier.state == "result_delivered"
    child_pid = dossier.result_person_pid
    assert child_pid is not None
    parts = pid.parse(child_pid, frozenset({"01"}))
    assert (parts.birth_year, parts.sex) == (CHILD_BORN.year, Sex.MALE)
    history = registry.person_history(session, APPROVER_HANOI, child_pid, "check the test")
    assert history.person.full_name == "Nguyễn Gia Bảo"
    assert history.person.date_of_birth == CHILD_BORN
    assert history.person.permanent_ward_code == dossier.ward_code
    assert {(r.kind, r.person.personal_id_number) for r in history.relatives} == {
        ("parent", mai.personal_id_number), ("parent", hung.personal_id_number)}

    certificate = [c for c in wallet.cards(session, site, child_pid)
                   if c.credential.public_id == dossier.result_credential_id]
    assert certificate[0].document.code == "birth_certificate"
    assert certificate[0].claims["mother_name"] == "Trần Thị Mai"
    assert certificate[0].claims["father_name"] == "Nguyễn Văn Hùng"
    for parent in (mai, hung):  # both parents see the newborn's document
        seen = wallet.children_cards(session, site, parent.personal_id_number)
        assert [c.credential.public_id for c in seen] == [dossier.result_credential_id]

    assert dossier.result_pdf is not None
    assert dossier.result_pdf.startswith(b"%PDF-")
    assert validated(signer, dossier.result_pdf) == (True, True, "Ủy ban nhân dân cấp xã")
    assert [e.action for e in service.history(session, dossier)][-2:] == ["approve", "deliver"]
    actions = set(session.scalars(select(AuditEntry.action).where(
        AuditEntry.subject_id.in_([dossier.receipt_code, child_pid]))))
    assert {"services.dossier.approve", "services.dossier.deliver", "registry.person.create",
            "registry.event.birth", "wallet.credential.issue"} <= actions
    shown = session.scalars(select(AuditEntry.actor).where(
        AuditEntry.subject_id == child_pid, AuditEntry.action == "wallet.credential.list")).all()
    assert set(shown) == {f"citizen:{mai.personal_id_number}",
                          f"citizen:{hung.personal_id_number}"}


def test_a_flipped_byte_in_the_signed_result_is_detected(
        session: Session, site: WalletSite, signer: StoredAgencySigner, tmp_path: Path,
        mai: Person) -> None:
    dossier = birth(session, site, tmp_path, mai)
    flows.approve(session, site, signer, APPROVER_HANOI, dossier.receipt_code, "hợp lệ")
    assert dossier.result_pdf is not None
    signed = bytearray(dossier.result_pdf)
    at = signed.index(b"stream\n") + 20  # inside the page's content, a signed byte
    signed[at] ^= 0x01
    intact, _, _ = validated(signer, bytes(signed))
    assert not intact


def test_the_agency_keys_are_generated_once(
        signer: StoredAgencySigner, session_factory: sessionmaker[Session]) -> None:
    first = signer.agency_certificate("so-tu-phap", "Sở Tư pháp")
    again = StoredAgencySigner(secret_store(session_factory)).agency_certificate(
        "so-tu-phap", "Sở Tư pháp")
    assert first == again
    assert first.issuer == signer.root_certificate().subject


def test_an_approved_death_marks_the_person_deceased_and_revokes_their_documents(
        session: Session, site: WalletSite, signer: StoredAgencySigner, tmp_path: Path,
        mai: Person, hung: Person) -> None:
    dossier = in_processing(session, site, tmp_path, mai, "DVC-HT-02", {
        "deceased_pid": hung.personal_id_number,
        "date_of_death": (date.today() - timedelta(days=1)).isoformat()}, ("death_notice",))
    flows.approve(session, site, signer, APPROVER_HANOI, dossier.receipt_code, "đủ giấy báo tử")
    assert hung.status == "deceased"
    assert wallet.cards(session, site, hung.personal_id_number) == []  # revoked: out of sight
    assert dossier.state == "result_delivered"
    assert dossier.result_credential_id is None  # a death registration issues no document
    assert validated(signer, dossier.result_pdf or b"")[0]


def test_an_approved_permanent_residence_moves_the_applicant(
        session: Session, site: WalletSite, signer: StoredAgencySigner, tmp_path: Path,
        mai: Person) -> None:
    dossier = in_processing(session, site, tmp_path, mai, "DVC-CT-01", {
        "new_ward_code": "00004", "new_address_line": "5 Phố Đội Cấn"}, ("residence_proof",))
    with pytest.raises(Forbidden, match="does not decide"):
        flows.approve(session, site, signer, APPROVER_HANOI, dossier.receipt_code, "hợp lệ")
    flows.approve(session, site, signer, POLICE_HANOI, dossier.receipt_code, "chỗ ở hợp pháp")
    assert (mai.permanent_ward_code, mai.permanent_address_line) == ("00004", "5 Phố Đội Cấn")
    confirmation = wallet.card(session, site, mai.personal_id_number,
                               str(dossier.result_credential_id))
    assert confirmation.document.code == "residence_confirmation"
    assert confirmation.claims["permanent_address"].startswith("5 Phố Đội Cấn")
    assert validated(signer, dossier.result_pdf or b"")[2] == "Công an cấp xã"


def test_an_approved_judicial_record_goes_to_the_applicants_wallet(
        session: Session, site: WalletSite, signer: StoredAgencySigner, tmp_path: Path,
        mai: Person) -> None:
    dossier = in_processing(session, site, tmp_path, mai, "DVC-TP-01", {"purpose": "xin việc"})
    flows.approve(session, site, signer, APPROVER_HANOI, dossier.receipt_code,
                  "không có án tích")
    record = wallet.card(session, site, mai.personal_id_number,
                         str(dossier.result_credential_id))
    assert record.claims["certificate_number"] == dossier.receipt_code
    assert record.claims["criminal_record"] == "Không có án tích"
    assert record.claims["issued_on"] == date.today().isoformat()
    assert validated(signer, dossier.result_pdf or b"")[2] == "Sở Tư pháp"


def test_a_renewed_driving_licence_replaces_the_one_the_applicant_held(
        session: Session, site: WalletSite, signer: StoredAgencySigner, tmp_path: Path,
        hung: Person) -> None:
    old = wallet.issue_credential(session, site, POLICE_HANOI, "driving_licence",
                                  hung.personal_id_number, {
                                      "personal_id_number": hung.personal_id_number,
                                      "full_name": hung.full_name, "date_of_birth": "1991-07-02",
                                      "licence_number": "790000000123", "classes": ["A1", "B"],
                                      "issued_on": "2016-05-01", "valid_to": "2026-05-01"})
    dossier = in_processing(session, site, tmp_path, hung, "DVC-GT-01", {},
                            ("health_check",))
    flows.approve(session, site, signer, POLICE_HANOI, dossier.receipt_code,
                  "đủ điều kiện cấp đổi")
    renewed = wallet.card(session, site, hung.personal_id_number,
                          str(dossier.result_credential_id))
    assert renewed.claims["licence_number"] == "790000000123"
    assert renewed.claims["valid_to"] > "2030-01-01"
    assert old.credential.status == "revoked"
    assert old.credential.status_reason == "replaced by a newer copy"


def test_a_birth_whose_mother_has_died_since_ends_with_the_reason_and_nothing_is_written(
        session: Session, site: WalletSite, signer: StoredAgencySigner, tmp_path: Path,
        mai: Person) -> None:
    """The death itself ends the mother's open dossier (life events), so it can no longer be
    approved."""
    dossier = birth(session, site, tmp_path, mai)
    registry.record_death(session, CLERK, mai.personal_id_number, date.today())
    assert (dossier.state, dossier.decision_reason) == (
        "refused", f"applicant deceased on {date.today().isoformat()}")
    assert [e.action for e in service.history(session, dossier)][-1] == "lapse"
    people = session.scalar(select(func.count()).select_from(Person))
    with pytest.raises(Conflict, match="refused dossier"), session.begin_nested():
        flows.approve(session, site, signer, APPROVER_HANOI, dossier.receipt_code, "hợp lệ")
    assert dossier.result_pdf is None
    assert dossier.result_person_pid is None
    assert session.scalar(select(func.count()).select_from(Person)) == people


def test_a_late_refusal_undoes_the_register_change_already_made(
        session: Session, site: WalletSite, signer: StoredAgencySigner, tmp_path: Path,
        mai: Person) -> None:
    """The child is created, then the result PDF cannot be signed (this instance was given
    another root key than the agency keys are sealed under): the child, the approval and the
    certificate all go."""
    dossier = birth(session, site, tmp_path, mai)
    engine = session.get_bind().engine
    locked_out = StoredAgencySigner(SecretStore(
        make_session_factory(engine), decode_root_key(new_root_key(), "another"), tmp_path))
    people = session.scalar(select(func.count()).select_from(Person))
    with pytest.raises(WrongRootKey), session.begin_nested():
        flows.approve(session, site, locked_out, APPROVER_HANOI, dossier.receipt_code, "hợp lệ")
    session.expire_all()
    assert dossier.state == "in_processing"
    assert session.scalar(select(func.count()).select_from(Person)) == people
    assert wallet.children_cards(session, site, mai.personal_id_number) == []


def test_refusals_outside_scope_wrong_agency_illegal_move_and_missing_reason(
        session: Session, site: WalletSite, signer: StoredAgencySigner, tmp_path: Path,
        mai: Person) -> None:
    dossier = birth(session, site, tmp_path, mai)
    code = dossier.receipt_code
    with pytest.raises(NotFound):
        flows.approve(session, site, signer, APPROVER_HCMC, code, "hợp lệ")
    with pytest.raises(Forbidden, match="does not decide"):
        flows.approve(session, site, signer, POLICE_HANOI, code, "hợp lệ")
    with pytest.raises(Invalid, match="reason"):
        flows.approve(session, site, signer, APPROVER_HANOI, code, "")
    with pytest.raises(Invalid, match="reason"):
        flows.refuse(session, APPROVER_HANOI, code, "no")
    flows.refuse(session, APPROVER_HANOI, code, "giấy chứng sinh không hợp lệ")
    assert dossier.state == "refused"
    assert dossier.decision_reason
    with pytest.raises(Conflict):
        flows.approve(session, site, signer, APPROVER_HANOI, code, "đổi ý")
    assert dossier.result_pdf is None


def test_a_ward_official_cannot_approve_a_dossier_of_another_ward(
        session: Session, site: WalletSite, signer: StoredAgencySigner, tmp_path: Path,
        mai: Person) -> None:
    dossier = birth(session, site, tmp_path, mai)
    elsewhere = "00004" if dossier.ward_code != "00004" else "00008"
    ward_approver = Actor(
        "official", "approver-ward", Scope.ward("01", elsewhere), Role.AGENCY_APPROVER)
    with pytest.raises(NotFound):
        flows.approve(session, site, signer, ward_approver, dossier.receipt_code, "hợp lệ")
