"""A police official decides a look-alike case with both faces in front of them (issue 21,
finding 6): the earlier person's enrolment photo and the new one side by side, loaded through
the audited photo route, the distance against the threshold, then "delete the new template"
asked again on a confirmation page before it happens. At 390 and 1280 px, in Vietnamese and
English, with axe-core on each page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from civicstack.biometrics import service
from civicstack.biometrics.models import DuplicateCase
from civicstack.biometrics.site import BIOMETRICS
from civicstack.kit.appservices import services_of
from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from tests.browser.conftest import Server, console_sign_in
from tests.journeys.conftest import DESKTOP, assert_accessible
from tests.support.biometrics import ENROLLING_POLICE, face_photo

pytestmark = pytest.mark.browser
SCREENSHOT = "console-look-alike-review.png"


def adults(server: Server, count: int) -> list[Person]:
    with transaction(services_of(server.app).session_factory) as session:
        people = list(session.scalars(select(Person).where(
            Person.status == "alive", Person.permanent_province_code.is_not(None),
            Person.date_of_birth < "2000-01-01").order_by(Person.id).limit(count)))
        for person in people:
            session.expunge(person)
    return people


def enrol(server: Server, person: Person, photo: str) -> service.Enrolment:
    services = services_of(server.app)
    with transaction(services.session_factory) as session:
        return service.enrol_from_id_card(session, services[BIOMETRICS], ENROLLING_POLICE,
                                          person.personal_id_number, face_photo(photo))


@pytest.fixture(scope="module")
def newcomers(server: Server) -> Iterator[Person]:
    """One person enrolled from an ID-card photo of a face; each journey then enrols a new
    person whose card shows the same face, so each finds its own case held against them."""
    earlier, *later = adults(server, 5)
    assert not enrol(server, earlier, "obama/1.jpg").held
    return iter(later)


@pytest.fixture
def case_of_newcomer(server: Server, newcomers: Iterator[Person]) -> tuple[int, Person]:
    newcomer = next(newcomers)
    assert enrol(server, newcomer, "obama/2.jpg").held
    with transaction(services_of(server.app).session_factory) as session:
        case_id = session.scalars(select(DuplicateCase.id).where(
            DuplicateCase.personal_id_number == newcomer.personal_id_number,
            DuplicateCase.status == "open")).one()
    return case_id, newcomer


def loaded_widths(page: Page, selector: str) -> list[int]:
    """naturalWidth of each image once it has finished loading (0 for a broken one)."""
    images = page.locator(selector)
    expect(images).to_have_count(2)
    return [int(images.nth(i).evaluate(
        "img => img.complete ? img.naturalWidth : new Promise(done => "
        "img.addEventListener('load', () => done(img.naturalWidth), {once: true}))"))
        for i in range(2)]


def test_an_official_decides_a_look_alike_with_both_photos_visible(
        page_at: tuple[Page, int, str], server: Server, case_of_newcomer: tuple[int, Person],
        shots: Path) -> None:
    page, width, language = page_at
    case_id, newcomer = case_of_newcomer
    review = f"/console/biometrics/cases/{case_id}"
    console_sign_in(page, server, server.official(Role.POLICE), review)
    assert page.locator("html").get_attribute("lang") == language

    assert all(natural > 0 for natural in loaded_widths(page, ".faces img"))
    decimal = "," if language == "vi" else "."
    expect(page.locator(".notice.caution")).to_contain_text(f"0{decimal}50")
    expect(page.locator(".faces")).to_contain_text(newcomer.full_name)
    expect(page.locator(f'.faces a[href^="/console/registry/persons/{newcomer.personal_id_number}'
                        '?purpose="]')).to_have_count(1)
    assert_accessible(page)
    if width == DESKTOP and language == "en":
        page.screenshot(path=str(shots / SCREENSHOT), full_page=True)

    page.locator("#reason").fill("one face under two names: the card photo was swapped")
    page.locator('button[name="outcome"][value="confirm"]').click()
    expect(page.locator("h1")).to_contain_text(newcomer.full_name)
    confirm = page.locator(f'form[action="{review}/delete"] button[type="submit"]')
    expect(confirm).to_be_visible()
    assert_accessible(page)
    with transaction(services_of(server.app).session_factory) as session:
        assert session.get(DuplicateCase, case_id).status == "open"  # type: ignore[union-attr]

    confirm.click()
    expect(page).to_have_url(f"{server.base}/console/biometrics?decided=confirmed")
    expect(page.get_by_role("status")).to_be_visible()
    assert_accessible(page)
    with transaction(services_of(server.app).session_factory) as session:
        assert session.get(DuplicateCase, case_id).status == "confirmed"  # type: ignore[union-attr]
