"""Issue 19, finding 4: a citizen whose wallet lacks a document a service needs always has a
way forward. With no ID card on the register, "Add ID card" is refused and a birth
registration used to send her back to the wallet ("add this document to your wallet first"):
a loop. Now the form offers the register's own record (an audited read), a scan the official
checks before deciding, or the ward office's counter. On both databases."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.errors import Conflict, Invalid
from civicstack.registry.models import Person
from civicstack.services import service
from civicstack.services.models import Dossier
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WALLET_SITE
from tests.integration.test_identity_web import citizen_sign_in
from tests.integration.test_services_web import CHILD, NOTICE, csrf_of, send_form, start
from tests.support.eid import make_active_account
from tests.support.people import make_person
from tests.support.services import (
    APPROVER_HANOI,
    CLERK_HANOI,
    citizen,
    publish_everywhere,
    treasury,
)
from tests.support.uploads import PDF, png
from tests.support.wallet import give_id_card, wallet_site
from tests.support.web import Site


def without_id_card(session: Session) -> Person:
    """A Hà Nội mother the register holds no ID card for."""
    return make_person(session, "Hà Thị Nhung", date(1996, 5, 2), province_code="01",
                       phone="0912000333")


def birth_draft(session: Session, mother: Person) -> Dossier:
    actor = citizen(mother)
    draft = service.start_draft(session, actor, mother.personal_id_number, "DVC-HT-01")
    service.save_draft(session, actor, draft, CHILD)
    service.add_attachment(session, actor, draft, "birth_notice", "giay-chung-sinh.pdf",
                           "application/pdf", PDF)
    return draft


def test_without_an_id_card_a_birth_registration_goes_ahead_with_a_scan_the_official_checks(
        session: Session, tmp_path: Path) -> None:
    publish_everywhere(session)
    site = wallet_site(session)
    mother = without_id_card(session)
    with pytest.raises(Conflict, match="no active ID card"):  # the wallet cannot help her
        wallet.issue_from_register(session, site, mother.personal_id_number, "id_card")
    draft = birth_draft(session, mother)

    service.add_attachment(session, citizen(mother), draft, "id_card", "can-cuoc.jpg",
                           "image/png", png())
    service.submit(session, site, citizen(mother), draft, treasury(tmp_path))
    service.transition(session, CLERK_HANOI, draft.receipt_code, "receive")
    service.transition(session, CLERK_HANOI, draft.receipt_code, "start")

    assert service.unchecked_scans(session, draft) == ["id_card"]
    with pytest.raises(Conflict, match="Check the scans"):
        service.transition(session, APPROVER_HANOI, draft.receipt_code, "approve",
                           "hợp lệ")
    service.check_scan(session, CLERK_HANOI, draft, "id_card")
    assert service.unchecked_scans(session, draft) == []
    assert service.transition(session, APPROVER_HANOI, draft.receipt_code, "approve",
                              "hợp lệ").state == "approved"


def test_the_registers_record_stands_in_for_the_wallets_copy_with_an_audited_read(
        session: Session, tmp_path: Path) -> None:
    publish_everywhere(session)
    site = wallet_site(session)
    mother = without_id_card(session)
    give_id_card(session, mother)  # on the register, never added to her wallet
    draft = birth_draft(session, mother)

    service.use_record(session, citizen(mother), draft, "id_card")
    service.submit(session, site, citizen(mother), draft, treasury(tmp_path))

    assert draft.state == "submitted"
    assert service.unchecked_scans(session, draft) == []
    purposes = session.scalars(select(AuditEntry.purpose).where(
        AuditEntry.subject_id == mother.personal_id_number,
        AuditEntry.actor == f"citizen:{mother.personal_id_number}")).all()
    assert service.PURPOSE_RECORD_FOR_APPLICANT in purposes


def test_with_no_record_anywhere_the_refusal_names_the_other_ways_forward(
        session: Session) -> None:
    publish_everywhere(session)
    mother = without_id_card(session)
    draft = birth_draft(session, mother)

    with pytest.raises(Invalid) as refused:
        service.use_record(session, citizen(mother), draft, "id_card")

    assert "upload a scan" in refused.value.errors[0].reason
    assert "ward office" in refused.value.errors[0].reason


@pytest.fixture
def nhung(site: Site, tmp_path: Path) -> Person:
    factory = site.services.session_factory
    with transaction(factory) as session:
        publish_everywhere(session)
        person = without_id_card(session)
    make_active_account(factory, site.services.pepper, person, tmp_path / "mailbox")
    assert citizen_sign_in(site, person) == 303
    return person


def test_the_form_offers_three_ways_forward_and_never_sends_her_back_to_the_wallet(
        site: Site, nhung: Person) -> None:
    receipt = start(site)
    page = site.client.get(f"/dossiers/{receipt}?lang=en").text

    assert "Add it to your wallet first" not in page
    assert 'form="record-id_card"' in page
    assert 'name="document_id_card"' in page
    assert "Phường" in page or "Xã" in page  # the ward office's name, for the counter

    refused = site.client.post(f"/dossiers/{receipt}/records/id_card",
                               data={"csrf_token": csrf_of(site, f"/dossiers/{receipt}")})
    assert refused.status_code == 422
    assert "upload a scan" in refused.text

    submitted = send_form(site, receipt, CHILD, files={
        **NOTICE, "document_id_card": ("can-cuoc.png", png(), "image/png")})
    assert submitted.status_code == 303, submitted.text
    with transaction(site.services.session_factory) as session:
        dossier = session.scalars(select(Dossier).where(
            Dossier.receipt_code == receipt)).one()
        assert dossier.state == "submitted"


def test_the_record_button_serves_the_form_when_the_register_holds_the_card(
        site: Site, nhung: Person) -> None:
    with transaction(site.services.session_factory) as session:
        give_id_card(session, session.merge(nhung))
    receipt = start(site)

    chosen = site.client.post(f"/dossiers/{receipt}/records/id_card", follow_redirects=False,
                              data={"csrf_token": csrf_of(site, f"/dossiers/{receipt}")})
    assert chosen.status_code == 303
    page = site.client.get(f"/dossiers/{receipt}?lang=en").text
    assert "From the register's record" in page

    assert send_form(site, receipt, CHILD, files=NOTICE).status_code == 303
    with transaction(site.services.session_factory) as session:
        held = wallet.cards(session, site.services[WALLET_SITE], nhung.personal_id_number)
        assert held == []  # served without being added to the wallet


def test_the_console_asks_the_official_to_check_the_scan_before_approving(
        site: Site, tmp_path: Path) -> None:
    factory = site.services.session_factory
    with transaction(factory) as session:
        publish_everywhere(session)
        mother = without_id_card(session)
        draft = birth_draft(session, mother)
        service.add_attachment(session, citizen(mother), draft, "id_card", "can-cuoc.png",
                               "image/png", png())
        service.submit(session, site.services[WALLET_SITE], citizen(mother), draft,
                       treasury(tmp_path))
        service.transition(session, CLERK_HANOI, draft.receipt_code, "receive")
        service.transition(session, CLERK_HANOI, draft.receipt_code, "start")
        receipt = draft.receipt_code
    page = f"/console/dossiers/{receipt}"
    site.sign_in_as(Role.AGENCY_APPROVER, Scope.province("01"))

    refused = site.client.post(f"{page}/actions/approve", data={
        "reason": "hồ sơ hợp lệ", "csrf_token": site.csrf(page)})
    assert refused.status_code == 409
    assert "Hãy kiểm tra các bản quét" in refused.text
    assert f"{page}/scans/id_card" in site.client.get(page).text

    checked = site.client.post(f"{page}/scans/id_card", follow_redirects=False,
                               data={"csrf_token": site.csrf(page)})
    assert checked.status_code == 303
    shown = site.client.get(f"{page}?lang=en").text
    assert f"{page}/scans/id_card" not in shown
    assert "scan checked by" in shown
    approved = site.client.post(f"{page}/actions/approve", follow_redirects=False, data={
        "reason": "hồ sơ hợp lệ", "csrf_token": site.csrf(page)})
    assert approved.status_code == 303
