"""Face biometrics in Chromium: a police officer enrols two people's ID-card photos, the second
is held as a look-alike of the first, and the officer releases it with a reason; the citizen
sees the enrolment and every use of their face on their own page."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from civicstack.biometrics import service
from civicstack.biometrics.site import BIOMETRICS
from civicstack.identity import service as identity
from civicstack.kit.appservices import services_of
from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from tests.browser.conftest import Server, console_sign_in
from tests.browser.test_eid_browser import PASSWORD, an_adult_with_a_phone, register_with_phone
from tests.browser.test_wallet_browser import POLICE, sign_in_to_the_wallet
from tests.support.eid import make_active_account
from tests.support.face_images import FACES

pytestmark = pytest.mark.browser
DESK = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def two_adults(server: Server) -> list[Person]:
    with transaction(services_of(server.app).session_factory) as session:
        people = list(session.scalars(select(Person).where(
            Person.status == "alive", Person.phone.is_not(None),
            Person.permanent_province_code.is_not(None),
            Person.date_of_birth < "2000-01-01").order_by(Person.id.desc()).limit(2)))
        for person in people:
            session.expunge(person)
    return people


def test_police_enrol_faces_and_release_a_look_alike_and_the_citizen_sees_it(
        server: Server, browser: Browser, shots: Path, tmp_path: Path) -> None:
    first, second = two_adults(server)
    officer = browser.new_page(viewport=DESK, locale="en-GB")
    console_sign_in(officer, server, server.official(Role.POLICE), "/console/biometrics")
    for person, photo in ((first, "obama/1.jpg"), (second, "obama/2.jpg")):
        officer.fill("#personal_id_number", person.personal_id_number)
        officer.set_input_files("#photo", str(FACES / photo))
        officer.get_by_role("button", name="Enrol", exact=True).click()
    expect(officer.get_by_role("status")).to_contain_text("held")
    officer.get_by_role("link", name=f"{second.full_name} ({second.personal_id_number})").click()
    officer.screenshot(path=str(shots / "biometrics-console-look-alike.png"), full_page=True)
    officer.get_by_label("Reason for your decision").fill("twins, seen with birth certificates")
    officer.get_by_role("button", name="Two different people: release").click()
    expect(officer.get_by_text("No case is waiting.")).to_be_visible()

    services = services_of(server.app)
    make_active_account(services.session_factory, services.pepper, second,
                        tmp_path / "mailbox", POLICE)
    citizen = browser.new_page(viewport=PHONE, locale="en-GB")
    sign_in_to_the_wallet(citizen, server, second)
    citizen.goto(f"{server.base}/account/face?lang=en")
    expect(citizen.locator("dl.facts")).to_contain_text("your ID-card photo")
    expect(citizen.locator("dl.facts")).to_contain_text("in use")
    expect(citizen.get_by_text("Your face was enrolled")).to_be_visible()
    citizen.screenshot(path=str(shots / "biometrics-citizen-face-page.png"), full_page=True)
    citizen.get_by_role("button", name="Withdraw consent and delete my face template").click()
    expect(citizen.get_by_text("No face is enrolled for you")).to_be_visible()


def test_a_level_one_selfie_matching_the_card_face_is_approved_by_the_running_server(
        server: Server, browser: Browser) -> None:
    person = an_adult_with_a_phone(server.population, skip=5)
    with transaction(services_of(server.app).session_factory) as session:
        service.enrol_from_id_card(session, services_of(server.app)[BIOMETRICS], POLICE,
                                   person["personal_id_number"],
                                   (FACES / "rose_leslie/1.jpg").read_bytes())
    citizen = browser.new_page(viewport=PHONE, locale="vi-VN")
    register_with_phone(citizen, server, person, selfie={
        "name": "selfie.jpg", "mimeType": "image/jpeg",
        "buffer": (FACES / "rose_leslie/2.jpg").read_bytes()})
    # No official acts: the server's background matcher approves the account.
    deadline = time.monotonic() + 30
    while account_status(server, person["personal_id_number"]) != "active":
        assert time.monotonic() < deadline, "the selfie was not matched within 30 s"
        time.sleep(0.5)
    citizen.goto(f"{server.base}/account/login")
    citizen.fill("#personal_id_number", person["personal_id_number"])
    citizen.fill("#password", PASSWORD)
    citizen.click("button[type=submit]")
    expect(citizen).to_have_url(f"{server.base}/")  # the citizen's home
    citizen.goto(f"{server.base}/account")


def account_status(server: Server, personal_id_number: str) -> str | None:
    with transaction(services_of(server.app).session_factory) as session:
        account = identity.account_for_person(session, personal_id_number)
        return account.status if account else None
