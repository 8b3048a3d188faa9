"""Issue 19, finding 4, in the browser: a mother the register holds no ID card for opens a birth
registration. The form does not send her back to the wallet: it offers the register's record
(refused here, with the other ways named), a scan an official checks, or the ward office's
counter; she sends a photo of her card and submits. In Vietnamese and English, at 390 px and
1280 px, with axe-core on every page."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from civicstack.kit.appservices import services_of
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from tests.browser.conftest import Server
from tests.journeys.conftest import assert_accessible
from tests.support.eid import PASSWORD, POLICE_HANOI, make_active_account
from tests.support.people import make_person
from tests.support.services import publish_everywhere
from tests.support.uploads import PDF, png

pytestmark = pytest.mark.browser


def a_mother_without_an_id_card(server: Server, mailbox: Path, width: int,
                                language: str) -> Person:
    """One per page, so each journey starts from an empty draft list."""
    factory = services_of(server.app).session_factory
    with transaction(factory) as session:
        publish_everywhere(session)
        person = make_person(session, "Vàng Thị Dợ", date(1997, 2, 14), province_code="01",
                             phone=f"0913{width:04d}{'1' if language == 'vi' else '2'}0")
        session.expunge(person)
    make_active_account(factory, services_of(server.app).pepper, person, mailbox, POLICE_HANOI)
    return person


def test_without_an_id_card_the_birth_registration_offers_ways_forward_and_goes_through(
        server: Server, page_at: tuple[Page, int, str], tmp_path: Path) -> None:
    page, width, language = page_at
    mother = a_mother_without_an_id_card(server, tmp_path / "mailbox", width, language)
    page.goto(f"{server.base}/account/login?next=/services/DVC-HT-01")
    page.fill("#personal_id_number", mother.personal_id_number)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.locator("form[action$='/start'] button").click()

    ways = page.locator("[data-ways=id_card]")
    expect(ways).to_be_visible()
    expect(page.locator("main a[href='/wallet']")).to_have_count(0)  # no loop back to the wallet
    assert_accessible(page)

    ways.locator("button[form=record-id_card]").click()
    expect(page.locator("#document_id_card-error")).to_be_visible()  # no record anywhere
    assert_accessible(page)

    page.fill("#child_full_name", "Vàng A Páo")
    page.fill("#child_date_of_birth", (date.today() - timedelta(days=2)).isoformat())
    page.select_option("#child_sex", "M")
    page.set_input_files("#document_birth_notice", files=[{
        "name": "giay-chung-sinh.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.set_input_files("#document_id_card", files=[{
        "name": "can-cuoc.png", "mimeType": "image/png", "buffer": png()}])
    page.locator("button[name=action][value=submit]").click()
    expect(page.locator(".services-submitted h1")).to_be_visible()
    assert_accessible(page)
