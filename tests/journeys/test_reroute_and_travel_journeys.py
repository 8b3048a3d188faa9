"""Journeys of issue 21's finding 9, on a phone and a desktop, in Vietnamese and English, with
axe-core on every page: a national administrator re-routes the dossiers of an abolished ward
(dry run, confirmation, progress until the worker is done), and a travel officer's forms at an
airport's lanes show their errors in an error summary and beside each field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from civicstack.kit.appservices import services_of
from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from civicstack.services import service
from civicstack.services.site import PAYMENTS
from civicstack.travel import service as travel
from civicstack.travel import touchpoints
from civicstack.wallet.site import WALLET_SITE
from tests.browser.conftest import Server, console_sign_in
from tests.journeys.conftest import DESKTOP, assert_accessible
from tests.support.services import citizen, parent_with_id_card, publish_everywhere
from tests.support.travel import TRAVEL_ADMIN

pytestmark = pytest.mark.browser

# Phường Ngọc Hà of the old tỉnh Hà Giang, since 2025 in Phường Hà Giang 2 of Tuyên Quang.
ABOLISHED = ("02", "00692")
RESIDENCE = "DVC-CT-04"


@pytest.fixture(scope="module")
def catalogue(server: Server) -> None:
    with transaction(services_of(server.app).session_factory) as session:
        publish_everywhere(session)


@pytest.fixture(scope="module")
def noi_bai(server: Server) -> None:
    """Nội Bài with its security gate, the lane a travel officer checks documents at."""
    services = services_of(server.app)
    with transaction(services.session_factory) as session:
        travel.add_airport(session, TRAVEL_ADMIN, "HAN", "Nội Bài", "01")
        touchpoints.register(session, TRAVEL_ADMIN, services.pepper, touchpoints.TouchpointIn(
            "HAN security", "security_gate", airport="HAN"))


def filed_before_the_reform(server: Server, dossiers: int) -> None:
    """A citizen's dossiers, addressed to the abolished ward as before the reform."""
    services = services_of(server.app)
    with transaction(services.session_factory) as session:
        # Born in a year the seeded population's numbers do not use, so no number is taken.
        person = parent_with_id_card(session, services[WALLET_SITE], born=date(1931, 2, 3))
        for _ in range(dossiers):
            draft = service.start_draft(session, citizen(person), person.personal_id_number,
                                        RESIDENCE)
            filed = service.submit(session, services[WALLET_SITE], citizen(person), draft,
                                   services[PAYMENTS])
            filed.province_code, filed.ward_code = ABOLISHED


def test_an_administrator_re_routes_an_abolished_wards_dossiers(
        page_at: tuple[Page, int, str], server: Server, shots: Path, catalogue: None) -> None:
    page, width, language = page_at
    filed_before_the_reform(server, 2)
    console_sign_in(page, server, server.official(Role.ADMIN), "/console/catalogue/reroute")
    assert_accessible(page)

    count = page.locator("form[action='/console/catalogue/reroute/preview'] button")
    count.click()  # nothing typed: the errors, summary first
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#ward_codes-error")).to_be_visible()
    assert_accessible(page)

    page.fill("#ward_codes", ABOLISHED[1])
    page.fill("#reason", "Nghị quyết 202/2025/QH15")
    count.click()
    expect(page.locator("#reroute-summary")).to_contain_text("2")
    assert_accessible(page)

    page.locator("form[action='/console/catalogue/reroute'] button[type=submit]").click()
    expect(page.locator("#reroute-progress [data-state]")).to_have_attribute(
        "data-state", "done", timeout=20_000)  # the page polled while the worker moved them
    assert_accessible(page)
    if width == DESKTOP and language == "en":
        page.screenshot(path=str(shots / "console-reroute.png"), full_page=True)


def test_a_travel_officer_sees_errors_beside_the_fields_of_both_forms(
        page_at: tuple[Page, int, str], server: Server, shots: Path, noi_bai: None) -> None:
    page, width, language = page_at
    console_sign_in(page, server, server.official(Role.TRAVEL_OFFICER), "/console/travel")
    expect(page.locator(".console-nav [aria-current=page]")).to_have_attribute(
        "href", "/console/travel")
    assert_accessible(page)

    page.select_option("#bags-airport", "HAN")
    page.fill("#bags-record_locator", "AB")
    page.locator("form[action='/console/travel/bag-drops'] button").click()
    expect(page.locator("#bags-record_locator-error")).to_be_visible()
    expect(page.locator(".error-summary a[href='#bags-record_locator']")).to_be_visible()
    assert_accessible(page)

    page.select_option("#check-lane", "HAN security")
    page.fill("#check-record_locator", "ZZ9999")
    page.locator("form[action='/console/travel/manual-checks'] button").click()
    expect(page.locator("#check-document_type-error")).to_be_visible()
    assert_accessible(page)
    if width == DESKTOP and language == "en":
        page.screenshot(path=str(shots / "console-travel.png"), full_page=True)
