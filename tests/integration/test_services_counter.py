"""Issue 21, finding 2: a walk-in citizen whose wallet is empty is served at the counter for
every procedure of the catalogue. The official types what the form asks, uploads the papers,
and vouches for each document the wallet would have served: held against the register (or the
issuer's record), or against the original paper, whose scan the dossier keeps. The dossier
records the channel and who checked what, in its history and the audit. On both databases."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.errors import Forbidden, Invalid
from civicstack.registry.models import Person
from civicstack.services import catalogue, service
from civicstack.services.models import Dossier, Procedure
from civicstack.services.service import CounterCheck, Scan
from civicstack.services.site import PAYMENTS
from civicstack.services.states import State
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WALLET_SITE
from tests.support.people import make_person
from tests.support.services import CLERK_HANOI, citizen, publish_everywhere
from tests.support.uploads import PDF, png
from tests.support.wallet import give_id_card
from tests.support.web import Site

RECENTLY = (date.today() - timedelta(days=3)).isoformat()


def example_values(other: Person, walk_in: Person) -> dict[str, str]:
    """A valid example of each field type (catalogue.FIELD_TYPES), as a clerk would type it."""
    return {"string": "Theo giấy tờ bản gốc", "date": RECENTLY, "integer": "2",
            "personal_id_number": other.personal_id_number, "sex": "F",
            "ward_code": walk_in.permanent_ward_code}


@pytest.fixture
def walk_in(site: Site) -> tuple[Person, Person]:
    """A Hà Nội citizen with an ID card in the register and nothing in the wallet, and another
    person the forms may name; the catalogue published everywhere."""
    with transaction(site.services.session_factory) as session:
        publish_everywhere(session)
        person = make_person(session, "Lò Thị Sinh", date(1975, 6, 1), province_code="01")
        give_id_card(session, person)
        other = make_person(session, "Lò Văn Páo", date(1950, 1, 9), province_code="01")
        assert wallet.cards(session, site.services[WALLET_SITE], person.personal_id_number) == []
        return person, other


def filled_at_counter(session: Session, person: Person, other: Person,
                      found: Procedure) -> Dossier:
    """The clerk's whole work for one procedure: the form, the papers, each wallet document
    checked (the ID card against the register, the others against their paper)."""
    draft = service.start_draft(session, CLERK_HANOI, person.personal_id_number, found.code)
    examples = example_values(other, person)
    service.save_draft(session, CLERK_HANOI, draft, {
        spec.name: examples[spec.type] for spec in found.fields
        if spec.required and not spec.source.startswith("register:")})
    for document in found.documents:
        if not document.required:
            continue
        if document.wallet_document_type == "id_card":
            service.check_at_counter(session, CLERK_HANOI, draft, document.code,
                                     CounterCheck.REGISTER)
        elif document.wallet_document_type:
            service.check_at_counter(session, CLERK_HANOI, draft, document.code,
                                     CounterCheck.PAPER, Scan("anh.png", "image/png", png()))
        else:
            service.add_attachment(session, CLERK_HANOI, draft, document.code, "ban-quet.pdf",
                                   "application/pdf", PDF)
    return draft


def test_a_walk_in_with_an_empty_wallet_is_served_for_every_procedure(
        site: Site, walk_in: tuple[Person, Person]) -> None:
    person, other = walk_in
    served = set()
    with transaction(site.services.session_factory) as session:
        procedures = service.all_procedures(session)
    for found in procedures:
        with transaction(site.services.session_factory) as session:
            draft = filled_at_counter(session, person, other, found)
            service.submit(session, site.services[WALLET_SITE], CLERK_HANOI, draft,
                           site.services[PAYMENTS])
            assert (draft.state, draft.channel) == (State.SUBMITTED.value, "assisted")
            assert draft.submitted_by == "official:clerk-hanoi"
            served.add(found.code)
    essential = {p.code for p in catalogue.PROCEDURES if p.online_level == "full"}
    assert len(essential) == 25
    assert essential <= served


def test_each_check_is_recorded_as_done_by_the_official_in_the_history_and_the_audit(
        site: Site, walk_in: tuple[Person, Person]) -> None:
    person, other = walk_in
    with transaction(site.services.session_factory) as session:
        found = service.procedure(session, "DVC-GD-01")  # a diploma, never in the register
        draft = filled_at_counter(session, person, other, found)
        checks = service.checked_at_counter(session, draft)
        assert checks["diploma"].actor == "official:clerk-hanoi"
        assert checks["diploma"].detail["checked_against"] == "paper"
        [scan] = service.attachments(session, draft)
        assert checks["diploma"].detail["sha256"] == scan.sha256
        found = service.procedure(session, "DVC-HT-03")
        draft = filled_at_counter(session, person, other, found)
        check = service.checked_at_counter(session, draft)["id_card"]
        assert check.detail["checked_against"] == "register"
        assert check.detail["record"].startswith("register ")
        audited = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "services.dossier.check_document",
            AuditEntry.subject_id == draft.receipt_code)).all()
        assert [e.actor for e in audited] == ["official:clerk-hanoi"]
        assert session.scalars(select(AuditEntry).where(
            AuditEntry.action == "registry.person.history",
            AuditEntry.purpose == service.PURPOSE_COUNTER_CHECK)).first() is not None


def test_a_register_check_is_refused_when_the_register_holds_no_card(
        site: Site, walk_in: tuple[Person, Person]) -> None:
    _, other = walk_in  # Lò Văn Páo has no ID card in the register
    with transaction(site.services.session_factory) as session:
        draft = service.start_draft(session, CLERK_HANOI, other.personal_id_number, "DVC-HT-03")
        with pytest.raises(Invalid) as refused:
            service.check_at_counter(session, CLERK_HANOI, draft, "id_card",
                                     CounterCheck.REGISTER)
        assert refused.value.errors[0].reason == service.NOT_ON_RECORD
        with pytest.raises(Invalid) as refused:
            service.check_at_counter(session, CLERK_HANOI, draft, "id_card", CounterCheck.PAPER)
        assert refused.value.errors[0].reason == service.SCAN_NEEDED
        with pytest.raises(Invalid):  # a scan is parsed, not trusted by its name
            service.check_at_counter(session, CLERK_HANOI, draft, "id_card", CounterCheck.PAPER,
                                     Scan("a.png", "image/png", b"<html>not an image"))
        assert service.checked_at_counter(session, draft) == {}


def test_a_citizen_cannot_vouch_for_their_own_documents(
        site: Site, walk_in: tuple[Person, Person]) -> None:
    person, _ = walk_in
    with transaction(site.services.session_factory) as session:
        actor = citizen(person)
        draft = service.start_draft(session, actor, person.personal_id_number, "DVC-HT-03")
        with pytest.raises(Forbidden):
            service.check_at_counter(session, actor, draft, "id_card", CounterCheck.PAPER,
                                     Scan("a.png", "image/png", png()))


def test_the_clerk_checks_documents_and_submits_from_the_console(
        site: Site, walk_in: tuple[Person, Person]) -> None:
    person, _ = walk_in
    site.sign_in_as(Role.SERVICE_CLERK, Scope.province("01"))
    new = "/console/dossiers/new"
    response = site.client.post(new, follow_redirects=False, data={
        "pid": person.personal_id_number, "procedure": "DVC-GD-01",
        "csrf_token": site.csrf(new)})
    page = response.headers["location"]
    html = site.client.get(f"{page}?lang=vi").text
    assert 'id="counter-checks"' in html
    refused = site.client.post(f"{page}/checks/diploma", data={
        "against": "register", "csrf_token": site.csrf(page)})
    assert refused.status_code == 422
    assert 'id="check-diploma-error"' in refused.text
    assert "bản giấy gốc" in site.client.get(f"{page}?lang=vi").text  # the radio's label
    done = site.client.post(f"{page}/checks/diploma", follow_redirects=False, data={
        "against": "paper", "csrf_token": site.csrf(page)},
        files={"scan": ("bang.png", png(), "image/png")})
    assert done.status_code == 303
    submitted = site.client.post(f"{page}/assist", follow_redirects=False, data={
        "diploma_number": "B-123456", "submit": "1", "csrf_token": site.csrf(page)})
    assert submitted.status_code == 303
    html = site.client.get(f"{page}?lang=vi").text
    assert re.search(r'id="dossier-state">Đã nộp<', html)
    assert "đối chiếu với bản giấy gốc" in html.split('id="dossier-documents"')[1]
