"""The touchpoint's kiosk page in Chromium: the device signs in with its own credential, a
passenger's photo (a shared face image) is chosen with the scanned booking code, and the
decision is shown big: pass with the seat (and the bag drop when bags are declared), or fail
with the reason and the staffed lane."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from civicstack.biometrics import service as biometrics
from civicstack.biometrics.site import BIOMETRICS
from civicstack.kit import calendar
from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from civicstack.travel import service, touchpoints
from civicstack.travel.site import TRAVEL
from tests.browser.conftest import Server
from tests.support.biometrics import ENROLLING_POLICE, FACES, face_photo
from tests.support.eid import PASSWORD, POLICE_HANOI, make_active_account
from tests.support.people import make_person
from tests.support.travel import TRAVEL_ADMIN, soon

pytestmark = pytest.mark.browser
KIOSK_SCREEN = {"width": 800, "height": 1000}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Journey:
    kiosk_credential: str
    an: Person


@pytest.fixture(scope="module")
def journey(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Journey:
    """Nội Bài's kiosk, and An (face enrolled, an eID account) booked on VN213 as KIOSK1 with
    face boarding on, and on VN167 as LATER1 without."""
    state = services_of(server.app)
    with transaction(state.session_factory) as session:
        an = make_person(session, "Nguyễn Văn An", date(1993, 6, 21), phone="0912000222")
        biometrics.enrol_from_id_card(session, state[BIOMETRICS], ENROLLING_POLICE,
                                      an.personal_id_number, face_photo("obama/1.jpg"))
        for code, name, province in (("HAN", "Nội Bài", "01"), ("SGN", "Tân Sơn Nhất", "79"),
                                     ("DAD", "Đà Nẵng", "48")):
            service.add_airport(session, TRAVEL_ADMIN, code, name, province)
        airline, _ = service.add_airline(session, TRAVEL_ADMIN, state.pepper, "VN",
                                         "Vietnam Airlines")
        flights = {}
        for number, destination, locator, hours in (("VN213", "SGN", "KIOSK1", 2),
                                                    ("VN167", "DAD", "LATER1", 5)):
            leaves = soon(hours).astimezone(calendar.VIETNAM)
            flight = service.register_flight(session, airline, service.FlightIn(
                number, leaves.date(), "HAN", destination, leaves, "12"))
            service.upload_manifest(session, airline, flight.id, [{
                "record_locator": locator, "personal_id_number": an.personal_id_number,
                "passenger_name": an.full_name, "seat": "12A", "checked_bags": 0}])
            flights[locator] = flight.id
        booking = service.repository.booking_on_flight(session, flights["KIOSK1"], "KIOSK1")
        assert booking is not None
        service.opt_in(session, state[TRAVEL], Actor("citizen", an.personal_id_number),
                       booking.id, consent=True)
        _, credential = touchpoints.register(session, TRAVEL_ADMIN, state.pepper,
                                             touchpoints.TouchpointIn(
                                                 "HAN kiosk 1", "check_in_kiosk", airport="HAN"))
        session.expunge(an)
    make_active_account(state.session_factory, state.pepper, an,
                        tmp_path_factory.mktemp("mailbox"), POLICE_HANOI)
    return Journey(credential, an)


def test_a_kiosk_page_checks_a_face_and_shows_the_decision(
        server: Server, browser: Browser, journey: Journey, shots: Path) -> None:
    credential = journey.kiosk_credential
    page = browser.new_page(viewport=KIOSK_SCREEN, locale="en-GB")
    page.goto(f"{server.base}/kiosk")
    page.fill("#credential", "cst_wrong_credential")
    page.click("button[type=submit]")
    expect(page.locator("#credential-error")).to_be_visible()
    page.fill("#credential", credential)
    page.click("button[type=submit]")
    expect(page.locator("#image")).to_have_attribute("capture", "user")

    page.set_input_files("#image", str(FACES / "obama" / "2.jpg"))
    page.fill("#record_locator", "KIOSK1")
    page.click("#check-face")
    expect(page.locator("#decision")).to_have_attribute("data-reason", "checked_in")
    expect(page.locator(".kiosk-verdict")).to_have_text("Go ahead")
    expect(page.locator("#decision")).to_contain_text("Seat 12A")
    page.screenshot(path=shots / "travel-kiosk-pass.png", full_page=True)

    page.set_input_files("#image", str(FACES / "multi" / "two_people.jpg"))
    page.click("#check-face")
    expect(page.locator("#decision")).to_have_attribute("data-reason", "multiple_faces")
    expect(page.locator(".kiosk-verdict")).to_have_text("Not this time")
    expect(page.locator(".kiosk-fallback")).to_contain_text("staffed lane")
    page.screenshot(path=shots / "travel-kiosk-refused.png", full_page=True)

    page.set_input_files("#image", str(FACES / "obama" / "2.jpg"))
    page.fill("#record_locator", "KIOSK1")
    page.fill("#checked_bags", "1")  # a bag bought at the airport
    page.click("#check-face")
    expect(page.locator("#decision")).to_have_attribute("data-reason", "checked_in_drop_bags")
    expect(page.locator(".kiosk-message")).to_have_text(
        "You are checked in. Drop your checked bags at your airline's bag-drop counter, then go "
        "to security.")
    expect(page.locator("#bags-to-drop")).to_have_text("Checked bags to drop: 1")


def test_a_citizen_turns_face_boarding_on_from_her_phone(
        server: Server, browser: Browser, journey: Journey, shots: Path) -> None:
    page = browser.new_page(viewport=PHONE, locale="vi-VN")
    page.goto(f"{server.base}/account/login?next=/travel")
    page.fill("#personal_id_number", journey.an.personal_id_number)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{server.base}/travel")
    later = page.locator('[data-booking="LATER1"]')
    expect(page.locator('[data-booking="KIOSK1"]')).to_contain_text("Đã bật")
    later.locator("input[name=consent]").check()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=shots / "portal-travel-mobile.png", full_page=True)
    later.get_by_role("button", name="Bật lên máy bay bằng khuôn mặt").click()
    expect(later).to_contain_text("Đã bật lên máy bay bằng khuôn mặt")
