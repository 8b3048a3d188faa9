"""A citizen creates a level-1 eID account in Chromium, a new official signs in for the first
time (setting up an authenticator app) and approves it, the citizen signs in and sees who has
used their data."""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect

from civicstack.registry.demo import DEATHS
from tests.browser.conftest import Server
from tests.support import photos

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


def an_adult_with_a_phone(population: Path, skip: int = 0) -> dict[str, str]:
    """A living adult: the demo seed records the deaths of the oldest people in the file."""
    with population.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    deceased = {row["personal_id_number"]
                for row in sorted(rows, key=lambda r: r["date_of_birth"])[:DEATHS]}
    adults = [row for row in rows if row["phone"] and row["date_of_birth"] < "1990-01-01"
              and row["personal_id_number"] not in deceased]
    return adults[skip]


def sms_code(server: Server, phone: str, wait_s: float = 10.0) -> str:
    """The newest code in the phone's mailbox. Codes leave in a background task after the
    response, so the page can arrive before the message: wait for it."""
    mailbox = server.data_dir / "mailbox" / f"{phone}.txt"
    deadline = time.monotonic() + wait_s
    while not mailbox.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return str(re.findall(r"\b(\d{6})\b", mailbox.read_text(encoding="utf-8"))[-1])


def register_with_phone(citizen: Page, server: Server, person: dict[str, str],
                        shots: Path | None = None, selfie: FilePayload | None = None,
                        check: Callable[[Page], None] = lambda page: None) -> None:
    """Registration in the page's language, `check` run on each page it shows (the journeys'
    accessibility check)."""
    citizen.goto(f"{server.base}/account/register")
    check(citizen)
    citizen.fill("#personal_id_number", person["personal_id_number"])
    citizen.fill("#full_name", person["full_name"])
    citizen.fill("#date_of_birth", person["date_of_birth"])
    citizen.fill("#phone", person["phone"])
    citizen.fill("#password", PASSWORD)
    citizen.set_input_files("#face_photo", files=[selfie or {
        "name": "selfie.png", "mimeType": "image/png", "buffer": photos.png()}])
    if shots:
        citizen.screenshot(path=shots / "portal-register-mobile.png", full_page=True)
    citizen.click("button[type=submit]")
    expect(citizen).to_have_url(f"{server.base}/account/verify-phone")
    check(citizen)
    citizen.fill("#code", sms_code(server, person["phone"]))
    citizen.click("button[type=submit]")
    expect(citizen).to_have_url(f"{server.base}/account/verify-phone/done")
    check(citizen)


def first_sign_in_with_enrolment(page: Page, server: Server, shots: Path | None = None) -> None:
    """A new official's first sign-in: password, then setting up the authenticator app from
    the secret shown beside the QR code, then choosing their own password."""
    official = server.official(enrolled=False)
    page.goto(f"{server.base}/console/login?next=/console/accounts")
    page.fill("#username", official.username)
    page.fill("#password", official.password)
    page.click("button[type=submit]")
    expect(page.locator("svg")).to_be_visible()  # the QR code
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    if shots:
        page.screenshot(path=shots / "console-enrol-authenticator.png", full_page=True)
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Chọn mật khẩu của bạn")
    page.fill("#current_password", official.password)
    page.fill("#new_password", "amber kettle morning 7")
    page.fill("#new_password_again", "amber kettle morning 7")
    page.click("button[type=submit].button")
    expect(page).to_have_url(f"{server.base}/console/accounts")
    expect(page.locator("#signed-in-official")).to_contain_text("Cán bộ bộ phận một cửa")


def approve_at_the_counter(browser: Browser, server: Server, person: dict[str, str],
                           shots: Path | None = None) -> None:
    official = browser.new_page(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    first_sign_in_with_enrolment(official, server, shots)
    row = official.locator("tr", has_text=person["personal_id_number"])
    row.locator("input[name=reason]").fill("đã kiểm tra CCCD tại quầy")
    if shots:
        official.screenshot(path=shots / "console-approvals.png", full_page=True)
    row.locator("button").click()
    expect(official.locator("tr", has_text=person["personal_id_number"])).to_have_count(0)
    official.close()


def test_a_citizen_registers_is_approved_and_signs_in(server: Server, browser: Browser,
                                                      shots: Path) -> None:
    person = an_adult_with_a_phone(server.population)
    citizen = browser.new_page(viewport={"width": 390, "height": 844}, locale="vi-VN")
    register_with_phone(citizen, server, person, shots)
    approve_at_the_counter(browser, server, person, shots)
    citizen.goto(f"{server.base}/account/login")
    citizen.fill("#personal_id_number", person["personal_id_number"])
    citizen.fill("#password", PASSWORD)
    citizen.click("button[type=submit]")
    expect(citizen).to_have_url(f"{server.base}/")  # the citizen's home
    citizen.goto(f"{server.base}/account")
    expect(citizen.locator("body")).to_contain_text("đã kiểm tra CCCD tại quầy")
    citizen.screenshot(path=shots / "portal-account-mobile.png", full_page=True)
