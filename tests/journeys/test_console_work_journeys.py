"""Issue 21's proofs for an official's daily work, in Chromium, each at 1280 px in Vietnamese
and English and at 390 px in Vietnamese, with axe-core on the pages a journey opens (and, in
Vietnamese, no catalogue sentence left in English): a walk-in citizen without a wallet served
at the counter for every essential procedure of the catalogue; the inbox searched and paged
over 1,000 dossiers; a task's acceptance refused to the official responsible for it and given
by another (four eyes); a birth and a death recorded from the register's forms."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from civicstack.kit.appservices import services_of
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.monitoring import service as monitoring
from civicstack.registry.models import Person, Sex
from civicstack.services import catalogue, service
from civicstack.services.models import Dossier, Procedure
from civicstack.services.states import OPEN, State
from tests.browser.conftest import Server, console_sign_in
from tests.journeys.conftest import (
    DESKTOP,
    PHONE,
    Screenshot,
    check_page,
    open_page,
    show_in,
)
from tests.support.inbox import expected, thousand_dossiers
from tests.support.monitoring import MANAGER, make_task, seed_programme
from tests.support.officials import Official, make_official
from tests.support.people import make_person
from tests.support.services import publish_everywhere
from tests.support.uploads import PDF, png
from tests.support.wallet import give_id_card

pytestmark = pytest.mark.browser
# The bar: both languages on a desktop, and a phone in the language most officials use.
PAIRS = ((DESKTOP, "vi"), (DESKTOP, "en"), (PHONE, "vi"))
RECENTLY = (date.today() - timedelta(days=3)).isoformat()
_UNUSED_YEARS = itertools.count(1933, 2)
ESSENTIAL = sorted(p.code for p in catalogue.PROCEDURES if p.online_level == "full")


@pytest.fixture(params=PAIRS, ids=lambda pair: f"{pair[0]}px-{pair[1]}")
def page_in(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[Page, str]]:
    width, language = request.param
    page = open_page(browser, width, language)
    yield page, language
    page.context.close()


def official_in(server: Server, role: Role, scope: Scope) -> Official:
    services = services_of(server.app)
    return make_official(services.session_factory, services.totp_key, role, scope)


def text_in(language: str, vi: str, en: str) -> str:
    return vi if language == "vi" else en


# --- 1. a walk-in without a wallet, at the counter, for each essential procedure -------------

@dataclass(frozen=True)
class WalkIn:
    person: Person
    other: Person  # someone else the forms may name (a spouse, a parent)

    def example(self, field_type: str) -> str:
        """A valid example of each field type (catalogue.FIELD_TYPES), as a clerk types it."""
        return {"string": "Theo giấy tờ bản gốc", "date": RECENTLY, "integer": "2",
                "personal_id_number": self.other.personal_id_number, "sex": "F",
                "ward_code": self.person.permanent_ward_code}[field_type]


def a_walk_in(server: Server) -> WalkIn:
    """A Hà Nội citizen with an ID card in the register and an empty wallet, one per journey;
    born in years the seeded population's numbers do not use."""
    with transaction(services_of(server.app).session_factory) as session:
        publish_everywhere(session)
        born = next(_UNUSED_YEARS)
        person = make_person(session, "Lò Thị Sinh", date(born, 6, 1), Sex.FEMALE)
        give_id_card(session, person)
        other = make_person(session, "Lò Văn Páo", date(born - 1, 1, 9))
        session.expunge_all()
    return WalkIn(person, other)


def form_shape(found: Procedure) -> tuple[Any, ...]:
    """What the clerk's form of a procedure is made of: its field types and whether it asks for
    counter checks and for uploads; axe-core checks the first form of each shape."""
    return (tuple(sorted({spec.type for spec in found.fields
                          if not spec.source.startswith("register:")})),
            any(spec.wallet_document_type for spec in found.documents),
            any(not spec.wallet_document_type for spec in found.documents))


def serve_at_the_counter(page: Page, server: Server, walk_in: WalkIn, found: Procedure,
                         shown_in: tuple[int, str], check_shape: bool) -> str:
    """The clerk's whole work for one procedure, in the browser at `shown_in` (width,
    language): open the dossier for the walk-in, vouch for each wallet document (the ID card
    against the register, others against their paper, scanned), type the form, attach the
    papers, submit. Returns the receipt code."""
    page.goto(f"{server.base}/console/dossiers/new")
    show_in(page, *shown_in)
    page.fill("#pid", walk_in.person.personal_id_number)
    page.select_option("#procedure", found.code)
    page.click("main button[type=submit]")
    expect(page.locator("#assist-form")).to_be_visible()
    if check_shape:
        check_page(page)
    for spec in found.documents:
        if not (spec.required and spec.wallet_document_type):
            continue
        form = page.locator(f"form[action$='/checks/{spec.code}']")
        if spec.wallet_document_type == "id_card":
            form.locator(f"#check-{spec.code}-register").check()
        else:
            form.locator(f"#check-{spec.code}-paper").check()
            form.locator(f"#check-{spec.code}-scan").set_input_files(files=[{
                "name": "ban-goc.png", "mimeType": "image/png", "buffer": png()}])
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        expect(page.locator(f"#check-{spec.code}-error")).to_have_count(0)
    for spec in found.fields:
        if spec.required and not spec.source.startswith("register:"):
            page.fill(f"#assist-{spec.name}", walk_in.example(spec.type))
    for spec in found.documents:
        if spec.required and not spec.wallet_document_type:
            page.set_input_files(f"#assist-file-{spec.code}", files=[{
                "name": "ban-quet.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    with page.expect_navigation():
        page.click("#assist-form button[name=submit]")
    expect(page.locator("#dossier-refusal")).to_have_count(0)
    return page.locator("#receipt-code").inner_text()


def test_a_walk_in_without_a_wallet_is_served_at_the_counter_for_each_essential_procedure(
        server: Server, browser: Browser) -> None:
    """One session at the counter, the procedures taken in turn at each (width, language)."""
    page = open_page(browser, DESKTOP, "vi")
    walk_in = a_walk_in(server)
    clerk = official_in(server, Role.SERVICE_CLERK, Scope.province("01"))
    console_sign_in(page, server, clerk, "/console/dossiers/new")
    factory = services_of(server.app).session_factory
    with transaction(factory) as session:
        procedures = {found.code: found for found in service.all_procedures(session)}
        session.expunge_all()
    assert set(ESSENTIAL) <= set(procedures)
    assert len(ESSENTIAL) == 25

    shapes_seen: set[tuple[Any, ...]] = set()
    receipts = {}
    for code, shown_in in zip(ESSENTIAL, itertools.cycle(PAIRS), strict=False):
        shape = form_shape(procedures[code])
        receipts[code] = serve_at_the_counter(page, server, walk_in, procedures[code],
                                              shown_in, shape not in shapes_seen)
        shapes_seen.add(shape)
        expect(page.locator("#dossier-state")).to_have_text(
            text_in(shown_in[1], "Đã nộp", "Submitted"))
        expect(page.locator("#dossier-history")).to_contain_text(clerk.username)
    check_page(page)  # a submitted dossier, with its checks and history
    page.context.close()

    with transaction(factory) as session:
        for code, receipt in receipts.items():
            dossier = session.scalars(select(Dossier).where(
                Dossier.receipt_code == receipt)).one()
            assert (dossier.applicant_pid, dossier.channel, dossier.submitted_by) == (
                walk_in.person.personal_id_number, "assisted", f"official:{clerk.username}")
            checks = service.checked_at_counter(session, dossier)
            assert all(event.actor == f"official:{clerk.username}" for event in checks.values())
            assert set(checks) == {spec.code for spec in procedures[code].documents
                                   if spec.required and spec.wallet_document_type}, code


# --- 2. the inbox searched and paged over 1,000 dossiers ------------------------------------

@pytest.fixture(scope="module")
def thousand(server: Server) -> tuple[list[dict[str, Any]], list[Person]]:
    """1,000 dossiers of Hà Nội and Hồ Chí Minh City applicants, made by the services' own
    generator (not through the browser)."""
    with transaction(services_of(server.app).session_factory) as session:
        rows, people = thousand_dossiers(session)
        session.expunge_all()
    return rows, people


def numbers_in(locator: Locator) -> list[int]:
    """The whole numbers a text shows, however the page's language groups their digits."""
    return [int(re.sub(r"[.,\s]", "", found))
            for found in re.findall(r"\d[\d.,]*\d|\d", locator.inner_text())]


def queue_counts(page: Page) -> dict[str, int]:
    return {queue.get_attribute("id") or "": numbers_in(queue.locator(".badge"))[0]
            for queue in page.locator("#work-queues a").all()}


def search_inbox(page: Page, typed: str) -> set[str]:
    """Searches the current queue; every receipt code found, page after page."""
    page.fill("#q", typed)
    with page.expect_navigation():
        page.click("form[role=search] button[type=submit]")
    found: set[str] = set()
    while True:
        found |= set(page.locator("#dossier-inbox tbody tr td:first-child a").all_inner_texts())
        more = page.locator("#inbox-pages a[rel=next]")
        if not more.count():
            return found
        with page.expect_navigation():
            more.click()


def test_the_inbox_finds_and_pages_through_a_thousand_dossiers(
        server: Server, page_in: tuple[Page, str], screenshot: Screenshot,
        thousand: tuple[list[dict[str, Any]], list[Person]]) -> None:
    page, language = page_in
    rows, people = thousand
    console_sign_in(page, server, official_in(server, Role.SERVICE_CLERK, Scope.province("01")),
                    "/console/dossiers")
    check_page(page)
    counts = queue_counts(page)
    listed = set(expected(rows, OPEN | {State.APPROVED}))
    assert counts["queue-all"] >= len(listed) > 2 * service.INBOX_PAGE_SIZE
    total, first, pages = numbers_in(page.locator("#inbox-total"))
    assert (total, first) == (counts["queue-all"], 1)
    on_page_one = set(page.locator("#dossier-inbox tbody tr td:first-child a").all_inner_texts())

    with page.expect_navigation():
        page.locator("#inbox-pages a[rel=next]").click()
    assert numbers_in(page.locator("#inbox-total"))[1:] == [2, pages]
    on_page_two = set(page.locator("#dossier-inbox tbody tr td:first-child a").all_inner_texts())
    assert len(on_page_two) == service.INBOX_PAGE_SIZE
    assert not on_page_one & on_page_two
    check_page(page)
    if (page.viewport_size or {}).get("width") == DESKTOP and language == "vi":
        screenshot(page, "console-inbox-paging")

    page.goto(f"{server.base}/console/dossiers?page={pages}")
    expect(page.locator("#inbox-pages a[rel=next]")).to_have_count(0)
    expect(page.locator("#dossier-inbox tbody tr")).to_have_count(
        total - service.INBOX_PAGE_SIZE * (pages - 1))

    mai, an, lan, mai_in_hcmc = people[0], people[1], people[5], people[-1]
    code = next(row["receipt_code"] for row in rows if row["receipt_code"] in listed)
    assert search_inbox(page, code[-8:].lower()) == {code}
    assert search_inbox(page, an.personal_id_number) == set(expected(
        rows, OPEN | {State.APPROVED}, applicant_pid=an.personal_id_number))
    assert search_inbox(page, "dang ngoc lan") == set(expected(
        rows, OPEN | {State.APPROVED}, applicant_pid=lan.personal_id_number))
    expect(page.locator("#dossier-inbox .applicant-name")).to_contain_text(["Đặng Ngọc Lan"])
    assert search_inbox(page, "TRAN THI MAI") == set(expected(
        rows, OPEN | {State.APPROVED}, applicant_pid=mai.personal_id_number))
    assert search_inbox(page, mai_in_hcmc.personal_id_number) == set()  # outside the scope
    assert queue_counts(page) == counts  # a search filters the list, never the counts
    check_page(page)

    for queue, count in counts.items():
        with page.expect_navigation():
            page.locator(f"#{queue}").click()
        shown = page.locator("#inbox-total")
        assert (numbers_in(shown)[0] if shown.count() else 0) == count, queue
        assert queue_counts(page) == counts


# --- 3. four eyes: the person responsible cannot accept their own task -----------------------

@pytest.fixture(scope="module")
def programme(server: Server) -> None:
    with transaction(services_of(server.app).session_factory) as session:
        seed_programme(session)


_TASKS = itertools.count(1)


def a_task_handed_to_an_agency(server: Server, responsible: Official,
                               colleague: Official) -> int:
    """A task of the Hà Nội committee, accepted by the ministry, whose responsible official is
    a member of both (so holds the accepting authority too) and whose colleague is of the
    ministry."""
    with transaction(services_of(server.app).session_factory) as session:
        for agency, member in (("UBND-HN", responsible), ("BKHCN", responsible),
                               ("BKHCN", colleague)):
            monitoring.add_member(session, MANAGER, agency, member.username,
                                  f"{member.username}@example.gov.vn")
        task = make_task(session, f"NQ57-4E-{next(_TASKS)}", responsible=responsible.username,
                         accepting_official="", accepting_agency="BKHCN")
        return task.id


def test_the_person_responsible_cannot_accept_their_own_task_another_official_can(
        server: Server, browser: Browser, page_in: tuple[Page, str], programme: None) -> None:
    page, language = page_in
    responsible = official_in(server, Role.PROGRAMME_OFFICER, Scope.province("01"))
    colleague = official_in(server, Role.PROGRAMME_OFFICER, Scope.province("01"))
    task_id = a_task_handed_to_an_agency(server, responsible, colleague)
    task_page = f"/console/monitoring/tasks/{task_id}"
    console_sign_in(page, server, responsible, task_page)
    page.set_input_files("#product-file", files=[{
        "name": "bao-cao-so-hoa.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    with page.expect_navigation():
        page.locator("form[action$='/actions/submit'] button").click()
    expect(page.locator("#task-products")).to_contain_text("bao-cao-so-hoa.pdf")
    expect(page.locator("#four-eyes")).to_be_visible()  # said before they try
    check_page(page)
    state = page.locator("#task-state").inner_text()

    page.check("#checked")
    with page.expect_navigation():
        page.locator("form[action$='/actions/accept'] button").click()
    expect(page.locator("#task-refusal")).to_be_visible()
    expect(page.locator("#task-state")).to_have_text(state)  # still handed in, not accepted
    check_page(page)

    width = (page.viewport_size or {}).get("width", DESKTOP)
    other = open_page(browser, width, language)
    console_sign_in(other, server, colleague, task_page)
    expect(other.locator("#four-eyes")).to_have_count(0)
    accept = other.locator("form[action$='/actions/accept'] button")
    accept.click()  # not yet confirmed: the browser asks for the box first, nothing is sent
    expect(other.locator("#checked:invalid")).to_have_count(1)
    expect(other.locator("#task-state")).to_have_text(state)
    other.check("#checked")
    with other.expect_navigation():
        accept.click()
    expect(other.locator("#task-state")).not_to_have_text(state)
    expect(other.locator("#task-percent")).to_have_text("100%")
    expect(other.locator("#task-history")).to_contain_text(colleague.username)
    check_page(other)
    other.context.close()


# --- 4. a birth and a death recorded from the register's forms -------------------------------

def parents(server: Server) -> tuple[Person, Person]:
    """A Hà Nội couple, one pair per journey, born in years the seeded population's numbers do
    not use."""
    born = next(_UNUSED_YEARS)
    with transaction(services_of(server.app).session_factory) as session:
        mother = make_person(session, "Vi Thị Hoa", date(born, 4, 2), Sex.FEMALE)
        father = make_person(session, "Lục Văn Quân", date(born, 9, 12))
        session.expunge_all()
    return mother, father


def test_a_clerk_records_a_birth_and_a_death_and_the_register_shows_them(
        server: Server, page_in: tuple[Page, str]) -> None:
    page, language = page_in
    mother, father = parents(server)
    clerk = official_in(server, Role.SERVICE_CLERK, Scope.province("01"))
    console_sign_in(page, server, clerk, "/console/registry/births")
    check_page(page)
    page.fill("#full_name", "Lục Gia Bảo")
    page.fill("#date_of_birth", (date.today() - timedelta(days=5)).isoformat())
    page.check("input[name=sex][value=M]")
    page.fill("#birth_ward_code", mother.permanent_ward_code)
    page.fill("#mother_pid", mother.personal_id_number)
    page.fill("#father_pid", father.personal_id_number)
    with page.expect_navigation():
        page.locator("form[action='/console/registry/births'] button").click()
    expect(page.locator("main h1")).to_contain_text("Lục Gia Bảo")
    expect(page.locator("main")).to_contain_text(mother.full_name)
    expect(page.locator(".timeline")).to_contain_text(text_in(language, "Khai sinh", "Birth"))
    check_page(page)

    page.goto(f"{server.base}/console/registry/deaths")
    page.fill("#personal_id_number", father.personal_id_number)
    page.fill("#occurred_on", (date.today() - timedelta(days=1)).isoformat())
    with page.expect_navigation():
        page.locator("form[action='/console/registry/deaths'] button").click()
    expect(page.locator("main h1")).to_contain_text(father.full_name)  # whose record, asked
    check_page(page)
    with transaction(services_of(server.app).session_factory) as session:
        assert session.get(Person, father.id).status == "alive"  # nothing recorded yet
    with page.expect_navigation():
        page.locator("input[name=confirmed] ~ button").click()
    expect(page.locator("main h1 .badge")).to_have_text(text_in(language, "Đã mất",
                                                                "Deceased"))
    expect(page.locator(".timeline")).to_contain_text(text_in(language, "Khai tử", "Death"))
    check_page(page)
