"""Issue 19, finding 6: the purposes in "Who used my data" were English on Vietnamese pages,
some with internal codes ("issue the id_card document into the wallet"). Purposes are now
stored as codes with parameters and translated when shown, entries written before that are
recognised by their sentence, and a purpose an official typed is shown as typed. The page
comes a page at a time and hides "listed in a search result" unless asked. Both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from civicstack.kit import audit
from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.audit_purposes import PURPOSES, as_stored
from civicstack.kit.db import transaction
from civicstack.registry import service as registry
from civicstack.registry.models import Person
from civicstack.services import service
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WALLET_SITE
from tests.integration.test_identity_web import citizen_sign_in
from tests.support.eid import make_active_account
from tests.support.people import make_person
from tests.support.services import CLERK_HANOI, publish_everywhere
from tests.support.wallet import give_id_card
from tests.support.web import Site

PURPOSE_CELL = re.compile(r"<tr><td>[^<]*</td><td>.*?</td><td>.*?</td><td>(.*?)</td>", re.S)
SEARCH = "tra cứu hồ sơ cấp hộ chiếu"  # what an official typed: shown as typed


@pytest.fixture
def lan(site: Site, tmp_path: Path) -> Person:
    """A Hà Nội citizen signed in, whose data was used the usual ways: her account's life,
    her ID card added to her wallet, a dossier form prefilled, an official's search."""
    factory = site.services.session_factory
    with transaction(factory) as session:
        publish_everywhere(session)
        person = make_person(session, "Đinh Thị Lan", province_code="01", phone="0912000444")
        give_id_card(session, person)
    make_active_account(factory, site.services.pepper, person, tmp_path / "mailbox")
    with transaction(factory) as session:
        wallet.issue_from_register(session, site.services[WALLET_SITE],
                                   person.personal_id_number, "id_card")
        service.prefill(session, site.services[WALLET_SITE],
                        Actor("citizen", person.personal_id_number), person.personal_id_number,
                        service.procedure(session, "DVC-HT-01"))
        registry.names_in_scope(session, CLERK_HANOI, [person.personal_id_number], SEARCH)
        # written before purposes were codes: the sentence itself, sealed as it is
        session.add(AuditEntry(occurred_at=datetime.now(UTC), actor="issuer:bo-cong-an",
                               action="registry.person.history", subject_type="person",
                               subject_id=person.personal_id_number,
                               purpose="issue the id_card document into the wallet", detail={}))
    assert citizen_sign_in(site, person) == 303
    return person


def purposes_on(page: str) -> list[str]:
    return [cell.strip() for cell in PURPOSE_CELL.findall(page)]


def test_who_used_my_data_in_vietnamese_has_no_english_purpose_left(
        site: Site, lan: Person) -> None:
    shown = purposes_on(site.client.get("/account?lang=vi&listed=1").text)

    assert len(shown) >= 8
    english = {sentence.split("%(")[0] for sentence in PURPOSES.values()}
    assert [p for p in shown if any(p.startswith(e) for e in english)] == []
    assert [p for p in shown if "_" in p or "." in p] == []  # no code, no document_type code
    assert "cấp giấy tờ Căn cước vào ví giấy tờ" in shown  # the older entry, translated
    assert "điền sẵn tờ khai hồ sơ của người nộp" in shown
    assert SEARCH in shown


def test_purposes_are_stored_as_codes_with_parameters(site: Site, lan: Person) -> None:
    with transaction(site.services.session_factory) as session:
        stored = set(session.scalars(select(AuditEntry.purpose).where(
            AuditEntry.subject_id == lan.personal_id_number)))
    assert "wallet.issue?document_type=id_card" in stored
    assert "services.prefill" in stored
    assert "identity.registration" in stored
    assert as_stored("issue the id_card document into the wallet") == \
        "wallet.issue?document_type=id_card"


def test_search_listings_are_hidden_unless_asked_and_the_page_comes_in_pages(
        site: Site, lan: Person) -> None:
    assert SEARCH not in purposes_on(site.client.get("/account?lang=vi").text)
    with transaction(site.services.session_factory) as session:
        for _ in range(60):
            audit.record(session, Actor("citizen", lan.personal_id_number), "identity.step_up",
                         subject_type="person", subject_id=lan.personal_id_number,
                         purpose="sign-in")

    first = site.client.get("/account?lang=en").text
    assert len(purposes_on(first)) == 50
    assert 'href="/account?uses_page=2#uses" rel="next"' in first
    second = site.client.get("/account?lang=en&uses_page=2").text
    assert 'rel="prev"' in second
    assert len(purposes_on(second)) >= 8
    assert site.client.get("/account?uses_page=zz").status_code == 200
