"""A wallet document checked by camera: the citizen makes a QR code on the wallet page, a
decoder reads it from a screenshot of the page, and that picture, played as the camera of
Chromium, is read by the officials' verifier in the console and by the public verifier page a
bank uses; without a camera, the page says so and a pasted text is checked instead. In
Vietnamese and English, at 390 and 1280 px, with axe-core on every page.

Chromium's fake camera plays a Y4M file (`--use-file-for-fake-video-capture`), named when the
browser starts: each QR code, shown once only, gets a browser of its own.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageOps
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.db import transaction
from civicstack.registry.models import IdCardIssuance, Person
from civicstack.wallet import service
from civicstack.wallet.site import WALLET_SITE
from tests.browser.conftest import CHROMIUM, Server, console_sign_in
from tests.journeys.conftest import assert_accessible, open_page
from tests.support.eid import PASSWORD, make_active_account

pytestmark = pytest.mark.browser
POLICE = Actor("official", "police-national", NATIONAL, Role.POLICE)
CAMERA = (1280, 720)  # the fake camera's picture: HD, what the page asks a camera for
SHOWN = ("personal_id_number", "full_name")  # what the citizen chooses to show
ISSUER = {"vi": "Bộ Công an", "en": "Ministry of Public Security"}
VERIFIED = {"vi": "Giấy tờ điện tử đã được xác thực", "en": "Verified electronic document"}
NO_CAMERA = {"vi": "Không dùng được camera", "en": "The camera cannot be used"}


@pytest.fixture(scope="module")
def holder(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Person:
    """A living adult of the demo register with an ID card, an active eID account and the ID
    card already in the wallet (adding it is the wallet journey's own)."""
    services = services_of(server.app)
    with transaction(services.session_factory) as session:
        service.seed_catalogue(session)
        person = session.scalars(
            select(Person).join(IdCardIssuance, IdCardIssuance.person_id == Person.id)
            .where(Person.status == "alive", Person.phone.is_not(None),
                   IdCardIssuance.status == "active")
            .order_by(Person.id).limit(1)).one()
        session.expunge(person)
    make_active_account(services.session_factory, services.pepper, person,
                        tmp_path_factory.mktemp("mailbox"), POLICE)
    with transaction(services.session_factory) as session:
        service.issue_from_register(session, services[WALLET_SITE], person.personal_id_number,
                                    "id_card")
    return person


def sign_in_to_the_wallet(page: Page, server: Server, person: Person) -> None:
    page.goto(f"{server.base}/wallet")
    assert_accessible(page)  # the sign-in page
    page.fill("#personal_id_number", person.personal_id_number)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.base}/wallet")
    assert_accessible(page)


def make_a_qr_code(page: Page, server: Server) -> None:
    """From the wallet page: the ID card, the fields in SHOWN only, and its QR code."""
    page.goto(f"{server.base}/wallet")
    page.locator(".wallet-card a").first.click()
    assert_accessible(page)
    for box in page.locator("input[name=disclose]").all():
        box.set_checked(box.get_attribute("value") in SHOWN)
    page.locator("form[action$='/qr'] button[type=submit]").click()
    expect(page.locator(".wallet-qr svg")).to_be_visible()
    assert_accessible(page)


def read_qr_code(picture: bytes) -> str:
    """What a decoder reads from a picture of the screen (not what the server encoded)."""
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(picture)))
    return str(found.text)


def camera_film(picture: bytes, path: Path, frames: int = 5) -> Path:
    """A Y4M film (4:2:0) of the picture held still in front of the camera, as Chromium's fake
    camera plays it: grey, centred on white, as large as the frame allows."""
    width, height = CAMERA
    shot = ImageOps.grayscale(Image.open(io.BytesIO(picture)))
    scale = (height - 40) / max(shot.size)  # held so that it fills the frame, less a margin
    shot = shot.resize((round(shot.width * scale), round(shot.height * scale)),
                       Image.Resampling.LANCZOS)
    frame = Image.new("L", CAMERA, 255)
    frame.paste(shot, ((width - shot.width) // 2, (height - shot.height) // 2))
    chroma = bytes([128]) * (width // 2 * height // 2 * 2)  # no colour: U and V at rest
    with path.open("wb") as film:
        film.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(frames):
            film.write(b"FRAME\n" + frame.tobytes() + chroma)
    return path


@contextmanager
def camera_showing(browser: Browser, film: Path) -> Iterator[Browser]:
    """A second Chromium whose camera films `film` (the module's own has no camera)."""
    launched = browser.browser_type.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-background-networking",
        "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={film}"])
    try:
        yield launched
    finally:
        launched.close()


def scan_by_camera(page: Page) -> None:
    """Start the camera by keyboard and wait for the code to be read and checked."""
    start = page.locator("[data-camera-start]")
    expect(start).to_be_visible()
    start.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#verification")).to_be_visible(timeout=15_000)


def expect_verified(page: Page, person: Person, language: str) -> None:
    verified = page.locator("#verification")
    expect(verified).to_have_class("panel wallet-verified")
    expect(verified).to_contain_text(VERIFIED[language])
    expect(verified).to_contain_text(ISSUER[language])
    expect(verified).to_contain_text(person.full_name)
    expect(verified).to_contain_text(person.personal_id_number)
    expect(verified).not_to_contain_text(person.date_of_birth.strftime("%d/%m/%Y"))
    assert_accessible(page)


def test_a_qr_code_read_by_camera_is_verified_at_the_console_and_by_a_bank(
        page_at: tuple[Page, int, str], server: Server, browser: Browser, holder: Person,
        shots: Path, tmp_path: Path) -> None:
    citizen, width, language = page_at
    sign_in_to_the_wallet(citizen, server, holder)

    make_a_qr_code(citizen, server)
    citizen.screenshot(path=shots / f"verifier-qr-{width}-{language}.png", full_page=True)
    picture = citizen.locator(".wallet-qr svg").screenshot()
    assert read_qr_code(picture) == citizen.locator("#presentation").input_value()
    with camera_showing(browser, camera_film(picture, tmp_path / "console.y4m")) as camera:
        official = open_page(camera, width, language)
        official.context.grant_permissions(["camera"], origin=server.base)
        console_sign_in(official, server, server.official(Role.SERVICE_CLERK),
                        "/console/wallet/verify")
        assert_accessible(official)
        scan_by_camera(official)
        expect_verified(official, holder, language)
        official.screenshot(path=shots / f"verifier-console-{width}-{language}.png",
                            full_page=True)

    make_a_qr_code(citizen, server)  # a code is accepted once: a new one for the bank
    picture = citizen.locator(".wallet-qr svg").screenshot()
    assert read_qr_code(picture) == citizen.locator("#presentation").input_value()
    with camera_showing(browser, camera_film(picture, tmp_path / "bank.y4m")) as camera:
        bank = open_page(camera, width, language)
        bank.context.grant_permissions(["camera"], origin=server.base)
        bank.goto(f"{server.base}/wallet/verify")
        assert_accessible(bank)
        scan_by_camera(bank)
        expect_verified(bank, holder, language)
        assert bank.evaluate("document.documentElement.scrollWidth") <= width
        bank.screenshot(path=shots / f"verifier-public-{width}-{language}.png", full_page=True)


def test_without_a_camera_the_bank_pastes_the_text_under_the_qr_code(
        page_at: tuple[Page, int, str], server: Server, browser: Browser, holder: Person,
        shots: Path) -> None:
    citizen, width, language = page_at
    sign_in_to_the_wallet(citizen, server, holder)
    make_a_qr_code(citizen, server)
    text = read_qr_code(citizen.locator(".wallet-qr svg").screenshot())

    bank = open_page(browser, width, language)  # this Chromium has no camera at all
    bank.goto(f"{server.base}/wallet/verify")
    bank.locator("[data-camera-start]").click()
    expect(bank.locator("[data-camera-message]")).to_contain_text(NO_CAMERA[language])
    expect(bank.locator("#presentation")).to_be_focused()
    assert_accessible(bank)
    bank.keyboard.insert_text(text)
    bank.keyboard.press("Enter")  # as a handheld scanner ends its input
    expect_verified(bank, holder, language)
    if width == 390 and language == "vi":
        bank.screenshot(path=shots / "verifier-public-paste-390-vi.png", full_page=True)
    bank.context.close()
